//! The operator's policy file against real model files: approvals by repository
//! (Hugging Face cache path), by publisher (a GGUF header's claim) past its expiry,
//! by sha256 (a verified Ollama blob), a model nothing approves, and a policy file
//! with an impossible date, read by a stand-in ComfyUI process that holds the files.
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use aiposture::collect::models::stores::sha256_file;
use serde_json::Value;
use support::*;

const SAFETENSORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/models/tiny.safetensors"
);

struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this test created.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

fn snapshot_with(home: &Path) -> Value {
    let out = run_ok(
        Command::new(bin())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_STATE_HOME", home.join("state"))
            .args(["--passive", "snapshot"]),
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn findings_for(snap: &Value, rule: &str, pid: u32) -> Vec<Value> {
    snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule && f["subject"]["pid"] == pid)
        .cloned()
        .collect()
}

#[test]
fn approvals_decide_loaded_and_stored_models() {
    let gguf = tiny_gguf();
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path();

    // Hugging Face cache: blob named by its sha256, snapshot link to it.
    let hub = home.join(".cache/huggingface/hub");
    let repo = hub.join("models--aiposture--tiny-llama");
    let digest = sha256_file(&gguf).expect("hash");
    let blob = repo.join(format!("blobs/{digest}"));
    put(&blob, &gguf);
    let snap_dir = repo.join("snapshots/3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8091a2");
    std::fs::create_dir_all(&snap_dir).expect("mkdir");
    std::os::unix::fs::symlink(format!("../../blobs/{digest}"), snap_dir.join("model.gguf"))
        .expect("link");
    // Ollama store holding the safetensors file, approved by digest only.
    let st_digest = sha256_file(Path::new(SAFETENSORS)).expect("hash");
    let ollama = home.join(".ollama/models");
    put(
        &ollama.join(format!("blobs/sha256-{st_digest}")),
        Path::new(SAFETENSORS),
    );
    write(
        &ollama.join("manifests/registry.ollama.ai/library/tiny-st/latest"),
        format!(
            r#"{{"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{st_digest}"}}]}}"#
        ),
    );
    // ComfyUI tree: a GGUF whose header names its publisher, a safetensors with none.
    let comfy = home.join("ComfyUI");
    let ckpt = comfy.join("models/checkpoints/tiny.gguf");
    let lora = comfy.join("models/loras/l.safetensors");
    put(&ckpt, &gguf);
    // Other bytes than the approved safetensors blob (a copy would be approved by
    // its content hash): one weight byte changed.
    let mut other = std::fs::read(SAFETENSORS).expect("read");
    if let Some(last) = other.last_mut() {
        *last ^= 0x01;
    }
    std::fs::create_dir_all(lora.parent().expect("parent")).expect("mkdir");
    std::fs::write(&lora, other).expect("write");

    let policy = home.join("decisions/policy.toml");
    write(
        &home.join("config/aiposture/config.toml"),
        format!("[models]\npolicy = \"{}\"\n", policy.display()),
    );
    write(
        &policy,
        format!(
            r#"[[approve]]
repo = "aiposture/tiny-llama"
origin_country = "FR"
reason = "test model, reviewed"
approver = "alice"
date = "2026-01-10"

[[approve]]
publisher = "aiposture tests"
reason = "trial"
approver = "bob"
date = "2025-01-01"
expires = "2025-06-30"

[[approve]]
sha256 = "{st_digest}"
reason = "pinned by digest"
approver = "carol"
date = "2026-02-01"
"#
        ),
    );

    let script = comfy.join("main.py");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/model_holder.py"),
        &script,
    )
    .expect("copy holder");
    let ready = temp_path("holder-ready");
    let hold: Vec<PathBuf> = vec![blob.clone(), ckpt.clone(), lora.clone()];
    let holder = Holder(
        Command::new(python())
            .arg(&script)
            .current_dir(home)
            .env("HOLD_FILES", std::env::join_paths(&hold).expect("join"))
            .env("READY_FILE", &ready)
            .stdin(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn"),
    );
    wait_until(
        "the holder to open its files",
        Duration::from_secs(20),
        || ready.exists(),
    );
    let _ = std::fs::remove_file(&ready);
    let pid = holder.0.id();

    let snap = snapshot_with(home);
    assert_eq!(snap["inventory"]["policy"]["state"], "loaded");
    let hub_root = snap["inventory"]["model_roots"]
        .as_array()
        .expect("roots")
        .iter()
        .find(|r| r["path"] == *hub.to_string_lossy())
        .cloned()
        .expect("HF root recorded");
    assert_eq!(hub_root["why"], "home of the user running aiposture");
    assert_eq!(hub_root["state"], "found");
    assert_eq!(hub_root["files"], 1);
    let server = servers_with_pid(&snap, pid)
        .first()
        .copied()
        .cloned()
        .unwrap_or_else(|| panic!("holder not recognised"));
    let model = |p: &Path| -> Value {
        server["models"]
            .as_array()
            .expect("models")
            .iter()
            .find(|m| m["path"] == *p.to_string_lossy())
            .cloned()
            .unwrap_or_else(|| panic!("{} not loaded: {:#}", p.display(), server["models"]))
    };
    let policy_s = policy.to_string_lossy();

    // Approved by repository, from the cache path (the header's own claim loses).
    let hf = model(&blob);
    assert_eq!(hf["provenance"]["repo"], "aiposture/tiny-llama");
    assert_eq!(hf["provenance"]["publisher"], "aiposture");
    assert_eq!(hf["decision"]["state"], "approved", "{:#}", hf["decision"]);
    assert_eq!(
        hf["decision"]["entry"],
        format!("{policy_s}:1 (repo \"aiposture/tiny-llama\")")
    );
    assert!(
        hf["decision"]["matched"]
            .as_str()
            .is_some_and(|m| m.contains("Hugging Face cache path")),
        "{:#}",
        hf["decision"]
    );
    assert_eq!(hf["decision"]["origin_country"], "FR");

    // Covered only by an approval past its expiry.
    let c = model(&ckpt);
    assert_eq!(c["provenance"]["publisher"], "aiposture tests");
    assert_eq!(c["decision"]["state"], "expired");
    assert_eq!(c["decision"]["expired_on"], "2025-06-30");
    let exp = findings_for(&snap, "policy.approval-expired", pid);
    assert_eq!(exp.len(), 1, "{exp:#?}");
    assert_eq!(exp[0]["severity"], "medium");
    assert!(
        exp[0]["evidence"]
            .to_string()
            .contains(&*ckpt.to_string_lossy())
    );

    // Nothing approves it, and nothing says where it came from.
    let l = model(&lora);
    assert_eq!(l["provenance"]["state"], "unknown");
    assert_eq!(l["decision"]["state"], "unapproved");
    assert!(
        l["decision"]["why"]
            .as_str()
            .is_some_and(|w| w.contains("unknown provenance")),
        "{:#}",
        l["decision"]
    );
    let un = findings_for(&snap, "policy.unapproved-model", pid);
    assert_eq!(un.len(), 1, "only the unapproved model: {un:#?}");
    assert_eq!(un[0]["subject"]["path"], *lora.to_string_lossy());

    // A stored file approved by its verified digest.
    let ol = snap["inventory"]["store_files"]
        .as_array()
        .expect("store files")
        .iter()
        .find(|f| f["reference"] == "registry.ollama.ai/library/tiny-st:latest")
        .cloned()
        .expect("ollama file");
    assert_eq!(ol["integrity"]["state"], "verified");
    assert_eq!(ol["provenance"]["publisher"], "library");
    assert_eq!(ol["decision"]["state"], "approved", "{:#}", ol["decision"]);
    assert!(
        ol["decision"]["entry"]
            .as_str()
            .is_some_and(|e| e.starts_with(&format!("{policy_s}:15 (sha256 "))),
        "{:#}",
        ol["decision"]
    );
    assert!(findings_for(&snap, "policy.absent", 0).is_empty());

    // An impossible date: a finding naming the line; the snapshot still runs and
    // judges nothing against approvals.
    let text = std::fs::read_to_string(&policy).expect("read");
    std::fs::write(&policy, text.replace("2026-01-10", "2026-02-30")).expect("write");
    let snap = snapshot_with(home);
    assert_eq!(snap["inventory"]["policy"]["state"], "invalid");
    let inv = findings_for(&snap, "policy.invalid", 0);
    assert_eq!(inv.len(), 1, "{inv:#?}");
    let detail = inv[0]["evidence"][0]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(&format!("{policy_s}:6:")), "{detail}");
    assert!(detail.contains("day 30"), "{detail}");
    assert!(findings_for(&snap, "policy.unapproved-model", pid).is_empty());
    drop(holder);
}
