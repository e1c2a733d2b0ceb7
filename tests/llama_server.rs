//! End to end on a real llama.cpp server: process → socket → exposure → model.

mod support;

use std::process::Command;

use serde_json::Value;
use support::*;

fn listener_on(snap: &Value, server: &Value, port: u16) -> (Value, Value) {
    let idx = server["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .find(|i| {
            let s = socket(snap, i);
            s["local"]["port"] == port && s["state"] == "listen"
        })
        .unwrap_or_else(|| panic!("no listener on {port} joined to {server:#}"))
        .clone();
    (socket(snap, &idx), exposure_of(snap, &idx))
}

#[test]
fn loopback_llama_server_is_joined_to_socket_and_model() {
    let port = free_port();
    let p = start_llama(
        Command::new(llama_server_bin()),
        &["--host", "127.0.0.1", "--port", &port.to_string()],
        &[],
    );
    let snap = snapshot(&[]);
    let found = servers_with_pid(&snap, p.pid());
    assert_eq!(
        found.len(),
        1,
        "server pid {} not reported once: {snap:#}",
        p.pid()
    );
    let s = found[0];
    assert_eq!(s["product_id"], "llama_server");
    assert_eq!(s["identification"]["strength"], "strong");

    let (sock, exp) = listener_on(&snap, s, port);
    assert_eq!(sock["local"]["addr"], "127.0.0.1");
    assert_eq!(sock["protocol"], "tcp");
    assert_eq!(sock["owner"]["pids"][0], p.pid());
    assert_eq!(exp["scope"], "loopback");
    assert_eq!(exp["other_netns"], false);

    let gguf = std::fs::canonicalize(tiny_gguf()).expect("gguf path");
    let models = s["models"].as_array().expect("models");
    assert!(
        models
            .iter()
            .any(|m| m["path"] == gguf.to_string_lossy().as_ref()
                && m["format"]["kind"] == "gguf"
                && m["held_via"]
                    .as_array()
                    .is_some_and(|v| v.contains(&Value::from("mmap")))),
        "GGUF not reported as loaded: {models:#?}"
    );
    let findings: Vec<&Value> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["subject"]["pid"] == p.pid())
        .collect();
    let exposure: Vec<&&Value> = findings
        .iter()
        .filter(|f| {
            f["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("exposure."))
        })
        .collect();
    assert!(
        exposure.is_empty(),
        "loopback server got exposure findings: {exposure:#?}"
    );
    // This test runs the server as root: the pivot rule says so.
    assert!(
        findings.iter().any(|f| f["rule"] == "pivot.runs-as-root"),
        "{findings:#?}"
    );
}

#[test]
fn wildcard_bind_without_api_key_in_a_namespace_is_a_finding() {
    let key_path = key_file().to_string_lossy().into_owned();
    let ns = Netns::new();
    let open = start_llama(
        ns.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", "8080"],
        &[],
    );
    let keyed = start_llama(
        ns.command(llama_server_bin()),
        &[
            "--host",
            "0.0.0.0",
            "--port",
            "8081",
            "--api-key-file",
            &key_path,
        ],
        &[],
    );
    let snap = snapshot(&[]);
    let own_ns = snap["inventory"]["own_netns"].clone();

    let s = servers_with_pid(&snap, open.pid());
    assert_eq!(s.len(), 1, "namespaced server missing: {snap:#}");
    let (sock, exp) = listener_on(&snap, s[0], 8080);
    assert_eq!(sock["local"]["addr"], "0.0.0.0");
    assert_ne!(
        sock["netns"], own_ns,
        "socket not marked with its namespace"
    );
    assert_eq!(sock["netns"], s[0]["netns"]);
    // Read from the namespace's own table, through one of its processes.
    let via_ns_table = [open.pid(), keyed.pid()].iter().any(|pid| {
        support::source_text(&sock["source"]).ends_with(&format!("/proc/{pid}/net/tcp)"))
    });
    assert!(via_ns_table, "read from {}", sock["source"]);
    assert_eq!(exp["scope"], "wildcard");
    assert_eq!(exp["other_netns"], true);
    // The namespace has only lo: today nothing else can reach the listener.
    assert_eq!(exp["reach"], "loopback_only", "{exp:#}");
    assert_eq!(s[0]["auth"]["state"], "not_configured");

    let findings = snap["findings"].as_array().expect("findings");
    let f = findings
        .iter()
        .find(|f| {
            f["subject"]["pid"] == open.pid() && f["rule"] == "exposure.unauthenticated-listener"
        })
        .unwrap_or_else(|| panic!("no finding for the open server: {findings:#?}"));
    assert_eq!(f["rule"], "exposure.unauthenticated-listener");
    assert_eq!(f["subject"]["listener"], "0.0.0.0:8080/tcp");
    let evidence = f["evidence"].as_array().expect("evidence");
    assert!(
        evidence.iter().any(|e| e["source"] == sock["source"]),
        "{evidence:#?}"
    );
    let text = f["evidence"].to_string();
    assert!(
        text.contains("--api-key"),
        "auth flags looked for are cited: {text}"
    );
    assert!(
        f["remediation"]
            .as_str()
            .is_some_and(|r| r.contains("127.0.0.1"))
    );

    // The same server with a key gets no exposure finding.
    assert!(
        !findings.iter().any(|f| f["subject"]["pid"] == keyed.pid()
            && f["rule"] == "exposure.unauthenticated-listener"),
        "keyed server flagged: {findings:#?}"
    );
    let k = servers_with_pid(&snap, keyed.pid());
    assert_eq!(k[0]["auth"]["state"], "configured");

    assert_eq!(
        f["severity"], "low",
        "a wildcard bind reachable only over loopback: {f:#}"
    );

    // --fail-on: low findings exist (and medium ones: the servers run as root),
    // nothing high about these servers. The gate is over the whole host, where
    // other AI servers may run: its exit code must agree with the findings of the
    // snapshot it wrote.
    let out = temp_path("failon.json");
    let run = |sev: &str| {
        let code = Command::new(bin())
            .args(["snapshot", "--fail-on", sev, "-o"])
            .arg(&out)
            .status()
            .expect("run")
            .code();
        let text = std::fs::read_to_string(&out).expect("snapshot written");
        (code, serde_json::from_str::<Value>(&text).expect("json"))
    };
    let ours = [open.pid(), keyed.pid()];
    let (low, _) = run("low");
    assert_eq!(low, Some(3));
    let (high, written) = run("high");
    let at_least_high: Vec<&Value> = written["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("high" | "critical")))
        .collect();
    assert!(
        !at_least_high
            .iter()
            .any(|f| ours.iter().any(|&p| f["subject"]["pid"] == p)),
        "a high finding about the test's servers: {at_least_high:#?}"
    );
    assert_eq!(high, Some(if at_least_high.is_empty() { 0 } else { 3 }));
    let _ = std::fs::remove_file(out);
}

#[test]
fn unprivileged_run_names_what_it_could_not_see() {
    let port = free_port();
    let p = start_llama(
        Command::new(llama_server_bin()),
        &["--host", "127.0.0.1", "--port", &port.to_string()],
        &[],
    );
    let snap = snapshot_as_nobody();
    assert_eq!(snap["inventory"]["privileges"]["is_root"], false);
    let s = servers_with_pid(&snap, p.pid());
    assert_eq!(
        s.len(),
        1,
        "server not recognised by command line when unprivileged"
    );
    assert_eq!(
        s[0]["auth"]["state"], "unknown",
        "environ unreadable: auth must be unknown"
    );

    let blind = support::blind_spots_text(&snap);
    for path in ["environ", "fd", "maps"] {
        assert!(
            blind.contains(&format!("/proc/{}/{path}", p.pid())),
            "no blind spot for /proc/PID/{path}: {blind}"
        );
    }
    // The listener is still listed, with its owner unknown and the reason.
    let sock = snap["inventory"]["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .find(|s| s["local"]["port"] == port && s["state"] == "listen")
        .unwrap_or_else(|| panic!("listener on {port} dropped"))
        .clone();
    assert_eq!(sock["owner"]["kind"], "unknown");
    assert!(
        sock["owner"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("root"))
    );
}

/// The kernel prints a mapped file's name as its raw bytes: a model named in
/// Latin-1 is listed, sniffed and hashed like any other, and its server's other
/// mappings are not lost with it.
#[test]
fn a_model_named_in_latin1_is_still_listed_and_read() {
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_path("latin1-model");
    std::fs::create_dir(&dir).expect("dir");
    let model = dir.join(std::ffi::OsStr::from_bytes(b"caf\xe9 (copy).gguf"));
    std::fs::copy(tiny_gguf(), &model).expect("copy model");
    let port = free_port();
    let p = start_llama_with(
        Command::new(llama_server_bin()),
        &model,
        &["--host", "127.0.0.1", "--port", &port.to_string()],
        &[],
    );
    let snap = snapshot(&[]);
    let found = servers_with_pid(&snap, p.pid());
    assert_eq!(found.len(), 1, "{snap:#}");
    let models = found[0]["models"].as_array().expect("models");
    let shown = model.to_string_lossy();
    let m = models
        .iter()
        .find(|m| m["path"] == shown.as_ref())
        .unwrap_or_else(|| panic!("{shown} not listed: {models:#?}"));
    assert_eq!(m["format"]["kind"], "gguf", "{m:#}");
    assert!(
        m["held_via"]
            .as_array()
            .is_some_and(|v| v.contains(&Value::from("mmap"))),
        "{m:#}"
    );
    assert!(m["hash"].to_string().contains("sha256"), "{m:#}");
    let blind = support::blind_spots_text(&snap);
    assert!(
        !blind.contains(&format!("memory maps of pid {}", p.pid())),
        "{blind}"
    );
    drop(p);
    let _ = std::fs::remove_dir_all(&dir);
}
