//! A server is its process tree: a real Gradio app (PyPI) that starts two
//! services of its own beside its UI, in a namespace on a LAN of two (a veth
//! pair) that nothing beyond can be reached from. One service answers its model
//! list to anyone, one demands a bearer token. The tool must attribute both to
//! the app, probe each with the generic round (no product fingerprint speaks for
//! them) and judge each port by what it answered, as a client on the LAN measures.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use support::*;

/// Status a client on the LAN gets for `path` ("000": no answer).
fn lan_status(pair: &VethPair, port: u16, path: &str) -> String {
    http_status(
        &pair.client,
        &format!("http://{}:{port}{path}", pair.server_addr),
        None,
    )
}

fn helper_pid(server: &Value, port: u16, snap: &Value) -> u64 {
    server["helpers"]
        .as_array()
        .expect("helpers")
        .iter()
        .find(|h| {
            h["sockets"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|i| socket(snap, i)["local"]["port"] == port)
        })
        .and_then(|h| h["pid"].as_u64())
        .unwrap_or_else(|| panic!("no helper listens on {port}: {server:#}"))
}

#[test]
fn services_an_app_starts_are_attributed_probed_and_judged_per_port() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
    for f in ["gradio_app.py", "helper_service.py"] {
        std::fs::copy(support.join(f), dir.path().join(f)).expect("copy");
    }
    let (ui, open, locked) = (7871, 7872, 7873);
    let py = gradio_python();
    let helpers = json!([
        [
            py.to_str().expect("utf-8"),
            "helper_service.py",
            "api",
            open.to_string()
        ],
        [
            py.to_str().expect("utf-8"),
            "helper_service.py",
            "locked",
            locked.to_string()
        ],
    ]);
    let (ui_port, helper_cmds) = (ui.to_string(), helpers.to_string());
    let app = start_script(
        &pair.server,
        &py,
        dir.path(),
        &["gradio_app.py"],
        &[
            ("GRADIO_ANALYTICS_ENABLED", "False"),
            ("APP_PORT", &ui_port),
            ("APP_HELPERS", &helper_cmds),
        ],
    );
    wait_until("the app and its services", Duration::from_secs(120), || {
        pair.server.reaches("127.0.0.1", ui)
            && pair.client_reaches(&pair.server_addr, open)
            && pair.client_reaches(&pair.server_addr, locked)
    });
    // What a client on the LAN measures.
    assert_eq!(lan_status(&pair, open, "/v1/models"), "200");
    assert_eq!(lan_status(&pair, locked, "/v1/models"), "401");

    let snap = snapshot(&[]);
    let s = servers_with_pid(&snap, app.pid());
    assert_eq!(s.len(), 1, "the app is one server: {:#}", app.log_text());
    assert_eq!(s[0]["product_id"], "gradio");
    for port in [open, locked] {
        let pid = helper_pid(s[0], port, &snap);
        let h = s[0]["helpers"]
            .as_array()
            .expect("helpers")
            .iter()
            .find(|h| h["pid"] == pid)
            .expect("helper");
        assert_eq!(h["role"], "helper process", "{h:#}");
        let idx = socket_on(&snap, s[0], port);
        assert_eq!(exposure_of(&snap, &idx)["reach"], "lan", "port {port}");
    }
    let verdict = |port: u16| {
        let idx = socket_on(&snap, s[0], port);
        snap["probe_verdicts"]
            .as_array()
            .expect("probe_verdicts")
            .iter()
            .find(|v| v["socket"] == idx)
            .cloned()
            .unwrap_or_else(|| panic!("port {port} not probed: {:#}", snap["probe_verdicts"]))
    };
    assert_eq!(verdict(open)["auth"], "answers_without_credentials");
    assert_eq!(verdict(locked)["auth"], "demands_auth");

    let unauth: Vec<&Value> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["rule"] == "exposure.unauthenticated-listener" && f["subject"]["pid"] == app.pid()
        })
        .collect();
    let on = |port: u16| {
        unauth
            .iter()
            .filter(|f| f["subject"]["listener"] == format!("0.0.0.0:{port}/tcp"))
            .collect::<Vec<_>>()
    };
    let f = on(open);
    assert_eq!(f.len(), 1, "{unauth:#?}");
    assert_eq!(f[0]["severity"], "high");
    assert!(
        f[0]["title"]
            .as_str()
            .is_some_and(|t| t.ends_with("reachable from the LAN without authentication")),
        "{:#}",
        f[0]
    );
    assert!(
        on(locked).is_empty(),
        "the locked service is flagged: {unauth:#?}"
    );
    // Both services' auth is known (each by its own probe): the score judged them.
    let unjudged = snap["scores"]["coverage"]["unjudged"].to_string();
    for port in [open, locked] {
        assert!(!unjudged.contains(&format!(":{port}/")), "{unjudged}");
    }
    // The UI itself is bound to loopback: no exposure finding.
    assert!(
        on(ui).is_empty()
            && !unauth.iter().any(|f| f["subject"]["listener"]
                .as_str()
                .is_some_and(|l| l.ends_with(&format!(":{ui}/tcp"))))
    );
}
