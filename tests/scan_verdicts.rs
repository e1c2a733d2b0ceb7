//! `aiposture scan` on the checked-in fixtures written by the real writers (gguf,
//! safetensors, onnx, h5py, stdlib pickle): the verdict each format earns.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn fixtures_get_the_verdicts_their_content_deserves() {
    let out = Command::new(support::bin())
        .args([
            "scan",
            "--format",
            "json",
            "tests/fixtures/models",
            "tests/fixtures/pickle",
        ])
        .output()
        .expect("run scan");
    assert_eq!(out.status.code(), Some(1), "a dangerous file makes exit 1");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let verdicts: BTreeMap<String, String> = doc["files"]
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
            (name, f["verdict"].as_str().unwrap_or_default().to_string())
        })
        .collect();
    for (file, want) in [
        ("benign.onnx", "clean"),
        ("custom_op.onnx", "suspicious"),
        ("traversal.onnx", "dangerous"),
        ("benign.keras", "clean"),
        ("custom.keras", "suspicious"),
        ("lambda.keras", "dangerous"),
        ("benign.h5", "clean"),
        ("lambda.h5", "dangerous"),
        ("ssti.gguf", "suspicious"),
        ("provenance.gguf", "clean"),
        ("tiny.safetensors", "clean"),
        ("os_system_p0.pkl", "dangerous"),
        ("plain_p4.pkl", "clean"),
        ("truncated_p4.pkl", "unparseable"),
        ("make.py", "not_a_model"),
    ] {
        assert_eq!(
            verdicts.get(file).map(String::as_str),
            Some(want),
            "{file}: {verdicts:#?}"
        );
    }
}
