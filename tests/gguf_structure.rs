//! GGUF tensor layouts judged against llama.cpp's own loader: the tiny model
//! of the test rig (written by the gguf writer, served by the real
//! llama-server elsewhere) is patched into layouts a loader must refuse —
//! misaligned, overlapping and truncated data, removed and unknown types, a
//! first dimension that splits a block, an element count that overflows, a
//! repeated tensor name — and the real llama-server is asked to load each:
//! it refuses every one. `aiposture scan` must call exactly those an error,
//! the intact file clean, and read a big-endian copy (gguf-py's converter) as
//! the same file, intact or broken.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the real llama-server on `model` and waits for it to give up:
/// `Some(log)` when it exits refusing the model, `None` when it is still
/// running after `limit` (it loaded the model).
fn llama_refuses(model: &std::path::Path, limit: Duration) -> Option<String> {
    let port = support::free_port();
    let log = tempfile::NamedTempFile::new().expect("log");
    let mut child = Command::new(support::llama_server_bin())
        .args(["-m"])
        .arg(model)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "-c",
            "64",
        ])
        .stdout(Stdio::null())
        .stderr(log.reopen().expect("log handle"))
        .spawn()
        .expect("llama-server");
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(log.path()).unwrap_or_default();
            return (!status.success()).then_some(text);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn broken_layouts_are_errors_exactly_where_llama_cpp_refuses_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let made = Command::new(support::python())
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/make_gguf_layouts.py"
        ))
        .arg(support::tiny_gguf())
        .arg(dir.path())
        .output()
        .expect("python");
    assert!(
        made.status.success(),
        "make_gguf_layouts.py: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let broken = [
        "misaligned",
        "overlap",
        "past_end",
        "removed_type",
        "unknown_type",
        "block_split",
        "dims_overflow",
        "duplicate_name",
    ];
    for name in broken {
        let path = dir.path().join(format!("{name}.gguf"));
        let log = llama_refuses(&path, Duration::from_secs(30)).unwrap_or_else(|| {
            panic!("llama-server loaded {name}.gguf: the variant is not broken")
        });
        assert!(
            log.contains("error loading model") || log.contains("failed to load model"),
            "{name}: {log}"
        );
    }

    let (doc, by_name) = support::scan_verdicts(&[dir.path()]);
    let got: BTreeMap<String, (String, String)> = by_name
        .into_iter()
        .map(|(name, (v, f))| {
            (
                name.trim_end_matches(".gguf").to_string(),
                (v, f["reasons"].to_string()),
            )
        })
        .collect();
    let mut wrong = Vec::new();
    for name in broken.iter().chain(&["be_misaligned"]) {
        match got.get(*name) {
            Some((v, reasons)) if v == "error" && reasons.contains("at offset") => {}
            other => wrong.push(format!("{name}: want error with an offset, got {other:?}")),
        }
    }
    for name in ["valid", "be_valid"] {
        match got.get(name) {
            Some((v, _)) if v == "clean" => {}
            other => wrong.push(format!("{name}: want clean, got {other:?}")),
        }
    }
    let be = &doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("be_valid.gguf"))
        })
        .expect("be_valid")["format"];
    assert_eq!(be["version"], 3, "{be}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
