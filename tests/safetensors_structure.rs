//! Safetensors layouts judged against the reference loader itself: the real
//! writer (`safetensors.numpy.save_file`) makes a file, its header is rewritten
//! into layouts a loader must refuse (overlapping, gapped, short, unknown dtype,
//! wrong size, backwards), and the real `safetensors.safe_open` in a subprocess
//! of the test says which it accepts. `aiposture scan` must call every file the
//! loader refuses an error, and every one it accepts clean.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

const MAKE_AND_LOAD: &str = r#"
import json, struct, sys
import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file

out = sys.argv[1]
base = f"{out}/valid.safetensors"
save_file({"a": np.arange(4, dtype=np.uint8), "b": np.arange(4, dtype=np.uint8)}, base)
raw = open(base, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]

def variant(name, edit, extra=b""):
    h = json.loads(json.dumps(header))
    edit(h)
    text = json.dumps(h).encode()
    with open(f"{out}/{name}.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data + extra)

def overlap(h): h["b"]["data_offsets"] = [2, 6]
def gap(h): h["a"]["data_offsets"] = [0, 2]; h["a"]["shape"] = [2]
def unknown(h): h["a"]["dtype"] = "Q9"
def wrong_size(h): h["b"]["dtype"] = "F32"
def backwards(h): h["b"]["data_offsets"] = [8, 4]
def same(h): pass

variant("overlap", overlap)
variant("gap", gap)
variant("unknown_dtype", unknown)
variant("wrong_size", wrong_size)
variant("backwards", backwards)
variant("tail_bytes", same, extra=b"\0\0\0")
variant("reordered", lambda h: h.update({"a": h.pop("a")}))

verdicts = {}
for name in ["valid", "overlap", "gap", "unknown_dtype", "wrong_size", "backwards",
             "tail_bytes", "reordered"]:
    try:
        with safe_open(f"{out}/{name}.safetensors", "np") as f:
            for k in f.keys():
                f.get_tensor(k)
        verdicts[name] = "accepted"
    except Exception as e:
        verdicts[name] = "refused: " + type(e).__name__
print(json.dumps(verdicts))
"#;

#[test]
fn scan_errors_exactly_where_the_reference_loader_refuses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(support::python())
        .args(["-c", MAKE_AND_LOAD, dir.path().to_str().expect("utf-8")])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let loader: BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).expect("loader verdicts");
    // The variants are what the reference loader refuses; the test is only
    // meaningful while it does.
    assert_eq!(loader["valid"], "accepted");
    assert_eq!(loader["reordered"], "accepted");
    for bad in [
        "overlap",
        "gap",
        "unknown_dtype",
        "wrong_size",
        "backwards",
        "tail_bytes",
    ] {
        assert!(loader[bad].starts_with("refused"), "{bad}: {loader:?}");
    }

    let scan = Command::new(support::bin())
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .output()
        .expect("run scan");
    let doc: serde_json::Value = serde_json::from_slice(&scan.stdout).expect("scan json");
    let files = doc["files"].as_array().expect("files");
    assert_eq!(files.len(), loader.len(), "{doc:#}");
    for f in files {
        let name = f["path"]
            .as_str()
            .and_then(|p| p.rsplit('/').next())
            .and_then(|n| n.strip_suffix(".safetensors"))
            .expect("a variant");
        let want = if loader[name] == "accepted" {
            "clean"
        } else {
            "error"
        };
        assert_eq!(f["verdict"], want, "{name} ({}): {f:#}", loader[name]);
        if want == "error" {
            assert!(
                f["reasons"][0]
                    .as_str()
                    .is_some_and(|r| r.contains("loader rejects")),
                "{f:#}"
            );
        }
    }
}
