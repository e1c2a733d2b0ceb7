//! `aiposture fleet` against real OpenSSH: two sshd instances started by the test
//! on loopback ports (Debian openssh-server, a host key and a client key made
//! for the test, StrictModes on, no PAM), one letting root in and one the
//! unprivileged `aipt-fleet` user (made by scripts/test-deps.sh), plus a closed
//! port. The remote command is this build of aiposture, run by ssh.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const FLEET_USER: &str = "aipt-fleet";

/// A directory only root can write, all the way up (sshd's StrictModes checks
/// every component of the authorized_keys path; /tmp is world-writable).
struct RootDir(PathBuf);

impl RootDir {
    fn new() -> RootDir {
        let d = PathBuf::from("/run").join(unique("aipt-fleet"));
        std::fs::create_dir_all(d.join("keys")).expect("mkdir");
        for p in [&d, &d.join("keys")] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        RootDir(d)
    }
}

impl Drop for RootDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One sshd on 127.0.0.1:port that lets `user` in with the test's key.
struct Sshd {
    _proc: Proc,
    port: u16,
    _dir: RootDir,
}

fn sshd_bin() -> PathBuf {
    let p = PathBuf::from("/usr/sbin/sshd");
    assert!(
        p.exists(),
        "/usr/sbin/sshd missing: run `bash scripts/test-deps.sh` (openssh-server)"
    );
    p
}

impl Sshd {
    fn start(user: &str, client_pub: &str) -> Sshd {
        let dir = RootDir::new();
        let d = &dir.0;
        let host_key = d.join("host_ed25519");
        run_ok(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(&host_key),
        );
        std::fs::write(d.join("keys").join(user), client_pub).expect("authorized_keys");
        std::fs::set_permissions(
            d.join("keys").join(user),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        // sshd's privilege-separation directory (test-deps.sh makes it; /run is tmpfs).
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let port = free_port();
        let config = d.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nPidFile none\nUsePAM no\n\
                 StrictModes yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nAuthorizedKeysFile {}/keys/%u\nAllowUsers {user}\n\
                 PermitRootLogin prohibit-password\nLogLevel VERBOSE\n",
                host_key.display(),
                d.display()
            ),
        )
        .expect("sshd_config");
        let log = temp_path("sshd.log");
        let logf = std::fs::File::create(&log).expect("log");
        let child = Command::new(sshd_bin())
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(logf.try_clone().expect("dup"))
            .stderr(logf)
            .spawn()
            .expect("sshd");
        let proc = Proc { child, log };
        wait_until("sshd to listen", Duration::from_secs(10), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Sshd {
            _proc: proc,
            port,
            _dir: dir,
        }
    }
}

/// The client side: a key made for the test and an ssh config that uses it and
/// a known_hosts file of its own (the user's own files are never touched).
struct Client {
    dir: PathBuf,
    config: PathBuf,
    public: String,
}

impl Client {
    fn new() -> Client {
        let dir = temp_path("fleet-client");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let key = dir.join("id_ed25519");
        run_ok(
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(&key),
        );
        let config = dir.join("ssh_config");
        std::fs::write(
            &config,
            format!(
                "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n",
                key.display(),
                dir.join("known_hosts").display()
            ),
        )
        .expect("ssh config");
        let public = std::fs::read_to_string(key.with_extension("pub")).expect("pub");
        Client {
            dir,
            config,
            public,
        }
    }

    /// `aiposture fleet` with the test's ssh config; host keys accepted on first use.
    fn fleet(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .arg("fleet")
            .arg("--ssh-config")
            .arg(&self.config)
            .args(["--ssh-option", "StrictHostKeyChecking=accept-new"])
            .args(args)
            .env("HOME", &self.dir)
            .env_remove("SSH_AUTH_SOCK")
            .output()
            .expect("run aiposture fleet")
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn closed_port() -> u16 {
    // Bound and dropped: nothing listens there now.
    free_port()
}

fn remote_snapshot() -> String {
    format!(
        "{} snapshot --format json -o - --no-history",
        bin_for_others().display()
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_string()
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn kept(dir: &Path, row: &Value) -> Value {
    let p = row["kept"].as_str().expect("kept path");
    assert!(Path::new(p).starts_with(dir), "{p}");
    serde_json::from_str(&read(Path::new(p))).expect("kept snapshot is JSON")
}

#[test]
fn two_hosts_over_real_sshd_and_one_unreachable() {
    let client = Client::new();
    let a = Sshd::start("root", &client.public);
    let b = Sshd::start(FLEET_USER, &client.public);
    let port = free_port();
    let llama = start_llama(
        Command::new(llama_server_bin()),
        &["--host", "127.0.0.1", "--port", &port.to_string()],
        &[],
    );
    let keep = temp_path("fleet-keep");
    let root = format!("root@127.0.0.1:{}", a.port);
    let user = format!("{FLEET_USER}@127.0.0.1:{}", b.port);
    let dead = format!("root@127.0.0.1:{}", closed_port());
    let remote = remote_snapshot();
    let out = client.fleet(&[
        "--remote-command",
        &remote,
        "--format",
        "json",
        "--keep",
        keep.to_str().expect("utf-8"),
        &root,
        &user,
        &dead,
    ]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "a failed host exits 4: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out);
    let hosts = report["hosts"].as_array().expect("hosts");
    assert_eq!(hosts.len(), 3, "{report:#}");
    let targets: Vec<&str> = hosts.iter().filter_map(|h| h["target"].as_str()).collect();
    assert_eq!(targets, [root.as_str(), user.as_str(), dead.as_str()]);

    // root: sees the server, its listener and its reach.
    let r = &hosts[0];
    assert_eq!(r["state"], "ok", "{r:#}");
    let s = &r["summary"];
    assert_eq!(s["hostname"], hostname().as_str());
    assert_eq!(s["user"], "root");
    assert_eq!(s["is_root"], true);
    assert_eq!(s["tool_version"], env!("CARGO_PKG_VERSION"));
    let snap = kept(&keep, r);
    assert_eq!(
        s["servers"].as_u64(),
        Some(
            snap["inventory"]["servers"]
                .as_array()
                .expect("servers")
                .len() as u64
        ),
        "the row counts the servers of the host's own snapshot"
    );
    let ours = servers_with_pid(&snap, llama.pid());
    assert_eq!(
        ours.len(),
        1,
        "root's snapshot over ssh has the test's llama-server"
    );
    let sock = socket_on(&snap, ours[0], port);
    assert_eq!(exposure_of(&snap, &sock)["reach"], "loopback_only");
    assert!(s["servers"].as_u64().is_some_and(|n| n >= 1));
    // The same server, seen by a local `aiposture snapshot` as root.
    let local = snapshot(&["--no-history"]);
    let local_ours = servers_with_pid(&local, llama.pid());
    assert_eq!(local_ours.len(), 1);
    assert_eq!(
        exposure_of(&local, &socket_on(&local, local_ours[0], port))["reach"],
        "loopback_only"
    );

    // aipt-fleet: the server by its command line only; its sockets are a blind spot.
    let u = &hosts[1];
    assert_eq!(u["state"], "ok", "{u:#}");
    let s = &u["summary"];
    assert_eq!(s["user"], FLEET_USER);
    assert_eq!(s["is_root"], false);
    assert!(s["blind_spots"].as_u64().is_some_and(|n| n > 0), "{s:#}");
    let snap = kept(&keep, u);
    let seen = servers_with_pid(&snap, llama.pid());
    assert_eq!(seen.len(), 1, "recognised by its command line");
    assert!(seen[0]["sockets"].as_array().is_some_and(|v| v.is_empty()));
    assert!(support::blind_spots_text(&snap).contains(&format!("/proc/{}/fd", llama.pid())));

    // The closed port: a row with the stage and ssh's own words, not dropped.
    let d = &hosts[2];
    assert_eq!(d["state"], "error", "{d:#}");
    assert_eq!(d["stage"], "connect");
    assert_eq!(d["exit_code"], 255);
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("Connection refused")),
        "{d:#}"
    );
    assert!(d.get("kept").is_none());
    let _ = std::fs::remove_dir_all(&keep);
}

#[test]
fn every_format_keeps_the_failed_host() {
    let client = Client::new();
    let a = Sshd::start("root", &client.public);
    let root = format!("root@127.0.0.1:{}", a.port);
    let dead = format!("127.0.0.1:{}", closed_port());
    let remote = remote_snapshot();
    let run = |format: &str| {
        let out = client.fleet(&[
            "--remote-command",
            &remote,
            "--format",
            format,
            &root,
            &dead,
        ]);
        assert_eq!(out.status.code(), Some(4), "{format}");
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let text = run("text");
    assert!(
        text.lines()
            .any(|l| l.starts_with(&root) && l.contains(" ok ")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&dead) && l.contains("ERROR connect")),
        "{text}"
    );
    let lines: Vec<Value> = run("jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["event"]["outcome"], "success");
    assert_eq!(lines[1]["stage"], "connect");
    let md = run("markdown");
    assert!(
        md.contains(&format!("| {dead} | **error: connect** |")),
        "{md}"
    );
    assert!(md.contains("## Hosts not read"), "{md}");

    // The Prometheus textfile, checked by Prometheus' own linter.
    let prom = run("prometheus");
    assert!(
        prom.contains(&format!("aiposture_fleet_host_up{{host=\"{root}\"}} 1")),
        "{prom}"
    );
    assert!(prom.contains(&format!(
        "aiposture_fleet_host_error{{host=\"{dead}\",stage=\"connect\"}} 1"
    )));
    let file = temp_path("fleet.prom");
    std::fs::write(&file, &prom).expect("write");
    let check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&file).expect("open"))
        .output()
        .expect("promtool (Debian prometheus, scripts/test-deps.sh)");
    let _ = std::fs::remove_file(&file);
    assert!(
        check.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn remote_failures_are_staged() {
    let client = Client::new();
    let a = Sshd::start("root", &client.public);
    let root = format!("root@127.0.0.1:{}", a.port);
    // Not in AllowUsers: refused after the connection.
    let refused = format!("{FLEET_USER}@127.0.0.1:{}", a.port);
    let row = |remote: &str, target: &str| {
        let out = client.fleet(&["--remote-command", remote, "--format", "json", target]);
        assert_eq!(out.status.code(), Some(4), "{remote}");
        json(&out)["hosts"][0].clone()
    };
    let r = row(&remote_snapshot(), &refused);
    assert_eq!(r["stage"], "auth", "{r:#}");
    assert!(
        r["message"]
            .as_str()
            .is_some_and(|m| m.contains("Permission denied"))
    );

    let r = row("/nonexistent/aiposture snapshot -o -", &root);
    assert_eq!(r["stage"], "remote-command", "{r:#}");
    assert_eq!(r["exit_code"], 127);

    // A newer snapshot schema is a row, not a crash.
    let r = row(r#"echo '{"schema_version": 99}'"#, &root);
    assert_eq!(r["stage"], "parse", "{r:#}");
    assert!(
        r["message"]
            .as_str()
            .is_some_and(|m| m.contains("schema_version 99")),
        "{r:#}"
    );

    let r = row("echo hello", &root);
    assert_eq!(r["stage"], "parse", "{r:#}");
}

/// Processes whose command line contains `marker` and whose program is ssh.
fn ssh_clients_with(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let exe = std::fs::read_link(e.path().join("exe")).unwrap_or_default();
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if exe.file_name().is_some_and(|n| n == "ssh")
            && String::from_utf8_lossy(&cmdline).contains(marker)
        {
            found.push(pid);
        }
    }
    found
}

#[test]
fn a_host_that_does_not_answer_in_time_is_a_timeout_row_and_ssh_is_gone() {
    let client = Client::new();
    let a = Sshd::start("root", &client.public);
    let root = format!("root@127.0.0.1:{}", a.port);
    let marker = unique("fleet-timeout");
    let remote = format!("sleep 30 # {marker}");
    let started = Instant::now();
    let out = client.fleet(&[
        "--remote-command",
        &remote,
        "--timeout",
        "2s",
        "--format",
        "json",
        &root,
    ]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(4));
    let r = &json(&out)["hosts"][0];
    assert_eq!(r["stage"], "timeout", "{r:#}");
    assert!(r["exit_code"].is_null());
    assert!(
        took < Duration::from_secs(10),
        "the 30 s command was not waited for: {took:?}"
    );
    assert!(
        ssh_clients_with(&marker).is_empty(),
        "the ssh client outlived its timeout"
    );
}
