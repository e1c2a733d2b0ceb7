//! Content hashes of model files across runs: a file swapped under a running
//! server's path, or given a new chat template, is drift; large files are hashed
//! before a headless snapshot returns unless told otherwise.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn make_gguf(out: &Path, template: &str) {
    support::run_ok(Command::new(support::python()).args([
        "tests/support/make_tiny_gguf.py".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--chat-template".as_ref(),
        template.as_ref(),
    ]));
}

fn snapshot_with_state(state: &Path, extra: &[&str]) -> Value {
    let out = support::run_ok(
        Command::new(support::bin())
            .env("XDG_STATE_HOME", state)
            .args(["--passive", "snapshot"])
            .args(extra),
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn model_of(snap: &Value, pid: u32) -> Value {
    support::servers_with_pid(snap, pid)
        .first()
        .and_then(|s| s["models"].as_array())
        .and_then(|m| m.first())
        .cloned()
        .unwrap_or_else(|| panic!("no model for pid {pid}"))
}

fn findings_for<'a>(snap: &'a Value, rule: &str, path: &str) -> Vec<&'a Value> {
    snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule && f["subject"]["path"] == path)
        .collect()
}

#[test]
fn weights_and_template_swapped_under_a_server_are_drift_on_the_next_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let model = dir.path().join("m.gguf");
    let path = model.to_string_lossy().into_owned();
    make_gguf(&model, "{{ messages[0]['content'] }}");

    let first =
        support::start_llama_with(Command::new(support::llama_server_bin()), &model, &[], &[]);
    let snap = snapshot_with_state(&state, &[]);
    let m = model_of(&snap, first.pid());
    let before = support::run_ok(Command::new("sha256sum").arg(&model));
    let before = String::from_utf8_lossy(&before.stdout)[..64].to_string();
    assert_eq!(
        m["hash"],
        serde_json::json!({"state": "known", "sha256": before})
    );
    assert!(m["drift"]["content"].is_null(), "{m}");
    assert!(findings_for(&snap, "models.content-changed", &path).is_empty());
    drop(first);

    // Same path, new bytes and a new template; the server is started again on it.
    make_gguf(&model, "{{ messages[-1]['content'] }} (edited)");
    let second =
        support::start_llama_with(Command::new(support::llama_server_bin()), &model, &[], &[]);
    let snap = snapshot_with_state(&state, &[]);
    let m = model_of(&snap, second.pid());
    assert_eq!(
        m["drift"]["content"]["before_sha256"],
        before.as_str(),
        "{m}"
    );
    assert_eq!(m["drift"]["content"]["after_sha256"], m["hash"]["sha256"]);
    let content = findings_for(&snap, "models.content-changed", &path);
    assert_eq!(content.len(), 1, "{:#}", snap["findings"]);
    assert_eq!(content[0]["severity"], "high");
    assert!(content[0]["evidence"].to_string().contains(&before));
    let template = findings_for(&snap, "models.chat-template-changed", &path);
    assert_eq!(template.len(), 1);

    // A third run still reports it (the change is recent), and the history holds.
    let again = snapshot_with_state(&state, &[]);
    assert_eq!(
        findings_for(&again, "models.content-changed", &path).len(),
        1
    );
}

#[test]
fn large_blobs_are_hashed_before_a_snapshot_returns_unless_told_not_to() {
    let home = tempfile::tempdir().expect("tempdir");
    let root = home.path().join(".ollama/models");
    // A sparse 300 MiB file with a real GGUF header: big enough for the background queue.
    let gguf = std::fs::read(support::tiny_gguf()).expect("gguf");
    let staging = home.path().join("big.gguf");
    std::fs::write(&staging, &gguf).expect("write");
    std::fs::File::options()
        .write(true)
        .open(&staging)
        .and_then(|f| f.set_len(300 << 20))
        .expect("extend");
    let digest = aiposture::collect::models::stores::sha256_file(&staging).expect("hash");
    std::fs::create_dir_all(root.join("blobs")).expect("blobs");
    std::fs::rename(&staging, root.join(format!("blobs/sha256-{digest}"))).expect("move");
    let manifests = root.join("manifests/registry.ollama.ai/library/big");
    std::fs::create_dir_all(&manifests).expect("manifests");
    std::fs::write(
        manifests.join("latest"),
        format!(r#"{{"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{digest}"}}]}}"#),
    )
    .expect("manifest");
    let run = |extra: &[&str], state: &Path| -> Value {
        let out = support::run_ok(
            Command::new(support::bin())
                .env("HOME", home.path())
                .env("XDG_STATE_HOME", state)
                .args(["--passive", "snapshot"])
                .args(extra),
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let file = |snap: &Value| -> Value {
        snap["inventory"]["store_files"]
            .as_array()
            .and_then(|v| {
                v.iter()
                    .find(|f| f["reference"] == "registry.ollama.ai/library/big:latest")
            })
            .cloned()
            .expect("store file")
    };

    let quick = file(&run(&["--no-hash-wait"], &home.path().join("s1")));
    assert_eq!(quick["hash"]["state"], "pending", "{quick}");
    assert_eq!(quick["integrity"]["state"], "not_checked");

    let full = run(&[], &home.path().join("s2"));
    let f = file(&full);
    assert_eq!(f["hash"]["sha256"], digest.as_str(), "{f}");
    assert_eq!(f["integrity"]["state"], "verified");
    assert_eq!(full["inventory"]["hashing"]["files_pending"], 0);
    assert!(full["inventory"]["hashing"]["bytes_done"].as_u64() >= Some(300 << 20));

    // The state directory remembers it: a quick run now knows the hash.
    let cached = file(&run(&["--no-hash-wait"], &home.path().join("s2")));
    assert_eq!(cached["integrity"]["state"], "verified", "{cached}");
}
