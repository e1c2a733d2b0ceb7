//! Prompt and response logs at rest: for each AI server, the log and history
//! locations `assets/privacy.toml` `[[logs]]` names for its product, resolved
//! as the process sees them (its flags, environment, working directory, owner's
//! home, container root), with size, age and the owner and mode of every path
//! component. Nothing here judges who can read them; `rules::privacy::logs` does.

use std::io::ErrorKind;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::collect::host::UserNames;
use crate::collect::models::access::{Groups, chain, normalise};
use crate::knowledge::privacy::{Location, Log, LogKind};
use crate::model::privacy::PromptLog;
use crate::model::redact::REDACTED;
use crate::model::{BlindSpot, PathAccess, Server, Source};

/// Entries (files and directories) looked at under one log directory: a chat
/// history can hold many files, the collection must stay quick.
pub const MAX_WALK_ENTRIES: usize = 10_000;

/// Where a server's paths are: its working directory and owner's home as it
/// sees them, and how to reach a path it sees from here.
struct ProcessView<'a> {
    server: &'a Server,
    /// `/proc/PID/root` for a container's process; `None`: the host's `/`.
    root: Option<PathBuf>,
    /// Working directory, or why it could not be read.
    cwd: Result<PathBuf, String>,
    home: Option<PathBuf>,
}

impl<'a> ProcessView<'a> {
    fn new(server: &'a Server, users: &UserNames) -> Self {
        let pid = server.pid;
        let root = server
            .confinement
            .container
            .as_ref()
            .map(|_| PathBuf::from(format!("/proc/{pid}/root")));
        let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).map_err(|e| e.to_string());
        // A container has its own /etc/passwd: the owner's home is the one in it.
        let home = match (&root, server.uid) {
            (_, None) => None,
            (None, Some(uid)) => users.home(uid),
            (Some(r), Some(uid)) => std::fs::read_to_string(r.join("etc/passwd"))
                .ok()
                .and_then(|p| UserNames::parse(&p).home(uid)),
        }
        .map(PathBuf::from);
        ProcessView {
            server,
            root,
            cwd,
            home,
        }
    }

    /// Where to stat a path the process sees.
    fn seen_at(&self, p: &Path) -> PathBuf {
        match &self.root {
            Some(r) => r.join(p.strip_prefix("/").unwrap_or(p)),
            None => p.to_path_buf(),
        }
    }
}

/// A location resolved to a path, or why it could not be.
enum Resolved {
    At {
        path: PathBuf,
        how: String,
    },
    /// Does not apply to this process (flag or variable not set, not a container).
    NotSet,
    /// Applies but could not be resolved (working directory unreadable).
    Unknown {
        what: String,
        path: String,
        reason: String,
    },
}

/// The value of the last `--flag X` or `--flag=X`; a redacted one says nothing.
fn flag_value(argv: &[String], flag: &str) -> Option<String> {
    crate::model::argv::value(argv, flag)
        .filter(|v| !v.is_empty() && *v != REDACTED)
        .map(String::from)
}

fn resolve(loc: &Location, view: &ProcessView<'_>) -> Resolved {
    let pid = view.server.pid;
    let against_cwd = |p: PathBuf, how: String| -> Resolved {
        if p.is_absolute() {
            return Resolved::At {
                path: normalise(&p),
                how,
            };
        }
        match &view.cwd {
            Ok(c) => Resolved::At {
                path: normalise(&c.join(&p)),
                how: format!("{how}, relative to the working directory {}", c.display()),
            },
            Err(reason) => Resolved::Unknown {
                what: format!("working directory of pid {pid}"),
                path: format!("/proc/{pid}/cwd"),
                reason: reason.clone(),
            },
        }
    };
    if let Some(flag) = &loc.flag {
        return match flag_value(&view.server.cmdline, flag) {
            Some(v) => against_cwd(PathBuf::from(v), format!("{flag} of pid {pid}")),
            None => Resolved::NotSet,
        };
    }
    if let Some(env) = &loc.env {
        let value = view
            .server
            .env_config
            .iter()
            .find(|e| &e.name == env)
            .map(|e| e.value.clone())
            .filter(|v| !v.is_empty());
        return match value {
            Some(v) => {
                let mut p = PathBuf::from(v);
                if let Some(j) = &loc.join {
                    p = p.join(j);
                }
                let how = match &loc.join {
                    Some(j) => format!("{env} of pid {pid}, with {j} appended"),
                    None => format!("{env} of pid {pid}"),
                };
                against_cwd(p, how)
            }
            // Unset, or the environment was unreadable (a blind spot already says so).
            None => Resolved::NotSet,
        };
    }
    if let Some(rel) = &loc.cwd {
        return against_cwd(PathBuf::from(rel), format!("default location of pid {pid}"));
    }
    if let Some(rel) = &loc.home {
        return match &view.home {
            Some(h) => Resolved::At {
                path: normalise(&h.join(rel)),
                how: format!(
                    "default location under the home of uid {} ({})",
                    view.server.uid.unwrap_or_default(),
                    h.display()
                ),
            },
            None => Resolved::Unknown {
                what: format!("home directory of the owner of pid {pid}"),
                path: match view.root {
                    Some(_) => format!("/proc/{pid}/root/etc/passwd"),
                    None => "/etc/passwd".into(),
                },
                reason: match view.server.uid {
                    Some(uid) => format!("uid {uid} has no home in the passwd file"),
                    None => "the process owner is unknown".into(),
                },
            },
        };
    }
    if let Some(abs) = &loc.container {
        return match view.root {
            Some(_) => Resolved::At {
                path: PathBuf::from(abs),
                how: format!("default location inside the container of pid {pid}"),
            },
            None => Resolved::NotSet,
        };
    }
    Resolved::NotSet
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

fn mtime(m: &std::fs::Metadata) -> Option<SystemTime> {
    let secs = u64::try_from(m.mtime()).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// What a bounded walk of a log directory found.
#[derive(Default)]
struct Walk {
    size: u64,
    files: u64,
    newest: Option<SystemTime>,
    /// Loosest file readable past its owner: (exposure, path, metadata).
    loosest: Option<(u8, PathBuf, std::fs::Metadata)>,
    capped: bool,
    unreadable: Vec<(PathBuf, String)>,
}

/// How far a member file reaches past its owner, given whether the directories
/// between the log directory and it let others / the group through:
/// 2 everyone, 1 the group, 0 the owner only.
fn exposure(mode: u32, others_through: bool, group_through: bool) -> u8 {
    if mode & 0o004 != 0 && others_through {
        2
    } else if mode & 0o040 != 0 && group_through {
        1
    } else {
        0
    }
}

/// Sizes, count and the loosest member under `dir` (reached from here), without
/// following symlinks, at most `MAX_WALK_ENTRIES` entries.
fn walk(dir: &Path) -> Walk {
    let mut w = Walk::default();
    let mut seen = 0usize;
    // (directory, others can pass every directory below the top, the group can)
    let mut stack: Vec<(PathBuf, bool, bool)> = vec![(dir.to_path_buf(), true, true)];
    while let Some((d, others_through, group_through)) = stack.pop() {
        let entries = match std::fs::read_dir(&d) {
            Ok(e) => e,
            Err(e) => {
                w.unreadable.push((d, e.to_string()));
                continue;
            }
        };
        for entry in entries {
            if seen >= MAX_WALK_ENTRIES {
                w.capped = true;
                return w;
            }
            seen += 1;
            let Ok(entry) = entry else { continue };
            let p = entry.path();
            let Ok(m) = std::fs::symlink_metadata(&p) else {
                continue;
            };
            let mode = m.mode() & 0o7777;
            if m.is_dir() {
                stack.push((
                    p,
                    others_through && mode & 0o001 != 0,
                    group_through && mode & 0o010 != 0,
                ));
            } else if m.is_file() {
                w.size += m.len();
                w.files += 1;
                let t = mtime(&m);
                if t > w.newest {
                    w.newest = t;
                }
                let e = exposure(mode, others_through, group_through);
                let looser = match &w.loosest {
                    None => e > 0,
                    Some((best, _, bm)) => {
                        (e, (mode & 0o777).count_ones()) > (*best, (bm.mode() & 0o777).count_ones())
                    }
                };
                if looser {
                    w.loosest = Some((e, p, m));
                }
            }
        }
    }
    w
}

fn member_access(
    shown: PathBuf,
    m: &std::fs::Metadata,
    users: &UserNames,
    groups: &Groups,
) -> PathAccess {
    let owner = users.name(m.uid());
    PathAccess {
        path: shown.to_string_lossy().into_owned(),
        is_dir: false,
        uid: m.uid(),
        gid: m.gid(),
        group_shared: groups.shared(m.gid(), owner.as_deref()),
        owner,
        mode: m.mode() & 0o7777,
    }
}

/// Look at one resolved path. `Ok(None)`: nothing there.
fn look(
    log: &Log,
    view: &ProcessView<'_>,
    path: &Path,
    how: &str,
    users: &UserNames,
    groups: &Groups,
    blind: &mut Vec<BlindSpot>,
) -> Result<Option<PromptLog>, String> {
    let here = view.seen_at(path);
    let m = match std::fs::metadata(&here) {
        Ok(m) => m,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let is_dir = m.is_dir();
    if is_dir != (log.kind == LogKind::Dir) {
        // A file where a directory is expected (or the reverse) is not this log.
        return Ok(None);
    }
    let s = view.server;
    let access = chain(path, None, &|p| view.seen_at(p), users, groups);
    let (size_bytes, files, newest, loosest_member) = if is_dir {
        let w = walk(&here);
        if w.capped {
            blind.push(BlindSpot {
                what: format!("contents of {} ({}, pid {})", path.display(), log.id, s.pid),
                path: Source::path(here.to_string_lossy()),
                reason: format!("more than {MAX_WALK_ENTRIES} entries"),
                consequence: "its size and file count are lower bounds, and a readable file past the bound is not seen".into(),
            });
        }
        if !w.unreadable.is_empty() {
            let (first, reason) = &w.unreadable[0];
            blind.push(BlindSpot {
                what: format!(
                    "{} director{} under {} ({}, pid {})",
                    w.unreadable.len(),
                    if w.unreadable.len() == 1 { "y" } else { "ies" },
                    path.display(),
                    log.id,
                    s.pid
                ),
                path: Source::path(first.to_string_lossy()),
                reason: reason.clone(),
                consequence: "files in them are not counted, and one readable by others would not be seen; run as root".into(),
            });
        }
        let root_shown = path.to_path_buf();
        let loosest = w.loosest.map(|(_, p, mm)| {
            // Shown as the process sees it: the walk ran on the path from here.
            let rel = p.strip_prefix(&here).unwrap_or(&p).to_path_buf();
            member_access(root_shown.join(rel), &mm, users, groups)
        });
        let newest = [mtime(&m), w.newest].into_iter().flatten().max();
        (w.size, w.files, newest, loosest)
    } else {
        (m.len(), 1, mtime(&m), None)
    };
    Ok(Some(PromptLog {
        readers: None,
        pid: s.pid,
        product: s.product.clone(),
        log: log.id.clone(),
        holds: log.holds.clone(),
        path: path.to_string_lossy().into_owned(),
        located_by: how.to_string(),
        is_dir,
        size_bytes,
        files,
        modified: newest.map(rfc3339),
        access,
        loosest_member,
    }))
}

/// The prompt logs of every server the knowledge names a location for.
pub fn read(
    servers: &[Server],
    logs: &[Log],
    users: &UserNames,
    groups: &Groups,
    blind: &mut Vec<BlindSpot>,
) -> Vec<PromptLog> {
    let mut out: Vec<PromptLog> = Vec::new();
    for s in servers {
        let applicable: Vec<&Log> = logs
            .iter()
            .filter(|l| l.products.iter().any(|p| p == &s.product_id))
            .collect();
        if applicable.is_empty() {
            continue;
        }
        let view = ProcessView::new(s, users);
        for log in applicable {
            // One blind spot per log: its cwd locations fail for the same reason.
            let mut unknown_told = false;
            for loc in &log.locations {
                let (path, how) = match resolve(loc, &view) {
                    Resolved::NotSet => continue,
                    Resolved::Unknown { .. } if unknown_told => continue,
                    Resolved::Unknown { what, path, reason } => {
                        unknown_told = true;
                        blind.push(BlindSpot {
                            what: format!("{what} ({})", s.product),
                            path: Source::path(path),
                            reason,
                            consequence: format!(
                                "where its {} ({}) is, and who can read it, is unknown; run as root or as the server's user",
                                log.id, log.holds
                            ),
                        });
                        if log.first {
                            break;
                        }
                        continue;
                    }
                    Resolved::At { path, how } => (path, how),
                };
                let done = log.first;
                match look(log, &view, &path, &how, users, groups, blind) {
                    Ok(Some(p)) => {
                        if !out
                            .iter()
                            .any(|q| q.pid == p.pid && q.log == p.log && q.path == p.path)
                        {
                            out.push(p);
                        }
                    }
                    Ok(None) => {}
                    Err(reason) => blind.push(BlindSpot {
                        what: format!("{} of pid {} ({})", log.id, s.pid, log.holds),
                        path: Source::path(view.seen_at(&path).to_string_lossy()),
                        reason,
                        consequence: "whether prompts are kept there, and who can read them, is unknown; run as root".into(),
                    }),
                }
                // The product uses the first location that applies, there or not.
                if done {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EnvSetting;
    use crate::model::testing::server;

    fn argv(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flag_values_in_both_spellings_last_wins_redacted_skipped() {
        let a = argv(&["llama-server", "--log-file", "a.log", "--log-file=b.log"]);
        assert_eq!(flag_value(&a, "--log-file").as_deref(), Some("b.log"));
        let a = argv(&["x", "--log-file", "<redacted>"]);
        assert_eq!(flag_value(&a, "--log-file"), None);
        let a = argv(&["x", "--log-filex", "c"]);
        assert_eq!(flag_value(&a, "--log-file"), None);
    }

    fn view(s: &Server, cwd: Result<PathBuf, String>) -> ProcessView<'_> {
        ProcessView {
            server: s,
            root: None,
            cwd,
            home: Some(PathBuf::from("/home/a")),
        }
    }

    fn at(r: Resolved) -> Option<(String, String)> {
        match r {
            Resolved::At { path, how } => Some((path.to_string_lossy().into_owned(), how)),
            _ => None,
        }
    }

    #[test]
    fn locations_resolve_as_the_process_sees_them() {
        let mut s = server(7, "open_webui");
        s.cmdline = argv(&["llama-server", "--log-file", "logs/../s.log"]);
        s.env_config = vec![EnvSetting {
            name: "DATA_DIR".into(),
            value: "/srv/owui".into(),
        }];
        let v = view(&s, Ok(PathBuf::from("/work")));
        let loc = |f: &str, v: &str| -> Location {
            let mut l = Location {
                flag: None,
                env: None,
                join: None,
                cwd: None,
                home: None,
                container: None,
            };
            match f {
                "flag" => l.flag = Some(v.into()),
                "env" => {
                    l.env = Some(v.into());
                    l.join = Some("webui.db".into());
                }
                "cwd" => l.cwd = Some(v.into()),
                "home" => l.home = Some(v.into()),
                _ => l.container = Some(v.into()),
            }
            l
        };
        let (p, how) = at(resolve(&loc("flag", "--log-file"), &v)).expect("flag");
        assert_eq!(p, "/work/s.log");
        assert!(how.contains("--log-file of pid 7"), "{how}");
        let (p, _) = at(resolve(&loc("env", "DATA_DIR"), &v)).expect("env");
        assert_eq!(p, "/srv/owui/webui.db");
        assert!(matches!(
            resolve(&loc("env", "UNSET"), &v),
            Resolved::NotSet
        ));
        let (p, _) = at(resolve(&loc("home", ".ollama/history"), &v)).expect("home");
        assert_eq!(p, "/home/a/.ollama/history");
        // Not in a container: container paths do not apply.
        assert!(matches!(
            resolve(&loc("container", "/app/backend/data"), &v),
            Resolved::NotSet
        ));
        // Relative, and the working directory unreadable: unknown, not silence.
        let v = view(&s, Err("permission denied".into()));
        assert!(matches!(
            resolve(&loc("cwd", "data/webui.db"), &v),
            Resolved::Unknown { .. }
        ));
    }

    #[test]
    fn walk_finds_the_loosest_reachable_member() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let set = |p: &Path, mode: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        let private = dir.path().join("private");
        std::fs::create_dir(&private).expect("mkdir");
        std::fs::write(private.join("hidden.json"), b"{}").expect("write");
        set(&private.join("hidden.json"), 0o644);
        set(&private, 0o700);
        std::fs::write(dir.path().join("a.json"), b"12345").expect("write");
        set(&dir.path().join("a.json"), 0o640);
        std::fs::write(dir.path().join("b.json"), b"1").expect("write");
        set(&dir.path().join("b.json"), 0o600);
        let w = walk(dir.path());
        assert_eq!(w.files, 3);
        assert_eq!(w.size, 8);
        // hidden.json is 0644 but behind a 0700 directory: a.json (group) is looser.
        let (e, p, _) = w.loosest.expect("a loose member");
        assert_eq!(e, 1);
        assert_eq!(p, dir.path().join("a.json"));
        assert!(!w.capped);
    }
}
