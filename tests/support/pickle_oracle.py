#!/usr/bin/env python3
"""The CPython side of tests/pickle_oracle.rs. Writes tricky pickles made with
the real pickle and pickletools (every protocol, memo and frame forms,
hand-assembled opcode edge cases) and deterministic mutations of them (cuts,
flipped bytes, inserted opcodes) to OUT/cases, adds the inputs of SEED_DIRS,
and prints, per file, what CPython makes of it:

  ops      pickletools.genops: [offset, opcode byte] up to and with STOP
  genops_error   why genops stopped early, or null
  loaded   whether the C unpickler loaded it in a sandbox: find_class is
           replaced, so nothing is imported or called; every global the
           stream names is recorded in `imports` instead
  imports  the names find_class was asked for

    pickle_oracle.py OUT [SEED_DIR...]
"""
import collections
import io
import json
import os
import pickle
import pickletools
import random
import resource
import struct
import sys

out = sys.argv[1]
seeds = sys.argv[2:]
cases = os.path.join(out, "cases")
os.makedirs(cases, exist_ok=True)
# Mutated streams can ask for much memory; a failure is an answer too.
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


class Reduced:
    def __reduce__(self):
        return (collections.OrderedDict, ([("a", 1)],))


class WithState:
    def __init__(self):
        self.x = [1, 2]
        self.y = "text"


shared = ["shared"]
rec = []
rec.append(rec)
values = {
    "ints": [0, 1, -1, 255, 256, 65535, 65536, 2**31 - 1, -(2**31), 2**63, -(2**70)],
    "floats": [0.5, -1e300, float("inf")],
    "text": ["", "a", "é" * 3, "x" * 300, b"", b"\x00\xff" * 200],
    "containers": [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], {}, {"k": [1, {2: 3}]}],
    "sets": [set(), {1, 2}, frozenset({3})],
    "memo": [shared, shared, shared],
    "recursive": rec,
    "global": os.path.join,
    "reduced": Reduced(),
    "state": WithState(),
    "big": [b"\x01" * (70 << 10)],
}
made = {}
for key, v in values.items():
    for proto in range(6):
        try:
            data = pickle.dumps(v, protocol=proto)
        except Exception:
            continue
        made[f"{key}_p{proto}"] = data
        made[f"{key}_p{proto}_opt"] = pickletools.optimize(data)
made["bytearray_p5"] = pickle.dumps(bytearray(b"abc"), protocol=5)


def frame(n, body):
    return b"\x80\x04\x95" + struct.pack("<Q", n) + body


def su(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


body = b"\x8c\x03abc\x94."
for n in (0, 3, 4, 7, 8, 100):
    made[f"frame_{n}"] = frame(n, body)
made["frame_nested"] = frame(25, b"\x95" + struct.pack("<Q", len(body)) + body + b"xyz")
made["memo_mix"] = b"\x80\x04" + su("a") + b"\x94" + su("b") + b"q\x05h\x00h\x05\x86."
made["long_binget"] = b"\x80\x02X\x01\x00\x00\x00ar\x10\x00\x00\x00j\x10\x00\x00\x00\x86."
made["stack_global_memo"] = b"\x80\x04" + su("collections") + b"\x94" + su("OrderedDict") + b"\x94\x93)R."
made["stack_global_nonconst"] = b"\x80\x04K\x01K\x02\x93."
made["ext1"] = b"\x80\x02\x82\x01)R."
made["ext2"] = b"\x80\x02\x83\x01\x01)R."
made["ext4"] = b"\x80\x02\x84\x01\x00\x00\x00)R."
made["persid"] = b"P0\n."
made["binpersid"] = b"\x80\x02K\x01Q."
made["inst"] = b"(icollections\nOrderedDict\n."
made["obj"] = b"\x80\x02(ccollections\nOrderedDict\no."
made["newobj_ex"] = b"\x80\x04" + su("collections") + su("OrderedDict") + b"\x93)}\x92."
made["binunicode8"] = b"\x80\x04\x8d" + struct.pack("<Q", 2) + b"hi."
made["bytearray8"] = b"\x80\x05\x96" + struct.pack("<Q", 2) + b"hi."
made["next_buffer"] = b"\x80\x05\x97."
made["readonly_buffer"] = b"\x80\x05\x97\x98."
made["bad_int"] = b"I12x\n."
made["bool_int"] = b"I01\n."
made["long_text"] = b"L123L\n."
made["float_text"] = b"F1.5\n."
made["string_quoted"] = b"S'ab'\n."
made["string_unquoted"] = b"Sab\n."
made["unicode_escape"] = b"V\\u00e9\n."
made["proto6"] = b"\x80\x06N."
made["empty"] = b""
made["stop_only"] = b"."
made["two_pickles"] = pickle.dumps(1, protocol=2) + pickle.dumps(os.system, protocol=2)
made["trailing_garbage"] = pickle.dumps([1], protocol=2) + b"\xff\xff"
made["dup"] = b"\x80\x02K\x01\x32\x86."
made["pop_mark"] = b"\x80\x02(K\x011N."
made["os_system"] = b"cos\nsystem\n(S'echo'\ntR."
made["builtin_eval"] = b"c__builtin__\neval\n(S'1'\ntR."

rng = random.Random(20261207)
bases = list(made.items())
for name, data in bases:
    if not data:
        continue
    for i in range(6):
        cut = rng.randrange(len(data))
        made[f"{name}_cut{i}"] = data[:cut]
    for i in range(6):
        b = bytearray(data)
        b[rng.randrange(len(b))] = rng.randrange(256)
        made[f"{name}_flip{i}"] = bytes(b)
    for i in range(3):
        b = bytearray(data)
        at = rng.randrange(len(b) + 1)
        b[at:at] = bytes([rng.choice(b"()012pqrghj.NKJMIXVS}]tdlaesubRQP\x80\x81\x85\x86\x87\x8c\x93\x94\x95")])
        made[f"{name}_ins{i}"] = bytes(b)

for d in seeds:
    if not os.path.isdir(d):
        continue
    for f in sorted(os.listdir(d))[:2000]:
        p = os.path.join(d, f)
        if os.path.isfile(p) and os.path.getsize(p) <= (1 << 20):
            made["seed_" + os.path.basename(d.rstrip("/")) + "_" + f] = open(p, "rb").read()


class Stand:
    """What every global becomes: takes any arguments and any state."""

    def __new__(cls, *a, **k):
        return object.__new__(cls)

    def __init__(self, *a, **k):
        pass

    def __setstate__(self, state):
        pass


class Sandbox(pickle.Unpickler):
    def __init__(self, f):
        super().__init__(f)
        self.imports = []

    def find_class(self, module, name):
        self.imports.append(name)
        return Stand

    def persistent_load(self, pid):
        return None


report = {}
for name, data in made.items():
    safe = "".join(c if c.isalnum() or c in "_-." else "_" for c in name)[:120]
    with open(os.path.join(cases, safe), "wb") as f:
        f.write(data)
    ops, err = [], None
    try:
        for op, arg, pos in pickletools.genops(data):
            ops.append([pos, op.code.encode("latin-1")[0]])
    except Exception as e:
        err = f"{type(e).__name__}: {e}"[:200]
    u = Sandbox(io.BytesIO(data))
    try:
        u.load()
        loaded = True
    except BaseException as e:
        loaded = False
    report[safe] = {"ops": ops, "genops_error": err, "loaded": loaded, "imports": u.imports}
json.dump(report, sys.stdout)
