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
    let mut c = ns.command("curl");
    c.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "2",
    ]);
    if let Some(h) = header {
        c.args(["-H", h]);
    }
    let out = c
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
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
