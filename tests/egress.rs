//! Live egress of an AI process, measured against connections the test opens.
//! A stand-in with a llama-cpp-python command line (tests/support/egress_standin.py)
//! runs in a "client" namespace whose default route leads, over a veth, to a
//! "peer" namespace holding public-looking addresses (8.8.8.8, and 104.16.0.1 from
//! Cloudflare's published ranges) on its loopback: nothing leaves the machine.
//! The stand-in and a forked worker connect out over TCP and connected UDP; it
//! also holds a loopback connection and an inbound client, which are not egress.
//! `ip netns exec` gives the stand-in its own /etc/hosts (from /etc/netns/NAME/),
//! which names 8.8.8.8: the name must come from that file, as the process sees it.

mod support;

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

const LISTEN: u16 = 8000;
const NAME: &str = "telemetry.egress-test.invalid";

/// /etc/netns/NAME: files `ip netns exec NAME` bind-mounts over /etc. Removed on drop.
struct NetnsEtc(PathBuf);

impl Drop for NetnsEtc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Setup {
    // Dropped in field order: processes before their namespaces.
    standin: Group,
    _inbound: Proc,
    _peer: Proc,
    _etc: NetnsEtc,
    _dir: tempfile::TempDir,
    net: VethPair,
    worker: u32,
}

fn start() -> Setup {
    let net = VethPair::new();
    for addr in ["8.8.8.8/32", "104.16.0.1/32"] {
        run_ok(Command::new("ip").args(["-n", &net.server.name, "addr", "add", addr, "dev", "lo"]));
    }
    run_ok(Command::new("ip").args([
        "-n",
        &net.client.name,
        "route",
        "add",
        "default",
        "via",
        &net.server_addr,
    ]));
    let etc = NetnsEtc(PathBuf::from("/etc/netns").join(&net.client.name));
    std::fs::create_dir_all(&etc.0).expect("mkdir /etc/netns/NAME");
    std::fs::write(
        etc.0.join("hosts"),
        format!("127.0.0.1 localhost\n8.8.8.8 {NAME}\n"),
    )
    .expect("hosts");

    let dir = tempfile::tempdir().expect("tempdir");
    let peer_log = dir.path().join("peer.log");
    let mut peer = net.server.command(python());
    peer.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/support/egress_peer.py"
    ))
    .args(["443"])
    .env("PEER_DIR", dir.path())
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(&peer_log).expect("log"))
    .stderr(std::fs::File::create(&peer_log).expect("log"));
    let peer = Proc {
        child: peer.spawn().expect("spawn peer"),
        log: peer_log,
    };
    wait_until("peer listening", Duration::from_secs(20), || {
        dir.path().join("peer-ready").exists()
    });

    let pkg = dir.path().join("pkg/llama_cpp/server");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(dir.path().join("pkg/llama_cpp/__init__.py"), "").expect("init");
    std::fs::write(pkg.join("__init__.py"), "").expect("init");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/egress_standin.py"
        ),
        pkg.join("__main__.py"),
    )
    .expect("copy");
    let mut cmd = net.client.command(python());
    cmd.args(["-m", "llama_cpp.server", "--port", &LISTEN.to_string()])
        .env("PYTHONPATH", dir.path().join("pkg"))
        .env("EGRESS_DIR", dir.path())
        .env("EGRESS_LISTEN", LISTEN.to_string())
        .env("EGRESS_TCP", "8.8.8.8:443,104.16.0.1:443")
        .env("EGRESS_UDP", "8.8.8.8:3478")
        .env("EGRESS_WORKER_TCP", "8.8.8.8:443")
        .stdin(Stdio::null())
        .process_group(0);
    let standin = Group(cmd.spawn().expect("spawn stand-in"));
    wait_until("stand-in connected", Duration::from_secs(30), || {
        dir.path().join("ready").exists()
    });
    let worker: u32 = std::fs::read_to_string(dir.path().join("ready"))
        .expect("ready")
        .trim()
        .parse()
        .expect("worker pid");

    // An inbound client of the stand-in's listener, from the peer side.
    let inbound_log = dir.path().join("inbound.log");
    let mut inbound = net.server.command("bash");
    inbound
        .args([
            "-c",
            &format!(
                "exec 3<>/dev/tcp/{}/{LISTEN}; exec sleep 3600",
                net.client_addr
            ),
        ])
        .stdin(Stdio::null());
    let inbound = Proc {
        child: inbound.spawn().expect("spawn inbound client"),
        log: inbound_log,
    };
    wait_until("inbound client accepted", Duration::from_secs(20), || {
        dir.path().join("inbound").exists()
    });
    Setup {
        standin,
        _inbound: inbound,
        _peer: peer,
        _etc: etc,
        _dir: dir,
        net,
        worker,
    }
}

fn connections_of(snap: &Value, pid: u32) -> Vec<Value> {
    snap["inventory"]["privacy"]["connections"]
        .as_array()
        .expect("privacy.connections")
        .iter()
        .filter(|c| c["pid"] == pid)
        .cloned()
        .collect()
}

#[test]
fn connections_of_a_server_and_its_worker_with_hosts_names() {
    let s = start();
    let pid = s.standin.0.id();
    let snap = snapshot(&[]);
    let servers = servers_with_pid(&snap, pid);
    assert_eq!(servers.len(), 1, "stand-in not identified: {snap:#}");
    assert!(
        servers[0]["workers"]
            .as_array()
            .expect("workers")
            .iter()
            .any(|w| w["pid"] == s.worker),
        "worker {} not folded",
        s.worker
    );

    // Server and worker see one file: it is named once, by the lower pid.
    let hosts_file = format!("/proc/{}/root/etc/hosts", pid.min(s.worker));
    let collected_at = snap["inventory"]["host"]["collected_at"].clone();
    let mine = connections_of(&snap, pid);
    let peers: Vec<(String, String, u64)> = {
        let mut v: Vec<_> = mine
            .iter()
            .map(|c| {
                (
                    c["protocol"].as_str().expect("protocol").to_string(),
                    c["remote"].as_str().expect("remote").to_string(),
                    c["port"].as_u64().expect("port"),
                )
            })
            .collect();
        v.sort();
        v
    };
    // Exactly the three peers it connected to: not the loopback connection to
    // itself, not the client it accepted from 10.77.x.1.
    assert_eq!(
        peers,
        vec![
            ("tcp".into(), "104.16.0.1".into(), 443),
            ("tcp".into(), "8.8.8.8".into(), 443),
            ("udp".into(), "8.8.8.8".into(), 3478),
        ],
        "{mine:#?}"
    );
    for c in &mine {
        let sock = socket(&snap, &c["socket"]);
        assert_eq!(sock["remote"]["addr"], c["remote"], "{sock:#}");
        assert_eq!(sock["remote"]["port"], c["port"], "{sock:#}");
        assert_eq!(sock["state"], "established", "{sock:#}");
        assert!(
            sock["owner"]["pids"]
                .as_array()
                .is_some_and(|p| p.iter().any(|x| *x == pid)),
            "{sock:#}"
        );
        // First collection of this aiposture process: first seen now.
        assert_eq!(c["first_seen"], collected_at, "{c:#}");
        assert_eq!(c["hosts_file"], hosts_file.as_str(), "{c:#}");
    }
    // The forked worker holds the sockets it inherited and one of its own.
    let worker = connections_of(&snap, s.worker);
    let inherited: Vec<&Value> = mine.iter().map(|c| &c["socket"]).collect();
    let own: Vec<&Value> = worker
        .iter()
        .filter(|c| !inherited.contains(&&c["socket"]))
        .collect();
    assert_eq!(own.len(), 1, "{worker:#?}");
    assert_eq!(
        (own[0]["remote"].as_str(), own[0]["port"].as_u64()),
        (Some("8.8.8.8"), Some(443))
    );
    assert_eq!(worker.len(), mine.len() + 1, "{worker:#?}");
    assert!(
        worker
            .iter()
            .all(|c| c["hosts_file"] == hosts_file.as_str()),
        "{worker:#?}"
    );
    // No AI process's row goes to loopback or to the inbound client's address.
    for c in snap["inventory"]["privacy"]["connections"]
        .as_array()
        .expect("connections")
    {
        let r = c["remote"].as_str().expect("remote");
        assert!(!r.starts_with("127.") && r != s.net.server_addr, "{c:#}");
    }

    // The name comes from the file the stand-in sees, and only for its peer.
    let names: Vec<&Value> = snap["inventory"]["privacy"]["hosts_names"]
        .as_array()
        .expect("hosts_names")
        .iter()
        .filter(|h| h["file"] == hosts_file.as_str())
        .collect();
    assert_eq!(names.len(), 1, "{names:#?}");
    assert_eq!(names[0]["addr"], "8.8.8.8");
    assert_eq!(names[0]["names"], serde_json::json!([NAME]));
}

/// Needs the lead's wiring of `rules::privacy::egress::egress_of` into
/// `privacy.processes[].egress`: the judged view of the same connections.
#[test]
fn egress_report_classifies_and_names_peers_without_dns() {
    let s = start();
    let pid = s.standin.0.id();
    let snap = snapshot(&[]);
    let proc_ = snap["privacy"]["processes"]
        .as_array()
        .expect("privacy.processes")
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("no privacy row for the stand-in: {:#}", snap["privacy"]))
        .clone();
    let egress = proc_["egress"].as_array().expect("egress").clone();
    let row = |proto: &str, remote: &str, port: u64| {
        egress
            .iter()
            .find(|e| e["protocol"] == proto && e["remote"] == remote && e["port"] == port)
            .unwrap_or_else(|| panic!("no egress {proto} {remote}:{port}: {egress:#?}"))
            .clone()
    };
    assert_eq!(egress.len(), 3, "{egress:#?}");
    let google = row("tcp", "8.8.8.8", 443);
    assert_eq!(google["destination"], "public");
    // The server's socket and its worker's.
    assert_eq!(google["connections"], 2, "{google:#}");
    let name = google["attribution"].as_str().expect("named");
    assert!(
        name.contains(NAME)
            && name.contains(&format!("/proc/{}/root/etc/hosts", pid.min(s.worker))),
        "{name}"
    );
    let cf = row("tcp", "104.16.0.1", 443);
    assert_eq!(cf["destination"], "public");
    let name = cf["attribution"].as_str().expect("named");
    assert!(
        name.starts_with("Cloudflare edge (published range 104.16.0.0/13"),
        "{name}"
    );
    let udp = row("udp", "8.8.8.8", 3478);
    assert_eq!(udp["destination"], "public");
    assert_eq!(udp["connections"], 1);
}
