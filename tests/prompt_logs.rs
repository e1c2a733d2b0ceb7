//! Prompt logs at rest on a real llama.cpp server: its `--log-file` and the
//! slots it saves under `--slot-save-path` are found where the flags put them,
//! with size, age and the mode of every path component; readable by everyone →
//! a finding, which the remediation's chmod clears.

mod support;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::*;

const WORLD: &str = "privacy.prompt-log-world-readable";
const GROUP: &str = "privacy.prompt-log-group-readable";

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn prompt_log(snap: &Value, pid: u32, path: &str) -> Value {
    snap["inventory"]["privacy"]["prompt_logs"]
        .as_array()
        .expect("prompt_logs")
        .iter()
        .find(|l| l["pid"] == pid && l["path"] == path)
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "no prompt log {path} for pid {pid}: {:#}",
                snap["inventory"]["privacy"]
            )
        })
}

fn findings_for<'a>(snap: &'a Value, rule: &str, path: &str) -> Vec<&'a Value> {
    snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule && f["subject"]["path"] == path)
        .collect()
}

/// A private directory (tempdir is 0700) opened to others, as a log directory
/// under /srv or /var/log usually is.
fn open_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    chmod(dir.path(), 0o755);
    dir
}

#[test]
fn world_readable_log_file_is_a_finding_and_chmod_600_clears_it() {
    let dir = open_dir();
    let log = dir.path().join("server.log");
    let path = log.to_string_lossy().into_owned();
    // llama-server opens it with fopen("w"): an existing file keeps its mode.
    write(&log, "");
    chmod(&log, 0o644);
    let port = free_port().to_string();
    let p = start_llama(
        Command::new(llama_server_bin()),
        &["--host", "127.0.0.1", "--port", &port, "--log-file", &path],
        &[],
    );
    wait_until(
        "llama-server to write its log file",
        Duration::from_secs(30),
        || std::fs::metadata(&log).is_ok_and(|m| m.len() > 0),
    );

    let snap = snapshot(&[]);
    let l = prompt_log(&snap, p.pid(), &path);
    assert_eq!(l["log"], "llama-server-log-file");
    assert_eq!(l["is_dir"], false);
    assert_eq!(l["files"], 1);
    assert!(l["size_bytes"].as_u64().is_some_and(|n| n > 0), "{l:#}");
    assert!(
        l["modified"].as_str().is_some_and(|m| m.ends_with('Z')),
        "{l:#}"
    );
    assert!(
        l["located_by"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("--log-file of pid {}", p.pid()))),
        "{l:#}"
    );
    let access = l["access"].as_array().expect("access");
    assert_eq!(access[0]["path"], path.as_str());
    assert_eq!(access[0]["mode"], 0o644);
    assert_eq!(access.last().map(|a| &a["path"]), Some(&Value::from("/")));

    let found = findings_for(&snap, WORLD, &path);
    assert_eq!(found.len(), 1, "{:#}", snap["findings"]);
    let f = found[0];
    assert_eq!(f["severity"], "medium");
    assert_eq!(f["subject"]["pid"], p.pid());
    assert!(
        f["remediation"]
            .as_str()
            .is_some_and(|r| r.starts_with(&format!("chmod 600 '{path}'"))),
        "{f:#}"
    );
    let evidence = f["evidence"].as_array().expect("evidence");
    let dir_s = dir.path().to_string_lossy();
    assert!(
        evidence
            .iter()
            .any(|e| support::source_text(&e["source"]) == dir_s.as_ref()
                && e["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("mode 0755"))),
        "{evidence:#?}"
    );

    chmod(&log, 0o600);
    let snap = snapshot(&[]);
    let l = prompt_log(&snap, p.pid(), &path);
    assert_eq!(l["access"][0]["mode"], 0o600);
    assert!(findings_for(&snap, WORLD, &path).is_empty());
    assert!(findings_for(&snap, GROUP, &path).is_empty());
}

/// POST /slots/0?action=save: the server writes the slot file itself. It
/// answers 503 while its model still loads (its port is open before): asked
/// again until it is ready.
fn save_slot(port: &str, filename: &str) -> String {
    let mut reply = String::new();
    for _ in 0..100 {
        reply = save_slot_once(port, filename);
        if !reply.starts_with("HTTP/1.1 503") {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    reply
}

fn save_slot_once(port: &str, filename: &str) -> String {
    let body = format!("{{\"filename\":\"{filename}\"}}");
    let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "POST /slots/0?action=save HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("reply");
    reply
}

#[test]
fn saved_slots_readable_by_everyone_are_a_finding_until_the_directory_is_closed() {
    let dir = open_dir();
    let slots = dir.path().join("slots");
    std::fs::create_dir(&slots).expect("mkdir");
    chmod(&slots, 0o755);
    let path = slots.to_string_lossy().into_owned();
    let port = free_port().to_string();
    let p = start_llama(
        Command::new(llama_server_bin()),
        &[
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--slot-save-path",
            &path,
        ],
        &[],
    );
    let reply = save_slot(&port, "chat.bin");
    assert!(reply.contains("\"n_written\""), "{reply}");
    let saved = slots.join("chat.bin");
    // Whatever the umask gave it, make it the readable case under test.
    chmod(&saved, 0o644);

    let snap = snapshot(&[]);
    let l = prompt_log(&snap, p.pid(), &path);
    assert_eq!(l["log"], "llama-server-slots");
    assert_eq!(l["is_dir"], true);
    assert_eq!(l["files"], 1);
    assert_eq!(
        l["size_bytes"].as_u64(),
        std::fs::metadata(&saved).ok().map(|m| m.len())
    );
    assert_eq!(
        l["loosest_member"]["path"],
        saved.to_string_lossy().as_ref()
    );
    assert_eq!(l["loosest_member"]["mode"], 0o644);
    let found = findings_for(&snap, WORLD, &path);
    assert_eq!(found.len(), 1, "{:#}", snap["findings"]);
    assert!(
        found[0]["remediation"]
            .as_str()
            .is_some_and(|r| r.starts_with(&format!("chmod -R go-rwx '{path}'"))),
        "{:#}",
        found[0]
    );

    // The remediation, as given.
    run_ok(Command::new("chmod").args(["-R", "go-rwx", &path]));
    let snap = snapshot(&[]);
    let l = prompt_log(&snap, p.pid(), &path);
    assert_eq!(l["files"], 1);
    assert!(findings_for(&snap, WORLD, &path).is_empty());
    assert!(findings_for(&snap, GROUP, &path).is_empty());
}
