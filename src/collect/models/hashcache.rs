//! sha256 of model files kept across runs in `$XDG_STATE_HOME/aiposture/hashes.json`
//! (default `~/.local/state/aiposture/`), so an unchanged multi-GB store is not
//! hashed again. The key is (device, inode, size, mtime, ctime): ctime cannot be
//! set back by a user, so a file rewritten with its old mtime still misses.
//!
//! The same file remembers, per path, the last content and chat-template hash
//! seen there: a new hash at a known path is drift, reported for `DRIFT_WINDOW`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::model::{Change, Drift};

/// Entries kept at most: the least recently added file identities go first.
const MAX_ENTRIES: usize = 50_000;
const MAX_PATHS: usize = 50_000;
/// How long a changed hash stays a finding after it was first seen.
pub const DRIFT_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
const VERSION: u32 = 2;

#[derive(Clone, Serialize, Deserialize)]
struct Entry {
    sha256: String,
    /// Insertion order, for eviction.
    seq: u64,
}

/// What was last seen at one path.
#[derive(Clone, Default, Serialize, Deserialize)]
struct PathRecord {
    sha256: Option<String>,
    template: Option<String>,
    content_change: Option<Change>,
    template_change: Option<Change>,
}

#[derive(Default, Serialize, Deserialize)]
struct FileV2 {
    version: u32,
    #[serde(default)]
    entries: BTreeMap<String, Entry>,
    #[serde(default)]
    paths: BTreeMap<String, PathRecord>,
}

/// The first format: identity → sha256, nothing per path.
#[derive(Deserialize)]
struct FileV1 {
    entries: BTreeMap<String, String>,
}

pub struct HashCache {
    path: Option<PathBuf>,
    entries: BTreeMap<String, Entry>,
    /// seq → key, to evict the oldest entry without a scan.
    order: BTreeMap<u64, String>,
    next_seq: u64,
    paths: BTreeMap<String, PathRecord>,
    dirty: bool,
    saved_at: Option<std::time::Instant>,
    /// Why the cache is memory-only (state dir not writable), for a blind spot.
    pub memory_only: Option<String>,
}

pub fn key(meta: &std::fs::Metadata) -> String {
    use std::os::unix::fs::MetadataExt;
    format!(
        "{}:{}:{}:{}.{}:{}.{}",
        meta.dev(),
        meta.ino(),
        meta.len(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec()
    )
}

fn parse(bytes: &[u8]) -> FileV2 {
    #[derive(Deserialize)]
    struct Versioned {
        version: u32,
    }
    match serde_json::from_slice::<Versioned>(bytes).map(|v| v.version) {
        Ok(VERSION) => serde_json::from_slice(bytes).unwrap_or_default(),
        Ok(1) => serde_json::from_slice::<FileV1>(bytes)
            .map(|v1| FileV2 {
                version: VERSION,
                entries: v1
                    .entries
                    .into_iter()
                    .enumerate()
                    .map(|(i, (k, sha256))| {
                        (
                            k,
                            Entry {
                                sha256,
                                seq: i as u64,
                            },
                        )
                    })
                    .collect(),
                paths: BTreeMap::new(),
            })
            .unwrap_or_default(),
        _ => FileV2::default(),
    }
}

impl HashCache {
    pub fn load() -> HashCache {
        let path = crate::paths::state_dir().map(|d| d.join("hashes.json"));
        let file = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .map(|b| parse(&b))
            .unwrap_or_default();
        Self::from_parts(path, file)
    }

    /// A cache that is never written (tests, `--no-state`).
    pub fn in_memory() -> HashCache {
        Self::from_parts(None, FileV2::default())
    }

    fn from_parts(path: Option<PathBuf>, file: FileV2) -> HashCache {
        let order: BTreeMap<u64, String> = file
            .entries
            .iter()
            .map(|(k, e)| (e.seq, k.clone()))
            .collect();
        let next_seq = order.keys().next_back().map_or(0, |s| s + 1);
        HashCache {
            path,
            entries: file.entries,
            order,
            next_seq,
            paths: file.paths,
            dirty: false,
            saved_at: None,
            memory_only: None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.entries.get(key).map(|e| &e.sha256)
    }

    pub fn insert(&mut self, key: String, sha256: String) {
        if let Some(old) = self.entries.remove(&key) {
            self.order.remove(&old.seq);
        }
        while self.entries.len() >= MAX_ENTRIES {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.order.insert(seq, key.clone());
        self.entries.insert(key, Entry { sha256, seq });
        self.dirty = true;
    }

    /// Record what is at `path` now and say what changed there since an earlier
    /// observation. `None` values (not hashed yet, no template) change nothing.
    pub fn observe(
        &mut self,
        path: &str,
        sha256: Option<&str>,
        template: Option<&str>,
        now: SystemTime,
    ) -> Drift {
        if !self.paths.contains_key(path) && self.paths.len() >= MAX_PATHS {
            // Paths are not ordered by age; dropping any keeps the file bounded.
            self.paths.pop_first();
        }
        let rec = self.paths.entry(path.to_string()).or_default();
        let stamp = humantime::format_rfc3339_seconds(now).to_string();
        let mut dirty = false;
        for (seen, last, change) in [
            (sha256, &mut rec.sha256, &mut rec.content_change),
            (template, &mut rec.template, &mut rec.template_change),
        ] {
            let Some(seen) = seen else { continue };
            match last {
                Some(before) if before != seen => {
                    *change = Some(Change {
                        before_sha256: before.clone(),
                        after_sha256: seen.to_string(),
                        seen_at: stamp.clone(),
                    });
                    *last = Some(seen.to_string());
                    dirty = true;
                }
                Some(_) => {}
                None => {
                    *last = Some(seen.to_string());
                    dirty = true;
                }
            }
        }
        let recent = |c: &Option<Change>| {
            c.as_ref()
                .filter(|c| {
                    humantime::parse_rfc3339(&c.seen_at)
                        .ok()
                        .and_then(|at| now.duration_since(at).ok())
                        .is_some_and(|age| age <= DRIFT_WINDOW)
                })
                .cloned()
        };
        let drift = Drift {
            content: recent(&rec.content_change),
            template: recent(&rec.template_change),
        };
        self.dirty |= dirty;
        drift
    }

    /// Like `save`, but while more files are queued at most once per `period`:
    /// the whole cache is rewritten and fsynced on each save, so saving after
    /// every one of 10,000 small files made a first run quadratic.
    pub fn save_throttled(&mut self, period: Duration, more_queued: bool) {
        if more_queued && self.saved_at.is_some_and(|t| t.elapsed() < period) {
            return;
        }
        self.save();
    }

    /// Write the cache if it changed; a failure makes it memory-only, said once.
    pub fn save(&mut self) {
        if !self.dirty {
            return;
        }
        let Some(path) = self.path.clone() else {
            if self.memory_only.is_none() {
                self.memory_only =
                    Some("no state directory ($XDG_STATE_HOME or $HOME unset)".into());
            }
            return;
        };
        let body = FileV2 {
            version: VERSION,
            entries: self.entries.clone(),
            paths: self.paths.clone(),
        };
        let result = path
            .parent()
            .map(|dir| {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))
            })
            .unwrap_or(Ok(()))
            .and_then(|_| serde_json::to_vec(&body).map_err(|e| e.to_string()))
            .and_then(|b| {
                crate::atomic::write_atomic(&path, &b).map_err(|e| crate::error::chain(&e))
            });
        match result {
            Ok(()) => {
                self.dirty = false;
                self.saved_at = Some(std::time::Instant::now());
                self.memory_only = None;
            }
            Err(e) => self.memory_only = Some(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000 + secs)
    }

    #[test]
    fn a_busy_queue_saves_at_most_once_per_period_and_always_when_drained() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("hashes.json");
        let mut c = HashCache::from_parts(Some(path.clone()), FileV2::default());
        let hour = Duration::from_secs(3600);
        c.insert("k1".into(), "h1".into());
        c.save_throttled(hour, true);
        let first = std::fs::read_to_string(&path).expect("first save");
        assert!(first.contains("h1"));
        c.insert("k2".into(), "h2".into());
        c.save_throttled(hour, true);
        assert_eq!(std::fs::read_to_string(&path).expect("read"), first);
        c.save_throttled(hour, false);
        assert!(std::fs::read_to_string(&path).expect("read").contains("h2"));
    }

    #[test]
    fn oldest_identity_is_evicted_first() {
        let mut c = HashCache::in_memory();
        for i in 0..MAX_ENTRIES + 3 {
            c.insert(format!("k{i}"), format!("h{i}"));
        }
        assert_eq!(c.entries.len(), MAX_ENTRIES);
        assert!(c.get("k0").is_none() && c.get("k2").is_none());
        assert_eq!(c.get("k3").map(String::as_str), Some("h3"));
        assert_eq!(
            c.get(&format!("k{}", MAX_ENTRIES + 2)).map(String::as_str),
            Some(&*format!("h{}", MAX_ENTRIES + 2))
        );
    }

    #[test]
    fn new_hash_at_a_known_path_is_drift_until_the_window_ends() {
        let mut c = HashCache::in_memory();
        assert_eq!(
            c.observe("/m/a.gguf", Some("aa"), Some("t1"), at(0)),
            Drift::default()
        );
        assert_eq!(c.observe("/m/a.gguf", None, None, at(10)), Drift::default());
        let d = c.observe("/m/a.gguf", Some("bb"), Some("t1"), at(20));
        let change = d.content.expect("content drift");
        assert_eq!(
            (change.before_sha256.as_str(), change.after_sha256.as_str()),
            ("aa", "bb")
        );
        assert!(d.template.is_none());
        // Still reported on later refreshes, then no more.
        assert!(
            c.observe("/m/a.gguf", Some("bb"), None, at(3600))
                .content
                .is_some()
        );
        let late = DRIFT_WINDOW.as_secs() + 21;
        assert!(
            c.observe("/m/a.gguf", Some("bb"), None, at(late))
                .content
                .is_none()
        );
    }

    #[test]
    fn template_change_is_reported_apart_from_content() {
        let mut c = HashCache::in_memory();
        c.observe("/m/b.gguf", Some("aa"), Some("t1"), at(0));
        let d = c.observe("/m/b.gguf", Some("cc"), Some("t2"), at(5));
        assert_eq!(d.template.map(|t| t.after_sha256), Some("t2".to_string()));
        assert!(d.content.is_some());
    }

    #[test]
    fn version_one_files_keep_their_hashes() {
        let f = parse(br#"{"version":1,"entries":{"1:2:3:4.0:5.0":"abc"}}"#);
        assert_eq!(
            f.entries.get("1:2:3:4.0:5.0").map(|e| e.sha256.as_str()),
            Some("abc")
        );
        assert!(parse(b"not json").entries.is_empty());
        assert!(parse(br#"{"version":99}"#).entries.is_empty());
    }
}
