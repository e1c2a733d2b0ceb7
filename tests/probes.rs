//! Loopback probes against real and hostile servers.

mod support;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn verdict_of(snap: &Value, pid: u32) -> Value {
    snap["probe_verdicts"]
        .as_array()
        .expect("probe_verdicts")
        .iter()
        .find(|v| v["pid"] == pid)
        .cloned()
        .unwrap_or(Value::Null)
}

fn responses_of(snap: &Value, pid: u32) -> Vec<Value> {
    snap["inventory"]["probes"]
        .as_array()
        .expect("probes")
        .iter()
        .find(|p| p["pid"] == pid)
        .and_then(|p| p["responses"].as_array().cloned())
        .unwrap_or_default()
}

#[test]
fn llama_server_probe_reads_version_and_auth_and_passive_sends_nothing() {
    // Every snapshot probes every server on the host: keep the two tests apart
    // so the hostile servers see exactly one round.
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let key_path = key_file().to_string_lossy().into_owned();
    let (p1, p2) = (free_port(), free_port());
    let open = start_llama(
        Command::new(llama_server_bin()),
        &["--host", "127.0.0.1", "--port", &p1.to_string()],
        &[],
    );
    let keyed = start_llama(
        Command::new(llama_server_bin()),
        &[
            "--host",
            "127.0.0.1",
            "--port",
            &p2.to_string(),
            "--api-key-file",
            &key_path,
        ],
        &[],
    );
    let snap = snapshot(&[]);
    let v = verdict_of(&snap, open.pid());
    assert_eq!(v["identity"], "confirmed", "{v:#}");
    assert_eq!(v["auth"], "answers_without_credentials", "{v:#}");
    assert_eq!(v["listed"], 1, "{v:#}");
    assert!(
        v["version"].as_str().is_some_and(|s| s.starts_with('b')),
        "{v:#}"
    );

    let k = verdict_of(&snap, keyed.pid());
    assert_eq!(k["identity"], "confirmed", "{k:#}");
    assert_eq!(k["auth"], "demands_auth", "{k:#}");
    assert_eq!(k["open_paths"], serde_json::json!(["/health"]), "{k:#}");
    assert!(
        snap["tool"]["mode"]
            .as_str()
            .is_some_and(|m| m.starts_with("active"))
    );

    let passive = snapshot(&["--passive"]);
    assert_eq!(passive["inventory"]["probes"], serde_json::json!([]));
    assert!(
        passive["tool"]["mode"]
            .as_str()
            .is_some_and(|m| m.starts_with("passive"))
    );
}

/// A hostile answerer must not slow the tool down, grow its memory or lead it
/// anywhere: one GET per path, to loopback only, facts capped.
#[test]
fn hostile_responders_are_contained() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let ns = Netns::new();
    let dir = tempfile::tempdir().expect("tempdir");
    // Recognised as llama.cpp by its argv[0], so that it gets probed.
    let fake = dir.path().join("llama-server");
    std::os::unix::fs::symlink(python(), &fake).expect("symlink");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/hostile_server.py"
    );
    let mut kids = Vec::new();
    for (port, mode) in [(8080, "nasty"), (8081, "slow")] {
        let log = dir.path().join(format!("{mode}.log"));
        let mut c = ns.command(&fake);
        c.arg(script)
            .args([&port.to_string(), mode])
            .arg(&log)
            .stdin(Stdio::null())
            .process_group(0);
        kids.push((Group(c.spawn().expect("spawn hostile server")), log));
    }
    let ready = |port: u16| {
        ns.command("bash")
            .args(["-c", &format!("exec 3<>/dev/tcp/127.0.0.1/{port}")])
            .status()
            .is_ok_and(|s| s.success())
    };
    wait_until("hostile servers", Duration::from_secs(20), || {
        ready(8080) && ready(8081)
    });
    // Readiness checks are requests too: start the logs afresh.
    for (_, log) in &kids {
        let _ = std::fs::write(log, b"");
    }

    let trace = dir.path().join("strace");
    let out = dir.path().join("snap.json");
    let started = Instant::now();
    run_ok(
        Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=%network,execve", "-o"])
            .arg(&trace)
            .arg(bin())
            .args(["snapshot", "-o"])
            .arg(&out),
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "snapshot took {took:?} against hostile servers"
    );
    let snap: Value = serde_json::from_str(&read(&out)).expect("json");

    let (nasty, slow) = (kids[0].0.0.id(), kids[1].0.0.id());
    let r = responses_of(&snap, nasty);
    let by = |p: &str| {
        r.iter()
            .find(|x| x["path"] == p)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert!(
        by("/health")["error"].is_string(),
        "10 MB header accepted: {:#}",
        by("/health")
    );
    let models = by("/v1/models");
    assert_eq!(models["truncated"], true, "{models:#}");
    assert_eq!(models["body_bytes"], 64 * 1024, "{models:#}");
    assert_eq!(
        by("/props")["status"],
        302,
        "redirect not reported as such: {:#}",
        by("/props")
    );
    for x in &r {
        let s = x.to_string();
        assert!(s.len() < 2048, "an answer leaked into the facts: {s}");
    }
    let slow_r = responses_of(&snap, slow);
    assert!(
        !slow_r.is_empty() && slow_r.iter().all(|x| x["error"].is_string()),
        "{slow_r:#?}"
    );

    // On the wire: one plain GET per path, no credentials, nothing else.
    let log = read(&kids[0].1);
    let requests: Vec<&str> = log
        .split("\n---\n")
        .filter(|b| !b.trim().is_empty())
        .collect();
    let lines: Vec<&str> = requests.iter().filter_map(|b| b.lines().next()).collect();
    // Whole rounds only (a snapshot run elsewhere on the host may add one); our own
    // snapshot's connections are counted exactly below, from its strace.
    let round = [
        "GET /health HTTP/1.1",
        "GET /v1/models HTTP/1.1",
        "GET /props HTTP/1.1",
    ];
    assert!(
        !lines.is_empty() && lines.len().is_multiple_of(3) && lines.chunks(3).all(|c| c == round),
        "{log}"
    );
    assert!(!log.to_lowercase().contains("authorization"), "{log}");
    let strace = read(&trace);
    assert!(
        !strace.contains("198.51.100.7"),
        "followed the redirect:\n{strace}"
    );
    assert_only_loopback(&strace);
    let connects = strace
        .lines()
        .filter(|l| l.contains("connect(") && l.contains("htons(8080)"))
        .count();
    assert_eq!(connects, 3, "one connection per GET:\n{strace}");
}
