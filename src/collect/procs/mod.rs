//! The process table: one cheap pass over /proc that every later step joins on.

pub mod auth;
pub mod env;
pub mod identify;
pub mod maps;
pub mod node;
pub mod output;
pub mod privilege;

use std::collections::HashMap;
use std::io::ErrorKind;
use std::sync::{Arc, OnceLock};

use procfs::ProcError;
use procfs::process::Process;

use crate::knowledge::signatures::{NodePackage, PythonDists};
use crate::model::redact::redact_argv_abbrev;

#[derive(Debug, Clone)]
pub struct ProcEntry {
    pub pid: u32,
    pub ppid: u32,
    pub uid: u32,
    pub comm: String,
    /// argv with secret values already redacted.
    pub argv: Vec<String>,
    /// Basename of /proc/PID/exe; `None` when the link is not readable (another
    /// user's process, a kernel thread).
    pub exe: Option<String>,
    /// Full target of /proc/PID/exe, when readable.
    pub exe_path: Option<String>,
    /// Clock ticks after boot: with the pid, names one process (pids are reused).
    pub starttime: u64,
    /// What it started with (script, Python environment, npm package), read
    /// when first asked for.
    pub script: StartedWith,
}

/// What a process read when it started: the head of its script, the
/// distributions of its Python environment, the npm package of its script. Each
/// is read at most once while the process lives (when first asked for): the
/// interpreter read its script and imported its libraries when it started, so a
/// later read could only see newer files, and would cost a read of every Python
/// or Node app on every refresh. Shared between the process cache and each table
/// built from it.
#[derive(Debug, Clone, Default)]
pub struct StartedWith(Arc<Started>);

#[derive(Debug, Default)]
struct Started {
    script: OnceLock<Option<String>>,
    python: OnceLock<Option<PythonDists>>,
    node: OnceLock<Option<NodePackage>>,
}

impl StartedWith {
    pub fn get_or_read(&self, read: impl FnOnce() -> Option<String>) -> Option<&str> {
        self.0.script.get_or_init(read).as_deref()
    }
    pub fn python_or_read(
        &self,
        read: impl FnOnce() -> Option<PythonDists>,
    ) -> Option<&PythonDists> {
        self.0.python.get_or_init(read).as_ref()
    }
    pub fn node_or_read(&self, read: impl FnOnce() -> Option<NodePackage>) -> Option<&NodePackage> {
        self.0.node.get_or_init(read).as_ref()
    }
}

pub struct ProcTable {
    pub procs: HashMap<u32, ProcEntry>,
}

/// Why a /proc read failed, in words an operator acts on.
pub fn describe(err: &ProcError) -> String {
    match err {
        ProcError::PermissionDenied(_) => "permission denied".into(),
        ProcError::NotFound(_) => "the process exited".into(),
        ProcError::Io(e, _) => describe_io(e),
        other => other.to_string(),
    }
}

pub fn is_gone(err: &ProcError) -> bool {
    match err {
        ProcError::NotFound(_) => true,
        ProcError::Io(e, _) => is_gone_io(e),
        _ => false,
    }
}

/// The same, for a /proc file read directly.
pub fn describe_io(e: &std::io::Error) -> String {
    if e.kind() == ErrorKind::PermissionDenied {
        "permission denied".into()
    } else {
        e.to_string()
    }
}

/// A /proc file of a process that exited: not found, or ESRCH mid-read.
pub fn is_gone_io(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH)
}

impl ProcTable {
    /// Read every visible process. Processes that exit mid-read are skipped:
    /// a vanished process is not an error.
    /// `abbreviable`: secret flags of products whose argparse takes their prefixes.
    pub fn scan(
        secret_flags: &[String],
        abbreviable: &[String],
        cache: &mut ProcCache,
    ) -> std::io::Result<Self> {
        let all = procfs::process::all_processes()
            .map_err(|e| std::io::Error::other(format!("cannot list /proc: {e}")))?;
        let mut procs = HashMap::new();
        let mut seen = HashMap::new();
        for p in all.flatten() {
            if let Some((entry, starttime)) = read_entry(&p, secret_flags, abbreviable, cache) {
                seen.insert(entry.pid, starttime);
                procs.insert(entry.pid, entry);
            }
        }
        cache.0.retain(|pid, c| seen.get(pid) == Some(&c.starttime));
        Ok(ProcTable { procs })
    }

    pub fn get(&self, pid: u32) -> Option<&ProcEntry> {
        self.procs.get(&pid)
    }

    /// Ancestors of `pid`, nearest first, bounded against cycles from pid reuse.
    pub fn ancestors(&self, pid: u32) -> impl Iterator<Item = &ProcEntry> {
        let mut cur = self.procs.get(&pid).map(|p| p.ppid);
        let mut steps = 0;
        std::iter::from_fn(move || {
            steps += 1;
            if steps > 64 {
                return None;
            }
            let p = self.procs.get(&cur?)?;
            cur = (p.ppid != 0 && p.ppid != p.pid).then_some(p.ppid);
            Some(p)
        })
    }
}

/// What does not change while a process lives (argv, exe), kept between refreshes
/// of the dashboard, keyed by pid and start time (a reused pid starts later).
/// Entries are re-read after a while: a process may retitle itself (setproctitle).
#[derive(Default)]
pub struct ProcCache(HashMap<u32, Cached>);

struct Cached {
    starttime: u64,
    at: std::time::Instant,
    argv: Vec<String>,
    exe: Option<String>,
    exe_path: Option<String>,
    script: StartedWith,
}

const CACHE_FOR: std::time::Duration = std::time::Duration::from_secs(30);

fn read_entry(
    p: &Process,
    secret_flags: &[String],
    abbreviable: &[String],
    cache: &mut ProcCache,
) -> Option<(ProcEntry, u64)> {
    let stat = p.stat().ok()?;
    let uid = p.uid().ok()?;
    let pid = stat.pid as u32;
    let same = cache.0.get(&pid).filter(|c| c.starttime == stat.starttime);
    if let Some(c) = same.filter(|c| c.at.elapsed() < CACHE_FOR) {
        return Some((
            ProcEntry {
                pid,
                ppid: stat.ppid as u32,
                uid,
                comm: stat.comm,
                argv: c.argv.clone(),
                exe: c.exe.clone(),
                exe_path: c.exe_path.clone(),
                starttime: stat.starttime,
                script: c.script.clone(),
            },
            stat.starttime,
        ));
    }
    // Re-read for a retitled argv; the script it started with stays the same.
    let script = same.map(|c| c.script.clone()).unwrap_or_default();
    // Kernel threads have an empty cmdline; they never serve models.
    let raw = read_cmdline(pid).ok()?;
    if raw.is_empty() {
        return None;
    }
    // Redacted here, at the only place argv is read, so no later step can leak it.
    let (argv, _) = redact_argv_abbrev(&raw, secret_flags, abbreviable);
    drop(raw);
    // Another user's process: the link is not readable; argv[0] still identifies it.
    let exe_path = p.exe().ok().map(|path| {
        path.to_string_lossy()
            .trim_end_matches(" (deleted)")
            .to_string()
    });
    let exe = exe_path
        .as_deref()
        .map(|path| path.rsplit('/').next().unwrap_or(path).to_string());
    cache.0.insert(
        pid,
        Cached {
            starttime: stat.starttime,
            at: std::time::Instant::now(),
            argv: argv.clone(),
            exe: exe.clone(),
            exe_path: exe_path.clone(),
            script: script.clone(),
        },
    );
    Some((
        ProcEntry {
            pid,
            ppid: stat.ppid as u32,
            uid,
            comm: stat.comm,
            argv,
            exe,
            exe_path,
            starttime: stat.starttime,
            script,
        },
        stat.starttime,
    ))
}

/// argv as the kernel keeps it: NUL-separated bytes, not always UTF-8 (a model
/// path in Latin-1). procfs's `cmdline` reads it as text and fails on such bytes,
/// which left the whole process out of the table; here they become U+FFFD.
pub fn read_cmdline(pid: u32) -> std::io::Result<Vec<String>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))?;
    Ok(raw
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect())
}

/// /proc/PID/status through procfs's parser, with bytes that are not UTF-8
/// replaced first: the kernel prints the process name (which its owner sets)
/// unescaped, and procfs's line reader rejects the whole file for it.
pub fn read_status(pid: u32) -> procfs::ProcResult<procfs::process::Status> {
    use procfs::FromRead;
    let raw = std::fs::read(format!("/proc/{pid}/status"))?;
    procfs::process::Status::from_read(String::from_utf8_lossy(&raw).as_bytes())
}

/// Each open fd of a process and what its link names (`socket:[INODE]`, a path,
/// `pipe:[…]`), one readlink per fd, as `ss -p` does. procfs's `fd()` also
/// opens, stats and closes every fd for a mode never used here: four syscalls
/// per fd, most of the gap to `ss -tanp` with 10,000 sockets. An fd closed
/// while listed is left out.
pub fn open_fds(pid: u32) -> std::io::Result<Vec<(u32, std::path::PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        let entry = entry?;
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        match std::fs::read_link(entry.path()) {
            Ok(target) => out.push((fd, target)),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The inode of a `socket:[INODE]` link.
pub fn socket_inode(target: &std::path::Path) -> Option<u64> {
    target
        .to_str()?
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// `net:[4026531840]` for a pid, or why it could not be read.
pub fn netns_of(pid: u32) -> Result<String, String> {
    std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .map(|l| l.to_string_lossy().into_owned())
        .map_err(|e| match e.kind() {
            ErrorKind::PermissionDenied => "permission denied".to_string(),
            ErrorKind::NotFound => "the process exited".to_string(),
            _ => e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_script(cache: &mut ProcCache, read: &str) -> Option<String> {
        let table = ProcTable::scan(&[], &[], cache).expect("scan /proc");
        let own = table.get(std::process::id()).expect("this process");
        own.script
            .get_or_read(|| Some(read.to_string()))
            .map(str::to_owned)
    }

    #[test]
    fn open_fds_name_sockets_and_files() {
        use std::os::unix::fs::MetadataExt;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let file = tempfile::NamedTempFile::new().expect("temp file");
        let fds = open_fds(std::process::id()).expect("own fds");
        let inode = {
            use std::os::fd::AsRawFd;
            let link = std::fs::read_link(format!("/proc/self/fd/{}", listener.as_raw_fd()))
                .expect("link");
            socket_inode(&link).expect("a socket link")
        };
        assert!(fds.iter().any(|(_, t)| socket_inode(t) == Some(inode)));
        let meta = file.as_file().metadata().expect("meta");
        assert!(fds.iter().any(|(_, t)| {
            std::fs::metadata(t).is_ok_and(|m| m.ino() == meta.ino() && m.dev() == meta.dev())
        }));
        assert_eq!(socket_inode(std::path::Path::new("pipe:[12]")), None);
        assert!(open_fds(u32::MAX).is_err_and(|e| is_gone_io(&e)));
    }

    #[test]
    fn a_script_head_lives_as_long_as_its_process() {
        let mut cache = ProcCache::default();
        let own = std::process::id();
        assert_eq!(own_script(&mut cache, "first").as_deref(), Some("first"));
        assert_eq!(own_script(&mut cache, "second").as_deref(), Some("first"));

        // argv is re-read after a while (a retitled process); the script is not.
        let past = std::time::Instant::now().checked_sub(CACHE_FOR * 2);
        if let (Some(c), Some(past)) = (cache.0.get_mut(&own), past) {
            c.at = past;
        }
        assert_eq!(own_script(&mut cache, "third").as_deref(), Some("first"));

        // The same pid with another start time is another process.
        if let Some(c) = cache.0.get_mut(&own) {
            c.starttime -= 1;
        }
        assert_eq!(own_script(&mut cache, "fourth").as_deref(), Some("fourth"));
    }
}
