//! Background sha256 of model files too large to hash during a refresh. Worker
//! threads run at the lowest CPU and I/O priority, so a dashboard refresh is
//! never starved; results land in the shared hash cache and are picked up by
//! the next refresh. Progress is readable at any time for the UI.

use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use sha2::{Digest, Sha256};

use crate::collect::models::hashcache::{self, HashCache};
use crate::model::{HashProgress, HashingNow};

/// Read size: small enough to stay in cache between read and hash (measured:
/// 64 KiB beats 1 MiB by about a quarter on a page-cached file).
const CHUNK: usize = 64 * 1024;
/// Failures remembered, per path, so the UI can say why a hash is missing.
const MAX_FAILURES: usize = 1_000;

/// sha256 of a file, streamed (never held in memory). `progress` counts bytes.
pub fn sha256_file(path: &Path, progress: Option<&AtomicU64>) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = match f.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        if let Some(p) = progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

struct Job {
    /// Path to open (through /proc/PID/root for a process's view).
    open_at: PathBuf,
    /// Path shown to the user.
    shown: String,
    key: String,
    size: u64,
}

struct Active {
    shown: String,
    size: u64,
    done: Arc<AtomicU64>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    /// Keys queued or being hashed: a file is queued once however often it is seen.
    keys: HashSet<String>,
    active: Vec<Active>,
    files_done: u64,
    bytes_done: u64,
    failures: std::collections::HashMap<String, String>,
    workers: usize,
    shutdown: bool,
}

struct Shared {
    state: Mutex<State>,
    /// Signalled when a job is queued and when one ends.
    changed: Condvar,
    cache: Arc<Mutex<Option<HashCache>>>,
}

pub struct Hasher {
    shared: Arc<Shared>,
    max_workers: usize,
}

/// What the hasher knows about one file.
pub enum Lookup {
    Queued { position: usize },
    Hashing { done: u64, size: u64 },
    Failed(String),
    NotQueued,
}

impl Hasher {
    /// `max_workers`: threads hashing at once (files are spread across them).
    pub fn new(cache: Arc<Mutex<Option<HashCache>>>, max_workers: usize) -> Hasher {
        Hasher {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
                cache,
            }),
            max_workers: max_workers.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue a file unless it is queued or being hashed already.
    pub fn enqueue(&self, open_at: PathBuf, shown: String, key: String, size: u64) {
        let mut st = self.lock();
        if st.keys.contains(&key) {
            return;
        }
        st.failures.remove(&shown);
        st.keys.insert(key.clone());
        st.queue.push_back(Job {
            open_at,
            shown,
            key,
            size,
        });
        if st.workers < self.max_workers && st.workers < st.queue.len() + st.active.len() {
            st.workers += 1;
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("aiposture-hash".into())
                .spawn(move || worker(shared));
            if spawned.is_err() {
                st.workers -= 1;
                if st.workers == 0 {
                    // Nobody would ever take it: say so rather than wait forever.
                    if let Some(job) = st.queue.pop_back() {
                        st.keys.remove(&job.key);
                        st.failures
                            .insert(job.shown, "could not start a hashing thread".into());
                    }
                }
            }
        }
        self.shared.changed.notify_all();
    }

    pub fn lookup(&self, key: &str, shown: &str) -> Lookup {
        let st = self.lock();
        if let Some(a) = st.active.iter().find(|a| a.shown == shown) {
            return Lookup::Hashing {
                done: a.done.load(Ordering::Relaxed),
                size: a.size,
            };
        }
        if let Some(i) = st.queue.iter().position(|j| j.key == key) {
            return Lookup::Queued { position: i + 1 };
        }
        match st.failures.get(shown) {
            Some(why) => Lookup::Failed(why.clone()),
            None => Lookup::NotQueued,
        }
    }

    pub fn progress(&self) -> HashProgress {
        let st = self.lock();
        HashProgress {
            files_pending: st.queue.len() + st.active.len(),
            bytes_pending: st.queue.iter().map(|j| j.size).sum::<u64>()
                + st.active
                    .iter()
                    .map(|a| a.size.saturating_sub(a.done.load(Ordering::Relaxed)))
                    .sum::<u64>(),
            files_done: st.files_done,
            bytes_done: st.bytes_done
                + st.active
                    .iter()
                    .map(|a| a.done.load(Ordering::Relaxed))
                    .sum::<u64>(),
            current: st
                .active
                .iter()
                .map(|a| HashingNow {
                    path: a.shown.clone(),
                    done_bytes: a.done.load(Ordering::Relaxed),
                    size_bytes: a.size,
                })
                .collect(),
        }
    }

    /// Block until nothing is queued or being hashed (headless snapshots).
    pub fn wait_idle(&self) {
        let mut st = self.lock();
        while !st.queue.is_empty() || !st.active.is_empty() {
            st = self
                .shared
                .changed
                .wait(st)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

impl Drop for Hasher {
    fn drop(&mut self) {
        self.lock().shutdown = true;
        self.shared.changed.notify_all();
    }
}

/// Lowest CPU (nice 19) and I/O (idle class) priority for the calling thread
/// only: on Linux both apply per thread id.
// The one unsafe block of the crate: ioprio_set has no safe wrapper in libc or
// nix, and setpriority on a thread id is only reachable through libc.
#[allow(unsafe_code)]
fn lower_priority() {
    // SAFETY: plain syscalls on the calling thread's own id; failures are harmless.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
        const IOPRIO_WHO_PROCESS: libc::c_long = 1;
        const IOPRIO_CLASS_IDLE: libc::c_long = 3;
        libc::syscall(
            libc::SYS_ioprio_set,
            IOPRIO_WHO_PROCESS,
            tid as libc::c_long,
            IOPRIO_CLASS_IDLE << 13,
        );
    }
}

/// How often a long queue writes its progress to the hash cache: what a
/// killed dashboard loses is at most this much hashing.
const SAVE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

fn worker(shared: Arc<Shared>) {
    lower_priority();
    loop {
        let (job, done) = {
            let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if st.shutdown {
                    st.workers -= 1;
                    return;
                }
                if let Some(job) = st.queue.pop_front() {
                    let done = Arc::new(AtomicU64::new(0));
                    st.active.push(Active {
                        shown: job.shown.clone(),
                        size: job.size,
                        done: done.clone(),
                    });
                    break (job, done);
                }
                st = shared.changed.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        };
        let result = hash_job(&job, &done);
        // Into the cache before the job leaves `active`: whoever waits for an idle
        // hasher must then find every hash.
        if let Ok(sha) = &result {
            let more_queued = !shared
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .queue
                .is_empty();
            let mut cache = shared.cache.lock().unwrap_or_else(|p| p.into_inner());
            let cache = cache.get_or_insert_with(HashCache::load);
            cache.insert(job.key.clone(), sha.clone());
            cache.save_throttled(SAVE_EVERY, more_queued);
        }
        let mut st = shared.state.lock().unwrap_or_else(|p| p.into_inner());
        st.active.retain(|a| !Arc::ptr_eq(&a.done, &done));
        st.keys.remove(&job.key);
        match result {
            Ok(_) => {
                st.files_done += 1;
                st.bytes_done += job.size;
            }
            Err(why) => {
                if st.failures.len() >= MAX_FAILURES {
                    st.failures.clear();
                }
                st.failures.insert(job.shown, why);
            }
        }
        drop(st);
        shared.changed.notify_all();
    }
}

/// Hash a queued file if it is still the file that was queued, and was not
/// changed while it was read.
fn hash_job(job: &Job, done: &AtomicU64) -> Result<String, String> {
    let before = std::fs::metadata(&job.open_at).map_err(|e| e.to_string())?;
    if hashcache::key(&before) != job.key {
        return Err("changed since it was queued; hashed again on a later refresh".into());
    }
    let sha = sha256_file(&job.open_at, Some(done)).map_err(|e| e.to_string())?;
    let after = std::fs::metadata(&job.open_at).map_err(|e| e.to_string())?;
    if hashcache::key(&after) != job.key {
        return Err("changed while it was hashed; hashed again on a later refresh".into());
    }
    Ok(sha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn known_vector_and_progress_count() {
        let mut f = tempfile::NamedTempFile::new().expect("temp");
        f.write_all(b"abc").expect("write");
        let n = AtomicU64::new(0);
        assert_eq!(
            sha256_file(f.path(), Some(&n)).expect("hash"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(n.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn queued_files_are_hashed_into_the_cache() {
        let dir = tempfile::tempdir().expect("dir");
        let cache = Arc::new(Mutex::new(Some(HashCache::in_memory())));
        let h = Hasher::new(cache.clone(), 2);
        let mut keys = Vec::new();
        for i in 0..5u8 {
            let p = dir.path().join(format!("f{i}"));
            std::fs::write(&p, vec![i; 200_000]).expect("write");
            let key = hashcache::key(&std::fs::metadata(&p).expect("meta"));
            h.enqueue(p.clone(), p.display().to_string(), key.clone(), 200_000);
            keys.push((p, key));
        }
        h.wait_idle();
        let p = h.progress();
        assert_eq!((p.files_done, p.files_pending), (5, 0));
        assert_eq!(p.bytes_done, 1_000_000);
        let guard = cache.lock().expect("lock");
        let c = guard.as_ref().expect("cache");
        for (path, key) in keys {
            let expected = sha256_file(&path, None).expect("hash");
            assert_eq!(c.get(&key), Some(&expected));
        }
    }

    #[test]
    fn workers_run_at_the_lowest_cpu_priority() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("big.bin");
        let f = std::fs::File::create(&p).expect("create");
        f.set_len(4 << 30).expect("sparse 4 GiB");
        let key = hashcache::key(&std::fs::metadata(&p).expect("meta"));
        let h = Hasher::new(Arc::new(Mutex::new(Some(HashCache::in_memory()))), 1);
        h.enqueue(p.clone(), "big.bin".into(), key.clone(), 4 << 30);
        let mut nice = None;
        for _ in 0..200 {
            for task in std::fs::read_dir("/proc/self/task")
                .expect("tasks")
                .flatten()
            {
                let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
                if comm.trim() == "aiposture-hash" {
                    let stat =
                        std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
                    // Field 19 (nice), counted after the parenthesised command name.
                    nice = stat
                        .rsplit_once(')')
                        .and_then(|(_, rest)| rest.split_whitespace().nth(16))
                        .and_then(|n| n.parse::<i32>().ok());
                }
            }
            if matches!(h.lookup(&key, "big.bin"), Lookup::Hashing { .. }) && nice.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(nice, Some(19));
        // Seen again by a refresh while it is being hashed: not queued twice.
        h.enqueue(p.clone(), "big.bin".into(), key.clone(), 4 << 30);
        let progress = h.progress();
        assert_eq!(progress.files_pending, 1);
        assert!(progress.current.iter().any(|c| c.path == "big.bin"));
    }

    #[test]
    fn a_file_changed_after_queueing_is_not_cached() {
        let dir = tempfile::tempdir().expect("dir");
        let p = dir.path().join("m.bin");
        std::fs::write(&p, b"one").expect("write");
        let key = hashcache::key(&std::fs::metadata(&p).expect("meta"));
        std::fs::write(&p, b"two, longer").expect("rewrite");
        let cache = Arc::new(Mutex::new(Some(HashCache::in_memory())));
        let h = Hasher::new(cache.clone(), 1);
        h.enqueue(p.clone(), "m.bin".into(), key.clone(), 3);
        h.wait_idle();
        assert!(matches!(h.lookup(&key, "m.bin"), Lookup::Failed(w) if w.contains("changed")));
        assert!(
            cache
                .lock()
                .expect("lock")
                .as_ref()
                .expect("c")
                .get(&key)
                .is_none()
        );
    }
}
