#!/usr/bin/env python3
"""fickling on local files, dispatched the way fickling's own CLI dispatches Hugging Face files.

usage: fickling_scan.py PATH...   (a directory is walked)

`fickling --check-safety FILE` reads every file as a raw pickle stream; its `--huggingface`
mode instead picks per file: zip (torch zip, standard zip, .pt/.pth) -> scan_zip_archive,
valid pickle or .bin/.pkl/.pickle -> scan_file, 7z / tar / numpy -> "not yet supported",
anything else -> skipped. This applies that dispatch (fickling.cli._scan_huggingface) to local
paths and prints one JSON line per file: {"path", "outcome", "detail"} with outcome
malicious (severity above LIKELY_SAFE), error (a parse or read error while nothing was
flagged), unsupported, skipped or benign. fickling.polyglot imports only
torch.serialization._is_zipfile from torch; without torch installed, that four-byte check is
provided here (same code), so the run does not pay for importing torch.
"""
import json
import os
import sys
import types
from pathlib import PurePosixPath


def _is_zipfile(f):
    # torch.serialization._is_zipfile, the one thing fickling.polyglot imports from torch
    # (fickling[torch] pulls the whole of torch for it): the local-header magic at offset 0.
    start = f.tell()
    magic = f.read(4)
    f.seek(start)
    return magic == b"PK\x03\x04"


if "torch" not in sys.modules:
    try:
        import torch.serialization  # noqa: F401  (the real one, where installed)
    except ImportError:
        sys.modules["torch"] = types.ModuleType("torch")
        sys.modules["torch.serialization"] = types.SimpleNamespace(_is_zipfile=_is_zipfile)

from fickling.analysis import Severity
from fickling.cli import HF_RAW_PICKLE_EXTENSIONS, HF_ZIP_PICKLE_EXTENSIONS
from fickling.loader import scan_file, scan_zip_archive
from fickling.polyglot import find_file_properties


def judge(path):
    ext = PurePosixPath(path).suffix.lower()
    try:
        props = find_file_properties(path)
    except Exception as e:  # noqa: BLE001
        return "error", f"find_file_properties: {type(e).__name__}: {e}"
    if props["is_torch_zip"] or props["is_standard_zip"] or ext in HF_ZIP_PICKLE_EXTENSIONS:
        results = list(scan_zip_archive(path, graceful=True).values())
    elif props["is_valid_pickle"] or ext in HF_RAW_PICKLE_EXTENSIONS:
        results = [scan_file(path, graceful=True)]
    elif props.get("is_7z") or props["is_tar"] or props["is_numpy_pickle"]:
        return "unsupported", "7z/TAR/NumPy archive: not yet supported by fickling's dispatch"
    else:
        return "skipped", "not a pickle, unknown extension"
    if not results:
        return "benign", "no pickle member"
    worst = max((r.severity for r in results), default=Severity.LIKELY_SAFE)
    errors = [e for r in results for e in r.errors]
    flagged = [a for r in results for a in r.results if a.severity > Severity.LIKELY_SAFE]
    if flagged:
        return "malicious", f"{worst.name}: " + "; ".join(str(a.to_string())[:200] for a in flagged)
    if errors:
        return "error", f"{worst.name}: {'; '.join(errors)[:300]}"
    if worst > Severity.LIKELY_SAFE:
        return "malicious", worst.name
    return "benign", worst.name


def main():
    paths = []
    for a in sys.argv[1:]:
        if os.path.isdir(a):
            for d, _, fs in os.walk(a):
                paths += [os.path.join(d, f) for f in sorted(fs)]
        else:
            paths.append(a)
    for p in paths:
        try:
            outcome, detail = judge(p)
        except Exception as e:  # noqa: BLE001 - a crash on one file is that file's error
            outcome, detail = "error", f"{type(e).__name__}: {e}"
        print(json.dumps({"path": p, "outcome": outcome, "detail": detail}), flush=True)


main()
