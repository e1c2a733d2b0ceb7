//! One fixed snapshot (a real collection, `tests/fixtures/snapshot-root.json`)
//! rendered by every exporter (JSON is the fixture itself, its shape kept by
//! `docs/snapshot.schema.json`), compared byte for byte with the reviewed copy in
//! `tests/snapshots/`: a refactoring that changes what an export says shows up
//! here as a diff to review (`cargo insta review`), never silently.

use std::path::Path;

use aiposture::model::Snapshot;
use aiposture::views::export::{cyclonedx, jsonl, markdown, prometheus, sarif};

fn fixture() -> Snapshot {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshot-root.json");
    let text = std::fs::read_to_string(&p).expect("fixture");
    serde_json::from_str(&text).expect("a snapshot")
}

#[test]
fn every_export_of_one_snapshot_is_as_reviewed() {
    let snap = fixture();
    // The serial is random per run in real exports; fixed here.
    let serial = cyclonedx::serial_from([0x5a; 16]);
    let outputs = [
        ("jsonl", jsonl::render(&snap).expect("jsonl")),
        ("markdown", markdown::render(&snap).expect("markdown")),
        ("prometheus", prometheus::render(&snap).expect("prometheus")),
        (
            "cyclonedx",
            cyclonedx::to_json(&snap, &serial).expect("cyclonedx"),
        ),
        ("sarif", sarif::to_sarif(&snap).expect("sarif")),
    ];
    for (name, text) in outputs {
        assert!(text.len() > 500, "{name} is nearly empty");
        insta::assert_snapshot!(format!("export_{name}"), text);
    }
}
