//! A real Jupyter Server (PyPI `jupyter_server`, installed by scripts/test-deps.sh)
//! with and without its token, inside a namespace that holds only `lo`: what the
//! tool says about auth must match what an unauthenticated client measures.
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

/// A process group this test created, killed (and its leader reaped) on drop.
struct Group {
    child: Child,
    log: PathBuf,
}

impl Group {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this test created.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// A token nobody could guess or find elsewhere on the host.
fn canary() -> String {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("urandom");
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("jupytercanary{hex}")
}

/// `jupyter-server` of the test venv; a missing one fails loudly.
fn jupyter_server_bin() -> PathBuf {
    let p = python().with_file_name("jupyter-server");
    assert!(
        p.exists(),
        "{} not found: the test venv lacks jupyter_server; run `bash scripts/test.sh` \
         (or scripts/test-deps.sh), which installs it",
        p.display()
    );
    p
}

/// The jupyter_server version installed in the test venv, as Python reports it.
fn installed_version() -> String {
    let out = run_ok(Command::new(python()).args([
        "-c",
        "import importlib.metadata as m; print(m.version('jupyter_server'))",
    ]));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Start `cmd` (already wrapped in the namespace) with a scratch HOME and Jupyter
/// dirs under `dir/name`, so nothing of the user's is read or written.
fn start(mut cmd: Command, dir: &Path, name: &str, port: u16, token_arg: &str) -> Group {
    let home = dir.join(name);
    let root = home.join("notebooks");
    std::fs::create_dir_all(&root).expect("mkdir");
    let log = dir.join(format!("{name}.log"));
    let logf = std::fs::File::create(&log).expect("log file");
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", &home)
        .env("JUPYTER_CONFIG_DIR", home.join(".jupyter"))
        .env("JUPYTER_DATA_DIR", home.join(".local/share/jupyter"))
        .env("JUPYTER_RUNTIME_DIR", home.join("runtime"))
        .env("IPYTHONDIR", home.join(".ipython"))
        .env("PYTHONNOUSERSITE", "1")
        .args(["--allow-root", "--no-browser", "--ip=0.0.0.0"])
        .arg(format!("--port={port}"))
        .arg("--ServerApp.port_retries=0")
        .arg(format!("--ServerApp.root_dir={}", root.display()))
        .arg(token_arg)
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("dup"))
        .stderr(logf)
        .process_group(0);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    Group { child, log }
}

/// Status code of a GET from inside the namespace, as curl measures it ("000": no answer).
fn curl_status(ns: &Netns, port: u16, path: &str, header: Option<&str>) -> String {
    http_status(ns, &format!("http://127.0.0.1:{port}{path}"), header)
}

fn wait_for_api(ns: &Netns, g: &mut Group, port: u16) {
    let start = Instant::now();
    loop {
        if curl_status(ns, port, "/api", None) == "200" {
            return;
        }
        if let Ok(Some(st)) = g.child.try_wait() {
            panic!(
                "jupyter on {port} exited ({st}) before answering:\n{}",
                read(&g.log)
            );
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "jupyter on {port} did not answer /api with 200 within 30 s:\n{}",
            read(&g.log)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn verdict_of(snap: &Value, pid: u32) -> Value {
    let v: Vec<&Value> = snap["probe_verdicts"]
        .as_array()
        .expect("probe_verdicts")
        .iter()
        .filter(|v| v["pid"] == pid)
        .collect();
    assert_eq!(v.len(), 1, "one probed listener for pid {pid}: {v:#?}");
    v[0].clone()
}

fn unauth_findings(snap: &Value, pid: u32) -> Vec<Value> {
    snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "exposure.unauthenticated-listener" && f["subject"]["pid"] == pid)
        .cloned()
        .collect()
}

/// The verdict the tool should reach from what an unauthenticated GET of the
/// fingerprint's auth path measured.
fn expected_auth(measured: &str) -> &'static str {
    match measured {
        "200" => "answers_without_credentials",
        "401" | "403" => "demands_auth",
        other => panic!("unexpected /api/status answer {other}"),
    }
}

#[test]
fn jupyter_server_token_and_no_token_are_told_apart_and_the_token_never_leaks() {
    let python = python();
    let server_bin = jupyter_server_bin();
    let version = installed_version();
    let ns = Netns::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let token = canary();
    // jupyter_server 2.x: ServerApp.token is deprecated in favour of IdentityProvider.token.
    let token_flag = "--IdentityProvider.token";
    let (pa, pb) = (8888, 8889);

    // (a) default token auth, with our own token; started as the console script.
    let mut a = start(
        ns.command(&server_bin),
        dir.path(),
        "token",
        pa,
        &format!("{token_flag}={token}"),
    );
    // (b) an empty token: no auth at all; started as `python -m jupyter_server`.
    let mut b_cmd = ns.command(&python);
    b_cmd.args(["-m", "jupyter_server"]);
    let mut b = start(b_cmd, dir.path(), "notoken", pb, &format!("{token_flag}="));
    wait_for_api(&ns, &mut a, pa);
    wait_for_api(&ns, &mut b, pb);

    let snap = snapshot(&[]);
    let text = snap.to_string();

    for (g, port) in [(&a, pa), (&b, pb)] {
        let s = servers_with_pid(&snap, g.pid());
        assert_eq!(
            s.len(),
            1,
            "jupyter pid {} not reported once: {snap:#}",
            g.pid()
        );
        assert_eq!(s[0]["product_id"], "jupyter", "{:#}", s[0]);
        let listens = s[0]["sockets"]
            .as_array()
            .expect("sockets")
            .iter()
            .map(|i| socket(&snap, i))
            .any(|k| k["state"] == "listen" && k["local"]["port"] == port);
        assert!(listens, "listener on {port} not joined: {:#}", s[0]);
        let v = verdict_of(&snap, g.pid());
        assert_eq!(v["identity"], "confirmed", "{v:#}");
        assert_eq!(v["version"], version.as_str(), "{v:#}");
    }

    // The tool's verdicts, against what a client without credentials gets.
    let va = verdict_of(&snap, a.pid());
    let vb = verdict_of(&snap, b.pid());
    assert_eq!(va["auth"], "demands_auth", "{va:#}");
    assert_eq!(vb["auth"], "answers_without_credentials", "{vb:#}");
    let (ma, mb) = (
        curl_status(&ns, pa, "/api/status", None),
        curl_status(&ns, pb, "/api/status", None),
    );
    assert_eq!(ma, "403", "token server measured");
    assert_eq!(mb, "200", "no-token server measured");
    assert_eq!(va["auth"], expected_auth(&ma), "{va:#}");
    assert_eq!(vb["auth"], expected_auth(&mb), "{vb:#}");
    // The 403 is the token's doing: with it, the same request is answered.
    assert_eq!(
        curl_status(
            &ns,
            pa,
            "/api/status",
            Some(&format!("Authorization: token {token}"))
        ),
        "200"
    );

    // Findings: the open one is flagged, the one with a token is not.
    let fb = unauth_findings(&snap, b.pid());
    assert_eq!(fb.len(), 1, "{fb:#?}");
    assert_eq!(fb[0]["subject"]["listener"], format!("0.0.0.0:{pb}/tcp"));
    let fa = unauth_findings(&snap, a.pid());
    assert!(fa.is_empty(), "token server flagged: {fa:#?}");

    // The token: nowhere in the document; its flag is, with the value redacted.
    assert!(
        !text.contains(&token),
        "canary token leaked into the snapshot"
    );
    let sa = servers_with_pid(&snap, a.pid());
    let redacted = format!("{token_flag}=<redacted>");
    assert!(
        sa[0]["cmdline"]
            .as_array()
            .expect("cmdline")
            .iter()
            .any(|x| x == redacted.as_str()),
        "{:#}",
        sa[0]["cmdline"]
    );
    assert!(text.contains(token_flag));

    // Jupyter kept its state in the scratch dirs it was given, and its namespace
    // holds only lo: nothing it might send could leave.
    for (g, name) in [(&a, "token"), (&b, "notoken")] {
        let rt = dir.path().join(name).join("runtime");
        let info = rt.join(format!("jpserver-{}.json", g.pid()));
        assert!(
            info.exists(),
            "{} missing: {:?}",
            info.display(),
            std::fs::read_dir(&rt).map(|d| d.count())
        );
    }
    let links = ns.links();
    assert_eq!(links.lines().count(), 1, "{links}");
}

/// Listening ports of the process whose argv contains `needle`, a descendant of `root`.
fn descendant_with(root: u32, needle: &str) -> Option<u32> {
    let children = |pid: u32| -> Vec<u32> {
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    };
    let mut todo = vec![root];
    while let Some(p) = todo.pop() {
        for c in children(p) {
            let argv = std::fs::read(format!("/proc/{c}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&argv).contains(needle) {
                return Some(c);
            }
            todo.push(c);
        }
    }
    None
}

/// A kernel a Jupyter server starts is a process of its own with five ZeroMQ
/// ports. Bound to every interface (`KernelManager.ip=0.0.0.0`), they are
/// reachable from the LAN although the server's HTTP port demands its token:
/// the tool attributes them to the server, as a kernel, and judges each port on
/// its own instead of letting the server's token speak for it.
#[test]
fn a_kernel_the_server_starts_is_part_of_it_and_judged_per_port() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let token = canary();
    let port = 8890;
    let mut cmd = pair.server.command(jupyter_server_bin());
    cmd.arg("--KernelManager.ip=0.0.0.0");
    let mut g = start(
        cmd,
        dir.path(),
        "kernels",
        port,
        &format!("--IdentityProvider.token={token}"),
    );
    wait_for_api(&pair.server, &mut g, port);

    // Start a kernel as any client of the server would (with the token).
    let out = run_ok(pair.server.command("curl").args([
        "-s",
        "--max-time",
        "20",
        "-X",
        "POST",
        "-H",
        &format!("Authorization: token {token}"),
        "-d",
        "{}",
        &format!("http://127.0.0.1:{port}/api/kernels"),
    ]));
    let kernel: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("POST /api/kernels: {e}: {:?}\n{}", out, read(&g.log)));
    assert!(kernel["id"].is_string(), "{kernel:#}");
    let mut kpid = None;
    wait_until("the kernel process", Duration::from_secs(30), || {
        kpid = descendant_with(g.pid(), "ipykernel_launcher");
        kpid.is_some()
    });
    let kpid = kpid.expect("kernel pid");
    // Its five ports listen on every interface (read from the connection file
    // the server wrote for it).
    let conn_file = std::fs::read_dir(dir.path().join("kernels/runtime"))
        .expect("runtime dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("kernel-"))
        })
        .expect("a kernel connection file");
    let conn: Value = serde_json::from_str(&read(&conn_file)).expect("connection json");
    assert_eq!(conn["ip"], "0.0.0.0", "{conn:#}");
    let kports: Vec<u16> = [
        "shell_port",
        "iopub_port",
        "stdin_port",
        "control_port",
        "hb_port",
    ]
    .iter()
    .map(|k| conn[*k].as_u64().expect("port") as u16)
    .collect();
    wait_until("the kernel's ports", Duration::from_secs(30), || {
        kports
            .iter()
            .all(|p| pair.client_reaches(&pair.server_addr, *p))
    });

    let snap = snapshot(&[]);
    let s = servers_with_pid(&snap, g.pid());
    assert_eq!(s.len(), 1, "{snap:#}");
    let helpers = s[0]["helpers"].as_array().expect("helpers");
    let h = helpers
        .iter()
        .find(|h| h["pid"] == kpid)
        .unwrap_or_else(|| panic!("kernel {kpid} not a helper of the server: {:#}", s[0]));
    assert!(
        h["role"].as_str().is_some_and(|r| r.starts_with("kernel")),
        "{h:#}"
    );
    // Secrets by meaning, on real command lines: the server's token flag is one
    // (redacted), the kernel's connection-file path is none (kept as it is).
    assert_eq!(
        s[0]["secret_flags"],
        serde_json::json!(["--IdentityProvider.token"]),
        "{:#}",
        s[0]
    );
    let kernel_argv = h["cmdline"].to_string();
    assert!(
        kernel_argv.contains("kernel-") && !kernel_argv.contains("<redacted>"),
        "{kernel_argv}"
    );
    let findings = unauth_findings(&snap, g.pid());
    for p in &kports {
        // Attributed, with its own exposure: the LAN reaches it, as measured.
        let idx = socket_on(&snap, s[0], *p);
        let sock = socket(&snap, &idx);
        assert_eq!(sock["owner"]["pids"][0], kpid, "{sock:#}");
        assert_eq!(exposure_of(&snap, &idx)["reach"], "lan");
        assert!(pair.client_reaches(&pair.server_addr, *p));
        // And a finding of its own: the server's token does not cover it.
        let f = findings
            .iter()
            .find(|f| f["subject"]["listener"] == format!("0.0.0.0:{p}/tcp"))
            .unwrap_or_else(|| panic!("no finding for kernel port {p}: {findings:#?}"));
        assert!(
            f["title"].as_str().is_some_and(|t| t.contains("kernel")
                && t.contains(&format!("pid {kpid}"))
                && t.contains("reachable from the LAN")),
            "{f:#}"
        );
    }
    // The server's own port demands the token and is not flagged.
    assert_eq!(curl_status(&pair.server, port, "/api/status", None), "403");
    assert!(
        !findings
            .iter()
            .any(|f| f["subject"]["listener"] == format!("0.0.0.0:{port}/tcp")),
        "{findings:#?}"
    );
    assert!(!snap.to_string().contains(&token), "token leaked");
}
