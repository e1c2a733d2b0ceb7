//! Content hashes of every model file (held by a server or found in a store):
//! from the persistent cache when the file is unchanged, hashed now when small,
//! otherwise by the background hasher. Store digests are checked against them and
//! each path's hash history turns a swapped file into drift.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::collect::Collector;
use crate::collect::models::hashcache::{self, HashCache};
use crate::collect::models::hasher::Lookup;
use crate::model::{
    BlindSpot, Drift, FileHash, HashProgress, Integrity, Server, Source, StoreFile,
};

/// Files up to this size are hashed during the refresh that finds them: cheaper
/// than a trip through the queue.
const INLINE_MAX: u64 = 4 * 1024 * 1024;

/// One file to hash: how to open it, how to show it, where its history is kept.
struct Target {
    open_at: PathBuf,
    shown: String,
    /// Key of its path history.
    history: String,
}

impl Collector {
    /// Fill `hash`, `drift` and store `integrity` of every model file.
    pub(in crate::collect) fn resolve_hashes(
        &self,
        servers: &mut [Server],
        store_files: &mut [StoreFile],
        blind: &mut Vec<BlindSpot>,
    ) -> HashProgress {
        let mut guard = self.hashes.lock().unwrap_or_else(|p| p.into_inner());
        let cache = guard.get_or_insert_with(HashCache::load);
        let now = SystemTime::now();

        let mut loaded: Vec<(usize, usize, Target)> = Vec::new();
        for (si, s) in servers.iter().enumerate() {
            let container = s.confinement.container.as_ref().map(|c| {
                c.id.clone()
                    .unwrap_or_else(|| format!("{} {}", c.runtime, c.cgroup))
            });
            for (mi, m) in s.models.iter().enumerate().filter(|(_, m)| !m.deleted) {
                loaded.push((
                    si,
                    mi,
                    Target {
                        open_at: crate::collect::models::loaded::through_root(m.pid, &m.fs_path()),
                        shown: m.path.clone(),
                        // Paths inside a container are the container's own.
                        history: match &container {
                            Some(id) => format!("container {id}:{}", m.path),
                            None => m.path.clone(),
                        },
                    },
                ));
            }
        }
        let stored: Vec<(usize, Target)> = store_files
            .iter()
            .enumerate()
            .filter(|(_, f)| {
                f.expected_sha256.is_some() || crate::collect::models::stores::is_model(f)
            })
            .map(|(i, f)| {
                (
                    i,
                    Target {
                        open_at: PathBuf::from(&f.path),
                        shown: f.path.clone(),
                        history: f.path.clone(),
                    },
                )
            })
            .collect();

        if self.wait_for_hashes {
            // Queue everything first so that files are hashed in parallel, then wait.
            for t in loaded
                .iter()
                .map(|(_, _, t)| t)
                .chain(stored.iter().map(|(_, t)| t))
            {
                if let Ok(meta) = std::fs::metadata(&t.open_at) {
                    let key = hashcache::key(&meta);
                    if cache.get(&key).is_none() {
                        self.hasher
                            .enqueue(t.open_at.clone(), t.shown.clone(), key, meta.len());
                    }
                }
            }
            drop(guard);
            self.hasher.wait_idle();
            guard = self.hashes.lock().unwrap_or_else(|p| p.into_inner());
        }
        let cache = guard.get_or_insert_with(HashCache::load);

        for (si, mi, t) in loaded {
            let Some(m) = servers.get_mut(si).and_then(|s| s.models.get_mut(mi)) else {
                continue;
            };
            m.facts.hash = self.hash_of(cache, &t);
            let template = template_sha(&m.facts.analysis);
            m.facts.drift = observe(cache, &t, &m.facts.hash, template.as_deref(), now);
        }
        for s in servers.iter_mut() {
            for m in s.models.iter_mut().filter(|m| m.deleted) {
                m.facts.hash = FileHash::Unknown {
                    why: "deleted or replaced on disk while the server holds it: its content is readable only through the process (root)".into(),
                };
            }
        }
        for (i, t) in stored {
            let Some(f) = store_files.get_mut(i) else {
                continue;
            };
            f.facts.hash = self.hash_of(cache, &t);
            let template = template_sha(&f.facts.analysis);
            f.facts.drift = observe(cache, &t, &f.facts.hash, template.as_deref(), now);
            if let Some(expected) = &f.expected_sha256 {
                f.integrity = match &f.facts.hash {
                    FileHash::Known { sha256 } if sha256.eq_ignore_ascii_case(expected) => {
                        Integrity::Verified
                    }
                    FileHash::Known { sha256 } => Integrity::Mismatch {
                        actual_sha256: sha256.clone(),
                    },
                    FileHash::Pending { why } | FileHash::Unknown { why } => {
                        Integrity::NotChecked { why: why.clone() }
                    }
                };
            }
        }
        cache.save();
        if let Some(why) = &cache.memory_only {
            blind.push(BlindSpot {
                what: "the hash cache and model path history".into(),
                path: Source::record("$XDG_STATE_HOME/aiposture/hashes.json"),
                reason: why.clone(),
                consequence: "model files are hashed again on every run, and a file swapped between runs is not reported as drift".into(),
            });
        }
        self.hasher.progress()
    }

    fn hash_of(&self, cache: &mut HashCache, t: &Target) -> FileHash {
        let meta = match std::fs::metadata(&t.open_at) {
            Ok(m) => m,
            Err(e) => {
                return FileHash::Unknown {
                    why: format!("unreadable: {e}"),
                };
            }
        };
        let key = hashcache::key(&meta);
        if let Some(sha) = cache.get(&key) {
            return FileHash::Known {
                sha256: sha.clone(),
            };
        }
        match self.hasher.lookup(&key, &t.shown) {
            Lookup::Hashing { done, size } => {
                return FileHash::Pending {
                    why: format!(
                        "being hashed in the background: {}%",
                        (done * 100).checked_div(size).unwrap_or(0)
                    ),
                };
            }
            Lookup::Queued { position } => {
                return FileHash::Pending {
                    why: format!("queued for background hashing (position {position})"),
                };
            }
            Lookup::Failed(why) => return FileHash::Unknown { why },
            Lookup::NotQueued => {}
        }
        if meta.len() <= INLINE_MAX {
            return match crate::collect::models::hasher::sha256_file(&t.open_at, None) {
                Ok(sha) => {
                    cache.insert(key, sha.clone());
                    FileHash::Known { sha256: sha }
                }
                Err(e) => FileHash::Unknown {
                    why: format!("unreadable: {e}"),
                },
            };
        }
        self.hasher
            .enqueue(t.open_at.clone(), t.shown.clone(), key, meta.len());
        FileHash::Pending {
            why: "queued for background hashing".into(),
        }
    }
}

/// One digest for every template a loader of the model could render: the
/// header's own when it is the only one (so earlier history still matches),
/// else a sha256 over each template's source and digest, so an edited
/// `tokenizer_config.json` or Ollama template layer is a change too.
fn template_sha(a: &crate::model::ModelAnalysis) -> Option<String> {
    use sha2::{Digest, Sha256};
    let all = a.templates();
    match all.as_slice() {
        [] => None,
        [(src, t)] if src == "tokenizer.chat_template" => Some(t.sha256.clone()),
        many => {
            let mut lines: Vec<String> = many
                .iter()
                .map(|(src, t)| format!("{src}\0{}\n", t.sha256))
                .collect();
            lines.sort();
            let d = Sha256::digest(lines.concat().as_bytes());
            Some(d.iter().map(|b| format!("{b:02x}")).collect())
        }
    }
}

fn observe(
    cache: &mut HashCache,
    t: &Target,
    hash: &FileHash,
    template: Option<&str>,
    now: SystemTime,
) -> Drift {
    cache.observe(&t.history, hash.sha256(), template, now)
}
