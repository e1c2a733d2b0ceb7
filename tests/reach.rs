//! Verdicts against measured reality: llama-servers in a "server" namespace
//! joined to a "client" namespace by a veth on a private subnet. For every
//! listener the test measures whether the client can connect, and the tool's
//! reach verdict must agree.

mod support;

use serde_json::Value;
use support::*;

#[test]
fn reach_verdicts_match_what_a_client_can_connect_to() {
    let key_path = key_file().to_string_lossy().into_owned();
    let net = VethPair::new();
    let sa = net.server_addr.clone();
    let cases: [(&str, u16, &[&str]); 4] = [
        ("127.0.0.1", 8001, &[]),
        (sa.as_str(), 8002, &[]),
        ("0.0.0.0", 8003, &[]),
        ("0.0.0.0", 8004, &["--api-key-file", &key_path]),
    ];
    let servers: Vec<Proc> = cases
        .iter()
        .map(|(host, port, extra)| {
            let mut args = vec!["--host", host];
            let p = port.to_string();
            args.extend(["--port", p.as_str()]);
            args.extend_from_slice(extra);
            start_llama(net.server.command(llama_server_bin()), &args, &[])
        })
        .collect();

    let snap = snapshot(&[]);
    let findings = snap["findings"].as_array().expect("findings").clone();
    for ((_, port, extra), proc_) in cases.iter().zip(&servers) {
        let measured = net.client_reaches(&sa, *port);
        let s = servers_with_pid(&snap, proc_.pid());
        assert_eq!(s.len(), 1, "server on {port} missing");
        let idx = socket_on(&snap, s[0], *port);
        let exp = exposure_of(&snap, &idx);
        let want = if measured { "lan" } else { "loopback_only" };
        assert_eq!(
            exp["reach"], want,
            "port {port}: client reaches = {measured}; {exp:#}"
        );
        if measured {
            let chain = exp["chain"].to_string();
            assert!(chain.contains(&sa), "the chain names the address: {chain}");
        }
        let unauth = |f: &&Value| {
            f["subject"]["pid"] == proc_.pid() && f["rule"] == "exposure.unauthenticated-listener"
        };
        let flagged = findings.iter().any(|f| unauth(&f));
        let keyed = !extra.is_empty();
        assert_eq!(
            flagged,
            measured && !keyed,
            "port {port}: finding = {flagged}"
        );
        if flagged {
            let f = findings.iter().find(unauth).expect("finding");
            assert_eq!(f["severity"], "high", "{f:#}");
        }
    }
    // Auth verdicts of the probes against what the client gets without a key.
    for ((_, port, _), proc_) in cases.iter().zip(&servers) {
        if !net.client_reaches(&sa, *port) {
            continue;
        }
        let out = net
            .client
            .command("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "2"])
            .arg(format!("http://{sa}:{port}/v1/models"))
            .output()
            .expect("curl");
        let code = String::from_utf8_lossy(&out.stdout).to_string();
        let v = snap["probe_verdicts"]
            .as_array()
            .expect("probe_verdicts")
            .iter()
            .find(|v| v["pid"] == proc_.pid())
            .cloned()
            .unwrap_or(Value::Null);
        let want = match code.as_str() {
            "200" => "answers_without_credentials",
            "401" | "403" => "demands_auth",
            other => panic!("client got {other} from port {port}"),
        };
        assert_eq!(v["auth"], want, "port {port}: client got {code}; {v:#}");
    }
    // Sanity of the measurement itself: the loopback one is unreachable, the others are.
    assert!(!net.client_reaches(&sa, 8001));
    assert!(net.client_reaches(&sa, 8003));
}

/// A firewall rule in the server's namespace changes the verdict exactly where
/// it changes what the client can reach.
#[test]
fn firewall_drop_turns_lan_into_host_only() {
    let net = VethPair::new();
    let rules = temp_path("rules.nft");
    std::fs::write(
        &rules,
        "table inet aipt {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport 8005 drop\n  }\n}\n",
    )
    .expect("rules");
    run_ok(net.server.command("nft").arg("-f").arg(&rules));
    let dropped = start_llama(
        net.server.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", "8005"],
        &[],
    );
    let open = start_llama(
        net.server.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", "8006"],
        &[],
    );
    let snap = snapshot(&[]);
    for (p, port) in [(&dropped, 8005u16), (&open, 8006u16)] {
        let s = servers_with_pid(&snap, p.pid());
        let idx = socket_on(&snap, s[0], port);
        let exp = exposure_of(&snap, &idx);
        let measured = net.client_reaches(&net.server_addr, port);
        let want = if measured { "lan" } else { "host_only" };
        assert_eq!(
            exp["reach"], want,
            "port {port}: client reaches = {measured}; {exp:#}"
        );
        assert!(
            exp["chain"].to_string().contains("nft"),
            "firewall not cited: {exp:#}"
        );
    }
    assert!(!net.client_reaches(&net.server_addr, 8005));
    assert!(net.client_reaches(&net.server_addr, 8006));
    let _ = std::fs::remove_file(rules);
}
