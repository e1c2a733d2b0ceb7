#!/usr/bin/env python3
"""Pickle scanning: aiposture vs picklescan and fickling, on the same files.

1. Detection: a corpus of pickles written here with the stdlib pickler (and numpy / zipfile where
   the family needs it), one per published bypass family we can reproduce without the original
   samples, plus benign files that a scanner must not flag. Each tool's verdict per file.
2. Throughput: the same benign and malicious files copied many times into one directory, scanned
   by each tool as one whole process (hyperfine, run by scripts/bench-pickle.sh).

Writing a malicious pickle runs nothing: `__reduce__` only names the callable. Nothing here
unpickles anything. Prints a Markdown section on stdout.
"""
import contextlib
import io
import json
import os
import pickle
import pickletools
import shutil
import subprocess
import sys
import zipfile

import numpy as np

OUT, AIPOSTURE = sys.argv[1], sys.argv[2]


class Call:
    """Pickles as `fn(*args)` when unpickled."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def proto0_global(module, name, arg):
    # Hand-assembled protocol 0 text: GLOBAL, a string argument, TUPLE, REDUCE.
    return f"c{module}\n{name}\n(S'{arg}'\ntR.".encode()


def stack_global_memo(module, name, arg):
    # Protocol 4: the operands of STACK_GLOBAL come back from the memo, not from literals next to it.
    p = b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00"
    p += b"\x8c" + bytes([len(module)]) + module.encode() + b"\x94"  # memo 0
    p += b"\x8c" + bytes([len(name)]) + name.encode() + b"\x94"  # memo 1
    p += b"0"  # POP
    p += b"0"
    p += b"h\x00h\x01\x93"  # BINGET 0, BINGET 1, STACK_GLOBAL
    p += b"\x8c" + bytes([len(arg)]) + arg.encode() + b"\x85R."
    return p


def computed_stack_global(arg):
    # The module name is the result of a call (str.join), not a literal anywhere in the file.
    p = b"\x80\x04"
    p += b"\x8c\x08builtins\x8c\x03str\x93"  # builtins.str
    p += b"\x8c\x02os\x85R"  # str('os')
    p += b"\x8c\x06system\x93"
    p += b"\x8c" + bytes([len(arg)]) + arg.encode() + b"\x85R."
    return p


def torch_zip(data_pkl, name="archive/data.pkl", extra=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in extra:
            z.writestr(n, d)
        z.writestr(name, data_pkl)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def corpus():
    import collections

    cmd = "echo pwned"
    bad = {
        "os.system via REDUCE (baseline)": pickle.dumps(Call(os.system, cmd), protocol=2),
        "builtins.eval": pickle.dumps(Call(eval, "1+1"), protocol=4),
        "builtins.exec": pickle.dumps(Call(exec, "x=1"), protocol=4),
        "subprocess.Popen": pickle.dumps(Call(subprocess.Popen, ["true"]), protocol=4),
        "pkgutil.resolve_name then call (universal bypass)": (
            b"\x80\x04\x8c\x07pkgutil\x8c\x0cresolve_name\x93\x8c\tos:system\x85R"
            b"\x8c\x0aecho pwned\x85R."
        ),
        "getattr(import_module('os'), 'system')": (
            b"\x80\x04\x8c\x08builtins\x8c\x07getattr\x93"
            b"\x8c\x09importlib\x8c\x0dimport_module\x93\x8c\x02os\x85R\x8c\x06system\x86R"
            b"\x8c\x0aecho pwned\x85R."
        ),
        "runpy._run_code": b"\x80\x04\x8c\x05runpy\x8c\x09_run_code\x93\x8c\x03x=1}\x86R.",
        "operator.methodcaller": b"\x80\x04\x8c\x08operator\x8c\x0cmethodcaller\x93\x8c\x06system\x8c\x0aecho pwned\x86R.",
        "STACK_GLOBAL operands from the memo": stack_global_memo("os", "system", cmd),
        "STACK_GLOBAL module computed by a call": computed_stack_global(cmd),
        "protocol 0 text GLOBAL": proto0_global("os", "system", cmd),
        "posix.system (platform module name)": proto0_global("posix", "system", cmd),
        "nested pickle in bytes (pickle.loads)": pickle.dumps(
            Call(pickle.loads, pickle.dumps(Call(os.system, cmd), protocol=4)), protocol=4
        ),
        "torch zip, malicious data.pkl": torch_zip(pickle.dumps(Call(os.system, cmd), protocol=2)),
        "torch zip, data.pkl under another prefix": torch_zip(
            pickle.dumps(Call(os.system, cmd), protocol=2), name="x/../evil/data.pkl"
        ),
        "numpy object array holding a payload (.npy)": None,
        "webbrowser.open": pickle.dumps(Call(__import__("webbrowser").open, "http://example.invalid"), protocol=4),
        "shutil.rmtree": pickle.dumps(Call(shutil.rmtree, "/tmp/x"), protocol=4),
    }
    buf = io.BytesIO()
    np.save(buf, np.array([Call(os.system, cmd)], dtype=object), allow_pickle=True)
    bad["numpy object array holding a payload (.npy)"] = buf.getvalue()

    benign = {
        "plain containers": pickle.dumps({"a": [1, 2.5, "x", b"y", None, True]}, protocol=4),
        "OrderedDict (state dict shape)": pickle.dumps(collections.OrderedDict(w=[0.1] * 100), protocol=2),
        "numpy array via pickle": pickle.dumps(np.arange(1000, dtype=np.float32), protocol=4),
        "protocol 0 text data": pickle.dumps([1, "two", 3.0], protocol=0),
    }
    return bad, benign


def write(dirpath, files):
    os.makedirs(dirpath, exist_ok=True)
    names = {}
    for i, (label, data) in enumerate(files.items()):
        ext = ".npy" if data.startswith(b"\x93NUMPY") else ".pt" if data.startswith(b"PK") else ".pkl"
        p = os.path.join(dirpath, f"{i:02d}{ext}")
        with open(p, "wb") as f:
            f.write(data)
        names[label] = p
    return names


def flagged_picklescan(path):
    from picklescan.scanner import scan_file_path

    r = scan_file_path(path)
    return r.issues_count > 0 or r.infected_files > 0


def flagged_fickling(path):
    import fickling

    try:
        # fickling prints warnings on stdout; the Markdown goes there too.
        with contextlib.redirect_stdout(sys.stderr):
            return not fickling.scan_file(path, graceful=True).is_safe
    except Exception:
        return True  # an error is not a pass


def flagged_aiposture(paths):
    out = subprocess.run([AIPOSTURE, "scan", "--format", "json", *paths], capture_output=True)
    doc = json.loads(out.stdout)
    # "not a model" means the file was not recognised as a pickle at all: a miss.
    flagged = {"dangerous", "suspicious", "unparseable", "error"}
    return {f["path"]: f["verdict"] in flagged for f in doc["files"]}


def main():
    bad, benign = corpus()
    bad_paths = write(os.path.join(OUT, "bad"), bad)
    good_paths = write(os.path.join(OUT, "good"), benign)
    aip = flagged_aiposture(list(bad_paths.values()) + list(good_paths.values()))
    rows, score = [], {"aiposture": [0, 0], "picklescan": [0, 0], "fickling": [0, 0]}

    def mark(hit):
        return "flagged" if hit else "**missed**"

    for label, p in bad_paths.items():
        r = {"aiposture": aip.get(p, False), "picklescan": flagged_picklescan(p), "fickling": flagged_fickling(p)}
        for k, v in r.items():
            score[k][0] += v
        rows.append(f"| {label} | {mark(r['aiposture'])} | {mark(r['picklescan'])} | {mark(r['fickling'])} |")
    for label, p in good_paths.items():
        r = {"aiposture": aip.get(p, False), "picklescan": flagged_picklescan(p), "fickling": flagged_fickling(p)}
        for k, v in r.items():
            score[k][1] += v
        fp = lambda hit: "**false positive**" if hit else "clean"
        rows.append(f"| benign: {label} | {fp(r['aiposture'])} | {fp(r['picklescan'])} | {fp(r['fickling'])} |")

    # The throughput set: every file copied 200 times.
    tp = os.path.join(OUT, "throughput")
    os.makedirs(tp, exist_ok=True)
    n = 0
    for src in list(bad_paths.values()) + list(good_paths.values()):
        for k in range(200):
            shutil.copy(src, os.path.join(tp, f"{k:03d}-{os.path.basename(src)}"))
            n += 1
    json.dump({"rows": rows, "score": score, "bad": len(bad), "good": len(benign), "throughput_files": n},
              open(os.path.join(OUT, "detection.json"), "w"))


if __name__ == "__main__":
    main()
