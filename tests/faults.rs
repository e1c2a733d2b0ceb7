//! The fault matrix items that need a whole host situation: a read-only state
//! directory, and a thousand processes churning while the tool collects. Each
//! fault is a visible message, nothing crashes, and nothing already stored is lost.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

fn snapshot_with_state(cfg: &Path, state: &Path) -> Value {
    let out = run_ok(
        Command::new(bin())
            .env("XDG_STATE_HOME", state)
            .args(["--passive", "--config"])
            .arg(cfg)
            .arg("snapshot"),
    );
    serde_json::from_slice(&out.stdout).expect("snapshot JSON")
}

fn blind_spot_about<'a>(snap: &'a Value, what: &str) -> Option<&'a Value> {
    snap["inventory"]["blind_spots"]
        .as_array()?
        .iter()
        .find(|b| b["what"].as_str().is_some_and(|w| w.contains(what)))
}

fn model_hash(snap: &Value, name: &str) -> Value {
    snap["inventory"]["store_files"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["path"].as_str().is_some_and(|p| p.ends_with(name)))
        .map(|m| m["hash"].clone())
        .unwrap_or(Value::Null)
}

/// Every regular file under `dir`, with its bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("list state dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let bytes = std::fs::read(&p).expect("read state file");
                out.push((p, bytes));
            }
        }
    }
    out.sort();
    out
}

/// The state directory (hash cache and timeline) becomes read-only between two
/// runs: the run still succeeds and hashes, says twice what it could not keep,
/// changes no byte of what was stored, and once writable again the history of
/// the first run is still there.
#[test]
fn a_read_only_state_directory_is_said_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let models = dir.path().join("models");
    std::fs::create_dir_all(&state).expect("mkdir state");
    std::fs::create_dir_all(&models).expect("mkdir models");
    let _m = Tmpfs::mount(&state, "32m");
    put(&models.join("first.gguf"), &tiny_gguf());
    let cfg = dir.path().join("config.toml");
    write(
        &cfg,
        format!("[models]\nroots = [\"{}\"]\n", models.display()),
    );

    let first = snapshot_with_state(&cfg, &state);
    assert!(
        model_hash(&first, "first.gguf")["sha256"].is_string(),
        "{:#}",
        model_hash(&first, "first.gguf")
    );
    assert!(blind_spot_about(&first, "hash cache").is_none());
    assert!(
        first["timeline"]["memory_only"].is_null(),
        "{:#}",
        first["timeline"]
    );
    // First-seen times have a one-second resolution: the later runs must fall
    // in another second for a lost record to show.
    std::thread::sleep(Duration::from_millis(1100));
    let stored = files_under(&state);
    let names: Vec<String> = stored
        .iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n.ends_with("hashes.json"))
            && names.iter().any(|n| n.ends_with(".sqlite3")),
        "{names:#?}"
    );

    run_ok(Command::new("mount").args(["-o", "remount,ro"]).arg(&state));
    // Something new to remember, so both stores would have to be written.
    let mut second_model = std::fs::read(tiny_gguf()).expect("read gguf");
    second_model.extend_from_slice(b"\0\0\0\0");
    write(&models.join("second.gguf"), &second_model);

    let second = snapshot_with_state(&cfg, &state);
    assert!(
        model_hash(&second, "second.gguf")["sha256"].is_string(),
        "hashing stopped: {:#}",
        model_hash(&second, "second.gguf")
    );
    let cache = blind_spot_about(&second, "hash cache")
        .unwrap_or_else(|| panic!("no blind spot: {:#}", second["inventory"]["blind_spots"]));
    assert!(
        cache["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Read-only file system")),
        "{cache:#}"
    );
    let why = second["timeline"]["memory_only"]
        .as_str()
        .unwrap_or_default();
    assert!(
        why.contains("read-only") || why.contains("Read-only"),
        "{:#}",
        second["timeline"]
    );
    assert_eq!(files_under(&state), stored, "a read-only state dir changed");

    // The dashboard says the same in its header, and keeps drawing.
    let t = Tmux::start(
        200,
        40,
        &format!(
            "sh -c 'XDG_STATE_HOME={} {} --passive --config {} --interval 300ms; echo exit=$?'",
            state.display(),
            bin(),
            cfg.display()
        ),
    );
    t.wait_for("history in memory only", Duration::from_secs(20));
    t.keys(&["q"]);
    t.wait_for("exit=0", Duration::from_secs(10));

    run_ok(Command::new("mount").args(["-o", "remount,rw"]).arg(&state));
    let third = snapshot_with_state(&cfg, &state);
    assert!(blind_spot_about(&third, "hash cache").is_none());
    assert!(
        third["timeline"]["memory_only"].is_null(),
        "{:#}",
        third["timeline"]
    );
    // The first run's record is still there: the first-seen time of its model,
    // and the third run is compared with it (second.gguf is new to the store).
    let first_seen = |snap: &Value| {
        snap["timeline"]["since"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["key"].as_str().is_some_and(|k| k.ends_with("first.gguf")))
            .map(|s| s["first_seen"].clone())
            .unwrap_or(Value::Null)
    };
    assert!(first_seen(&first).is_string(), "{:#}", first["timeline"]);
    assert_eq!(
        first_seen(&third),
        first_seen(&first),
        "{:#}",
        third["timeline"]
    );
    let added: Vec<&Value> = third["timeline"]["new_events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "model_added")
        .collect();
    assert!(
        added.len() == 1
            && added[0]["subject"]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("second.gguf")),
        "{added:#?}"
    );
}

/// A pool of a thousand short-lived processes (2–8 s each, so about 200 exit and
/// are replaced every second), a tenth holding a listening socket,
/// replaced as they exit: /proc entries and sockets vanish between every read.
/// Every snapshot succeeds and sees the crowd, and the dashboard keeps drawing.
#[test]
fn a_thousand_churning_processes_never_fail_a_collection() {
    const POOL: usize = 1000;
    let churn = format!(
        r#"
import os, random, signal, socket, time
signal.signal(signal.SIGCHLD, signal.SIG_DFL)
live = 0
def child(n):
    if n % 10 == 0:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen()
    time.sleep(random.uniform(2.0, 8.0))
    os._exit(0)
n = 0
while True:
    while live < {POOL}:
        n += 1
        if os.fork() == 0:
            child(n)
        live += 1
    if live >= {POOL}:
        open("/dev/shm/aipt-churn-{id}", "w").close()
    os.waitpid(-1, 0)
    live -= 1
"#,
        id = std::process::id()
    );
    let marker = PathBuf::from(format!("/dev/shm/aipt-churn-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let child = Command::new(python())
        .args(["-c", &churn])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .expect("start the churn");
    let _g = Group(child);
    wait_until("a full pool", Duration::from_secs(60), || marker.exists());
    let _ = std::fs::remove_file(&marker);

    let t = Tmux::start(
        140,
        40,
        &format!(
            "sh -c '{} --passive --no-history --config /dev/null --interval 300ms; echo exit=$?; stty -a'",
            bin()
        ),
    );
    t.wait_for("AI servers and listeners", Duration::from_secs(30));

    let start = Instant::now();
    let (mut runs, mut most) = (0, 0u64);
    let mut failures = Vec::new();
    while runs < 5 || start.elapsed() < Duration::from_secs(6) {
        let out = Command::new(bin())
            .args(["--passive", "--no-history", "--config", "/dev/null"])
            .args(["snapshot", "--no-hash-wait"])
            .output()
            .expect("run snapshot");
        match serde_json::from_slice::<Value>(&out.stdout) {
            Ok(v) if out.status.success() => {
                most = most.max(v["inventory"]["processes_seen"].as_u64().unwrap_or(0));
            }
            _ => failures.push(String::from_utf8_lossy(&out.stderr).into_owned()),
        }
        runs += 1;
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} snapshots failed: {failures:#?}",
        failures.len()
    );
    assert!(
        most >= POOL as u64,
        "the churn was not seen: at most {most} processes"
    );

    // The dashboard refreshed through it all and still answers.
    assert!(!t.pane_dead(), "the dashboard died:\n{}", t.capture());
    t.keys(&["q"]);
    let screen = t.wait_for("exit=0", Duration::from_secs(20));
    let modes = t.wait_for("speed", Duration::from_secs(5));
    assert!(
        modes.split_whitespace().any(|w| w == "icanon"),
        "terminal not restored:\n{screen}"
    );
}
