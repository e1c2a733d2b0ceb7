//! `aiposture fleet`: each host's own aiposture, run through the system `ssh`
//! client. This is the one place aiposture starts a program, and only because
//! the user asked for it by name: the user's ssh config, agent and known_hosts
//! decide how to connect; aiposture adds BatchMode (never a prompt), a connect
//! timeout, and what the user passed with `--ssh-config` / `--ssh-option`.
//! Nothing secret goes on a command line: there is nothing secret to pass.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use crate::model::fleet::{
    FLEET_SCHEMA_VERSION, FailStage, FleetHost, FleetReport, HostState, HostSummary,
};

pub use crate::model::fleet::{DEFAULT_JOBS, DEFAULT_REMOTE_COMMAND, check_ssh_option};
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// A real snapshot is a few MiB; more than this is not one.
pub const MAX_STDOUT: usize = 64 * 1024 * 1024;
/// The end of ssh's standard error kept for the error row.
pub const STDERR_TAIL: usize = 4096;
/// How often a running `ssh` is checked for exit or timeout.
const POLL: Duration = Duration::from_millis(20);

/// One host as given, and how `ssh` is told to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub given: String,
    /// `[user@]host` (an ssh_config alias stays as written).
    pub destination: String,
    pub port: Option<u16>,
}

/// `[user@]host[:port]`, `[user@][v6addr]:port`, a bare IPv6 address or an alias.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let given = s.trim();
    if given.is_empty() {
        return Err("empty host".into());
    }
    // A leading '-' would be read by ssh as an option.
    if given.starts_with('-') || given.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{given:?}: not a host (no leading '-', no spaces)"));
    }
    let (user, rest) = match given.rsplit_once('@') {
        Some((u, r)) if !u.is_empty() && !r.is_empty() => (Some(u), r),
        Some(_) => return Err(format!("{given:?}: empty user or host around '@'")),
        None => (None, given),
    };
    let port_of = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("{given:?}: port {p:?} is not 1-65535"))
    };
    let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
        let (h, after) = inner
            .split_once(']')
            .ok_or_else(|| format!("{given:?}: missing ']'"))?;
        match after {
            "" => (h, None),
            a => match a.strip_prefix(':') {
                Some(p) => (h, Some(port_of(p)?)),
                None => return Err(format!("{given:?}: expected ':PORT' after ']'")),
            },
        }
    } else if rest.matches(':').count() == 1 {
        let (h, p) = rest.split_once(':').unwrap_or((rest, ""));
        (h, Some(port_of(p)?))
    } else {
        // No colon, or a bare IPv6 address (several colons, no port).
        (rest, None)
    };
    if host.is_empty() {
        return Err(format!("{given:?}: empty host"));
    }
    Ok(Target {
        given: given.to_string(),
        destination: match user {
            Some(u) => format!("{u}@{host}"),
            None => host.to_string(),
        },
        port,
    })
}

/// Hosts of a hosts file: one per line; `#` starts a comment; blank lines skipped.
pub fn parse_hosts_file(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_once('#').map_or(l, |(before, _)| before).trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Run on each host after `--`, as one argument (the remote shell splits it).
    pub remote_command: String,
    pub jobs: usize,
    pub timeout: Duration,
    /// `ssh -F FILE`; `None`: the user's own ~/.ssh/config and /etc/ssh/ssh_config.
    pub ssh_config: Option<PathBuf>,
    /// Each becomes `ssh -o KEY=VALUE`.
    pub ssh_options: Vec<String>,
    /// The ssh client; `ssh` from PATH unless told otherwise.
    pub ssh_program: PathBuf,
    /// Write each host's snapshot here (atomically), as received.
    pub keep_dir: Option<PathBuf>,
}

impl Default for FleetOptions {
    fn default() -> Self {
        FleetOptions {
            remote_command: DEFAULT_REMOTE_COMMAND.into(),
            jobs: DEFAULT_JOBS,
            timeout: DEFAULT_TIMEOUT,
            ssh_config: None,
            ssh_options: Vec::new(),
            ssh_program: PathBuf::from("ssh"),
            keep_dir: None,
        }
    }
}

/// ssh's own connect timeout: half the per-host budget, 1–30 s, so that an
/// unreachable host is reported as `connect` rather than `timeout`.
pub fn connect_timeout(timeout: Duration) -> u64 {
    (timeout.as_secs() / 2).clamp(1, 30)
}

/// The exact argv given to ssh (without the program itself).
pub fn ssh_args(target: &Target, opts: &FleetOptions) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    if let Some(f) = &opts.ssh_config {
        a.push("-F".into());
        a.push(f.to_string_lossy().into_owned());
    }
    // Options given first win in ssh; the user's explicit ones come before ours.
    for o in &opts.ssh_options {
        a.push("-o".into());
        a.push(o.clone());
    }
    a.extend(
        [
            "-o",
            "BatchMode=yes",
            "-o",
            &format!("ConnectTimeout={}", connect_timeout(opts.timeout)),
            "-T",
        ]
        .map(String::from),
    );
    if let Some(p) = target.port {
        a.push("-p".into());
        a.push(p.to_string());
    }
    // After `--` neither the destination nor the command is read as an option.
    a.push("--".into());
    a.push(target.destination.clone());
    a.push(opts.remote_command.clone());
    a
}

/// Reach every target, at most `opts.jobs` at a time; `on_host` is told of each
/// row as it completes (index into `targets`). Rows keep the order given.
/// What a run in the background reports: each host as it answers, then the report.
pub enum Msg {
    Host(usize, Box<FleetHost>),
    Done(FleetReport),
}

/// Runs the fleet on a thread of its own; hosts and the report arrive on `tx`
/// (the fleet view fills in as hosts answer).
pub fn spawn_run(
    targets: &[Target],
    opts: &FleetOptions,
    tx: &tokio::sync::mpsc::UnboundedSender<Msg>,
) {
    let (targets, opts, tx) = (targets.to_vec(), opts.clone(), tx.clone());
    std::thread::spawn(move || {
        let report = run_fleet(&targets, &opts, &|i, h| {
            let _ = tx.send(Msg::Host(i, Box::new(h.clone())));
        });
        let _ = tx.send(Msg::Done(report));
    });
}

pub fn run_fleet(
    targets: &[Target],
    opts: &FleetOptions,
    on_host: &(dyn Fn(usize, &FleetHost) + Sync),
) -> FleetReport {
    let started = Instant::now();
    let collected_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let next = AtomicUsize::new(0);
    let rows: Mutex<Vec<Option<FleetHost>>> = Mutex::new(vec![None; targets.len()]);
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.clamp(1, targets.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(t) = targets.get(i) else { break };
                    let row = run_host(t, opts);
                    on_host(i, &row);
                    rows.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(row);
                }
            });
        }
    });
    let hosts = rows
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .zip(targets)
        .map(|(row, t)| {
            // Every worker finishes its row; a missing one would be a bug, still a row.
            row.unwrap_or_else(|| error_row(t, FailStage::Local, "not run".into(), None, 0))
        })
        .collect();
    FleetReport {
        schema_version: FLEET_SCHEMA_VERSION,
        tool_version: env!("CARGO_PKG_VERSION").into(),
        collected_at,
        duration_ms: started.elapsed().as_millis() as u64,
        remote_command: opts.remote_command.clone(),
        hosts,
    }
}

fn error_row(
    t: &Target,
    stage: FailStage,
    message: String,
    exit_code: Option<i32>,
    duration_ms: u64,
) -> FleetHost {
    FleetHost {
        target: t.given.clone(),
        state: HostState::Error {
            stage,
            message,
            exit_code,
        },
        duration_ms,
        kept: None,
        keep_error: None,
    }
}

/// What one ssh run gave back.
struct Run {
    status: Option<std::process::ExitStatus>,
    timed_out: bool,
    stdout: Vec<u8>,
    stdout_over: bool,
    stderr_tail: String,
}

/// One host: spawn, wait (bounded), classify, parse, keep.
pub fn run_host(t: &Target, opts: &FleetOptions) -> FleetHost {
    let started = Instant::now();
    let run = match run_ssh(t, opts) {
        Ok(r) => r,
        Err(e) => {
            return error_row(
                t,
                FailStage::Local,
                format!("cannot run {}: {e}", opts.ssh_program.display()),
                None,
                0,
            );
        }
    };
    let ms = started.elapsed().as_millis() as u64;
    let code = run.status.and_then(|s| s.code());
    let tail = |what: &str| {
        if run.stderr_tail.is_empty() {
            what.to_string()
        } else {
            format!("{what}: {}", run.stderr_tail)
        }
    };
    if run.timed_out {
        let msg = tail(&format!(
            "no answer within {}; ssh was killed",
            humantime::format_duration(opts.timeout)
        ));
        return error_row(t, FailStage::Timeout, msg, None, ms);
    }
    if run.stdout_over {
        let msg = format!("more than {} MiB on standard output", MAX_STDOUT >> 20);
        return error_row(t, FailStage::Parse, msg, code, ms);
    }
    if code == Some(255) {
        let stage = ssh_failure_stage(&run.stderr_tail);
        let msg = if run.stderr_tail.is_empty() {
            "ssh failed (exit 255) and said nothing".to_string()
        } else {
            run.stderr_tail.clone()
        };
        return error_row(t, stage, msg, code, ms);
    }
    let Some(code) = code else {
        return error_row(
            t,
            FailStage::Connect,
            tail("ssh killed by a signal"),
            None,
            ms,
        );
    };
    let parsed = crate::app::baseline::parse_snapshot(&run.stdout);
    let snap = match parsed {
        Ok(s) => s,
        // A remote command that failed and printed nothing usable.
        Err(_) if code != 0 => {
            let what = if code == 127 {
                "remote command not found (exit 127)".to_string()
            } else {
                format!("remote command exited with status {code}")
            };
            return error_row(t, FailStage::RemoteCommand, tail(&what), Some(code), ms);
        }
        Err(e) => {
            let msg = format!("output of {:?} is not a snapshot: {e}", opts.remote_command);
            return error_row(t, FailStage::Parse, msg, Some(code), ms);
        }
    };
    // A non-zero status with a valid snapshot (e.g. `--fail-on` in the remote
    // command) is still the host's posture: the row is good.
    let mut row = FleetHost {
        target: t.given.clone(),
        state: HostState::Ok {
            summary: Box::new(HostSummary::of(&snap)),
        },
        duration_ms: ms,
        kept: None,
        keep_error: None,
    };
    if let Some(dir) = &opts.keep_dir {
        let path = dir.join(format!("{}.json", file_name_of(&t.given)));
        match crate::atomic::write_atomic(&path, &run.stdout) {
            Ok(()) => row.kept = Some(path.display().to_string()),
            Err(e) => {
                let why = std::error::Error::source(&e)
                    .map(|s| format!("{e}: {s}"))
                    .unwrap_or_else(|| e.to_string());
                log::warn!("fleet {}: {why}", t.given);
                row.keep_error = Some(why);
            }
        }
    }
    row
}

/// A target as a file name: safe characters kept, the rest `_`.
pub fn file_name_of(target: &str) -> String {
    target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

/// ssh exits 255 on its own errors; its message says which.
pub fn ssh_failure_stage(stderr: &str) -> FailStage {
    const AUTH: [&str; 7] = [
        "Permission denied",
        "Host key verification failed",
        "REMOTE HOST IDENTIFICATION HAS CHANGED",
        "Too many authentication failures",
        "No more authentication methods",
        "no matching host key type",
        "Authentication failed",
    ];
    if AUTH.iter().any(|p| stderr.contains(p)) {
        FailStage::Auth
    } else {
        FailStage::Connect
    }
}

fn run_ssh(t: &Target, opts: &FleetOptions) -> std::io::Result<Run> {
    let mut child = Command::new(&opts.ssh_program)
        .args(ssh_args(t, opts))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + opts.timeout;
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    let over = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(mut out) = child.stdout.take() {
        let over = std::sync::Arc::clone(&over);
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let r = (&mut out).take(MAX_STDOUT as u64 + 1).read_to_end(&mut buf);
            if buf.len() > MAX_STDOUT {
                over.store(true, Ordering::SeqCst);
                buf.clear();
            }
            let _ = out_tx.send((buf, r.is_ok()));
        });
    }
    if let Some(mut err) = child.stderr.take() {
        std::thread::spawn(move || {
            let mut tail: Vec<u8> = Vec::new();
            let mut chunk = [0u8; 8192];
            while let Ok(n) = err.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > 2 * STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
            let _ = err_tx.send(tail);
        });
    }
    let mut timed_out = false;
    let status = loop {
        match child.try_wait()? {
            Some(s) => break Some(s),
            None if over.load(Ordering::SeqCst) || Instant::now() >= deadline => {
                timed_out = !over.load(Ordering::SeqCst);
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(POLL),
        }
    };
    // A helper ssh left behind (ProxyCommand, a ControlPersist master) may hold
    // the pipes open: wait for the readers only briefly after ssh is gone.
    let grace = if timed_out {
        Duration::from_millis(500)
    } else {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_secs(1))
    };
    let (stdout, _) = out_rx.recv_timeout(grace).unwrap_or_default();
    let tail = err_rx
        .recv_timeout(Duration::from_millis(500))
        .unwrap_or_default();
    Ok(Run {
        status,
        timed_out,
        stdout,
        stdout_over: over.load(Ordering::SeqCst),
        stderr_tail: tail_text(&tail),
    })
}

/// The last `STDERR_TAIL` bytes as text, on one line per message, trimmed.
fn tail_text(bytes: &[u8]) -> String {
    let start = bytes.len().saturating_sub(STDERR_TAIL);
    let text = String::from_utf8_lossy(&bytes[start..]);
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> (String, Option<u16>) {
        let t = parse_target(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (t.destination, t.port)
    }

    #[test]
    fn targets() {
        assert_eq!(t("gpu1"), ("gpu1".into(), None));
        assert_eq!(
            t("root@10.0.0.5:2222"),
            ("root@10.0.0.5".into(), Some(2222))
        );
        assert_eq!(t("me@[::1]:22"), ("me@::1".into(), Some(22)));
        assert_eq!(t("fe80::1"), ("fe80::1".into(), None));
        assert_eq!(t("[::1]"), ("::1".into(), None));
        for bad in [
            "",
            "-oProxyCommand=x",
            "a b",
            "h:0",
            "h:99999",
            "@h",
            "u@",
            "[::1",
        ] {
            assert!(parse_target(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts_file() {
        let hosts = parse_hosts_file("# fleet\ngpu1\n\n  root@gpu2:2222  # lab\n#x\n");
        assert_eq!(hosts, ["gpu1", "root@gpu2:2222"]);
    }

    #[test]
    fn argv_ends_options_before_the_destination() {
        let opts = FleetOptions {
            ssh_options: vec!["IdentityFile=/k".into()],
            timeout: Duration::from_secs(60),
            ..FleetOptions::default()
        };
        let a = ssh_args(&parse_target("u@h:2200").expect("target"), &opts);
        let dd = a.iter().position(|x| x == "--").expect("--");
        assert_eq!(&a[dd + 1..], ["u@h", DEFAULT_REMOTE_COMMAND]);
        assert!(a.windows(2).any(|w| w == ["-o", "BatchMode=yes"]));
        assert!(a.windows(2).any(|w| w == ["-o", "ConnectTimeout=30"]));
        assert!(a.windows(2).any(|w| w == ["-p", "2200"]));
        // The user's option comes first: in ssh the first value of a key wins.
        let user = a
            .iter()
            .position(|x| x == "IdentityFile=/k")
            .expect("option");
        let ours = a.iter().position(|x| x == "BatchMode=yes").expect("batch");
        assert!(user < ours);
        assert!(!a.contains(&"-F".to_string()));
    }

    #[test]
    fn ssh_options_are_checked() {
        assert!(check_ssh_option("StrictHostKeyChecking=accept-new").is_ok());
        assert!(check_ssh_option("-oProxyCommand=x").is_err());
        assert!(check_ssh_option("BatchMode").is_err());
    }

    #[test]
    fn ssh_errors_are_staged() {
        assert_eq!(
            ssh_failure_stage("u@h: Permission denied (publickey)."),
            FailStage::Auth
        );
        assert_eq!(
            ssh_failure_stage("ssh: connect to host 127.0.0.1 port 9: Connection refused"),
            FailStage::Connect
        );
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(file_name_of("root@[::1]:22"), "root@___1__22");
        assert_eq!(file_name_of("../x"), "_x");
    }
}
