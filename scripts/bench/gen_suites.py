#!/usr/bin/env python3
"""Fixtures that public scanners' test suites generate in test code instead of checking in.

usage: gen_suites.py CORPUS SRC

SRC holds the suites' sources of the pinned commits (extracted by bench-scanners.sh):
  SRC/fickling/        trailofbits/fickling (package + test/test_bypasses.py)
  SRC/modelscan/tests/ protectai/modelscan (test_modelscan.py, test_utils.py)
  SRC/modelaudit/generate_7z_test_assets.py  promptfoo/modelaudit tests/assets/generators

Runs the suites' own generator code, writing files only. Writing a malicious pickle runs
nothing (`__reduce__` only names the callable); nothing here unpickles or loads what it writes.
Labels follow each suite's assertions; see the label functions below.
Writes CORPUS/../manifest/gen-<suite>.jsonl.
"""
import ast
import importlib.util
import json
import os
import shutil
import sys
import traceback
import unittest

CORPUS, SRC = sys.argv[1], sys.argv[2]
MANIFEST = os.environ.get("BENCH_MANIFEST") or os.path.join(os.path.dirname(os.path.abspath(CORPUS)), "manifest")
os.environ.setdefault("KERAS_BACKEND", "torch")


def emit(name, rows):
    os.makedirs(os.path.join(MANIFEST), exist_ok=True)
    with open(os.path.join(MANIFEST, f"gen-{name}.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"{name}: {len(rows)} files", file=sys.stderr)


def rel(p):
    return os.path.relpath(p, CORPUS)


# --- fickling: test/test_bypasses.py ----------------------------------------------------------
# Every TestCase method builds a Pickled and hands it to check_safety(). check_safety is replaced
# by a recorder (and the real one is still called), assertions are no-ops so that a loop of
# subTests runs to its end, and Pickled.load keeps the raw bytes it was given (the frame tests
# hand-assemble bytes that Pickled.dumps() would re-frame).

FICKLING_BENIGN_TESTS = {
    "test_safe_builtins_not_flagged",
    "test_safe_builtin_dict_not_flagged",
    "test_well_formed_frames_are_not_flagged",
}
FICKLING_UNKNOWN_TESTS = {
    # malformed framing without a payload: the suite flags it as a parser-divergence risk
    "test_frame_boundary_straddle_variants": "malformed FRAME (no payload); suite expects a flag",
    # a non-default analyzer (MLAllowlist) run on `ast.parse`
    "test_ml_allowlist_not_shadowed_by_unsafe_imports_ml": "ast.parse under fickling's optional ML allowlist",
}


def fickling():
    src = os.path.join(SRC, "fickling")
    sys.path.insert(0, src)
    import fickling.fickle as fk

    orig_load = fk.Pickled.load  # a staticmethod: load(pickled, fail_on_decode_error=True)

    def load(pickled, *a, **k):
        p = orig_load(pickled, *a, **k)
        if isinstance(pickled, (bytes, bytearray)):
            p._bench_raw = bytes(pickled)
        return p

    fk.Pickled.load = staticmethod(load)
    for n in dir(unittest.TestCase):
        if n.startswith("assert"):
            setattr(unittest.TestCase, n, lambda self, *a, **k: None)
    spec = importlib.util.spec_from_file_location("fk_bypasses", os.path.join(src, "test", "test_bypasses.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    real = mod.check_safety
    calls = []
    current = [None]

    def recorder(pickled, *a, **k):
        raw = getattr(pickled, "_bench_raw", None) or pickled.dumps()
        calls.append((current[0], raw))
        try:
            return real(pickled, *a, **k)
        except Exception:  # noqa: BLE001 - the result is not used
            class R:
                severity = 0

                def detailed_results(self):
                    return {"AnalysisResult": {}}

            return R()

    mod.check_safety = recorder
    out = os.path.join(CORPUS, "fickling")
    os.makedirs(out, exist_ok=True)
    failures = []
    for cname in sorted(dir(mod)):
        cls = getattr(mod, cname)
        if not (isinstance(cls, type) and issubclass(cls, unittest.TestCase)) or cls is unittest.TestCase:
            continue
        for t in sorted(n for n in dir(cls) if n.startswith("test_")):
            current[0] = (cname, t)
            try:
                getattr(cls(t), t)()
            except Exception:  # noqa: BLE001
                failures.append(f"{cname}.{t}: {traceback.format_exc(limit=1).splitlines()[-1]}")
    rows = []
    seen = {}
    commit = open(os.path.join(src, ".commit")).read().strip()[:12]
    for (cname, t), raw in calls:
        seen[(cname, t)] = seen.get((cname, t), -1) + 1
        i = seen[(cname, t)]
        name = f"{t[5:]}_{i}.pkl"
        with open(os.path.join(out, name), "wb") as f:
            f.write(raw)
        if t in FICKLING_BENIGN_TESTS or (t == "test_private_stdlib_allowlist" and i < 2):
            label, fam, tech = "benign", "fickling: benign fixtures", t[5:]
        elif t in FICKLING_UNKNOWN_TESTS:
            label, fam, tech = "unknown", "fickling: unknown", FICKLING_UNKNOWN_TESTS[t]
        elif t == "test_private_stdlib_allowlist":
            label, fam, tech = "unknown", "fickling: unknown", "__future__._ssl.RAND_bytes (a dotted name that does not resolve)"
        elif cname == "TestUnsafeModuleCoverage":
            label, fam, tech = "malicious", "fickling: blocklist sweep", t[5:]
        else:
            label, fam, tech = "malicious", "fickling: bypass advisories", t[5:]
        rows.append(dict(path=rel(os.path.join(out, name)), label=label, family=fam, technique=tech,
                         source=f"trailofbits/fickling@{commit}:test/test_bypasses.py {cname}.{t}"))
    for f in failures:
        print("fickling generator:", f, file=sys.stderr)
    emit("fickling", rows)


# --- modelscan: tests/test_modelscan.py fixtures ----------------------------------------------
# The pytest fixtures are lifted out of the test module with `ast` (decorators dropped) and run
# with a stand-in tmp_path_factory. TensorFlow fixtures (SavedModel) are not reproduced; the
# Keras fixture runs on Keras 3 with the torch backend instead of tf_keras (same model code).

MODELSCAN_TECH = {
    "malicious0": "sour pickles (globals/compile/eval/getattr/apply)",
    "malicious1": "builtins.eval",
    "malicious2": "os.system",
    "malicious3": "http.client.HTTPSConnection",
    "malicious4": "requests.get",
    "malicious5": "aiohttp.ClientSession",
    "malicious6": "requests.get in the second of two stacked pickles",
    "malicious7": "socket.create_connection",
    "malicious8": "subprocess.run",
    "malicious9": "sys.exit",
    "malicious10": "INST __builtin__.exec",
    "malicious11": "os.system via memo-built STACK_GLOBAL",
    "malicious12": "pickle.loads of a nested os.system pickle",
    "malicious13": "builtins.eval.__call__ (dotted GLOBAL name)",
    "malicious14": "os.system via memo, trailing bytes after STOP",
    "malicious15": "bdb.Bdb.run",
    "unsafe_zip_pytorch": "torch zip, os.system injected by PickleInject",
    "unsafe_numpy": "exec injected before a pickled ndarray",
    "unsafe": "dill pickle of a Keras model with exec injected",
    "unsafe.h5": "Keras Lambda layers running exec (marshalled bytecode), HDF5",
    "unsafe.keras": "Keras Lambda layers running exec (marshalled bytecode), .keras zip",
    "test.zip": "zip holding data.pkl with builtins.eval",
}


def lift(path, names, assigns=()):
    tree = ast.parse(open(path).read())
    body = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in names:
            node.decorator_list = []
            body.append(node)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in assigns for t in node.targets
        ):
            body.append(node)
    return compile(ast.Module(body=body, type_ignores=[]), path, "exec")


class TmpFactory:
    def __init__(self, root):
        self.root = root

    def mktemp(self, name):
        from pathlib import Path

        p = Path(self.root) / name
        if p.exists():
            shutil.rmtree(p)
        p.mkdir(parents=True)
        return p


def modelscan():
    import bdb  # noqa: F401
    import http.client  # noqa: F401
    import io  # noqa: F401
    import pickle
    import socket  # noqa: F401
    import struct  # noqa: F401
    import subprocess  # noqa: F401
    import zipfile  # noqa: F401
    from pathlib import Path  # noqa: F401
    from typing import Any, Dict, List, Set, Tuple  # noqa: F401

    import aiohttp  # noqa: F401
    import dill  # noqa: F401
    import keras
    import numpy as np  # noqa: F401
    import requests  # noqa: F401
    import torch  # noqa: F401
    import torch.nn as nn  # noqa: F401

    tests = os.path.join(SRC, "modelscan", "tests")
    commit = open(os.path.join(SRC, "modelscan", ".commit")).read().strip()[:12]
    ns = dict(globals())
    ns.update({k: v for k, v in locals().items()})
    ns["__file__"] = os.path.join(CORPUS, "modelscan", "test_modelscan.py")
    utils = [
        "PickleInject", "get_pickle_payload", "generate_unsafe_pickle_file", "DillInject",
        "get_dill_payload", "generate_dill_unsafe_file", "PyTorchTestModel",
    ]
    exec(lift(os.path.join(tests, "test_utils.py"), utils), ns)
    fixtures = [
        "Malicious1", "Malicious2", "Malicious3", "Malicious4", "Malicious5", "Malicious6",
        "Malicious7", "Malicious8", "Malicious15", "malicious12_gen", "malicious13_gen",
        "malicious14_gen", "initialize_pickle_file", "initialize_dill_file", "initialize_data_file",
        "initialize_zip_file", "zip_file_path", "pytorch_file_path", "file_path", "numpy_file_path",
        "keras_file_path",
    ]
    exec(lift(os.path.join(tests, "test_modelscan.py"), fixtures, ["malicious3_pickle_bytes"]), ns)
    ns["keras"] = keras  # tf_keras in the suite; Keras 3 (torch backend) here
    root = os.path.join(CORPUS, "modelscan", "gen")
    tf = TmpFactory(root)
    notes = []
    for fx, args in (
        ("zip_file_path", ()),
        ("pytorch_file_path", ()),
        ("file_path", ()),
        ("numpy_file_path", ()),
        ("keras_file_path", (["h5", "keras"],)),
    ):
        try:
            ns[fx](tf, *args)
        except NameError as e:  # keras_file_path returns the SavedModel dirs it did not make
            notes.append(f"{fx}: {e}")
        except Exception:  # noqa: BLE001
            notes.append(f"{fx}: {traceback.format_exc(limit=2).splitlines()[-1]}")
    rows = []
    for d, _, files in sorted(os.walk(root)):
        for f in sorted(files):
            p = os.path.join(d, f)
            if f in ("password_protected.zip", "unsafe_zip_pytorch.pt"):
                os.remove(p)  # copies of the checked-in files (fixtures.py lists them)
                continue
            stem = f.split(".")[0]
            stem_nov = stem.split("_v")[0]
            kind = os.path.basename(d)
            if stem.startswith(("benign", "safe")) or f == "bad_pytorch.pt":
                label, tech = "benign", stem
            elif stem.startswith(("malicious", "unsafe")) or f == "test.zip":
                label = "malicious"
                tech = MODELSCAN_TECH.get(f) or MODELSCAN_TECH.get(stem_nov) or MODELSCAN_TECH.get(stem, stem)
            else:
                label, tech = "unknown", stem
            if f.endswith(".dill"):
                fam = "modelscan: dill"
            elif kind.startswith("keras"):
                fam = "modelscan: keras"
            elif kind.startswith(("pytorch", "zip", "numpy")):
                fam = "modelscan: torch / zip / numpy"
            else:
                fam = "modelscan: pickles"
            if label == "benign":
                fam = "modelscan: benign fixtures"
            if f == "bad_pytorch.pt":
                tech = "PNG bytes named .pt"
            rows.append(dict(path=rel(p), label=label, family=fam, technique=tech,
                             source=f"protectai/modelscan@{commit}:tests/test_modelscan.py {kind.rstrip('0123456789')}"))
    for n in notes:
        print("modelscan generator:", n, file=sys.stderr)
    emit("modelscan", rows)


# --- ModelAudit: tests/assets/generators/generate_7z_test_assets.py ---------------------------


def modelaudit_7z():
    from pathlib import Path

    gen = os.path.join(SRC, "modelaudit", "generate_7z_test_assets.py")
    commit = open(os.path.join(SRC, "modelaudit", ".commit")).read().strip()[:12]
    spec = importlib.util.spec_from_file_location("ma_7z", gen)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    root = Path(CORPUS) / "modelaudit-7z"
    if root.exists():
        shutil.rmtree(root)
    mod.generate_all_7z_assets(root)
    labels = {
        "malicious.7z": ("malicious", "7z holding an eval pickle"),
        "mixed_content.7z": ("benign", "7z holding a plain pickle, a text file and JSON"),
        "path_traversal.7z": ("malicious", "7z member name ../../../ (path traversal), plain pickle"),
        "safe.7z": ("benign", "7z holding plain pickles"),
        "empty.7z": ("benign", "empty 7z"),
    }
    rows = []
    for p in sorted(root.rglob("*")):
        if p.is_file():
            label, tech = labels.get(p.name, ("unknown", p.name))
            fam = "modelaudit: archives" if label == "malicious" else "modelaudit: benign fixtures"
            rows.append(dict(path=rel(str(p)), label=label, family=fam, technique=tech,
                             source=f"promptfoo/modelaudit@{commit}:tests/assets/generators/generate_7z_test_assets.py"))
    emit("modelaudit-7z", rows)


for step in (fickling, modelscan, modelaudit_7z):
    try:
        step()
    except Exception:  # noqa: BLE001 - one generator failing leaves the others' files
        traceback.print_exc()
        print(f"{step.__name__}: generator failed, its files are left out", file=sys.stderr)
