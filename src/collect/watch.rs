//! inotify watches (notify, debounced) on model directories, the directories
//! of loaded model files, server unit files and configuration files: a change
//! there wakes the dashboard at once and is an event of its own, before any
//! rehash says what changed. Watches follow the inventory on every refresh.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, Debouncer, new_debouncer};

use crate::model::events::{Event, EventKind, EventSubject, WatchStatus};
use crate::model::{Evidence, Inventory, RootState, Severity, Source};

pub struct Watcher {
    debouncer: Debouncer<RecommendedWatcher>,
    rx: mpsc::Receiver<DebounceEventResult>,
    /// Path → recursive?
    watched: BTreeMap<PathBuf, bool>,
    errors: BTreeMap<PathBuf, String>,
}

/// What should be watched for this inventory: (path, recursive).
pub fn wanted(inv: &Inventory) -> BTreeMap<PathBuf, bool> {
    let mut out = BTreeMap::new();
    for r in inv
        .model_roots
        .iter()
        .filter(|r| r.state == RootState::Found)
    {
        out.insert(PathBuf::from(&r.path), true);
    }
    for s in &inv.servers {
        for m in s.models.iter().filter(|m| !m.deleted) {
            // As this process sees it: a container's files through its root.
            let seen = if s.confinement.container.is_some() {
                crate::collect::models::loaded::through_root(s.pid, &m.fs_path())
            } else {
                m.fs_path()
            };
            if let Some(dir) = seen.parent() {
                out.entry(dir.to_path_buf()).or_insert(false);
            }
        }
        if let Some(unit) = &s.confinement.systemd_unit {
            for f in &unit.files {
                out.entry(PathBuf::from(f)).or_insert(false);
            }
        }
    }
    for c in &inv.privacy.config_backends {
        if c.file.starts_with('/') {
            out.entry(PathBuf::from(&c.file)).or_insert(false);
        }
    }
    // A directory watched recursively covers what lies below it.
    let recursive: Vec<PathBuf> = out
        .iter()
        .filter(|(_, r)| **r)
        .map(|(p, _)| p.clone())
        .collect();
    out.retain(|p, r| *r || !recursive.iter().any(|d| p.starts_with(d)));
    out
}

impl Watcher {
    /// `wake` is called (from the watcher's thread) once per debounced batch.
    pub fn new(debounce: Duration, wake: impl Fn() + Send + 'static) -> notify::Result<Watcher> {
        let (tx, rx) = mpsc::channel();
        let debouncer = new_debouncer(debounce, move |res: DebounceEventResult| {
            let _ = tx.send(res);
            wake();
        })?;
        Ok(Watcher {
            debouncer,
            rx,
            watched: BTreeMap::new(),
            errors: BTreeMap::new(),
        })
    }

    /// Makes the watched set what `want` says: new paths added, gone ones removed.
    pub fn sync(&mut self, want: &BTreeMap<PathBuf, bool>) {
        let gone: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(p, r)| want.get(*p) != Some(*r))
            .map(|(p, _)| p.clone())
            .collect();
        for p in gone {
            let _ = self.debouncer.watcher().unwatch(&p);
            self.watched.remove(&p);
        }
        self.errors.retain(|p, _| want.contains_key(p));
        for (p, &recursive) in want {
            if self.watched.contains_key(p) || self.errors.contains_key(p) {
                continue;
            }
            let mode = if recursive {
                RecursiveMode::Recursive
            } else {
                RecursiveMode::NonRecursive
            };
            match self.debouncer.watcher().watch(p, mode) {
                Ok(()) => {
                    self.watched.insert(p.clone(), recursive);
                }
                Err(e) => {
                    self.errors.insert(p.clone(), e.to_string());
                }
            }
        }
    }

    /// File events since the last call, one per path, at `time`.
    pub fn drain(&self, time: &str) -> Vec<Event> {
        let mut paths: BTreeMap<PathBuf, ()> = BTreeMap::new();
        let mut errors = Vec::new();
        while let Ok(res) = self.rx.try_recv() {
            match res {
                Ok(evs) => {
                    for e in evs {
                        paths.insert(e.path, ());
                    }
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        for e in errors {
            log::warn!("file watcher: {e}");
        }
        paths
            .into_keys()
            .map(|p| Event {
                time: time.to_string(),
                kind: EventKind::FileChanged,
                severity: Severity::Info,
                subject: EventSubject {
                    path: Some(p.to_string_lossy().into_owned()),
                    ..Default::default()
                },
                before: None,
                after: Some(describe(&p)),
                evidence: vec![Evidence::new(
                    Source::command("inotify"),
                    format!(
                        "change under {}",
                        self.root_of(&p)
                            .map_or_else(|| "a watched path".into(), |r| r.display().to_string())
                    ),
                )],
            })
            .collect()
    }

    fn root_of(&self, p: &Path) -> Option<&Path> {
        self.watched
            .keys()
            .filter(|w| p.starts_with(w))
            .max_by_key(|w| w.as_os_str().len())
            .map(PathBuf::as_path)
    }

    pub fn status(&self) -> WatchStatus {
        WatchStatus {
            watches: kernel_watch_count().unwrap_or(self.watched.len()),
            limit: std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
                .ok()
                .and_then(|s| s.trim().parse().ok()),
            errors: self
                .errors
                .iter()
                .map(|(p, e)| format!("{}: {e}", p.display()))
                .collect(),
        }
    }
}

/// What the path is now, in a word.
fn describe(p: &Path) -> String {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => "directory changed".into(),
        Ok(m) => format!("{} bytes now", m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "removed".into(),
        Err(e) => e.to_string(),
    }
}

/// inotify watches this process holds, as the kernel counts them (one per
/// watched directory or file): the lines of the inotify fd's fdinfo.
fn kernel_watch_count() -> Option<usize> {
    let mut total = None;
    for e in std::fs::read_dir("/proc/self/fd").ok()?.flatten() {
        let is_inotify =
            std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy() == "anon_inode:inotify");
        if !is_inotify {
            continue;
        }
        let info = std::fs::read_to_string(format!(
            "/proc/self/fdinfo/{}",
            e.file_name().to_string_lossy()
        ))
        .ok()?;
        *total.get_or_insert(0) += info
            .lines()
            .filter(|l| l.starts_with("inotify wd:"))
            .count();
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_replaced_file_is_one_event_and_watches_are_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let woken = Arc::new(AtomicUsize::new(0));
        let w2 = Arc::clone(&woken);
        let mut w = Watcher::new(Duration::from_millis(100), move || {
            w2.fetch_add(1, Ordering::SeqCst);
        })
        .expect("watcher");
        let mut want = BTreeMap::new();
        want.insert(dir.path().to_path_buf(), true);
        w.sync(&want);
        assert!(w.status().watches >= 2, "{:?}", w.status());
        let target = dir.path().join("sub/model.gguf");
        std::fs::write(dir.path().join("sub/.tmp"), b"new").expect("write");
        std::fs::rename(dir.path().join("sub/.tmp"), &target).expect("rename");
        let start = std::time::Instant::now();
        let mut events = Vec::new();
        while start.elapsed() < Duration::from_secs(10) {
            events.extend(w.drain("2026-01-01T00:00:00Z"));
            if events
                .iter()
                .any(|e| e.subject.path.as_deref() == target.to_str())
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            events
                .iter()
                .any(|e| e.subject.path.as_deref() == target.to_str()),
            "{events:#?}"
        );
        assert!(woken.load(Ordering::SeqCst) >= 1);
        w.sync(&BTreeMap::new());
        assert!(w.status().watches == 0, "{:?}", w.status());
    }
}
