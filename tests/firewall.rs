//! The host firewall read inside a real network namespace and judged, against
//! what a client on the other side of a veth pair actually gets.
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use aiposture::collect::net::firewall::{ChainPolicy, FirewallView, read_firewall};
use aiposture::collect::net::netns::run_in_netns_of;
use aiposture::model::Protocol;
use aiposture::rules::firewall::{FirewallVerdict, judge, judge_forward};
use support::{Proc, VethPair, run_ok, temp_path, wait_until};

/// A plain TCP server in the server namespace, listening on `addr` at each port.
fn listen(pair: &VethPair, addr: &str, ports: &[u16]) -> Proc {
    let script = format!(
        "import socket, time\n\
         ss = []\n\
         for p in {ports:?}:\n\
         \x20   s = socket.socket()\n\
         \x20   s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n\
         \x20   s.bind(('{addr}', p))\n\
         \x20   s.listen(16)\n\
         \x20   ss.append(s)\n\
         time.sleep(600)\n"
    );
    let log = temp_path("fw-listener.log");
    let logf = std::fs::File::create(&log).expect("log file");
    let child = pair
        .server
        .command("python3")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("dup"))
        .stderr(logf)
        .spawn()
        .expect("spawn python3");
    Proc { child, log }
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/firewall")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn drop_8080_blocks_what_the_client_cannot_reach() {
    let pair = VethPair::new();
    run_ok(
        pair.server
            .command("nft")
            .args(["-f", &fixture("accept-drop-8080.nft")]),
    );
    let server = listen(&pair, &pair.server_addr, &[8080, 8081]);
    wait_until("the listener on 8081", Duration::from_secs(10), || {
        pair.client_reaches(&pair.server_addr, 8081)
    });
    // Measured from the other host: 8080 is dropped, 8081 is not.
    assert!(
        !pair.client_reaches(&pair.server_addr, 8080),
        "8080 should be dropped; listener log: {}",
        server.log_text()
    );
    assert!(pair.client_reaches(&pair.server_addr, 8081));

    // Read inside the server's namespace, through the listener's pid.
    let view = run_in_netns_of(server.pid(), || Ok(read_firewall())).expect("setns");
    let FirewallView::Rules { input_chains, .. } = &view else {
        panic!("firewall should be readable as root: {view:?}");
    };
    let chain = input_chains
        .iter()
        .find(|c| c.label() == "inet filter input")
        .unwrap_or_else(|| panic!("the namespace's chain, not the host's: {input_chains:#?}"));
    assert_eq!(chain.policy, ChainPolicy::Accept);

    let dst: IpAddr = pair.server_addr.parse().expect("server address");
    let (verdict, why) = judge(&view, Protocol::Tcp, 8080, dst);
    assert_eq!(verdict, FirewallVerdict::Blocks, "{why}");
    assert_eq!(
        why,
        "inet filter input: rule 2 `tcp dport 8080 drop` drops tcp dport 8080"
    );
    let (verdict, why) = judge(&view, Protocol::Tcp, 8081, dst);
    assert_eq!(verdict, FirewallVerdict::Allows, "{why}");
    // The wildcard bind of the same listener port is judged the same way.
    let (verdict, _) = judge(&view, Protocol::Tcp, 8080, "0.0.0.0".parse().expect("ip"));
    assert_eq!(verdict, FirewallVerdict::Blocks);
}

#[test]
fn empty_namespace_has_nothing_to_filter() {
    let pair = VethPair::new();
    let server = listen(&pair, &pair.server_addr, &[9000]);
    let view = run_in_netns_of(server.pid(), || Ok(read_firewall())).expect("setns");
    let (verdict, why) = judge(
        &view,
        Protocol::Tcp,
        9000,
        pair.server_addr.parse().expect("ip"),
    );
    assert_eq!(verdict, FirewallVerdict::Allows, "{why}");
    wait_until("the listener on 9000", Duration::from_secs(10), || {
        pair.client_reaches(&pair.server_addr, 9000)
    });
}

/// Without CAP_NET_ADMIN the ruleset is not readable: an explicit reason, no
/// guess. Only this test's thread gives up root (raw setresuid changes one
/// thread's credentials; glibc's wrapper would change every thread's).
#[test]
fn unprivileged_read_is_unreadable() {
    let view = std::thread::spawn(|| {
        // SAFETY: raw syscalls on this thread's own credentials.
        let rc = unsafe {
            (
                libc::syscall(libc::SYS_setresgid, 65534, 65534, 65534),
                libc::syscall(libc::SYS_setresuid, 65534, 65534, 65534),
            )
        };
        assert_eq!(rc, (0, 0), "setresuid");
        read_firewall()
    })
    .join()
    .expect("reader thread");
    match view {
        FirewallView::Unreadable { reason } => {
            assert!(reason.contains("CAP_NET_ADMIN"), "{reason}");
        }
        other => panic!("should be unreadable without privileges: {other:?}"),
    }
    // The test process itself is still root.
    assert!(
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"))
    );
}

/// A ufw host on iptables-nft: policy drop, loopback and RELATED,ESTABLISHED
/// accepted through `-m conntrack`, a user chain accepting `--dport 8022` and
/// `-m multiport --dports 80,443`. nft's JSON shows those extensions only as
/// opaque `xt` statements; read with iptables-nft-save they are judged, and
/// the judgement agrees with what a client on the other host gets.
#[test]
fn ufw_on_iptables_nft_is_judged_like_the_client_sees_it() {
    let pair = VethPair::new();
    run_ok(
        pair.server
            .command("iptables-nft-restore")
            .arg(fixture("ufw.rules")),
    );
    let server = listen(&pair, &pair.server_addr, &[8022, 8080, 443]);
    // Measured from the other host: new connections to 8022 and 443 are
    // accepted (they are not ESTABLISHED: the conntrack accept does not take
    // them), 8080 falls to the policy drop.
    wait_until("the listener on 8022", Duration::from_secs(10), || {
        pair.client_reaches(&pair.server_addr, 8022)
    });
    assert!(pair.client_reaches(&pair.server_addr, 443));
    assert!(
        !pair.client_reaches(&pair.server_addr, 8080),
        "8080 should be dropped; listener log: {}",
        server.log_text()
    );

    let view = run_in_netns_of(server.pid(), || Ok(read_firewall())).expect("setns");
    let FirewallView::Rules {
        source,
        input_chains,
        ..
    } = &view
    else {
        panic!("firewall should be readable as root: {view:?}");
    };
    assert!(
        source
            .to_string()
            .contains("ip filter read with iptables-nft-save"),
        "{source}"
    );
    let input = input_chains
        .iter()
        .find(|c| c.label() == "ip filter INPUT")
        .unwrap_or_else(|| panic!("the namespace's ufw chain: {input_chains:#?}"));
    assert_eq!(input.policy, ChainPolicy::Drop);
    assert!(input.subchains.contains_key("ufw-user-input"));

    let dst: IpAddr = pair.server_addr.parse().expect("server address");
    for port in [8022, 443] {
        let (verdict, why) = judge(&view, Protocol::Tcp, port, dst);
        assert_eq!(verdict, FirewallVerdict::Allows, "{port}: {why}");
        assert!(why.contains("chain ufw-user-input rule"), "{port}: {why}");
    }
    let (verdict, why) = judge(&view, Protocol::Tcp, 8080, dst);
    assert_eq!(verdict, FirewallVerdict::Blocks, "{why}");
    assert_eq!(
        why,
        "ip filter INPUT: policy drop, no rule accepts tcp dport 8080"
    );
}

/// A forward chain applied in a real namespace (nft, then iptables-nft), read
/// back with `read_firewall` and judged on the forward path: policy accept,
/// one port dropped towards one bridge. The inbound path is not affected.
#[test]
fn forward_chain_in_a_namespace_policy_accept() {
    let pair = VethPair::new();
    run_ok(
        pair.server
            .command("nft")
            .args(["-f", &fixture("forward-accept.nft")]),
    );
    let server = listen(&pair, &pair.server_addr, &[9000]);
    // The listener runs in the namespace (its pid is the way in).
    wait_until("the listener on 9000", Duration::from_secs(10), || {
        pair.client_reaches(&pair.server_addr, 9000)
    });
    let internal = vec!["br-int".to_string(), "lo".to_string()];
    let container: IpAddr = "10.99.0.2".parse().expect("ip");

    let view = run_in_netns_of(server.pid(), || Ok(read_firewall())).expect("setns");
    let FirewallView::Rules {
        input_chains,
        forward_chains,
        ..
    } = &view
    else {
        panic!("firewall should be readable as root: {view:?}");
    };
    // Only legacy tables' empty chains, where the kernel has them.
    assert!(
        input_chains.iter().all(|c| c.legacy && c.rules.is_empty()),
        "{input_chains:#?}"
    );
    let fwd = forward_chains
        .iter()
        .find(|c| c.label() == "inet filter forward")
        .unwrap_or_else(|| panic!("the namespace's forward chain: {forward_chains:#?}"));
    assert_eq!(fwd.policy, ChainPolicy::Accept);
    let (verdict, why) = judge_forward(
        &view,
        Protocol::Tcp,
        8080,
        container,
        "br-int",
        &internal,
        &[],
    );
    assert_eq!(verdict, FirewallVerdict::Allows, "{why}");
    assert_eq!(
        why,
        "inet filter forward: policy accept, no rule drops tcp dport 8080 forwarded to \
         10.99.0.2 out of br-int"
    );
    let (verdict, why) = judge_forward(
        &view,
        Protocol::Tcp,
        9000,
        container,
        "br-int",
        &internal,
        &[],
    );
    assert_eq!(verdict, FirewallVerdict::Blocks, "{why}");
    let (verdict, why) = judge_forward(
        &view,
        Protocol::Tcp,
        9000,
        container,
        "br-other",
        &internal,
        &[],
    );
    assert_eq!(verdict, FirewallVerdict::Allows, "{why}");
    // The forward chain does not filter the inbound path: 9000 on the host is open.
    let dst: IpAddr = pair.server_addr.parse().expect("server address");
    assert_eq!(
        judge(&view, Protocol::Tcp, 9000, dst).0,
        FirewallVerdict::Allows
    );

    // The same with iptables-nft (read through iptables-nft-save).
    run_ok(pair.server.command("nft").args(["flush", "ruleset"]));
    for args in [
        &["-P", "FORWARD", "ACCEPT"][..],
        &[
            "-A",
            "FORWARD",
            "-o",
            "br-+",
            "-p",
            "tcp",
            "-m",
            "conntrack",
            "--ctstate",
            "NEW",
            "-m",
            "multiport",
            "--dports",
            "9000,9001",
            "-j",
            "DROP",
        ],
    ] {
        run_ok(pair.server.command("iptables-nft").args(args));
    }
    let view = run_in_netns_of(server.pid(), || Ok(read_firewall())).expect("setns");
    let FirewallView::Rules { source, .. } = &view else {
        panic!("readable: {view:?}");
    };
    assert!(
        source
            .to_string()
            .contains("ip filter read with iptables-nft-save"),
        "{source}"
    );
    let (verdict, why) = judge_forward(
        &view,
        Protocol::Tcp,
        8080,
        container,
        "br-int",
        &internal,
        &[],
    );
    assert_eq!(verdict, FirewallVerdict::Allows, "{why}");
    let (verdict, why) = judge_forward(
        &view,
        Protocol::Tcp,
        9001,
        container,
        "br-int",
        &internal,
        &[],
    );
    assert_eq!(verdict, FirewallVerdict::Blocks, "{why}");
    assert!(
        why.contains("`oifname \"br-*\" ct state new tcp dport { 9000, 9001 } drop`"),
        "{why}"
    );
}
