//! Run as an unprivileged user, verdicts about root's servers degrade to
//! "unknown" with named blind spots — never to "safe".

mod support;

use std::process::Command;

use serde_json::Value;
use support::*;

#[test]
fn unprivileged_verdicts_are_unknown_never_safe() {
    let ns = Netns::new();
    let port = free_port();
    let host = start_llama(
        Command::new(llama_server_bin()),
        &["--host", "127.0.0.1", "--port", &port.to_string()],
        &[],
    );
    let hidden = start_llama(
        ns.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", "8080"],
        &[],
    );

    let snap = snapshot_as_nobody();
    let findings = snap["findings"].as_array().expect("findings");
    let blind = support::blind_spots_text(&snap);
    for (p, what) in [(&host, "loopback server"), (&hidden, "namespaced server")] {
        let s = servers_with_pid(&snap, p.pid());
        assert_eq!(s.len(), 1, "{what} not recognised by its command line");
        assert_eq!(s[0]["auth"]["state"], "unknown", "{what}: auth guessed");
        assert!(
            s[0]["sockets"].as_array().is_some_and(|v| v.is_empty()),
            "{what}: sockets joined without access?"
        );
        assert!(
            blind.contains(&format!("/proc/{}/fd", p.pid())),
            "{what}: fd blind spot not named: {blind}"
        );
        let f = findings.iter().find(|f| {
            f["subject"]["pid"] == p.pid() && f["rule"] == "visibility.server-not-inspectable"
        });
        assert!(
            f.is_some(),
            "{what}: no finding says it could not be inspected: {findings:#?}"
        );
        let score = snap["scores"]["servers"]
            .as_array()
            .expect("scores")
            .iter()
            .find(|x| x["pid"] == p.pid())
            .and_then(|x| x["score"].as_u64())
            .expect("score");
        assert!(
            score < 100,
            "{what}: an uninspectable server scores as clean"
        );
    }
    // The namespaced listener is invisible without root: the namespace is named as a blind spot.
    assert!(blind.contains("network namespace"), "{blind}");
    // The host's loopback listener is still listed, owner unknown, reach judged from the bind.
    let sock = snap["inventory"]["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .position(|s| s["local"]["port"] == port && s["state"] == "listen")
        .expect("listener listed");
    assert_eq!(
        snap["inventory"]["sockets"][sock]["owner"]["kind"],
        "unknown"
    );
    let exp = snap["exposures"]
        .as_array()
        .expect("exposures")
        .iter()
        .find(|e| e["socket"] == sock)
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(exp["reach"], "loopback_only", "{exp:#}");
}
