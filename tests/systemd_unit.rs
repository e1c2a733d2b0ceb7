//! A server is its systemd service too, where the service is the server's own:
//! a process the unit started beside the server (`ExecStartPost=`, a second
//! `ExecStart=` of a oneshot wrapper), not its descendant, that listens is its
//! helper, when the server is the unit's first process. Where the unit's first
//! process is something else (sshd in `ssh.service` on a host without logind,
//! holding every login's programs), nothing is attributed by the unit. The
//! units here are real cgroups of systemd's hierarchy the test creates and moves
//! its own processes into, as systemd does for a service's processes.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use support::*;

/// A service's cgroup in systemd's hierarchy (named or unified, as this host
/// mounts it), removed on drop once its processes are gone.
struct Unit {
    name: String,
    dir: PathBuf,
}

impl Unit {
    fn new(tag: &str) -> Unit {
        let name = format!("{}.service", unique(tag));
        let base = [
            "/sys/fs/cgroup/systemd",
            "/sys/fs/cgroup/unified",
            "/sys/fs/cgroup",
        ]
        .into_iter()
        .map(PathBuf::from)
        .find(|b| b.join("cgroup.procs").exists())
        .expect("a cgroup hierarchy systemd would use");
        let dir = base.join(&name);
        std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
        Unit { name, dir }
    }

    fn join(&self, pid: u32) {
        std::fs::write(self.dir.join("cgroup.procs"), pid.to_string())
            .unwrap_or_else(|e| panic!("move {pid} into {}: {e}", self.name));
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        for _ in 0..50 {
            if std::fs::remove_dir(&self.dir).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn side_service(pair: &VethPair, dir: &std::path::Path, port: u16) -> Proc {
    start_script(
        &pair.server,
        &python(),
        dir,
        &["-m", "http.server", "--bind", "0.0.0.0", &port.to_string()],
        &[],
    )
}

fn helper_pids(s: &Value) -> Vec<(u64, String)> {
    s["helpers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            (
                h["pid"].as_u64().unwrap_or(0),
                h["role"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn a_listener_the_servers_own_service_started_is_its_helper_and_no_other_units() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let (own_port, own_side, other_port, other_side) = (7991, 7992, 7993, 7994);

    // The server's own service: llama-server first, then a side service.
    let own = Unit::new("aipt-llm");
    let llama = start_llama(
        pair.server.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", &own_port.to_string()],
        &[],
    );
    own.join(llama.pid());
    let side = side_service(&pair, dir.path(), own_side);
    own.join(side.pid());

    // A unit whose first process is not the server (a login daemon's, say).
    let other = Unit::new("aipt-login");
    let mut first = Command::new("sleep").arg("300").spawn().expect("sleep");
    other.join(first.id());
    // Started clearly later than the unit's first process (start times are
    // counted in clock ticks).
    std::thread::sleep(Duration::from_millis(100));
    let llama2 = start_llama(
        pair.server.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", &other_port.to_string()],
        &[],
    );
    other.join(llama2.pid());
    let stray = side_service(&pair, dir.path(), other_side);
    other.join(stray.pid());

    wait_until("the side services", Duration::from_secs(60), || {
        pair.client_reaches(&pair.server_addr, own_side)
            && pair.client_reaches(&pair.server_addr, other_side)
    });
    let snap = snapshot(&[]);
    let _ = first.kill();
    let _ = first.wait();

    let s = servers_with_pid(&snap, llama.pid());
    assert_eq!(s.len(), 1, "{:#}", snap["inventory"]["servers"]);
    let want = (
        u64::from(side.pid()),
        format!("runs in the same systemd unit {}", own.name),
    );
    assert!(helper_pids(s[0]).contains(&want), "{:#}", s[0]);
    let idx = socket_on(&snap, s[0], own_side);
    assert_eq!(exposure_of(&snap, &idx)["reach"], "lan");

    let s2 = servers_with_pid(&snap, llama2.pid());
    assert_eq!(s2.len(), 1);
    assert!(
        helper_pids(s2[0])
            .iter()
            .all(|(pid, _)| *pid != u64::from(stray.pid())),
        "a unit whose first process is not the server attributed its neighbour: {:#}",
        s2[0]
    );
    assert!(
        snap["inventory"]["servers"]
            .as_array()
            .expect("servers")
            .iter()
            .all(|s| helper_pids(s)
                .iter()
                .all(|(pid, _)| *pid != u64::from(stray.pid()))),
        "{:#}",
        snap["inventory"]["servers"]
    );
    drop((side, stray, llama, llama2));
}
