#!/usr/bin/env python3
"""Derives GGUF files with broken tensor layouts from a real one (the tiny
model of the test rig, written by the gguf writer), by patching the fields
that gguf-py's own reader locates. Also a big-endian copy made by gguf-py's
converter, intact and misaligned.

    make_gguf_layouts.py BASE_GGUF OUT_DIR
"""
import os
import shutil
import struct
import subprocess
import sys

from gguf import GGUFReader

base, out = sys.argv[1:3]
r = GGUFReader(base)
raw = open(base, "rb").read()


def part_at(t, k):
    """File offset of part k of tensor t's info: name length, name, n_dims,
    dims, type, offset."""
    f = r.tensors[t].field
    return f.offset + sum(len(p.tobytes()) for p in f.parts[:k])


def rel(t):
    return int(r.tensors[t].data_offset - r.data_offset)


def variant(name, edits, cut=0):
    b = bytearray(raw)
    for at, data in edits:
        b[at : at + len(data)] = data
    if cut:
        b = b[:-cut]
    open(os.path.join(out, name + ".gguf"), "wb").write(bytes(b))


u32 = lambda v: struct.pack("<I", v)
u64 = lambda v: struct.pack("<Q", v)
assert len(r.tensors) > 3
assert r.tensors[2].name != r.tensors[3].name and len(r.tensors[2].name) == len(r.tensors[3].name)

variant("valid", [])
variant("misaligned", [(part_at(1, 5), u64(rel(1) + 4))])
variant("overlap", [(part_at(2, 5), u64(rel(1)))])
variant("past_end", [], cut=64)
variant("removed_type", [(part_at(1, 4), u32(4))])
variant("unknown_type", [(part_at(1, 4), u32(200))])
variant("block_split", [(part_at(1, 4), u32(8)), (part_at(1, 3), u64(48))])
variant("dims_overflow", [(part_at(0, 3) + 8, u64(1 << 62))])
variant("duplicate_name", [(part_at(3, 1), r.tensors[2].name.encode())])

# Big-endian copies (gguf-py converts in place).
for name in ("be_valid", "be_misaligned"):
    dst = os.path.join(out, name + ".gguf")
    shutil.copy(base, dst)
    subprocess.run(
        [sys.executable, "-m", "gguf.scripts.gguf_convert_endian", "--dry-run", dst, "big"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "gguf.scripts.gguf_convert_endian", dst, "big"],
        input=b"YES\n",
        check=True,
        capture_output=True,
    )
be = GGUFReader(os.path.join(out, "be_misaligned.gguf"))
f = be.tensors[1].field
at = f.offset + sum(len(p.tobytes()) for p in f.parts[:5])
b = bytearray(open(os.path.join(out, "be_misaligned.gguf"), "rb").read())
b[at : at + 8] = struct.pack(">Q", int(be.tensors[1].data_offset - be.data_offset) + 4)
open(os.path.join(out, "be_misaligned.gguf"), "wb").write(bytes(b))
print("ok")
