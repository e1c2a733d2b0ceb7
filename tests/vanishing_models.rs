//! A model directory deleted while its file is being hashed: the snapshot
//! still completes, and the file is reported as not hashed with the reason,
//! never with a hash of a file that is gone.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::*;

#[test]
fn a_model_directory_deleted_while_hashing_is_reported_not_crashed_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("models");
    std::fs::create_dir(&root).expect("mkdir");
    let model = root.join("big.gguf");
    // A real GGUF header followed by 2 GiB of holes: slow enough to hash that
    // the test can see the read begin, cheap to create.
    let header = std::fs::read(tiny_gguf()).expect("gguf");
    let f = std::fs::File::create(&model).expect("create");
    std::io::Write::write_all(&mut &f, &header).expect("write");
    f.set_len(2 << 30).expect("extend");
    drop(f);
    let cfg = dir.path().join("config.toml");
    write(
        &cfg,
        format!("[models]\nroots = [\"{}\"]\n", root.display()),
    );
    let child = Command::new(bin())
        .args(["--passive", "--no-history", "--config"])
        .arg(&cfg)
        .args(["snapshot"])
        .env("XDG_STATE_HOME", dir.path().join("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn snapshot");
    let pid = child.id();
    let path = model.to_string_lossy().into_owned();
    // The hasher has the file open: now the directory goes.
    wait_until(
        "the hasher to open the model",
        Duration::from_secs(60),
        || {
            std::fs::read_dir(format!("/proc/{pid}/fd"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy() == path))
        },
    );
    std::fs::remove_dir_all(&root).expect("rm -rf the model directory");
    let out = child.wait_with_output().expect("snapshot ends");
    assert!(
        out.status.success(),
        "snapshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let files = snap["inventory"]["store_files"]
        .as_array()
        .expect("store files");
    if let Some(f) = files.iter().find(|f| f["path"] == path.as_str()) {
        eprintln!("reported: {:#}", f["hash"]);
        assert_ne!(
            f["hash"]["state"], "known",
            "a vanished file has a hash: {f:#}"
        );
        assert!(
            f["hash"]["why"].as_str().is_some_and(|w| !w.is_empty()),
            "{f:#}"
        );
    }
}
