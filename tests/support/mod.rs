//! Shared test harness: real processes, real namespaces, real terminals.
//! Everything started here is stopped by a guard's Drop, even when a test fails.
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_aiposture")
}

fn cache_default(rel: &str) -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    base.join("aiposture-test").join(rel)
}

/// A test dependency installed by `scripts/test-deps.sh`; a missing one fails
/// the test loudly rather than skipping it.
fn dep(var: &str, default_rel: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_default(default_rel));
    assert!(
        p.exists(),
        "{} not found ({var}); run `bash scripts/test.sh`, which installs the test dependencies",
        p.display()
    );
    p
}

pub fn llama_server_bin() -> PathBuf {
    dep("AIPOSTURE_LLAMA_SERVER", "bin/llama-server")
}

pub fn tiny_gguf() -> PathBuf {
    dep("AIPOSTURE_TINY_GGUF", "models/tiny-llama.gguf")
}

/// Python with transformers, huggingface_hub and setuptools (tests/lineage.rs).
pub fn lineage_python() -> PathBuf {
    dep("AIPOSTURE_LINEAGE_PYTHON", "venv-lineage/bin/python")
}

pub fn python() -> PathBuf {
    dep("AIPOSTURE_PYTHON", "venv/bin/python")
}

/// The interpreter of the Gradio venv (its own: Gradio's dependency tree is large).
pub fn gradio_python() -> PathBuf {
    dep("AIPOSTURE_GRADIO_PYTHON", "venv-gradio/bin/python")
}

/// The interpreter of the MCP venv (the official Python SDK, `mcp`).
pub fn mcp_python() -> PathBuf {
    dep("AIPOSTURE_MCP_PYTHON", "venv-mcp/bin/python")
}

pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

pub fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// A child process killed (and reaped) on drop.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // A script started as its own process group takes the processes it
        // started with it (a kernel, a service beside an app); for any other
        // child there is no such group and this does nothing.
        // SAFETY: kill(2) on the group this test's child leads, if it leads one.
        unsafe { libc::kill(-(self.child.id() as i32), libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A network namespace with only `lo` (up), deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Netns {
        let name = unique("aipt");
        run_ok(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        run_ok(Command::new("ip").args(["-n", &ns.name, "link", "set", "lo", "up"]));
        ns
    }

    /// A command that runs `program` inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Can a process in this namespace open a TCP connection to addr:port?
    pub fn reaches(&self, addr: &str, port: u16) -> bool {
        self.command("timeout")
            .args([
                "2",
                "bash",
                "-c",
                &format!("exec 3<>/dev/tcp/{addr}/{port}"),
            ])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// `ip -s link` of the namespace: every interface and its counters.
    pub fn links(&self) -> String {
        let out = run_ok(Command::new("ip").args(["-n", &self.name, "-s", "-o", "link"]));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Start llama-server with the tiny GGUF. `cmd` lets the caller wrap it (netns,
/// another user); `args` are extra server flags.
pub fn start_llama(cmd: Command, args: &[&str], envs: &[(&str, &str)]) -> Proc {
    start_llama_with(cmd, &tiny_gguf(), args, envs)
}

/// As `start_llama`, serving the GGUF at `model`.
pub fn start_llama_with(
    mut cmd: Command,
    model: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Proc {
    let log = std::env::temp_dir().join(format!("{}.log", unique("llama")));
    let logf = std::fs::File::create(&log).expect("log file");
    cmd.env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("HOME", "/tmp")
        .envs(envs.iter().copied())
        .arg("-m")
        .arg(model)
        .args(["-c", "256", "-t", "1", "--no-warmup"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("dup"))
        .stderr(logf);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let p = Proc { child, log };
    let name = model.as_os_str().as_encoded_bytes();
    let pid = p.pid();
    // The model is mapped once loading finished: the state the tests assert on.
    // Bytes, not text: the kernel prints a mapped name as it is on disk.
    wait_until(
        "llama-server to map its model",
        Duration::from_secs(60),
        || {
            std::fs::read(format!("/proc/{pid}/maps"))
                .is_ok_and(|m| m.windows(name.len()).any(|w| w == name))
        },
    );
    p
}

/// `aiposture snapshot` as JSON, asserting success.
pub fn snapshot(extra: &[&str]) -> Value {
    let out = run_ok(Command::new(bin()).arg("snapshot").args(extra));
    serde_json::from_slice(&out.stdout).expect("snapshot is JSON")
}

pub fn servers_with_pid(snap: &Value, pid: u32) -> Vec<&Value> {
    snap["inventory"]["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .filter(|s| s["pid"] == pid)
        .collect()
}

pub fn socket(snap: &Value, idx: &Value) -> Value {
    let i = idx.as_u64().expect("socket index") as usize;
    snap["inventory"]["sockets"][i].clone()
}

/// A tmux server of its own (own socket name) running one command in a pane
/// of a fixed size; killed on drop.
pub struct Tmux {
    pub socket: String,
    /// Every byte the pane's program wrote, as tmux's pipe-pane copies it.
    pub output: PathBuf,
}

impl Tmux {
    pub fn start(cols: u16, rows: u16, command: &str) -> Tmux {
        let t = Tmux {
            socket: unique("aipt-tmux"),
            output: temp_path("aipt-tmux-out"),
        };
        // A placeholder first, so remain-on-exit is set before the real command
        // runs: a command that exits at once still leaves its pane to inspect.
        run_ok(Command::new("tmux").args([
            "-L",
            &t.socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            "sleep 600",
        ]));
        run_ok(Command::new("tmux").args([
            "-L",
            &t.socket,
            "set-option",
            "-g",
            "remain-on-exit",
            "on",
        ]));
        run_ok(Command::new("tmux").args([
            "-L",
            &t.socket,
            "pipe-pane",
            "-o",
            &format!("cat > {}", t.output.display()),
        ]));
        run_ok(Command::new("tmux").args(["-L", &t.socket, "respawn-pane", "-k", command]));
        t
    }

    /// What the program wrote to its terminal so far.
    pub fn written(&self) -> Vec<u8> {
        std::fs::read(&self.output).unwrap_or_default()
    }

    pub fn capture(&self) -> String {
        let out = Command::new("tmux")
            // With history: tmux scrolls the screen when it reports a dead pane.
            .args(["-L", &self.socket, "capture-pane", "-p", "-J", "-S", "-500"])
            .output()
            .expect("capture");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        run_ok(
            Command::new("tmux")
                .args(["-L", &self.socket, "send-keys"])
                .args(keys),
        );
    }

    pub fn format(&self, fmt: &str) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "display-message", "-p", fmt])
            .output()
            .expect("display");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let mut last = String::new();
        let start = Instant::now();
        while start.elapsed() < timeout {
            last = self.capture();
            if last.contains(text) {
                return last;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("timed out waiting for {text:?} on screen; last screen:\n{last}");
    }

    pub fn pane_pid(&self) -> u32 {
        self.format("#{pane_pid}").parse().expect("pane pid")
    }

    pub fn pane_dead(&self) -> bool {
        self.format("#{pane_dead}") == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
        let _ = std::fs::remove_file(&self.output);
    }
}

pub fn temp_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(unique(name))
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// The binary where any user can run it: a clone under a private directory
/// (mktemp -d is 0700) is not reachable for `nobody`. One copy per build,
/// shared by every test binary and run (named by the build's size and
/// mtime); copies of older builds are removed, so runs do not fill /tmp.
pub fn bin_for_others() -> PathBuf {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| {
        let dir = std::env::temp_dir().join("aiposture-test-bin");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod dir");
        let md = std::fs::metadata(bin()).expect("stat binary");
        let name = format!("aiposture-{}-{}.{}", md.size(), md.mtime(), md.mtime_nsec());
        let dst = dir.join(&name);
        if !dst.exists() {
            for old in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                // Another test binary may be running an older build's copy: unlinking
                // leaves its open file alone.
                let _ = std::fs::remove_file(old.path());
            }
            let tmp = dir.join(unique(".copy"));
            std::fs::copy(bin(), &tmp).expect("copy binary");
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            std::fs::rename(&tmp, &dst).expect("rename copy");
        }
        dst
    })
    .clone()
}

/// Two namespaces joined by a veth pair on a private /24: a server side and a
/// client side, like two machines on a LAN. Deleted on drop.
pub struct VethPair {
    pub server: Netns,
    pub client: Netns,
    pub server_addr: String,
    pub client_addr: String,
}

impl VethPair {
    pub fn new() -> VethPair {
        let server = Netns::new();
        let client = Netns::new();
        // Distinct /24 per pair so parallel tests never share a subnet.
        let n = COUNTER.fetch_add(1, Ordering::SeqCst) % 200 + 20;
        let (sa, ca) = (format!("10.77.{n}.1"), format!("10.77.{n}.2"));
        let (a, b) = (unique("va"), unique("vb"));
        // Interface names are limited to 15 bytes.
        let (a, b) = (
            a[a.len().saturating_sub(15)..].to_string(),
            b[b.len().saturating_sub(15)..].to_string(),
        );
        run_ok(Command::new("ip").args(["link", "add", &a, "type", "veth", "peer", "name", &b]));
        run_ok(Command::new("ip").args(["link", "set", &a, "netns", &server.name]));
        run_ok(Command::new("ip").args(["link", "set", &b, "netns", &client.name]));
        for (ns, dev, addr) in [(&server, &a, &sa), (&client, &b, &ca)] {
            run_ok(Command::new("ip").args([
                "-n",
                &ns.name,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                dev,
            ]));
            run_ok(Command::new("ip").args(["-n", &ns.name, "link", "set", dev, "up"]));
        }
        VethPair {
            server,
            client,
            server_addr: sa,
            client_addr: ca,
        }
    }

    /// Can the client side open a TCP connection to addr:port? (A real connect.)
    pub fn client_reaches(&self, addr: &str, port: u16) -> bool {
        self.client.reaches(addr, port)
    }
}

/// Every connect/send* in an strace log must go to loopback or to the kernel
/// (netlink: the sock_diag socket tables). connect() is judged by the address it
/// names; send*() on a netlink socket (strace decodes its payload, which mentions
/// AF_INET) or on a connected socket (no address: its connect was judged) passes.
/// A public IP, a resolver or nscd fails.
pub fn assert_only_loopback(trace: &str) {
    use std::collections::HashMap;
    let mut family: HashMap<String, String> = HashMap::new();
    let mut pending: HashMap<String, String> = HashMap::new();
    for line in trace.lines() {
        let (pid, call) = line.split_once(' ').unwrap_or(("", line));
        if let Some(args) = call.strip_prefix("socket(") {
            let fam = args.split(',').next().unwrap_or("").to_string();
            match call.rsplit_once(" = ") {
                Some((_, fd)) if !call.contains("<unfinished") => {
                    family.insert(fd.trim().to_string(), fam);
                }
                _ => {
                    pending.insert(pid.to_string(), fam);
                }
            }
            continue;
        }
        if call.starts_with("<... socket resumed>") {
            if let (Some(fam), Some((_, fd))) = (pending.remove(pid), call.rsplit_once(" = ")) {
                family.insert(fd.trim().to_string(), fam);
            }
            continue;
        }
        let Some((name, args)) = call.split_once('(') else {
            continue;
        };
        let ok = match name {
            "connect" => {
                if args.contains("sa_family=AF_INET6") {
                    args.contains("\"::1\"")
                } else if args.contains("sa_family=AF_INET") {
                    args.contains("inet_addr(\"127.")
                } else if args.contains("sa_family=AF_UNIX") {
                    !args.contains("nscd") && !args.contains("resolve")
                } else {
                    args.contains("sa_family=AF_NETLINK")
                }
            }
            "sendto" | "sendmsg" | "sendmmsg" => {
                let fd = args.split(',').next().unwrap_or("").trim();
                family.get(fd).is_some_and(|f| f == "AF_NETLINK")
                    || args.trim_end().ends_with("NULL, 0)")
                    || (!args.contains("sin_addr=")
                        && !args.contains("sin6_addr=")
                        && !args.contains("sun_path="))
            }
            _ => continue,
        };
        assert!(
            ok,
            "network call outside loopback: {line}\nfull trace:\n{trace}"
        );
    }
}

/// A file holding a random API key, for `--api-key-file` (an empty file means
/// no key at all to llama.cpp).
pub fn key_file() -> PathBuf {
    static FILE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        let p = temp_path("api-key");
        let key = format!("test-key-{:x}", std::process::id() as u64 * 2654435761);
        std::fs::write(&p, key).expect("key file");
        p
    })
    .clone()
}

/// `aiposture snapshot` run as `nobody` (uid 65534, no capabilities).
pub fn snapshot_as_nobody() -> Value {
    let out = run_ok(
        Command::new("setpriv")
            .args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
            ])
            .env("HOME", "/tmp")
            .arg(bin_for_others())
            .arg("snapshot"),
    );
    serde_json::from_slice(&out.stdout).expect("snapshot is JSON")
}

/// The exposure verdict of the socket at index `idx` (Null when none).
pub fn exposure_of(snap: &Value, idx: &Value) -> Value {
    snap["exposures"]
        .as_array()
        .expect("exposures")
        .iter()
        .find(|e| &e["socket"] == idx)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Index of `server`'s socket on local `port` (Null when none).
pub fn socket_on(snap: &Value, server: &Value, port: u16) -> Value {
    server["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .find(|i| socket(snap, i)["local"]["port"] == port)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Copy `from` to `path`, creating its directories.
pub fn put(path: &Path, from: &Path) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::copy(from, path).expect("copy");
}

/// Write `bytes` to `path`, creating its directories.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// A process started in its own process group; the whole group is killed (and
/// the leader reaped) on drop, so forked workers never outlive a test.
pub struct Group(pub Child);

impl Drop for Group {
    fn drop(&mut self) {
        // Children that left the group (BentoML's workers call setsid) are still
        // the leader's descendants: found first, killed with it.
        let strays = descendants(self.0.id());
        // SAFETY: kill(2) on the process group this test created and on
        // processes it started.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        for pid in strays {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
        let _ = self.0.wait();
    }
}

/// Every process below `root`, by parent pid in /proc.
pub fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut out = Vec::new();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == p && !out.contains(&pid) {
                out.push(pid);
                frontier.push(pid);
            }
        }
    }
    out
}

/// A value unique to this run, to prove a secret never reaches an output.
pub fn canary(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{tag}-{nanos:x}{:x}", std::process::id())
}

/// A tmpfs mounted at an existing directory for one test, unmounted on drop.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(at: &Path, size: &str) -> Tmpfs {
        run_ok(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(at),
        );
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The one-line text of an evidence source as exported in JSON (the typed
/// object of schema 2), as every text output shows it.
pub fn source_text(v: &Value) -> String {
    serde_json::from_value::<aiposture::model::Source>(v.clone())
        .map(|s| s.to_string())
        .unwrap_or_else(|e| panic!("not a source ({e}): {v}"))
}

/// Every blind spot of a snapshot as one line of text (what, where as every
/// text output shows it, reason, consequence), for `contains` checks.
pub fn blind_spots_text(snap: &Value) -> String {
    snap["inventory"]["blind_spots"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            format!(
                "{} | {} | {} | {}",
                b["what"].as_str().unwrap_or(""),
                source_text(&b["path"]),
                b["reason"].as_str().unwrap_or(""),
                b["consequence"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A finding's evidence as the text outputs show it: `source — detail` lines.
pub fn evidence_text(finding: &Value) -> String {
    finding["evidence"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            format!(
                "{} — {}",
                source_text(&e["source"]),
                e["detail"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Status code of a GET of `url` made from inside `ns`, as curl measures it
/// ("000": no answer), with an optional extra header.
pub fn http_status(ns: &Netns, url: &str, header: Option<&str>) -> String {
    let mut c = ns.command("curl");
    c.args([
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "3",
    ]);
    if let Some(h) = header {
        c.args(["-H", h]);
    }
    let out = c.arg(url).output().expect("run curl");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `python script args…` started from `dir` (its cwd and HOME) inside `ns`, with
/// an empty environment but PATH, HOME and `envs`, its output in a log file.
pub fn start_script(
    ns: &Netns,
    python: &Path,
    dir: &Path,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Proc {
    let log = temp_path("script.log");
    let logf = std::fs::File::create(&log).expect("log file");
    let mut cmd = ns.command(python);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("dup"))
        .stderr(logf)
        .process_group(0);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    Proc { child, log }
}

/// The probe verdicts of one socket (an index into the inventory's sockets).
pub fn verdicts_on<'a>(snap: &'a Value, idx: &Value) -> Vec<&'a Value> {
    snap["probe_verdicts"]
        .as_array()
        .expect("probe_verdicts")
        .iter()
        .filter(|v| &v["socket"] == idx)
        .collect()
}

/// Findings of `rule` about process `pid`.
pub fn findings_about<'a>(snap: &'a Value, rule: &str, pid: u32) -> Vec<&'a Value> {
    snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == rule && f["subject"]["pid"] == pid)
        .collect()
}

/// `aiposture scan --format json` over `paths`: the document, and each file
/// by its file name → (verdict, the file's JSON).
pub fn scan_verdicts(
    paths: &[&Path],
) -> (Value, std::collections::BTreeMap<String, (String, Value)>) {
    let out = Command::new(bin())
        .args(["scan", "--format", "json"])
        .args(paths)
        .output()
        .expect("run scan");
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("scan json: {e}\n{}", String::from_utf8_lossy(&out.stderr)));
    let by_name = verdicts_by_name(&doc);
    (doc, by_name)
}

/// The files of a scan document by file name → (verdict, the file's JSON).
pub fn verdicts_by_name(doc: &Value) -> std::collections::BTreeMap<String, (String, Value)> {
    doc["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let name = f["path"]
                .as_str()
                .unwrap_or_default()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string();
            let verdict = f["verdict"].as_str().unwrap_or_default().to_string();
            (name, (verdict, f.clone()))
        })
        .collect()
}

/// A Python script run with `python` and `args`, which must succeed.
pub fn python_ok(python: &Path, args: &[&std::ffi::OsStr]) -> Output {
    let out = Command::new(python)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{}: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A passive snapshot with `root` as the one configured model root, `home`
/// as HOME (config and state under it).
pub fn snapshot_of_model_root(home: &Path, root: &Path) -> Value {
    let config = home.join("config");
    write(
        &config.join("aiposture/config.toml"),
        format!("[models]\nroots = [\"{}\"]\n", root.display()),
    );
    let out = run_ok(
        Command::new(bin())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", &config)
            .env("XDG_STATE_HOME", home.join("state"))
            .args(["--passive", "snapshot"]),
    );
    serde_json::from_slice(&out.stdout).expect("snapshot json")
}

pub struct ScanRun {
    pub code: i32,
    pub max_rss_kib: i64,
    pub doc: Value,
    pub stderr: String,
}

/// `aiposture scan --format json DIR`, waited for with wait4 to get the
/// child's own peak RSS (not this test process's); std's wait would reap it first.
#[allow(clippy::zombie_processes)]
pub fn scan_measured(dir: &Path) -> ScanRun {
    let out_path = dir.with_extension("json");
    let err_path = dir.with_extension("err");
    let child = Command::new(bin())
        .args(["scan", "--format", "json"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("spawn aiposture");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(
        libc::WIFEXITED(status),
        "aiposture scan died (signal {}): {stderr}",
        libc::WTERMSIG(status)
    );
    let text = std::fs::read_to_string(&out_path).expect("scan output");
    let doc = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("scan output is not JSON ({e}): {stderr}"));
    ScanRun {
        code: libc::WEXITSTATUS(status),
        max_rss_kib: usage.ru_maxrss,
        doc,
        stderr,
    }
}
