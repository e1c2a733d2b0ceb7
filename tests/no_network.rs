//! The tool never talks to the network: snapshot and dashboard run inside a
//! namespace that has only `lo`, under strace, and every socket call they make is
//! checked. Name resolution would show as a connect to a resolver or to nscd.

mod support;

use std::time::Duration;

use support::*;

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

/// The checker itself must catch what it is for (lines as strace prints them).
#[test]
#[should_panic(expected = "network call outside loopback")]
fn checker_rejects_a_public_connect() {
    assert_only_loopback(
        "7 socket(AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP) = 5\n\
         7 connect(5, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr(\"93.184.216.34\")}, 16) = 0\n",
    );
}

#[test]
#[should_panic(expected = "network call outside loopback")]
fn checker_rejects_a_name_service_lookup() {
    assert_only_loopback(
        "7 socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC|SOCK_NONBLOCK, 0) = 3\n\
         7 connect(3, {sa_family=AF_UNIX, sun_path=\"/var/run/nscd/socket\"}, 110) = -1 ENOENT\n",
    );
}
