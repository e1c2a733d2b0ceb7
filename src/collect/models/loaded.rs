//! Model files a server holds: file-backed mappings (/proc/PID/maps) and open
//! fds (/proc/PID/fd), recognised by content.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::collect::procs::maps;
use crate::collect::procs::{describe_io, is_gone_io, open_fds};
use crate::formats::magic::recognise;
use crate::model::{BlindSpot, DirOwner, HeldVia, LoadedModel, ModelFormat, Source};

const DELETED: &str = " (deleted)";
const SNIFF_CACHE_MAX: usize = 20_000;

/// Candidate file held by a process, and how to open it from here.
struct Held {
    via: Vec<HeldVia>,
    /// The name the kernel gave, as bytes (not always UTF-8).
    raw: PathBuf,
    /// Path to open: through /proc/PID/fd/N or /proc/PID/root so that a process
    /// in another mount namespace (a container) is read correctly.
    open_at: PathBuf,
}

/// File identity → what its header said. A server maps hundreds of shared
/// libraries; their headers are read once, not on every refresh. The key changes
/// when the file is replaced or rewritten (inode, size, mtime).
#[derive(Default)]
pub struct SniffCache(HashMap<(u64, u64, u64, i64, i64), Option<ModelFormat>>);

impl SniffCache {
    /// The file's format by content, read once per file identity.
    pub fn sniff(
        &mut self,
        path: &std::path::Path,
        meta: &std::fs::Metadata,
    ) -> std::io::Result<Option<ModelFormat>> {
        let key = Self::key(meta);
        if let Some(known) = self.0.get(&key) {
            return Ok(known.clone());
        }
        let f = recognise(path)?;
        if self.0.len() >= SNIFF_CACHE_MAX {
            self.0.clear();
        }
        self.0.insert(key, f.clone());
        Ok(f)
    }

    fn key(meta: &std::fs::Metadata) -> (u64, u64, u64, i64, i64) {
        use std::os::unix::fs::MetadataExt;
        (
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
        )
    }
}

pub fn loaded_models(
    pid: u32,
    comm: &str,
    blind: &mut Vec<BlindSpot>,
    cache: &mut SniffCache,
) -> Vec<LoadedModel> {
    let mut held: BTreeMap<String, Held> = BTreeMap::new();

    match std::fs::read(format!("/proc/{pid}/maps")) {
        Ok(text) => match maps::parse(&text) {
            Ok(files) => {
                for m in files {
                    let shown = m.path.to_string_lossy().into_owned();
                    // A deleted (replaced) file is only reachable through map_files,
                    // which the kernel opens for root alone.
                    let open_at = if shown.ends_with(DELETED) {
                        PathBuf::from(format!("/proc/{pid}/map_files/{:x}-{:x}", m.start, m.end))
                    } else {
                        // The raw name, not the shown one: a non-UTF-8 name still opens.
                        through_root(pid, &m.path)
                    };
                    let h = held.entry(shown).or_insert(Held {
                        via: Vec::new(),
                        raw: m.path.clone(),
                        open_at,
                    });
                    if !h.via.contains(&HeldVia::Mmap) {
                        h.via.push(HeldVia::Mmap);
                    }
                }
            }
            Err(e) => blind.push(BlindSpot {
                consequence: "models this server has mapped cannot be listed".into(),
                ..maps_blind_spot(pid, comm, e.to_string())
            }),
        },
        Err(e) if is_gone_io(&e) => return Vec::new(),
        Err(e) => blind.push(maps_blind_spot(pid, comm, describe_io(&e))),
    }

    match open_fds(pid) {
        Ok(fds) => {
            for (fd, p) in fds {
                let shown = p.to_string_lossy().into_owned();
                if !shown.starts_with('/') || shown.starts_with("/dev/") {
                    continue;
                }
                let h = held.entry(shown).or_insert(Held {
                    via: Vec::new(),
                    raw: p.clone(),
                    open_at: PathBuf::from(format!("/proc/{pid}/fd/{fd}")),
                });
                if !h.via.contains(&HeldVia::Fd) {
                    h.via.push(HeldVia::Fd);
                    // An fd reopens the very file the process holds, even if replaced on disk.
                    h.open_at = PathBuf::from(format!("/proc/{pid}/fd/{fd}"));
                }
            }
        }
        Err(e) if is_gone_io(&e) => return Vec::new(),
        Err(e) => blind.push(BlindSpot {
            what: format!("open files of pid {pid} ({comm})"),
            path: Source::proc(pid, "fd"),
            reason: describe_io(&e),
            consequence: "models and sockets this server holds open cannot be listed; run as root or as the server's user".into(),
        }),
    }

    let mut out = Vec::new();
    for (shown, mut h) in held {
        // Only regular files: opening a FIFO or device could block or have effects.
        let Ok(meta) = std::fs::metadata(&h.open_at) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let key = SniffCache::key(&meta);
        let sniffed = match cache.0.get(&key) {
            Some(known) => Ok(known.clone()),
            None => recognise(&h.open_at).inspect(|f| {
                // Bounded: a long-running dashboard on a host that churns files.
                if cache.0.len() >= SNIFF_CACHE_MAX {
                    cache.0.clear();
                }
                cache.0.insert(key, f.clone());
            }),
        };
        let format = match sniffed {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                blind.push(BlindSpot {
                    what: format!("header of {shown} held by pid {pid} ({comm})"),
                    path: Source::path(h.open_at.to_string_lossy()),
                    reason: e.to_string(),
                    consequence: "whether this file is a model is unknown".into(),
                });
                continue;
            }
        };
        h.via.sort();
        let deleted = shown.ends_with(DELETED);
        let raw = strip_deleted(&h.raw);
        let dir_owner = raw.parent().and_then(|d| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(through_root(pid, d))
                .ok()
                .map(|m| DirOwner {
                    uid: m.uid(),
                    gid: m.gid(),
                    mode: m.mode() & 0o7777,
                })
        });
        out.push(LoadedModel {
            path: shown.trim_end_matches(DELETED).to_string(),
            raw_path: raw.to_str().is_none().then_some(raw),
            format,
            size_bytes: Some(meta.len()),
            held_via: h.via,
            deleted,
            pid,
            dir_owner,
            facts: Default::default(),
        });
    }
    out
}

fn maps_blind_spot(pid: u32, comm: &str, reason: String) -> BlindSpot {
    BlindSpot {
        what: format!("memory maps of pid {pid} ({comm})"),
        path: Source::proc(pid, "maps"),
        reason,
        consequence:
            "models this server has mapped cannot be listed; run as root or as the server's user"
                .into(),
    }
}

/// A path as process `pid` sees it, opened from here through its root (a
/// container's files are the container's own).
pub fn through_root(pid: u32, path: &std::path::Path) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}/root")).join(path.strip_prefix("/").unwrap_or(path))
}

fn strip_deleted(raw: &std::path::Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let bytes = raw.as_os_str().as_bytes();
    let kept = bytes.strip_suffix(DELETED.as_bytes()).unwrap_or(bytes);
    PathBuf::from(std::ffi::OsStr::from_bytes(kept))
}
