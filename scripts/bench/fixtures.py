#!/usr/bin/env python3
"""Checked-in test fixtures of public scanners' test suites, with each suite's own labels.

usage: fixtures.py CORPUS SUITE=GITDIR@COMMIT...

For each suite, extracts the fixture files of one commit (`git archive`, nothing is run) under
CORPUS/<suite>/ and writes CORPUS/../manifest/fixtures-<suite>.jsonl: one line per file with its
label (malicious / benign / unknown), family, technique and source. Labels come from the
suite's own expectations: picklescan's tests/test_scanner.py assertions, ModelAudit's
tests/test_regression_corpus.py and tests/test_security_asset_integration.py (names with
malicious / evil / attack / exploit, the listed safe files), modelscan's tests (file names).
Nothing here loads a pickle. Standard library only.
"""
import io
import json
import os
import re
import subprocess
import sys
import tarfile

CORPUS = sys.argv[1]
MANIFEST = os.environ.get("BENCH_MANIFEST") or os.path.join(os.path.dirname(os.path.abspath(CORPUS)), "manifest")
SUITES = dict(a.split("=", 1) for a in sys.argv[2:])
FIXTURE_EXT = re.compile(
    r"\.(pkl|pickle|pt|pth|bin|zip|7z|npy|npz|joblib|h5|keras|dill|skops|safetensors|pb|tar|gz)$"
)


def git_files(spec, prefixes):
    gitdir, commit = spec.rsplit("@", 1)
    out = subprocess.run(
        ["git", "--git-dir", gitdir, "archive", commit, *prefixes],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(out)) as t:
        for m in t.getmembers():
            if m.isfile():
                yield m.name, t.extractfile(m).read()


def write(suite, rel, data):
    p = os.path.join(CORPUS, suite, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return os.path.relpath(p, CORPUS)


def emit(suite, rows):
    os.makedirs(os.path.join(MANIFEST), exist_ok=True)
    with open(os.path.join(MANIFEST, f"fixtures-{suite}.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    print(f"{suite}: {len(rows)} files", file=sys.stderr)


def row(path, label, family, technique, source):
    return dict(path=path, label=label, family=family, technique=technique, source=source)


# --- picklescan -------------------------------------------------------------------------------


def picklescan_techniques(test_py):
    """File name -> the dangerous globals test_scanner.py expects for it."""
    glob = re.compile(r'Global\(\s*"([^"]*)",\s*(?:name=)?"([^"]*)",\s*(?:safety=)?SafetyLevel\.(\w+)')

    def dangerous(block):
        return ", ".join(
            sorted({f"{m}.{n}" for m, n, s in glob.findall(block) if s == "Dangerous"})
        )

    tech = {}
    variables = {}
    for m in re.finditer(r"(\w+) = ScanResult\(\s*\[(.*?)\]", test_py, re.S):
        variables[m.group(1)] = dangerous(m.group(2))
    for m in re.finditer(
        r'scan_file_path\(f"\{_root_path\}/data2?/([^"]+)"\),\s*(\w+)\)', test_py
    ):
        if m.group(2) in variables:
            tech[m.group(1)] = variables[m.group(2)]
    for m in re.finditer(
        r'scan_file_path\(f"\{_root_path\}/data2?/([^"]+)"\),\s*ScanResult\(\s*\[(.*?)\]',
        test_py,
        re.S,
    ):
        tech[m.group(1)] = dangerous(m.group(2))
    for m in re.finditer(r'assert_scan\(\s*"([^"]+)",\s*\[(.*?)\]\s*,?\s*\)', test_py, re.S):
        tech[m.group(1)] = dangerous(m.group(2))
    return tech


PICKLESCAN_BENIGN = {
    "benign0_v0.pkl": "plain list, protocol 0",
    "benign0_v3.pkl": "plain list, protocol 3",
    "benign0_v4.pkl": "plain list, protocol 4",
    "benign_password_protected.zip": "encrypted zip member (suite: benign)",
    "not_a_pickle.bin": "binary starting with a GLOBAL byte, not a pickle",
    "bad_pytorch.pt": "PNG bytes named .pt",
    "pytorch_model.bin": "legacy torch.save state dict",
    "new_pytorch_model.bin": "torch zip state dict",
    "int_array.npy": "int ndarray",
    "int_arrays.npz": "int arrays",
    "int_arrays_compressed.npz": "int arrays, deflated",
    "object_array.npy": "object ndarray of tuples",
    "object_arrays.npz": "object arrays",
    "object_arrays_compressed.npz": "object arrays, deflated",
}


# Files test_scanner.py checks only inside the whole-directory assertion: the globals
# tests/init_data_files.py writes for them.
PICKLESCAN_TECHNIQUES = {
    "malicious-invalid-bytes.pkl": "os.system via memo-built STACK_GLOBAL, stream ends in garbage",
    "malicious11.pkl": "os.system via memo-built STACK_GLOBAL (CTF 'Safe Pickle')",
    "malicious12.pkl": "builtins.exec built with pickleassem",
    "malicious13a.pkl": "pickle.loads of a nested pickle, protocol 0",
    "malicious13b.pkl": "_pickle.loads of a nested pickle, protocol 4",
    "malicious15a.pkl": "bdb.Bdb.run, protocol 2",
    "malicious15b.pkl": "bdb.Bdb.run, protocol 4",
    "malicious16.pkl": "pip.main install",
    "malicious17.pkl": "torch._inductor.codecache.compile_file",
    "malicious18.pkl": "pydoc.pipepager",
    "malicious19.pkl": "functools.partial(torch.load, weights_only=False)",
    "malicious20.pkl": "venv.create with a shell payload",
    "malicious1_central_directory.zip": "builtins.eval, zip with a corrupt central directory",
    "sys_module_override_sploit.pkl": "BUILD sets torch._utils._rebuild_tensor to builtins.eval, then calls it",
}


def picklescan(spec):
    files = dict(git_files(spec, ["tests"]))
    tech = picklescan_techniques(files["tests/test_scanner.py"].decode())
    src = "mmaitre314/picklescan@" + spec.rsplit("@", 1)[1][:12]
    rows = []
    for name, data in sorted(files.items()):
        if not (name.startswith("tests/data/") or name.startswith("tests/data2/")):
            continue
        base = os.path.basename(name)
        rel = write("picklescan", name[len("tests/"):], data)
        if base in PICKLESCAN_BENIGN:
            rows.append(row(rel, "benign", "picklescan: benign fixtures", PICKLESCAN_BENIGN[base], src))
            continue
        if base.startswith("GHSA-"):
            family = "picklescan: GHSA advisory gadgets"
        elif re.search(r"\.(zip|7z)$", base) or base in ("pytorch_magic_bypass.pt",):
            family = "picklescan: containers (zip, 7z, legacy torch)"
        elif base.endswith(".npy"):
            family = "picklescan: numpy object arrays"
        elif base.startswith("malicious") or base == "broken_model.pkl":
            family = "picklescan: malicious pickles"
        else:
            family = "picklescan: stdlib / library gadgets"
        t = tech.get(base) or PICKLESCAN_TECHNIQUES.get(base, "")
        if base == "broken_model.pkl":
            t = "builtins.exec, truncated stream"
        rows.append(row(rel, "malicious", family, t, src))
    emit("picklescan", rows)


# --- ModelAudit -------------------------------------------------------------------------------

MODELAUDIT_SAFE = {
    "safe_data.pkl",
    "safe_large_model.pkl",
    "safe_model_with_binary.pkl",
    "safe_model_with_encoding.pkl",
    "safe_model_with_tokens.pkl",
    "safe_nested_structure.pkl",
    "safe_model.pt",
    "safe_model.zip",
    "safe_model.h5",
    "safe_model.safetensors",
    "pipeline.skops",
    "model_weights.pkl",
    "mixed_model.pkl",
    "agpl_model.pkl",
    "embeddings.npy",
}
MODELAUDIT_UNKNOWN = {
    "dill_func.pkl": "dill-pickled lambda: builds a function, calls nothing (suite excludes it from both lists)",
    "simple_nested.pkl": "plain dict holding the bytes of another plain-dict pickle; no call (suite excludes it from its safe list)",
    "multiple_patterns.safetensors": "suspicious strings in safetensors metadata; nothing in the format runs",
    "obfuscated_metadata.safetensors": "suspicious strings in safetensors metadata; nothing in the format runs",
    "script_injection.safetensors": "suspicious strings in safetensors metadata; nothing in the format runs",
    "shell_commands.safetensors": "suspicious strings in safetensors metadata; nothing in the format runs",
    "suspicious_url.safetensors": "suspicious strings in safetensors metadata; nothing in the format runs",
    "malicious_import.safetensors": "the suite's regression corpus calls it malicious: 'import os; os.system' text in safetensors metadata, which nothing executes",
    "saved_model.pb": "placeholder bytes, not a SavedModel; the suite skips it without TensorFlow",
}


def modelaudit(spec):
    src = "promptfoo/modelaudit@" + spec.rsplit("@", 1)[1][:12]
    rows = []
    for name, data in sorted(git_files(spec, ["tests/assets"])):
        rel_in = name[len("tests/assets/"):]
        base = os.path.basename(name)
        if "jinja2" in rel_in or not FIXTURE_EXT.search(base):
            continue  # chat templates, JSON manifests, CSV: not model files
        rel = write("modelaudit", rel_in, data)
        if base in MODELAUDIT_UNKNOWN:
            rows.append(row(rel, "unknown", "modelaudit: unknown", MODELAUDIT_UNKNOWN[base], src))
        elif base in MODELAUDIT_SAFE:
            rows.append(row(rel, "benign", "modelaudit: benign fixtures", base, src))
        elif rel_in.startswith("exploits/"):
            rows.append(row(rel, "malicious", "modelaudit: scanner-bypass exploits", base[:-4], src))
        elif base.startswith(("nested_pickle_", "decode_exec_chain")):
            # Listed malicious in tests/test_regression_corpus.py, but data only: a dict of
            # strings / bytes holding a pickle or code text (raw, hex, base64). Loading the file
            # calls nothing; the payload runs only if the application decodes and loads it.
            rows.append(row(rel, "malicious", "modelaudit: payloads stored as data (nested / encoded)",
                            base.rsplit(".", 1)[0], src))
        elif rel_in.startswith("pickles/") or rel_in.startswith("samples/pickles/") or rel_in.startswith("scenarios/"):
            rows.append(row(rel, "malicious", "modelaudit: malicious pickles", base.rsplit(".", 1)[0], src))
        elif base.endswith((".pt", ".h5")):
            rows.append(row(rel, "malicious", "modelaudit: torch / keras", base.rsplit(".", 1)[0], src))
        elif base.endswith(".zip"):
            rows.append(row(rel, "malicious", "modelaudit: archives", "zip member name ../ (path traversal)", src))
        else:
            rows.append(row(rel, "unknown", "modelaudit: unknown", "unlabelled", src))
    # tests/assets/pickles/bypass_pocs/gen_bypass_v4.py writes its PoCs next to itself with the
    # stdlib only (struct + bytes); run it there, never load what it writes.
    files = dict(git_files(spec, ["tests/assets/pickles/bypass_pocs/gen_bypass_v4.py"]))
    gen = os.path.join(CORPUS, "modelaudit", "pickles", "bypass_pocs", "gen_bypass_v4.py")
    os.makedirs(os.path.dirname(gen), exist_ok=True)
    with open(gen, "wb") as f:
        f.write(files["tests/assets/pickles/bypass_pocs/gen_bypass_v4.py"])
    subprocess.run([sys.executable, gen], check=True, capture_output=True)
    os.remove(gen)
    for base in sorted(os.listdir(os.path.dirname(gen))):
        rel = os.path.relpath(os.path.join(os.path.dirname(gen), base), CORPUS)
        rows.append(row(rel, "malicious", "modelaudit: bypass PoCs (generated)", base[:-4],
                        src + ":tests/assets/pickles/bypass_pocs/gen_bypass_v4.py"))
    emit("modelaudit", rows)


# --- modelscan (checked in; the rest is generated by gen_suites.py) ---------------------------


def modelscan(spec):
    src = "protectai/modelscan@" + spec.rsplit("@", 1)[1][:12]
    rows = []
    for name, data in sorted(git_files(spec, ["tests/data"])):
        base = os.path.basename(name)
        rel = write("modelscan", "data/" + base, data)
        if base == "password_protected.zip":
            rows.append(row(rel, "unknown", "modelscan: unknown", "encrypted zip (suite expects a scan error)", src))
        else:
            rows.append(row(rel, "malicious", "modelscan: torch / zip", "torch zip with a malicious data.pkl", src))
    emit("modelscan-data", rows)


for suite, spec in SUITES.items():
    {"picklescan": picklescan, "modelaudit": modelaudit, "modelscan": modelscan}[suite](spec)
