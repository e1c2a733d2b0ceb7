//! Containers judged member by member, by content, as their loaders read them
//! (tests/support/make_archives.py writes them with Python's zipfile and
//! tarfile): a pickle under any name in a generic zip or tar, archives nested
//! to a bound, zip-slip names and links, repeated names (every copy read),
//! members flagged encrypted (read as loaders that ignore the flag read
//! them), torch storages never walked as opcodes, and plain archives left
//! alone.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn scan(dir: &Path) -> BTreeMap<String, (String, String)> {
    let out = Command::new(support::bin())
        .args(["scan", "--format", "json"])
        .arg(dir)
        .output()
        .expect("run scan");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("scan json: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let name = f["path"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let verdict = f["verdict"].as_str().unwrap_or_default().to_string();
            (name, (verdict, f.to_string()))
        })
        .collect()
}

#[test]
fn containers_are_judged_by_what_their_members_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let made = Command::new(support::python())
        .arg(root.join("tests/support/make_archives.py"))
        .arg(root.join("tests/fixtures/pickle"))
        .arg(dir.path())
        .output()
        .expect("python");
    assert!(
        made.status.success(),
        "make_archives.py: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let got = scan(dir.path());
    let expect = [
        ("generic_evil.zip", "dangerous", "weights/blob"),
        ("generic_benign.zip", "clean", "weights/blob"),
        ("generic_text_pickle.zip", "dangerous", "posix"),
        ("slip.zip", "dangerous", "outside the target directory"),
        ("duplicate.zip", "dangerous", "model.pkl ×2"),
        (
            "nested.zip",
            "dangerous",
            "outer.zip!middle.zip!deep/model.bin",
        ),
        ("too_deep.zip", "error", "nested deeper than"),
        ("encrypted_flag.pt", "dangerous", "flagged as encrypted"),
        ("torch_storage_like_pickle.pt", "clean", "archive/data.pkl"),
        ("model_evil.tar", "dangerous", "model/weights"),
        ("model_benign.tar", "clean", "model/weights"),
        ("link_out.tar", "dangerous", "/etc/passwd"),
        ("zip_in_tar.tar", "dangerous", "bundle.zip!w"),
        ("docs.zip", "not_a_model", ""),
        ("docs.tar", "not_a_model", ""),
    ];
    let mut wrong = Vec::new();
    for (file, verdict, evidence) in expect {
        match got.get(file) {
            Some((v, doc)) if v == verdict && doc.contains(evidence) => {}
            other => wrong.push(format!(
                "{file}: want {verdict} with {evidence:?}, got {other:?}"
            )),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
