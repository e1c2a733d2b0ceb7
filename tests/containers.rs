//! Real containers from a locally built image (scripts/docker-test-image.sh; no
//! registry needed), under Docker (docker-proxy + Docker API) and under Podman
//! (conmon + NAT rules only). Three llama-servers each: published on 127.0.0.1:P,
//! on 0.0.0.0:P, and not published. A client namespace joined to the host by a veth measures
//! what it can connect to; the tool must map each published host port back to
//! the server inside its container and agree with the measurement.

mod support;

use std::process::Command;
use std::time::Duration;

use support::*;

#[derive(Clone, Copy, PartialEq)]
enum Runtime {
    Docker,
    Podman,
    /// Podman run by an unprivileged user (scripts/test-deps.sh creates it).
    RootlessPodman,
}

const ROOTLESS_USER: &str = "aipt-rootless";

impl Runtime {
    /// The runtime's CLI with `args`; rootless runs as its user through `su`.
    fn cmd(self, args: &[&str]) -> Command {
        match self {
            Runtime::Docker | Runtime::Podman => {
                let mut c = Command::new(if self == Runtime::Docker {
                    "docker"
                } else {
                    "podman"
                });
                c.args(args);
                c
            }
            Runtime::RootlessPodman => {
                let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
                let mut c = Command::new("su");
                c.args([
                    ROOTLESS_USER,
                    "-c",
                    &format!("cd /tmp && podman {}", quoted.join(" ")),
                ]);
                c
            }
        }
    }
}

struct Container(Runtime, String);

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.0.cmd(&["rm", "-f", &self.1]).output();
    }
}

/// The Docker-built image, loaded into the runtime's own store.
fn podman_image(rt: Runtime, docker_image: &str) -> String {
    let name = format!("localhost/{docker_image}");
    let have = rt.cmd(&["image", "exists", &name]).status();
    if !have.is_ok_and(|s| s.success()) {
        let tar = temp_path("image.tar");
        run_ok(
            Command::new("docker")
                .args(["save", "-o"])
                .arg(&tar)
                .arg(docker_image),
        );
        // Readable by the rootless user too.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tar, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        run_ok(&mut rt.cmd(&["load", "-i", &tar.to_string_lossy()]));
        let _ = std::fs::remove_file(tar);
    }
    name
}

fn image() -> String {
    let out = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/docker-test-image.sh"
        ))
        .output()
        .expect("run docker-test-image.sh");
    assert!(
        out.status.success(),
        "the test image could not be built (exit {:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn run(rt: Runtime, image: &str, publish: Option<String>) -> (Container, u32) {
    let name = unique("aipt-ctr");
    let mut args = vec!["run", "-d", "--rm", "--name", &name];
    if rt != Runtime::Docker {
        // Podman raises RLIMIT_NOFILE/NPROC by default, which needs
        // CAP_SYS_RESOURCE; sandboxes (this CI among them) do not grant it.
        args.extend([
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
        ]);
    }
    if let Some(p) = &publish {
        args.extend(["-p", p.as_str()]);
    }
    args.push(image);
    run_ok(&mut rt.cmd(&args));
    let c = Container(rt, name);
    let out = run_ok(&mut rt.cmd(&["inspect", "-f", "{{.State.Pid}}", &c.1]));
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("container pid");
    wait_until(
        "the containerised server to map its model",
        Duration::from_secs(60),
        || {
            std::fs::read_to_string(format!("/proc/{pid}/maps"))
                .is_ok_and(|m| m.contains("/model.gguf"))
        },
    );
    (c, pid)
}

/// The host side of a veth to a client namespace (a "LAN peer" of the host).
struct HostVeth {
    dev: String,
    client: Netns,
    host_addr: String,
}

impl HostVeth {
    fn new() -> HostVeth {
        let client = Netns::new();
        let n = std::process::id() % 200 + 20;
        let host_addr = format!("10.78.{n}.1");
        let id = unique("h");
        let dev = format!("aph{}", &id[id.len().saturating_sub(10)..]);
        let peer = format!("apc{}", &id[id.len().saturating_sub(10)..]);
        run_ok(
            Command::new("ip").args(["link", "add", &dev, "type", "veth", "peer", "name", &peer]),
        );
        let v = HostVeth {
            dev,
            client,
            host_addr,
        };
        run_ok(Command::new("ip").args(["link", "set", &peer, "netns", &v.client.name]));
        run_ok(Command::new("ip").args([
            "addr",
            "add",
            &format!("{}/24", v.host_addr),
            "dev",
            &v.dev,
        ]));
        run_ok(Command::new("ip").args(["link", "set", &v.dev, "up"]));
        run_ok(Command::new("ip").args([
            "-n",
            &v.client.name,
            "addr",
            "add",
            &format!("10.78.{n}.2/24"),
            "dev",
            &peer,
        ]));
        run_ok(Command::new("ip").args(["-n", &v.client.name, "link", "set", &peer, "up"]));
        v
    }

    fn client_reaches(&self, port: u16) -> bool {
        self.client.reaches(&self.host_addr, port)
    }
}

impl Drop for HostVeth {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.dev]).status();
    }
}

// One runtime at a time: both tests add a veth to the host and publish ports.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn docker_published_ports_are_mapped_back_and_verdicts_match_reachability() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    scenario(Runtime::Docker);
}

#[test]
fn podman_published_ports_are_mapped_back_from_nat_rules() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    scenario(Runtime::Podman);
}

#[test]
fn rootless_podman_ports_are_mapped_back_through_rootlessport() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    scenario(Runtime::RootlessPodman);
}

fn scenario(rt: Runtime) {
    let image = match rt {
        Runtime::Docker => image(),
        Runtime::Podman | Runtime::RootlessPodman => podman_image(rt, &image()),
    };
    let lan = HostVeth::new();
    let (p_local, p_all) = (free_port(), free_port());
    let (_a, pid_local) = run(rt, &image, Some(format!("127.0.0.1:{p_local}:8080")));
    let (_b, pid_all) = run(rt, &image, Some(format!("0.0.0.0:{p_all}:8080")));
    let (_c, pid_none) = run(rt, &image, None);

    let snap = snapshot(&[]);
    for (pid, host_port, label) in [
        (pid_local, Some(p_local), "127.0.0.1 publish"),
        (pid_all, Some(p_all), "0.0.0.0 publish"),
        (pid_none, None, "no publish"),
    ] {
        let s = servers_with_pid(&snap, pid);
        assert_eq!(s.len(), 1, "{label}: containerised server not found");
        assert_eq!(s[0]["product_id"], "llama_server");
        assert_ne!(
            s[0]["netns"], snap["inventory"]["own_netns"],
            "{label}: not in its own namespace"
        );
        // The build read from the container's own binary, named as the container sees it.
        let build = s[0]["components"]
            .as_array()
            .expect("components")
            .iter()
            .find(|c| c["ecosystem"] == "llama.cpp")
            .cloned()
            .unwrap_or_else(|| panic!("{label}: no llama.cpp build read: {:#}", s[0]["runtime"]));
        assert_eq!(build["path"], "/llama-server", "{label}");
        assert!(
            build["version"]
                .as_str()
                .is_some_and(|v| v.starts_with('b')),
            "{build}"
        );
        let model = s[0]["models"].to_string();
        assert!(
            model.contains("/model.gguf"),
            "{label}: model in the container not read: {model}"
        );
        let idx = s[0]["sockets"]
            .as_array()
            .expect("sockets")
            .iter()
            .find(|i| socket(&snap, i)["local"]["port"] == 8080)
            .cloned()
            .unwrap_or_else(|| panic!("{label}: no listener on 8080"));
        let exp = exposure_of(&snap, &idx);
        let published: Vec<u64> = exp["published_on"]
            .as_array()
            .expect("published_on")
            .iter()
            .filter_map(|e| e["port"].as_u64())
            .collect();
        assert_eq!(
            published,
            host_port.map(u64::from).into_iter().collect::<Vec<_>>(),
            "{label}: host port not mapped back: {exp:#}"
        );
        let measured = host_port.is_some_and(|p| lan.client_reaches(p));
        let reach = exp["reach"].as_str().unwrap_or("");
        let wide = matches!(reach, "lan" | "vpn" | "public");
        assert_eq!(
            wide, measured,
            "{label}: verdict {reach} but a LAN client connects = {measured}: {exp:#}"
        );
        if !measured {
            assert_eq!(reach, "host_only", "{label}: {exp:#}");
        }
    }
    if rt == Runtime::Podman {
        // No proxy process: the mapping can only have come from the NAT rules.
        let via = snap["exposures"].to_string();
        assert!(
            via.contains("NAT rule in chain"),
            "podman mapping not from NAT rules"
        );
    }
    if rt == Runtime::Docker {
        // The Docker API (root) names the containers.
        let names = snap["inventory"]["containers"].to_string();
        for c in [&_a, &_b, &_c] {
            assert!(
                names.contains(&c.1),
                "container {} not listed by the Docker API: {names}",
                c.1
            );
        }
    }
    // The measurement can fail both ways: the loopback publish is refused, the
    // wildcard one accepted.
    assert!(!lan.client_reaches(p_local));
    match rt {
        Runtime::Docker | Runtime::RootlessPodman => assert!(lan.client_reaches(p_all)),
        // Podman's NAT path crosses the host's FORWARD hook; whatever it decides
        // (Docker's FORWARD DROP blocks it on a host that runs both), the
        // verdict above matched the measurement and cites that hook.
        Runtime::Podman => assert!(
            snap["exposures"].to_string().contains("FORWARD hook"),
            "the FORWARD path of the NAT publish is not judged"
        ),
    }

    if rt != Runtime::Docker {
        return;
    }
    // Unprivileged: the Docker API and the containers' namespaces are closed; the
    // verdicts say unknown and the blind spots say why — never safe.
    let weak = snapshot_as_nobody();
    let blind = support::blind_spots_text(&weak);
    assert!(
        blind.contains("/var/run/docker.sock"),
        "Docker API blind spot not named: {blind}"
    );
    for pid in [pid_local, pid_all, pid_none] {
        assert!(
            weak["findings"]
                .as_array()
                .expect("findings")
                .iter()
                .any(|f| f["subject"]["pid"] == pid
                    && f["rule"] == "visibility.server-not-inspectable"),
            "containerised server {pid} passes as clean when unprivileged"
        );
        let f = weak["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| {
                f["subject"]["pid"] == pid && f["rule"] == "visibility.server-not-inspectable"
            })
            .cloned()
            .unwrap_or_default();
        assert!(
            f["evidence"].to_string().contains("/var/run/docker.sock"),
            "the verdict does not name the Docker API blind spot: {f:#}"
        );
    }
}

/// A second process in a container (what `docker exec` starts: the container's
/// network namespace and cgroup, no parent inside it) that listens is part of the
/// container's server: attributed to it as a helper, its port judged on its own.
#[test]
fn a_second_process_in_the_container_is_part_of_its_server() {
    let _one = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let image = image();
    let (c, pid) = run(Runtime::Docker, &image, None);
    let out = run_ok(&mut Runtime::Docker.cmd(&["inspect", "-f", "{{.Id}}", &c.1]));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).expect("cgroup");
    assert!(cgroup.contains(&id[..12]), "{cgroup}");
    // Its memory cgroup (v1) or its unified one (v2), as the kernel names it.
    let procs = cgroup
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, ctl, path) = (f.next()?, f.next()?, f.next()?);
            let dir = match ctl {
                "memory" => format!("/sys/fs/cgroup/memory{path}"),
                "" => format!("/sys/fs/cgroup/unified{path}"),
                _ => return None,
            };
            path.contains(&id[..12])
                .then(|| std::path::PathBuf::from(dir).join("cgroup.procs"))
                .filter(|p| p.exists())
        })
        .next()
        .unwrap_or_else(|| panic!("no cgroup.procs of the container: {cgroup}"));
    // A stdlib HTTP server in the container's network namespace, moved into its
    // cgroup before it listens.
    let port = 9099;
    let mut side = Command::new("nsenter");
    side.args(["-t", &pid.to_string(), "-n", "--"])
        .arg("sh")
        .arg("-c")
        .arg(format!(
            "echo $$ > {} && exec python3 -m http.server {port} --bind 0.0.0.0",
            procs.display()
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let side = Proc {
        child: side.spawn().expect("spawn the sidecar"),
        log: temp_path("sidecar.log"),
    };
    wait_until("the sidecar to listen", Duration::from_secs(20), || {
        std::fs::read_to_string(format!("/proc/{}/net/tcp", side.pid()))
            .is_ok_and(|t| t.contains(&format!(":{:04X} 00000000:0000 0A", port)))
    });
    let side_cgroup = std::fs::read_to_string(format!("/proc/{}/cgroup", side.pid())).expect("cg");
    assert!(side_cgroup.contains(&id[..12]), "{side_cgroup}");

    let snap = snapshot(&[]);
    let s = servers_with_pid(&snap, pid);
    assert_eq!(s.len(), 1, "containerised server not found");
    let helpers = s[0]["helpers"].as_array().expect("helpers");
    let h = helpers
        .iter()
        .find(|h| h["pid"] == side.pid())
        .unwrap_or_else(|| panic!("sidecar {} not a helper: {:#}", side.pid(), s[0]));
    assert!(
        h["role"]
            .as_str()
            .is_some_and(|r| r.contains("same container docker")),
        "{h:#}"
    );
    let idx = socket_on(&snap, s[0], port);
    assert!(!idx.is_null(), "sidecar port not attributed: {:#}", s[0]);
    let sock = socket(&snap, &idx);
    assert_eq!(sock["owner"]["pids"][0], side.pid(), "{sock:#}");
}
