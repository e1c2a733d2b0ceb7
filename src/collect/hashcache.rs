//! sha256 of model files kept across runs in `$XDG_STATE_HOME/aiposture/hashes.json`
//! (default `~/.local/state/aiposture/`), so an unchanged multi-GB store is not
//! hashed again. The key is (device, inode, size, mtime, ctime): ctime cannot be
//! set back by a user, so a file rewritten with its old mtime still misses.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Entries kept at most: the oldest file identities go first.
const MAX_ENTRIES: usize = 50_000;

#[derive(Default, Serialize, Deserialize)]
struct File {
    version: u32,
    entries: BTreeMap<String, String>,
}

pub struct HashCache {
    path: Option<PathBuf>,
    entries: BTreeMap<String, String>,
    dirty: bool,
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

fn state_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .map(|d| d.join("aiposture"))
}

impl HashCache {
    pub fn load() -> HashCache {
        let path = state_dir().map(|d| d.join("hashes.json"));
        let entries = path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice::<File>(&b).ok())
            .filter(|f| f.version == 1)
            .map(|f| f.entries)
            .unwrap_or_default();
        HashCache {
            path,
            entries,
            dirty: false,
            memory_only: None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.entries.get(key)
    }

    pub fn insert(&mut self, key: String, sha256: String) {
        if self.entries.len() >= MAX_ENTRIES
            && let Some(first) = self.entries.keys().next().cloned()
        {
            self.entries.remove(&first);
        }
        self.entries.insert(key, sha256);
        self.dirty = true;
    }

    /// Write the cache if it changed; a failure makes it memory-only, said once.
    pub fn save(&mut self) {
        if !self.dirty {
            return;
        }
        let Some(path) = self.path.clone() else {
            self.memory_only = Some("no state directory ($XDG_STATE_HOME or $HOME unset)".into());
            return;
        };
        let body = File {
            version: 1,
            entries: self.entries.clone(),
        };
        let result = path
            .parent()
            .map(std::fs::create_dir_all)
            .unwrap_or(Ok(()))
            .map_err(|e| e.to_string())
            .and_then(|_| serde_json::to_vec(&body).map_err(|e| e.to_string()))
            .and_then(|b| crate::atomic::write_atomic(&path, &b).map_err(|e| e.to_string()));
        match result {
            Ok(()) => self.dirty = false,
            Err(e) => self.memory_only = Some(format!("{}: {e}", path.display())),
        }
    }
}
