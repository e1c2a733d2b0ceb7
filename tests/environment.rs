//! Beyond the signature list: a Python program nobody has a signature for, with
//! no script on its command line (`python -m uvicorn --factory module:app`), is
//! still judged as an AI service when its environment holds AI libraries (a real
//! venv with Gradio and its Hugging Face Hub client installed by pip), and the
//! very same kind of listener from an environment without them is not. Both
//! serve on a LAN of two (a veth pair); what a LAN client measures decides.

mod support;

use std::path::Path;
use std::time::Duration;

use support::*;

fn uvicorn(pair: &VethPair, python: &Path, dir: &Path, port: u16) -> Proc {
    let port = port.to_string();
    start_script(
        &pair.server,
        python,
        dir,
        &[
            "-m",
            "uvicorn",
            "--factory",
            "helper_service:make_api",
            "--host",
            "0.0.0.0",
            "--port",
            &port,
        ],
        &[],
    )
}

#[test]
fn a_listener_whose_environment_holds_ai_libraries_is_an_ai_service() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/helper_service.py"),
        dir.path().join("helper_service.py"),
    )
    .expect("copy");
    let (ai_port, plain_port) = (7881, 7882);
    let ai = uvicorn(&pair, &gradio_python(), dir.path(), ai_port);
    // The test venv has no uvicorn: the standard library's server stands for "a
    // plain Python web service" there.
    let plain = start_script(
        &pair.server,
        &python(),
        dir.path(),
        &[
            "-m",
            "http.server",
            "--bind",
            "0.0.0.0",
            &plain_port.to_string(),
        ],
        &[],
    );
    wait_until("both services", Duration::from_secs(90), || {
        pair.client_reaches(&pair.server_addr, ai_port)
            && pair.client_reaches(&pair.server_addr, plain_port)
    });
    let lan = |port: u16, path: &str| {
        http_status(
            &pair.client,
            &format!("http://{}:{port}{path}", pair.server_addr),
            None,
        )
    };
    assert_eq!(lan(ai_port, "/v1/models"), "200", "{}", ai.log_text());

    let snap = snapshot(&[]);
    let s = servers_with_pid(&snap, ai.pid());
    assert_eq!(
        s.len(),
        1,
        "not in the inventory: {}\n{:#}",
        ai.log_text(),
        snap["inventory"]["servers"]
    );
    assert_eq!(s[0]["product_id"], "python_ai_service", "{:#}", s[0]);
    let reason = s[0]["identification"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("environment holds") && reason.contains("gradio"),
        "the reason names what its environment holds: {reason}"
    );
    let idx = socket_on(&snap, s[0], ai_port);
    assert_eq!(exposure_of(&snap, &idx)["reach"], "lan");
    let verdict = verdicts_on(&snap, &idx);
    assert_eq!(verdict.len(), 1, "{:#}", snap["probe_verdicts"]);
    assert_eq!(verdict[0]["auth"], "answers_without_credentials");
    let high = findings_about(&snap, "exposure.unauthenticated-listener", ai.pid())
        .iter()
        .filter(|f| f["severity"] == "high")
        .count();
    assert_eq!(high, 1, "{:#}", snap["findings"]);

    // Same kind of listener, no AI library in its environment: not a server.
    assert!(
        servers_with_pid(&snap, plain.pid()).is_empty(),
        "a plain web service became an AI server: {:#}",
        snap["inventory"]["servers"]
    );
    assert!(
        snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["subject"]["pid"] != plain.pid()),
        "{:#}",
        snap["findings"]
    );
}
