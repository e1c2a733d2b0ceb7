#!/usr/bin/env python3
"""Writes the containers of tests/archives.rs with Python's own zipfile and
tarfile, from the pickle fixtures. Nothing is unpickled or extracted here.

    make_archives.py PICKLE_FIXTURE_DIR OUT_DIR
"""
import io
import os
import pickle
import struct
import sys
import tarfile
import warnings
import zipfile

warnings.simplefilter("ignore")
fixtures, out = sys.argv[1:3]


def fixture(name):
    with open(os.path.join(fixtures, name), "rb") as f:
        return f.read()


evil = fixture("os_system_p4.pkl")
benign = pickle.dumps({"weights": [0.5, 1.5], "name": "tiny"}, protocol=4)


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


# A generic zip whose pickle is not called data.pkl, next to a clean one.
write("generic_evil.zip", zip_bytes([("readme.txt", b"weights"), ("weights/blob", evil)]))
write("generic_benign.zip", zip_bytes([("readme.txt", b"weights"), ("weights/blob", benign)]))
# A protocol 0 pickle (no magic) named like data.
write("generic_text_pickle.zip", zip_bytes([("state", pickle.dumps(os.system, protocol=0))]))
# Zip-slip: a member that extracts outside its directory.
write("slip.zip", zip_bytes([("../../outside.pkl", benign)]))
# Repeated names: the copy a reader keeping the last one skips holds os.system.
write("duplicate.zip", zip_bytes([("model.pkl", evil), ("model.pkl", benign)]))
# A zip inside a zip inside a zip, the pickle at the bottom.
inner = zip_bytes([("deep/model.bin", evil)])
write("nested.zip", zip_bytes([("outer.zip", zip_bytes([("middle.zip", inner)]))]))
# Nested past the bound: four levels.
blob = zip_bytes([("m.pkl", evil)])
for i in range(4):
    blob = zip_bytes([(f"level{i}.zip", blob)])
write("too_deep.zip", blob)

# The encryption flag set on a plainly stored member (local and central
# headers): readers that honour it skip the member, PyTorch's does not.
data = bytearray(zip_bytes([("archive/data.pkl", evil), ("archive/version", b"3\n")], zipfile.ZIP_STORED))
at = 0
while True:
    at = data.find(b"PK\x03\x04", at)
    if at < 0:
        break
    data[at + 6] |= 1
    at += 4
at = 0
while True:
    at = data.find(b"PK\x01\x02", at)
    if at < 0:
        break
    data[at + 8] |= 1
    at += 4
write("encrypted_flag.pt", bytes(data))

# A torch-style layout whose raw storage happens to start like a pickle:
# torch.load reads storages as bytes, so the storage must not be walked.
storage = b"\x80\x02" + struct.pack("<7f", *range(7))
write(
    "torch_storage_like_pickle.pt",
    zip_bytes(
        [("archive/data.pkl", benign), ("archive/data/0", storage), ("archive/version", b"3\n")],
        zipfile.ZIP_STORED,
    ),
)


def tar_bytes(members, links=()):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, payload in members:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            t.addfile(info, io.BytesIO(payload))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            t.addfile(info)
    return buf.getvalue()


write("model_evil.tar", tar_bytes([("model/config.json", b"{}"), ("model/weights", evil)]))
write("model_benign.tar", tar_bytes([("model/config.json", b"{}"), ("model/weights", benign)]))
write("link_out.tar", tar_bytes([("model/weights", benign)], links=[("model/tokenizer", "/etc/passwd")]))
write("zip_in_tar.tar", tar_bytes([("bundle.zip", zip_bytes([("w", evil)]))]))
# Plain archives with no model inside are no model at all.
write("docs.zip", zip_bytes([("a.txt", b"hello"), ("b.md", b"# title")]))
write("docs.tar", tar_bytes([("a.txt", b"hello")]))
print("ok")
