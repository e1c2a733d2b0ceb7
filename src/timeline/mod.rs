//! History across refreshes and runs: each observed snapshot is diffed against
//! the previous one (kept in the store, so a later run diffs against an earlier
//! run), the events and first/last-seen times are persisted, and the snapshot
//! gets a `TimelineView` for the panes ("since" columns, events, sparklines).

mod basis;
pub mod store;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::model::Snapshot;
use crate::model::events::{Event, Sample, Since, TimelineView, WatchStatus};
use crate::model::keys::{egress_key, listener_key, server_identity};

pub use crate::model::events::Retention;
pub use store::Store;

/// How many events a snapshot carries for the Events pane.
const RECENT: usize = 500;
/// How far back the header's sparklines reach.
const SAMPLE_HOURS: u64 = 6;

/// (kind, key) of every listener, model file and egress peer in the snapshot.
pub fn seen_keys(snap: &Snapshot) -> Vec<(String, String)> {
    let inv = &snap.inventory;
    let mut out = Vec::new();
    for s in &inv.servers {
        let id = server_identity(s);
        for &i in &s.sockets {
            if let Some(sock) = inv.sockets.get(i).filter(|x| x.is_listener()) {
                out.push(("listener".into(), listener_key(&id, sock)));
            }
        }
        for m in &s.models {
            out.push(("model".into(), m.path.clone()));
        }
        if let Some(p) = snap.privacy.processes.iter().find(|p| p.pid == s.pid) {
            for e in &p.egress {
                out.push(("egress".into(), egress_key(&id, e)));
            }
        }
    }
    for f in &inv.store_files {
        if f.format.is_some() {
            out.push(("model".into(), f.path.clone()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Seen-kind of the peers each product has had (for `egress_new` de-duplication).
const PEER: &str = "peer";

/// As `rules::diff` names a peer in an `egress_new` subject.
fn peer_item(e: &crate::model::privacy::Egress) -> String {
    let proto = match e.protocol {
        crate::model::Protocol::Tcp => "tcp",
        crate::model::Protocol::Udp => "udp",
    };
    match e.remote {
        std::net::IpAddr::V4(a) => format!("{a}:{}/{proto}", e.port),
        std::net::IpAddr::V6(a) => format!("[{a}]:{}/{proto}", e.port),
    }
}

fn peer_key(e: &Event) -> String {
    format!(
        "{}|{}",
        e.subject.product.as_deref().unwrap_or(""),
        e.subject.item.as_deref().unwrap_or("")
    )
}

/// Where the timeline lives: `$XDG_STATE_HOME/aiposture`, else `~/.local/state/aiposture`.
pub fn default_dir() -> Option<PathBuf> {
    crate::paths::state_dir()
}

/// With nothing new, the store is written at most this often (samples, last seen).
const QUIET_WRITE: std::time::Duration = std::time::Duration::from_secs(60);

pub struct Timeline {
    /// `None` only if even an in-memory database could not be opened.
    store: Option<Store>,
    /// Why history is only in memory, shown in every view.
    memory_only: Option<String>,
    /// The previous observation; loaded from the store at the first one.
    last: Option<Snapshot>,
    loaded: bool,
    last_write: Option<std::time::Instant>,
    /// What the views show from the store, read again only after a write: a
    /// quiet refresh (nothing changed, nothing written) reads no history.
    history: Option<History>,
}

/// The store's side of a `TimelineView`, as of the last write.
struct History {
    /// kind → key → first seen.
    first: HashMap<&'static str, HashMap<String, String>>,
    samples: Vec<Sample>,
    recent: Vec<Event>,
}

impl History {
    fn read(store: &Store, now: &str) -> History {
        let from = humantime::parse_rfc3339_weak(now)
            .ok()
            .and_then(|t| t.checked_sub(std::time::Duration::from_secs(SAMPLE_HOURS * 3600)))
            .map(|t| humantime::format_rfc3339_seconds(t).to_string())
            .unwrap_or_default();
        History {
            first: SINCE_KINDS
                .into_iter()
                .map(|k| (k, store.first_seen(k).unwrap_or_default()))
                .collect(),
            samples: store
                .samples_since(&from)
                .unwrap_or_default()
                .into_iter()
                .map(|(time, open_findings, egress)| Sample {
                    time,
                    open_findings,
                    egress,
                })
                .collect(),
            recent: store.recent(RECENT).unwrap_or_default(),
        }
    }
}

/// The kinds of `seen` keys the views show a "since" for.
const SINCE_KINDS: [&str; 3] = ["listener", "model", "egress"];

impl Timeline {
    /// Opens the store in `dir`; when that fails, a memory-only timeline that
    /// says why.
    pub fn open(dir: Option<&Path>, retention: Retention) -> Timeline {
        let opened = match dir {
            Some(d) => Store::open(d, retention).map_err(|e| crate::error::chain(&e)),
            None => Err("no state directory ($XDG_STATE_HOME and $HOME unset)".into()),
        };
        match opened {
            Ok(store) => Timeline {
                store: Some(store),
                memory_only: None,
                last: None,
                loaded: false,
                last_write: None,
                history: None,
            },
            Err(why) => {
                log::warn!("timeline kept in memory only: {why}");
                Timeline {
                    store: Store::in_memory(retention).ok(),
                    memory_only: Some(why),
                    last: None,
                    loaded: true,
                    last_write: None,
                    history: None,
                }
            }
        }
    }

    /// Says why history is in memory only (e.g. `--no-history`).
    pub fn with_reason(mut self, why: &str) -> Timeline {
        self.memory_only = Some(why.to_string());
        self
    }

    pub fn memory_only(&self) -> Option<&str> {
        self.memory_only.as_deref()
    }

    /// Diffs `snap` against the previous observation, persists the events and
    /// first-seen times, and attaches the view. `extra` are events observed
    /// outside the diff (the file watcher's).
    pub fn observe(&mut self, snap: &mut Snapshot, extra: Vec<Event>, watch: Option<WatchStatus>) {
        snap.timeline = None;
        let Some(store) = self.store.as_mut() else {
            snap.timeline = Some(TimelineView {
                store: "none".into(),
                memory_only: Some("no store could be opened, not even in memory".into()),
                new_events: extra,
                watch,
                ..Default::default()
            });
            return;
        };
        if !self.loaded {
            self.loaded = true;
            self.last = match store.last() {
                Ok(Some(json)) => serde_json::from_str(&json).ok(),
                Ok(None) => None,
                Err(e) => {
                    log::warn!("timeline: previous observation unreadable: {e}");
                    None
                }
            };
        }
        let mut events = extra;
        if let Some(prev) = &self.last {
            events.extend(crate::rules::diff::diff(prev, snap));
        }
        let mut seen = seen_keys(snap);
        // A peer the product has talked to before is not new because a
        // heartbeat reconnected between two refreshes: only first sightings count.
        let known_peers = store.first_seen(PEER).unwrap_or_default();
        events.retain(|e| {
            e.kind != crate::model::events::EventKind::EgressNew
                || !known_peers.contains_key(&peer_key(e))
        });
        // Every peer connected now counts as had, first observation included.
        for s in &snap.inventory.servers {
            if let Some(p) = snap.privacy.processes.iter().find(|p| p.pid == s.pid) {
                for e in &p.egress {
                    seen.push((PEER.into(), format!("{}|{}", s.product_id, peer_item(e))));
                }
            }
        }
        let time = snap.inventory.host.collected_at.clone();
        let egress: u64 = snap
            .privacy
            .processes
            .iter()
            .flat_map(|p| p.egress.iter())
            .map(|e| e.connections as u64)
            .sum();
        let due = events.is_empty() && self.last_write.is_some_and(|t| t.elapsed() < QUIET_WRITE);
        let (recorded, basis) = if due {
            (Ok(()), None)
        } else {
            let basis = basis::diff_basis(snap);
            let last = serde_json::to_string(&basis).unwrap_or_default();
            let recorded = store.record(&store::Record {
                time: &time,
                events: &events,
                seen: &seen,
                open_findings: snap.findings.len() as u64,
                egress,
                last: &last,
            });
            (recorded, Some(basis))
        };
        match (&recorded, basis) {
            (Ok(()), Some(basis)) => {
                self.last_write = Some(std::time::Instant::now());
                self.last = Some(basis);
            }
            (Ok(()), None) => {}
            (Err(e), _) => log::warn!("timeline: {e}"),
        }
        if !due || self.history.is_none() {
            self.history = Some(History::read(store, &time));
        }
        let history = self.history.as_ref();
        let since = seen
            .iter()
            .filter_map(|(kind, key)| {
                let first = history?.first.get(kind.as_str())?.get(key)?;
                Some(Since {
                    kind: kind.clone(),
                    key: key.clone(),
                    first_seen: first.clone(),
                })
            })
            .collect();
        let memory_only = match (&self.memory_only, &recorded) {
            (Some(why), _) => Some(why.clone()),
            (None, Err(e)) => Some(format!("last write failed: {e}")),
            _ => None,
        };
        snap.timeline = Some(TimelineView {
            store: store
                .path
                .as_ref()
                .map_or_else(|| "memory".into(), |p| p.display().to_string()),
            memory_only,
            new_events: events,
            recent: history.map(|h| h.recent.clone()).unwrap_or_default(),
            since,
            samples: history.map(|h| h.samples.clone()).unwrap_or_default(),
            watch,
        });
    }
}
