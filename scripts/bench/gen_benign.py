#!/usr/bin/env python3
"""Benign model files written by the real libraries (no hub download, nothing loaded back).

usage: gen_benign.py CORPUS

Writes CORPUS/benign/<family>/... and CORPUS/../manifest/gen-benign.jsonl. Every model is built
in memory from a config or fitted on random data, then saved the way users save it:
scikit-learn with pickle and joblib (plain, zlib, gzip, bz2, lz4, xz), numpy .npy/.npz (object
arrays of plain data included), pandas frames, torch (state_dict, whole nn.Module, legacy
serialization, TorchScript script and trace), transformers save_pretrained of tiny random
models (pytorch_model.bin and model.safetensors), Keras 3, ONNX and GGUF. A family whose
library fails to import or save is left out and said on stderr.
"""
import importlib.metadata as md
import json
import os
import pickle
import sys
import traceback
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("KERAS_BACKEND", "torch")
CORPUS = sys.argv[1]
MANIFEST = os.environ.get("BENCH_MANIFEST") or os.path.join(os.path.dirname(os.path.abspath(CORPUS)), "manifest")
OUT = os.path.join(CORPUS, "benign")
ROWS = []


def path(family, name):
    d = os.path.join(OUT, family)
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name)


def add(p, family, technique, lib):
    ROWS.append(dict(path=os.path.relpath(p, CORPUS), label="benign", family=f"real: {family}",
                     technique=technique, source=f"{lib} {md.version(lib)}"))


def sklearn_models():
    import numpy as np
    import pandas as pd
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import BallTree, KDTree, KNeighborsClassifier
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    from sklearn.svm import SVC, LinearSVC

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    texts = [f"token{i % 7} word{i % 5} model {i}" for i in range(60)]
    ty = [i % 2 for i in range(60)]
    df = pd.DataFrame({"num": rng.normal(size=80), "cat": rng.choice(["a", "b", "c"], 80)})
    dy = (df["num"] > 0).astype(int)
    return {
        "pipeline_scaler_logreg": Pipeline([("s", StandardScaler()), ("lr", LogisticRegression())]).fit(X, y),
        "random_forest": RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, y),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y),
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=5).fit(X, y),
        "knn_kd_tree": KNeighborsClassifier(algorithm="kd_tree").fit(X, y),
        "kdtree": KDTree(X),
        "balltree": BallTree(X),
        "svc_rbf": SVC(probability=False).fit(X, y),
        "tfidf_linearsvc": make_pipeline(TfidfVectorizer(), LinearSVC()).fit(texts, ty),
        "column_transformer": Pipeline([
            ("ct", ColumnTransformer([("num", StandardScaler(), ["num"]), ("cat", OneHotEncoder(), ["cat"])])),
            ("lr", LogisticRegression()),
        ]).fit(df, dy),
        "kmeans": KMeans(n_clusters=3, n_init=1, random_state=0).fit(X),
        "pca": PCA(n_components=2).fit(X),
    }


def sklearn_files():
    import joblib

    for name, m in sklearn_models().items():
        p = path("sklearn-pickle", f"{name}.pkl")
        with open(p, "wb") as f:
            pickle.dump(m, f, protocol=pickle.HIGHEST_PROTOCOL)
        add(p, "scikit-learn pickle", f"{name}, pickle protocol 5", "scikit-learn")
        p = path("sklearn-joblib", f"{name}.joblib")
        joblib.dump(m, p)
        add(p, "scikit-learn joblib", f"{name}, joblib plain", "scikit-learn")
    # Every compressor joblib offers, on two models (a forest holds numpy arrays; a pipeline not).
    for name in ("random_forest", "column_transformer"):
        m = sklearn_models()[name]
        for comp in ("zlib", "gzip", "bz2", "lz4", "xz"):
            p = path("sklearn-joblib", f"{name}.{comp}.joblib")
            joblib.dump(m, p, compress=(comp, 3))
            add(p, "scikit-learn joblib", f"{name}, joblib compress={comp}", "scikit-learn")


def numpy_files():
    import numpy as np

    rng = np.random.default_rng(0)
    p = path("numpy", "float32.npy")
    np.save(p, rng.normal(size=(64, 64)).astype(np.float32))
    add(p, "numpy", "float32 array", "numpy")
    p = path("numpy", "arrays.npz")
    np.savez(p, w=rng.normal(size=(16, 16)), b=np.arange(16))
    add(p, "numpy", "npz of numeric arrays", "numpy")
    p = path("numpy", "arrays_compressed.npz")
    np.savez_compressed(p, w=rng.normal(size=(16, 16)), b=np.arange(16))
    add(p, "numpy", "npz deflated", "numpy")
    obj = np.empty(4, dtype=object)
    obj[:] = [{"a": 1}, [1, 2, 3], "text", (4.0, None)]
    p = path("numpy", "object_plain_data.npy")
    np.save(p, obj, allow_pickle=True)
    add(p, "numpy", "object array of dict/list/str/tuple", "numpy")
    p = path("numpy", "object_plain_data.npz")
    np.savez(p, o=obj, s=np.array(["x", "yy"], dtype=object))
    add(p, "numpy", "npz with object arrays", "numpy")
    p = path("numpy", "structured.npy")
    np.save(p, np.zeros(8, dtype=[("id", "i4"), ("score", "f8")]))
    add(p, "numpy", "structured dtype", "numpy")


def pandas_files():
    import numpy as np
    import pandas as pd

    df = pd.DataFrame({
        "f": np.arange(50, dtype=float),
        "i": np.arange(50),
        "s": [f"row{i}" for i in range(50)],
        "c": pd.Categorical(["a", "b"] * 25),
        "t": pd.date_range("2024-01-01", periods=50, freq="h"),
    }).set_index("i")
    p = path("pandas", "frame.pkl")
    df.to_pickle(p)
    add(p, "pandas", "DataFrame (float, str, categorical, datetime index)", "pandas")
    p = path("pandas", "series.pkl")
    df["f"].to_pickle(p)
    add(p, "pandas", "Series", "pandas")
    p = path("pandas", "multiindex.pkl")
    df.reset_index().set_index(["c", "i"]).to_pickle(p)
    add(p, "pandas", "MultiIndex frame", "pandas")


def torch_files():
    import torch
    import torch.nn as nn

    torch.manual_seed(0)
    seq = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    seq(torch.zeros(1, 3, 8, 8))
    mlp = nn.Sequential(nn.Linear(8, 16), nn.LayerNorm(16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 2))
    rnn = nn.LSTM(4, 8, batch_first=True)
    p = path("torch", "state_dict.pt")
    torch.save(mlp.state_dict(), p)
    add(p, "torch", "state_dict (zip)", "torch")
    p = path("torch", "state_dict_legacy.pt")
    torch.save(mlp.state_dict(), p, _use_new_zipfile_serialization=False)
    add(p, "torch", "state_dict, _use_new_zipfile_serialization=False", "torch")
    p = path("torch", "module_sequential.pt")
    torch.save(mlp, p)
    add(p, "torch", "whole nn.Sequential (Linear, LayerNorm, GELU, Dropout)", "torch")
    p = path("torch", "module_conv.pt")
    torch.save(seq, p)
    add(p, "torch", "whole nn.Sequential (Conv2d, BatchNorm2d, ReLU, Flatten, Linear)", "torch")
    p = path("torch", "module_lstm_legacy.pt")
    torch.save(rnn, p, _use_new_zipfile_serialization=False)
    add(p, "torch", "whole nn.LSTM, legacy serialization", "torch")
    opt = torch.optim.AdamW(mlp.parameters())
    mlp(torch.zeros(2, 8)).sum().backward()
    opt.step()
    p = path("torch", "checkpoint.pth")
    torch.save({"model": mlp.state_dict(), "optimizer": opt.state_dict(), "epoch": 3, "loss": 0.5}, p)
    add(p, "torch", "training checkpoint dict (model + AdamW state)", "torch")
    p = path("torch", "tensors.pt")
    torch.save([torch.arange(10), torch.ones(3, dtype=torch.bfloat16), torch.zeros(2, dtype=torch.int8)], p)
    add(p, "torch", "list of tensors (int64, bfloat16, int8)", "torch")
    p = path("torch", "torchscript_script.pt")
    torch.jit.script(mlp.eval()).save(p)
    add(p, "torch", "TorchScript, torch.jit.script", "torch")
    p = path("torch", "torchscript_trace.pt")
    torch.jit.trace(seq.eval(), torch.zeros(1, 3, 8, 8)).save(p)
    add(p, "torch", "TorchScript, torch.jit.trace", "torch")


def transformers_files():
    import torch
    from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    for name, model in (
        ("bert", BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                      intermediate_size=37, max_position_embeddings=64))),
        ("gpt2", GPT2LMHeadModel(GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=2, n_positions=64))),
    ):
        d = os.path.join(OUT, "transformers", f"{name}-bin")
        model.save_pretrained(d, safe_serialization=False)
        how = "save_pretrained(safe_serialization=False)"
        if not any(f.endswith(".bin") for f in os.listdir(d)):
            # transformers 5 ignores safe_serialization=False and writes safetensors; 4.x wrote
            # torch.save(state_dict) to pytorch_model.bin, which is done here instead.
            for f in os.listdir(d):
                if f.endswith(".safetensors"):
                    os.remove(os.path.join(d, f))
            torch.save(model.state_dict(), os.path.join(d, "pytorch_model.bin"))
            how = "torch.save(state_dict) as pytorch_model.bin (transformers 5 writes no .bin)"
        for f in sorted(os.listdir(d)):
            if f.endswith(".bin"):
                add(os.path.join(d, f), "transformers", f"tiny {name}, {how}", "transformers")
        d = os.path.join(OUT, "transformers", f"{name}-safetensors")
        model.save_pretrained(d)
        for f in sorted(os.listdir(d)):
            if f.endswith(".safetensors"):
                add(os.path.join(d, f), "transformers", f"tiny {name}, save_pretrained() default", "transformers")
    for d, _, fs in os.walk(os.path.join(OUT, "transformers")):
        for f in fs:
            if f.endswith(".json"):  # config files: not models, in no scanner's scope
                os.remove(os.path.join(d, f))


def keras_files():
    import keras

    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    for name, fn in (("model.keras", m.save), ("model.h5", m.save), ("model.weights.h5", m.save_weights)):
        p = path("keras", name)
        fn(p)
        add(p, "keras", f"Keras 3 Sequential(Dense), {name}", "keras")


def onnx_files():
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    import numpy as np

    w = numpy_helper.from_array(np.ones((4, 2), dtype=np.float32), "W")
    g = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"]), helper.make_node("Relu", ["y"], ["z"])],
        "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 2])], [w],
    )
    p = path("onnx", "tiny.onnx")
    onnx.save(helper.make_model(g), p)
    add(p, "onnx", "MatMul + Relu graph (onnx.helper)", "onnx")


def gguf_files():
    import gguf
    import numpy as np

    p = path("gguf", "tiny.gguf")
    w = gguf.GGUFWriter(p, "llama")
    w.add_name("tiny-bench")
    w.add_context_length(64)
    w.add_chat_template("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}")
    w.add_tensor("token_embd.weight", np.zeros((16, 8), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    add(p, "gguf", "GGUFWriter, llama arch, one f32 tensor, plain chat template", "gguf")


for step in (sklearn_files, numpy_files, pandas_files, torch_files, transformers_files, keras_files,
             onnx_files, gguf_files):
    try:
        step()
    except Exception:  # noqa: BLE001 - keep the other families
        traceback.print_exc()
        print(f"{step.__name__}: failed, family left out", file=sys.stderr)

os.makedirs(os.path.join(MANIFEST), exist_ok=True)
with open(os.path.join(MANIFEST, "gen-benign.jsonl"), "w") as f:
    for r in ROWS:
        f.write(json.dumps(r) + "\n")
print(f"benign: {len(ROWS)} files", file=sys.stderr)
