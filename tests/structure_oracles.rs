//! `.npy` headers and HDF5 files judged against their reference loaders: the
//! real writers (numpy.save, h5py) make a file, it is rewritten into forms a
//! loader must refuse (a header that is code, not a literal; a shape whose
//! size overflows; a negative dimension; wrong keys; array bytes missing; an
//! HDF5 file cut short of the end its superblock records), and numpy.load /
//! h5py.File in a subprocess of the test say which they refuse. `aiposture
//! scan` must call every refused file an error, every accepted one clean.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

const MAKE_AND_LOAD: &str = r#"
import json, struct, sys
import numpy as np, h5py

out = sys.argv[1]
np.save(f"{out}/valid.npy", np.arange(12, dtype=np.float32).reshape(3, 4))
raw = open(f"{out}/valid.npy", "rb").read()
hlen = struct.unpack("<H", raw[8:10])[0]
header = raw[10:10 + hlen].decode("latin1")
data = raw[10 + hlen:]

def npy(name, text, body=data):
    text = text.ljust(len(header) - 1) + "\n"
    if len(text) != len(header):
        text = text + " " * ((64 - (10 + len(text) + 1) % 64) % 64) + "\n"
        text = text.replace("\n", " ", 1) if text.count("\n") > 1 else text
    b = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1") + body
    open(f"{out}/{name}.npy", "wb").write(b)

npy("code", "{'descr': __import__('os').getcwd() and '<f4', 'fortran_order': False, 'shape': (3, 4), }")
npy("overflow", "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }")
npy("negative", "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }")
npy("extra_key", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1, }")
npy("bad_dtype", "{'descr': '<q4', 'fortran_order': False, 'shape': (3, 4), }")
npy("short_data", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", data[:20])
npy("reshaped", "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 3), }")

with h5py.File(f"{out}/valid.h5", "w") as f:
    f.create_dataset("w", data=np.arange(4096, dtype=np.float32))
    f.attrs["note"] = "weights"
h5 = open(f"{out}/valid.h5", "rb").read()
open(f"{out}/truncated.h5", "wb").write(h5[: len(h5) - 1024])

verdicts = {}
for name in ["valid", "code", "overflow", "negative", "extra_key", "bad_dtype", "short_data", "reshaped"]:
    try:
        np.load(f"{out}/{name}.npy", allow_pickle=False)
        verdicts[name + ".npy"] = "accepted"
    except Exception as e:
        verdicts[name + ".npy"] = "refused: " + type(e).__name__
for name in ["valid", "truncated"]:
    try:
        with h5py.File(f"{out}/{name}.h5", "r") as f:
            f["w"][()]
        verdicts[name + ".h5"] = "accepted"
    except Exception as e:
        verdicts[name + ".h5"] = "refused: " + type(e).__name__
print(json.dumps(verdicts))
"#;

#[test]
fn npy_and_hdf5_errors_are_exactly_what_their_loaders_refuse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(support::python())
        .arg("-c")
        .arg(MAKE_AND_LOAD)
        .arg(dir.path())
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "writer: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).expect("oracle json");
    let refused = oracle.values().filter(|v| v.starts_with("refused")).count();
    assert_eq!(
        refused, 7,
        "the broken variants must really be broken: {oracle:#?}"
    );

    let (doc, _) = support::scan_verdicts(&[dir.path()]);
    let mut wrong = Vec::new();
    for f in doc["files"].as_array().expect("files") {
        let name = f["path"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let Some(loader) = oracle.get(name) else {
            continue;
        };
        let verdict = f["verdict"].as_str().unwrap_or_default();
        let want = if loader == "accepted" {
            "clean"
        } else {
            "error"
        };
        if verdict != want {
            wrong.push(format!(
                "{name}: loader {loader}, scan {verdict}: {}",
                f["reasons"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
