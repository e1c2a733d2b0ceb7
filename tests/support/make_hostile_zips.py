#!/usr/bin/env python3
"""Writes the zip archives of tests/hostile.rs with Python's own zipfile (the
writer torch.save's archives are read back with elsewhere), from the pickle
fixtures. Nothing is unpickled here.

    make_hostile_zips.py PICKLE_FIXTURE_DIR REAL_DIR HOSTILE_DIR
"""
import os
import pickle
import struct
import sys
import zipfile

fixtures, real, hostile = sys.argv[1:4]


def fixture(name):
    with open(os.path.join(fixtures, name), "rb") as f:
        return f.read()


torch_pkl = fixture("torch_data_p2.pkl")
evil_pkl = fixture("os_system_p2.pkl")


def torch_zip(path, members, compression=zipfile.ZIP_STORED):
    """members: (name, bytes) in order, as torch.save lays them out."""
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in members:
            z.writestr(name, data)


def layout(pkl, root="archive"):
    # torch.serialization._save: data.pkl first, then byteorder, storages, version.
    return [
        (f"{root}/data.pkl", pkl),
        (f"{root}/byteorder", b"little"),
        (f"{root}/data/0", struct.pack("<6f", *range(6))),
        (f"{root}/data/1", struct.pack("<2f", 0, 1)),
        (f"{root}/version", b"3\n"),
    ]


# ---- real: what a torch.save checkpoint looks like, benign and with a payload
torch_zip(os.path.join(real, "torch_state.pt"), layout(torch_pkl))
torch_zip(os.path.join(real, "torch_evil.pt"), layout(evil_pkl))

# ---- path traversal and absolute member names (never extracted, still judged)
torch_zip(os.path.join(hostile, "zip_traversal.pt"), layout(evil_pkl, root="../../../../tmp/x"))
torch_zip(os.path.join(hostile, "zip_absolute.pt"), layout(evil_pkl, root="/etc/x"))

# ---- duplicate names: a loader taking the first sees os.system, one taking the last does not
import warnings

warnings.simplefilter("ignore")
torch_zip(
    os.path.join(hostile, "zip_duplicate.pt"),
    [("archive/data.pkl", evil_pkl), ("archive/data.pkl", torch_pkl), ("archive/version", b"3\n")],
)

# ---- zip bomb: a data.pkl that inflates to 1 GiB (a pickle, then zeros in a BINBYTES8)
bomb = os.path.join(hostile, "zip_bomb.pt")
size = 1 << 30
with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    with z.open("archive/data.pkl", "w", force_zip64=True) as m:
        m.write(b"\x80\x04\x8e" + struct.pack("<Q", size - 12))
        chunk = bytes(1 << 20)
        written = 11
        while written < size - len(chunk):
            m.write(chunk)
            written += len(chunk)
        m.write(bytes(size - 1 - written) + b".")
    z.writestr("archive/version", b"3\n")

# ---- lying sizes: 64 MiB of zeros whose headers claim 4 KiB
lie = os.path.join(hostile, "zip_lying_size.pt")
body = b"\x80\x04\x8e" + struct.pack("<Q", (64 << 20) - 12) + bytes((64 << 20) - 12) + b"."
with zipfile.ZipFile(lie, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    z.writestr("archive/data.pkl", body)
data = bytearray(open(lie, "rb").read())
claimed = struct.pack("<I", 4096)
local = data.find(b"PK\x03\x04")
data[local + 22 : local + 26] = claimed
central = data.find(b"PK\x01\x02")
data[central + 24 : central + 28] = claimed
open(lie, "wb").write(bytes(data))

# ---- deep nesting: os.system inside bytes inside a pickle, 40 levels
blob = evil_pkl
for _ in range(40):
    blob = pickle.dumps({"blob": blob}, protocol=4)
with open(os.path.join(hostile, "nested_40.pkl"), "wb") as f:
    f.write(blob)
torch_zip(os.path.join(hostile, "zip_nested_40.pt"), layout(blob))
