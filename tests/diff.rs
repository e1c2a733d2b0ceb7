//! Two snapshots of a changing host: `aiposture diff` lists exactly the changes,
//! keyed so that a restart is one event and a rebind is one event; and a saved
//! baseline turns the same changes into `baseline.drift` findings.
//!
//! The test's server lives in a namespace of its own on a port derived from the
//! test's pid, but the snapshots see the whole machine: other processes may
//! start or stop in between. So each test asserts the exact set of events about
//! ITS subjects (its pids, its listener port, its model path) and that no other
//! event mentions them.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::*;

fn make_gguf(out: &Path, template: &str) {
    run_ok(Command::new(python()).args([
        "tests/support/make_tiny_gguf.py".as_ref(),
        "--out".as_ref(),
        out.as_os_str(),
        "--chat-template".as_ref(),
        template.as_ref(),
    ]));
}

/// A port no other test uses: derived from this process's pid.
fn test_port() -> u16 {
    20000 + (std::process::id() % 20000) as u16
}

fn aiposture(state: &Path, args: &[&str]) -> Output {
    Command::new(bin())
        .env("XDG_STATE_HOME", state)
        .args(args)
        .output()
        .expect("run aiposture")
}

fn serve(ns: &Netns, model: &Path, host: &str, port: u16) -> Proc {
    let p = port.to_string();
    let server = start_llama_with(
        ns.command(llama_server_bin()),
        model,
        &["--host", host, "--port", &p],
        &[],
    );
    wait_until(
        "llama-server to listen",
        std::time::Duration::from_secs(30),
        || ns.reaches("127.0.0.1", port),
    );
    server
}

/// Events about the test's own subjects, and whether any other event mentions them.
fn split_events(events: &[Value], pids: &[u32], port: u16, path: &str) -> (Vec<Value>, Vec<Value>) {
    let listener_suffix = format!(":{port}/tcp");
    let ours = |e: &Value| {
        let s = &e["subject"];
        s["pid"]
            .as_u64()
            .is_some_and(|p| pids.contains(&(p as u32)))
            || s["path"] == path
            || s["listener"]
                .as_str()
                .is_some_and(|l| l.ends_with(&listener_suffix))
    };
    events.iter().cloned().partition(ours)
}

fn mentions(e: &Value, pids: &[u32], port: u16, path: &str) -> bool {
    let text = e.to_string();
    text.contains(path)
        || text.contains(&format!(":{port}/tcp"))
        || pids
            .iter()
            .any(|p| text.contains(&format!("pid {p} ")) || e["subject"]["pid"] == *p)
}

/// (kind, listener or path or rule) of each event, sorted.
fn shape(events: &[Value]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            let s = &e["subject"];
            let what = s["item"]
                .as_str()
                .filter(|_| e["kind"].as_str().is_some_and(|k| k.starts_with("finding")))
                .or(s["listener"].as_str())
                .or(s["path"].as_str())
                .unwrap_or("");
            (
                e["kind"].as_str().unwrap_or("").to_string(),
                what.to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn two_snapshots_of_a_changing_host_diff_to_exactly_the_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let model = dir.path().join("m.gguf");
    let path = model.to_string_lossy().into_owned();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    let port = test_port();
    // The server's namespace has a LAN neighbour: 0.0.0.0 then covers more than loopback.
    let net = VethPair::new();
    let ns = &net.server;
    make_gguf(&model, "{{ messages[0]['content'] }}");
    let first = serve(ns, &model, "127.0.0.1", port);
    assert!(!net.client_reaches(&net.server_addr, port));
    let out = aiposture(&state, &["snapshot", "-o", a.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{out:?}");
    let p1 = first.pid();
    drop(first);

    // Same path, other bytes and chat template; served again, on every address.
    make_gguf(&model, "{{ messages[-1]['content'] }} (swapped)");
    let second = serve(ns, &model, "0.0.0.0", port);
    assert!(net.client_reaches(&net.server_addr, port));
    let p2 = second.pid();
    let out = aiposture(&state, &["snapshot", "-o", b.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{out:?}");

    let out = aiposture(
        &state,
        &[
            "diff",
            a.to_str().expect("a"),
            b.to_str().expect("b"),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let events: Vec<Value> = serde_json::from_slice(&out.stdout).expect("events JSON");
    let pids = [p1, p2];
    let (ours, others) = split_events(&events, &pids, port, &path);
    let l_old = format!("127.0.0.1:{port}/tcp");
    let l_new = format!("0.0.0.0:{port}/tcp");
    let expected: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = [
            ("server_restarted", ""),
            ("listener_rebound", l_new.as_str()),
            ("exposure_changed", l_new.as_str()),
            ("model_changed", path.as_str()),
            ("template_changed", path.as_str()),
            ("finding_opened", "exposure.unauthenticated-listener"),
            ("finding_opened", "models.content-changed"),
            ("finding_opened", "models.chat-template-changed"),
        ]
        .iter()
        .map(|(k, w)| (k.to_string(), w.to_string()))
        .collect();
        v.sort();
        v
    };
    assert_eq!(shape(&ours), expected, "{:#}", Value::from(ours.clone()));
    for e in &others {
        assert!(
            !mentions(e, &pids, port, &path),
            "unexpected event about the test's server: {e:#}"
        );
    }

    let find = |kind: &str| {
        ours.iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}"))
    };
    let restarted = find("server_restarted");
    assert_eq!(restarted["subject"]["product"], "llama_server");
    assert_eq!(restarted["before"], format!("pid {p1}"));
    assert_eq!(restarted["after"], format!("pid {p2}"));
    assert_eq!(restarted["severity"], "info");
    let rebound = find("listener_rebound");
    assert_eq!(rebound["before"], l_old);
    assert_eq!(rebound["after"], l_new);
    assert_eq!(rebound["severity"], "medium");
    // Evidence names each side's snapshot and where the socket was read.
    let ev = rebound["evidence"].to_string();
    assert!(
        ev.contains("old snapshot") && ev.contains("new snapshot"),
        "{ev}"
    );
    assert!(ev.contains(&l_old) && ev.contains(&l_new), "{ev}");
    let exposure = find("exposure_changed");
    assert_eq!(exposure["before"], "loopback-only");
    assert_eq!(exposure["after"], "LAN");
    assert_eq!(exposure["severity"], "high");
    let changed = find("model_changed");
    let sha = |snap: &Path| {
        let v: Value = serde_json::from_str(&read(snap)).expect("snapshot");
        let s = v["inventory"]["servers"]
            .as_array()
            .expect("servers")
            .iter()
            .find(|s| s["models"][0]["path"] == path.as_str())
            .cloned()
            .expect("the test's server");
        s["models"][0]["hash"]["sha256"]
            .as_str()
            .expect("hashed")
            .to_string()
    };
    assert_eq!(changed["before"], format!("sha256 {}", sha(&a)));
    assert_eq!(changed["after"], format!("sha256 {}", sha(&b)));
    assert_eq!(changed["severity"], "high");
    // Every event is stamped with the later collection.
    let b_time: Value = serde_json::from_str(&read(&b)).expect("b");
    assert!(
        events
            .iter()
            .all(|e| e["time"] == b_time["inventory"]["host"]["collected_at"])
    );

    // Text output: one line per event, evidence indented under it.
    let out = aiposture(
        &state,
        &["diff", a.to_str().expect("a"), b.to_str().expect("b")],
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("listener_rebound medium llama_server")
                && l.ends_with(&format!("{l_old} → {l_new}"))),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("    old snapshot")),
        "{text}"
    );

    // The same snapshot twice: nothing, exit 0.
    let out = aiposture(
        &state,
        &[
            "diff",
            a.to_str().expect("a"),
            a.to_str().expect("a"),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).expect("json"),
        Value::Array(vec![])
    );

    // Not a snapshot: a clear error, exit 2.
    let bogus = dir.path().join("bogus.json");
    write(&bogus, "{\"hello\": 1}");
    let out = aiposture(
        &state,
        &[
            "diff",
            a.to_str().expect("a"),
            bogus.to_str().expect("bogus"),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bogus.json is not an aiposture snapshot"),
        "{err}"
    );
    drop(second);
}

#[test]
fn a_rebind_since_the_saved_baseline_is_a_drift_finding() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    let base = dir.path().join("base.json");
    let base_s = base.to_string_lossy().into_owned();
    let config = dir.path().join("config.toml");
    write(&config, format!("[baseline]\npath = {base_s:?}\n"));
    let cfg = config.to_str().expect("utf-8");
    let port = test_port() + 1;
    let ns = Netns::new();
    let model = dir.path().join("m.gguf");
    put(&model, &tiny_gguf());
    let path = model.to_string_lossy().into_owned();

    let first = serve(&ns, &model, "127.0.0.1", port);
    let out = aiposture(
        &state,
        &["--config", cfg, "baseline", "save", "--output", &base_s],
    );
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("baseline written to {base_s}")),
        "{out:?}"
    );
    let out = aiposture(&state, &["--config", cfg, "baseline", "show"]);
    let shown = String::from_utf8_lossy(&out.stdout);
    let saved: Value = serde_json::from_str(&read(&base)).expect("baseline is a snapshot");
    let taken = saved["inventory"]["host"]["collected_at"]
        .as_str()
        .expect("time");
    assert!(out.status.success() && shown.contains(taken), "{out:?}");
    let drift = |snap: &Value, pids: &[u32]| -> Vec<Value> {
        snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "baseline.drift")
            .filter(|f| {
                f["subject"]["pid"]
                    .as_u64()
                    .is_some_and(|p| pids.contains(&(p as u32)))
                    || f.to_string().contains(&format!(":{port}/tcp"))
                    || f.to_string().contains(&path)
            })
            .cloned()
            .collect()
    };
    // Unchanged since the baseline: no drift about the test's server.
    let p1 = first.pid();
    let out = aiposture(&state, &["--config", cfg, "snapshot"]);
    let now: Value = serde_json::from_slice(&out.stdout).expect("snapshot");
    assert_eq!(drift(&now, &[p1]), Vec::<Value>::new());
    drop(first);

    let second = serve(&ns, &model, "0.0.0.0", port);
    let p2 = second.pid();
    let out = aiposture(&state, &["--config", cfg, "snapshot"]);
    assert!(out.status.success(), "{out:?}");
    let now: Value = serde_json::from_slice(&out.stdout).expect("snapshot");
    let found = drift(&now, &[p1, p2]);
    // The restart alone is not drift; the rebind is (lo only: reach unchanged).
    assert_eq!(found.len(), 1, "{:#}", Value::from(found.clone()));
    let f = &found[0];
    assert_eq!(f["subject"]["listener"], format!("0.0.0.0:{port}/tcp"));
    assert_eq!(f["subject"]["pid"], p2);
    assert_eq!(f["severity"], "medium");
    assert!(
        f["title"]
            .as_str()
            .is_some_and(|t| t.contains("listener_rebound")),
        "{f:#}"
    );
    assert_eq!(
        support::source_text(&f["evidence"][0]["source"]),
        base_s.as_str()
    );
    assert!(
        f["evidence"][0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains(taken)),
        "{f:#}"
    );
    assert!(
        f["remediation"]
            .as_str()
            .is_some_and(|r| r.contains("aiposture baseline save"))
    );

    // A broken baseline is a blind spot, not a failure.
    write(&base, "not json");
    let out = aiposture(&state, &["--config", cfg, "snapshot"]);
    assert!(out.status.success(), "{out:?}");
    let now: Value = serde_json::from_slice(&out.stdout).expect("snapshot");
    assert!(
        now["inventory"]["blind_spots"]
            .as_array()
            .expect("blind spots")
            .iter()
            .any(|b| b["what"] == "baseline snapshot"
                && support::source_text(&b["path"]) == base_s.as_str()),
        "{:#}",
        now["inventory"]["blind_spots"]
    );
    drop(second);
}

/// A baseline kept from before schema 2 (sources as lines of text) still reads:
/// the same collection written by both versions diffs to nothing, and every
/// source reads back as the line version 1 wrote.
#[test]
fn a_version_1_snapshot_reads_as_the_same_collection() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let (v1, v2) = (
        fixtures.join("snapshot-root-v1.json"),
        fixtures.join("snapshot-root.json"),
    );
    let state = tempfile::tempdir().expect("tempdir");
    let out = aiposture(
        state.path(),
        &[
            "diff",
            v1.to_str().expect("v1"),
            v2.to_str().expect("v2"),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).expect("json"),
        Value::Array(vec![])
    );

    let old: Value = serde_json::from_str(&read(&v1)).expect("v1 json");
    let new: Value = serde_json::from_str(&read(&v2)).expect("v2 json");
    assert_eq!(
        (
            old["schema_version"].as_u64(),
            new["schema_version"].as_u64()
        ),
        (Some(1), Some(2))
    );
    let (mut texts, mut typed) = (Vec::new(), Vec::new());
    for (f_old, f_new) in old["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .zip(new["findings"].as_array().into_iter().flatten())
    {
        for (e_old, e_new) in f_old["evidence"]
            .as_array()
            .into_iter()
            .flatten()
            .zip(f_new["evidence"].as_array().into_iter().flatten())
        {
            texts.push(
                e_old["source"]
                    .as_str()
                    .expect("a v1 source is text")
                    .to_string(),
            );
            assert!(e_new["source"]["kind"].is_string(), "{e_new}");
            typed.push(support::source_text(&e_new["source"]));
        }
    }
    assert!(
        texts.len() > 10,
        "the fixture has evidence: {}",
        texts.len()
    );
    assert_eq!(texts, typed);
}
