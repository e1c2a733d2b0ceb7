//! Suppressions as policy, end to end: a real llama-server open to a LAN (a
//! veth between two namespaces), a config file with a `[[suppress]]` entry for
//! its finding, and what the snapshot and `--fail-on` make of it, valid and expired.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::Value;
use support::*;

const RULE: &str = "exposure.unauthenticated-listener";
const PORT: u16 = 8731;

/// `aiposture --config CONFIG snapshot --fail-on high -o OUT`: the exit code and the JSON.
fn snapshot_with(config: &Path) -> (Option<i32>, Value) {
    let out = temp_path("suppress-snap.json");
    let status = Command::new(bin())
        .arg("--config")
        .arg(config)
        .args(["snapshot", "--fail-on", "high", "-o"])
        .arg(&out)
        .status()
        .expect("run aiposture");
    let snap = serde_json::from_str(&read(&out)).expect("snapshot is JSON");
    let _ = std::fs::remove_file(out);
    (status.code(), snap)
}

fn config(expires: &str) -> String {
    format!(
        "# accepted risks\n\
         [[suppress]]\n\
         rule = \"{RULE}\"\n\
         product = \"llama_server\"\n\
         listener = \"0.0.0.0:{PORT}/tcp\"\n\
         reason = \"lab box on an isolated VLAN\"\n\
         owner = \"alice\"\n\
         expires = \"{expires}\"\n\
         ticket = \"SEC-142\"\n\
         \n\
         [[suppress]]\n\
         rule = \"{RULE}\"\n\
         listener = \"0.0.0.0:1/tcp\"\n\
         reason = \"a listener long gone\"\n\
         owner = \"bob\"\n\
         expires = \"2999-12-31\"\n"
    )
}

fn of_pid<'a>(list: &'a Value, pid: u32, rule: &str) -> Vec<&'a Value> {
    list.as_array()
        .expect("array")
        .iter()
        .filter(|f| f["subject"]["pid"] == pid && f["rule"] == rule)
        .collect()
}

#[test]
fn a_suppressed_finding_is_set_aside_with_its_reason_until_it_expires() {
    let net = VethPair::new();
    let p = start_llama(
        net.server.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", &PORT.to_string()],
        &[],
    );
    assert!(
        net.client_reaches(&net.server_addr, PORT),
        "the LAN client must reach the server for the finding to be real"
    );
    let cfg = temp_path("suppress.toml");
    let shown = cfg.to_string_lossy().into_owned();

    // Valid: the finding moves to `suppressed`, with the entry that accepts it.
    write(&cfg, config("2999-12-31"));
    let (code, snap) = snapshot_with(&cfg);
    assert!(
        of_pid(&snap["findings"], p.pid(), RULE).is_empty(),
        "suppressed finding still active: {:#}",
        snap["findings"]
    );
    let sup: Vec<&Value> = snap["suppressed"]
        .as_array()
        .expect("suppressed")
        .iter()
        .filter(|s| s["finding"]["subject"]["pid"] == p.pid() && s["finding"]["rule"] == RULE)
        .collect();
    assert_eq!(sup.len(), 1, "{:#}", snap["suppressed"]);
    let (f, r) = (&sup[0]["finding"], &sup[0]["suppression"]);
    assert_eq!(f["severity"], "high", "{f:#}");
    assert_eq!(f["subject"]["listener"], format!("0.0.0.0:{PORT}/tcp"));
    assert_eq!(r["reason"], "lab box on an isolated VLAN");
    assert_eq!(r["owner"], "alice");
    assert_eq!(r["expires"], "2999-12-31");
    assert_eq!(r["ticket"], "SEC-142");
    assert_eq!(r["index"], 0);
    assert_eq!(r["origin"], format!("{shown}:2"));
    assert_eq!(
        r["matched_on"],
        format!("rule {RULE}, product llama_server, listener 0.0.0.0:{PORT}/tcp")
    );
    // An accepted risk costs no score points.
    let score = snap["scores"]["servers"]
        .as_array()
        .expect("scores")
        .iter()
        .find(|s| s["pid"] == p.pid())
        .expect("score of the server");
    assert!(
        !score["terms"].to_string().contains(RULE),
        "suppressed finding scored: {score:#}"
    );
    // The second entry matches nothing: reported, naming its file and, in the
    // typed evidence, its line.
    let unused: Vec<&Value> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "suppression.unused")
        .collect();
    assert_eq!(unused.len(), 1, "{unused:#?}");
    assert_eq!(unused[0]["subject"]["path"], shown.as_str());
    assert_eq!(
        support::source_text(&unused[0]["evidence"][0]["source"]),
        format!("{shown}:11 [[suppress]]")
    );
    assert_eq!(unused[0]["severity"], "info");
    // --fail-on high: the only high finding here is accepted, so the gate passes.
    let high = |snap: &Value| {
        snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["severity"] == "high" || f["severity"] == "critical")
            .count()
    };
    assert_eq!(high(&snap), 0, "{:#}", snap["findings"]);
    assert_eq!(code, Some(0));

    // Expired yesterday or earlier: the finding is active again, and says why.
    write(&cfg, config("2020-01-31"));
    let (code, snap) = snapshot_with(&cfg);
    assert_eq!(
        of_pid(&snap["findings"], p.pid(), RULE).len(),
        1,
        "expired suppression still hides the finding: {:#}",
        snap["findings"]
    );
    assert!(
        !snap["suppressed"].to_string().contains(RULE),
        "{:#}",
        snap["suppressed"]
    );
    let expired = of_pid(&snap["findings"], p.pid(), "suppression.expired");
    assert_eq!(expired.len(), 1, "{:#}", snap["findings"]);
    let e = expired[0];
    assert_eq!(e["severity"], "medium");
    assert_eq!(e["subject"]["listener"], format!("0.0.0.0:{PORT}/tcp"));
    let evidence = support::evidence_text(e);
    for want in [
        "expires = \"2020-01-31\"",
        "owner = \"alice\"",
        "lab box on an isolated VLAN",
        RULE,
        &format!("{shown}:2"),
    ] {
        assert!(evidence.contains(want), "{want} missing from {evidence}");
    }
    assert!(
        e["remediation"]
            .as_str()
            .is_some_and(|r| r.contains("renew")),
        "{e:#}"
    );
    assert_eq!(code, Some(3), "an expired acceptance fails the gate again");
    let _ = std::fs::remove_file(cfg);
}

#[test]
fn a_suppression_without_reason_or_with_a_bad_date_is_refused_with_its_line() {
    let cfg = temp_path("suppress-bad.toml");
    for (text, want) in [
        (
            config("2026-02-30"),
            ":2: [[suppress]]: expires \"2026-02-30\": day 30 does not exist",
        ),
        (
            config("2999-12-31").replace("reason = \"a listener long gone\"\n", ""),
            ":11:1: missing field `reason`",
        ),
        (
            config("2999-12-31").replace("listener = \"0.0.0.0:1/tcp\"\n", ""),
            ":11: [[suppress]]: needs product, listener or path",
        ),
    ] {
        write(&cfg, &text);
        let out = Command::new(bin())
            .arg("--config")
            .arg(&cfg)
            .args(["snapshot", "-o", "/dev/null"])
            .output()
            .expect("run aiposture");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains(&format!("{}{want}", cfg.display())),
            "{want:?} not in {err}"
        );
    }
    let _ = std::fs::remove_file(cfg);
}
