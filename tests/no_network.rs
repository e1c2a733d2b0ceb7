//! The tool never talks to the network: snapshot and dashboard run inside a
//! namespace that has only `lo`, under strace, and every socket call they make is
//! checked. Name resolution would show as a connect to a resolver or to nscd.

mod support;

use std::time::Duration;

use support::*;

/// Every connect/send* in an strace log, with the families that are allowed:
/// loopback IP, netlink. Anything else (a public IP, a resolver, nscd) fails.
fn assert_only_loopback(trace: &str) {
    let calls: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains("connect(") || l.contains("sendto(") || l.contains("sendmsg("))
        .collect();
    for c in &calls {
        let ok = if c.contains("AF_INET6") {
            c.contains("inet_pton(AF_INET6, \"::1\"")
        } else if c.contains("AF_INET") {
            c.contains("inet_addr(\"127.")
        } else if c.contains("AF_UNIX") {
            // No local daemon is ever asked anything that could resolve names.
            !c.contains("nscd") && !c.contains("resolve")
        } else {
            // sendto/sendmsg on an already connected socket: its connect was checked.
            c.contains("AF_NETLINK") || !c.contains("sa_family")
        };
        assert!(
            ok,
            "network call outside loopback: {c}\nfull trace:\n{trace}"
        );
    }
}

#[test]
fn snapshot_and_dashboard_stay_on_loopback() {
    let ns = Netns::new();
    // Something real to look at inside the namespace.
    let _server = start_llama(
        ns.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", "8080"],
        &[],
    );
    let links = ns.links();
    assert_eq!(
        links.lines().count(),
        1,
        "namespace must hold only lo: {links}"
    );
    assert!(links.contains("lo:"), "{links}");

    // Headless snapshot.
    let trace = temp_path("strace-snapshot");
    let out = temp_path("snap.json");
    let mut snap = ns.command("strace");
    snap.args(["-f", "-qq", "-e", "trace=%network,execve", "-o"])
        .arg(&trace)
        .arg(bin())
        .args(["snapshot", "-o"])
        .arg(&out);
    run_ok(&mut snap);
    let json = read(&out);
    assert!(
        json.contains("\"llama_server\""),
        "snapshot saw the server: {json}"
    );
    let st = read(&trace);
    assert!(st.contains("execve("), "strace captured nothing: {st}");
    assert_only_loopback(&st);

    // The dashboard, refreshing several times, then quit.
    let ttrace = temp_path("strace-tui");
    let cmd = format!(
        "ip netns exec {} strace -f -qq -e trace=%network,execve -o {} {} --interval 300ms",
        ns.name,
        ttrace.display(),
        bin()
    );
    let t = Tmux::start(120, 40, &cmd);
    t.wait_for("llama.cpp llama-server", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(1500));
    t.keys(&["q"]);
    wait_until("dashboard to exit", Duration::from_secs(10), || {
        t.pane_dead()
    });
    let tt = read(&ttrace);
    // execve proves strace followed the real binary; an empty network trace is the point.
    assert!(
        tt.contains("execve("),
        "strace of the dashboard captured nothing: {tt}"
    );
    assert_only_loopback(&tt);
    let after = ns.links();
    assert_eq!(after.lines().count(), 1, "an interface appeared: {after}");
    let _ = std::fs::remove_file(trace);
    let _ = std::fs::remove_file(ttrace);
    let _ = std::fs::remove_file(out);
}
