//! MCP servers are servers: a real MCP server (the official Python SDK, PyPI
//! `mcp`, one tool, streamable HTTP on every interface, no authentication: the
//! SDK's default) in a namespace on a LAN of two (a veth pair). Its command
//! line is a plain `python mcp_server.py`: the tool must find it by what its
//! script imports (the SDK's server package), probe it
//! (`GET /mcp`), and flag it as reachable from the LAN without authentication,
//! as a client on the LAN measures by initializing a session without credentials.

mod support;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use support::*;

#[test]
fn an_unauthenticated_mcp_server_on_the_lan_is_a_high_finding() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("mcp_server.py");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mcp_server.py"),
        &script,
    )
    .expect("copy");
    let port = 7891;
    let srv = start_script(
        &pair.server,
        &mcp_python(),
        dir.path(),
        &["mcp_server.py", &port.to_string()],
        &[],
    );
    wait_until("the MCP server", Duration::from_secs(60), || {
        pair.client_reaches(&pair.server_addr, port)
    });

    // A client on the LAN opens a session without any credential.
    let out = run_ok(pair.client.command("curl").args([
        "-s",
        "--max-time",
        "5",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "-H",
        "Accept: application/json, text/event-stream",
        "-d",
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"lan-client","version":"1"}}}"#,
        &format!("http://{}:{port}/mcp", pair.server_addr),
    ]));
    let answer = String::from_utf8_lossy(&out.stdout);
    assert!(
        answer.contains(r#""serverInfo""#) && answer.contains("aiposture-test"),
        "initialize without credentials: {answer}\n{}",
        srv.log_text()
    );

    let snap = snapshot(&[]);
    let s = servers_with_pid(&snap, srv.pid());
    assert_eq!(
        s.len(),
        1,
        "MCP server not in the inventory: {:#}",
        snap["inventory"]["servers"]
    );
    assert_eq!(s[0]["product_id"], "mcp_server", "{:#}", s[0]);
    assert_eq!(s[0]["secret_flags"], serde_json::json!([]), "{:#}", s[0]);
    assert!(
        s[0]["identification"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("mcp")),
        "{:#}",
        s[0]["identification"]
    );
    let idx = socket_on(&snap, s[0], port);
    assert_eq!(exposure_of(&snap, &idx)["reach"], "lan");
    let v = verdicts_on(&snap, &idx);
    assert_eq!(v.len(), 1, "{:#}", snap["probe_verdicts"]);
    assert_eq!(v[0]["auth"], "answers_without_credentials", "{:#}", v[0]);
    let f: Vec<&Value> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["rule"] == "exposure.unauthenticated-listener"
                && f["subject"]["pid"] == srv.pid()
                && f["subject"]["listener"] == format!("0.0.0.0:{port}/tcp")
        })
        .collect();
    assert_eq!(f.len(), 1, "{:#}", snap["findings"]);
    assert_eq!(f[0]["severity"], "high", "{:#}", f[0]);
    assert!(
        f[0]["title"]
            .as_str()
            .is_some_and(|t| t.ends_with("reachable from the LAN without authentication")),
        "{:#}",
        f[0]
    );
}

/// The HTTP+SSE transport of the same SDK: `GET /sse` opens an event stream
/// whose first event names the endpoint to post to. That event, not any event
/// stream (a notebook's session stream that closes at once as unauthorized is
/// none), is what says an MCP server took the request without credentials.
#[test]
fn an_unauthenticated_mcp_server_over_sse_is_a_high_finding() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/mcp_server.py"),
        dir.path().join("mcp_server.py"),
    )
    .expect("copy");
    let port = 7892;
    let srv = start_script(
        &pair.server,
        &mcp_python(),
        dir.path(),
        &["mcp_server.py", &port.to_string(), "sse"],
        &[],
    );
    wait_until("the MCP SSE server", Duration::from_secs(60), || {
        pair.client_reaches(&pair.server_addr, port)
    });
    // A LAN client gets the endpoint event without any credential (curl ends
    // at its time limit: the stream stays open).
    let out = pair
        .client
        .command("curl")
        .args([
            "-s",
            "-N",
            "--max-time",
            "3",
            &format!("http://{}:{port}/sse", pair.server_addr),
        ])
        .output()
        .expect("curl");
    let first = String::from_utf8_lossy(&out.stdout);
    assert!(
        first.contains("event: endpoint"),
        "{first}\n{}",
        srv.log_text()
    );

    let snap = snapshot(&[]);
    let s = servers_with_pid(&snap, srv.pid());
    assert_eq!(s.len(), 1, "{:#}", snap["inventory"]["servers"]);
    assert_eq!(s[0]["product_id"], "mcp_server");
    let idx = socket_on(&snap, s[0], port);
    let v = verdicts_on(&snap, &idx);
    assert_eq!(v.len(), 1, "{:#}", snap["probe_verdicts"]);
    assert_eq!(v[0]["auth"], "answers_without_credentials", "{:#}", v[0]);
    let high = findings_about(&snap, "exposure.unauthenticated-listener", srv.pid())
        .iter()
        .filter(|f| f["severity"] == "high")
        .count();
    assert_eq!(high, 1, "{:#}", snap["findings"]);
}
