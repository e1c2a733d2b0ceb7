//! The rows every pane lists: what a row points at, its cells, and helpers
//! the panes share (first-seen labels, file names).

use crate::model::{Reach, Snapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Servers,
    Findings,
    BlindSpots,
    Models,
    Patch,
    Privacy,
    Events,
}

impl Pane {
    pub(crate) const ORDER: [Pane; 7] = [
        Pane::Servers,
        Pane::Findings,
        Pane::BlindSpots,
        Pane::Models,
        Pane::Patch,
        Pane::Privacy,
        Pane::Events,
    ];
    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// What the selection points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// server index, socket index (None: a server without listeners)
    Server(usize, Option<usize>),
    Finding(usize),
    /// A suppressed finding (index into `suppressed`), listed when toggled on.
    Suppressed(usize),
    BlindSpot(usize),
    /// A listening socket no readable fd table holds (index into sockets).
    UnknownListener(usize),
    /// A model file a server holds (server index, model index).
    LoadedModel(usize, usize),
    /// A model file of a store (index into store_files).
    StoreModel(usize),
    /// A versioned component of a server (server index) or of the host (None).
    Component(Option<usize>, usize),
    /// The host's air-gap verdict.
    AirGap,
    /// A process of the privacy report (index into `privacy.processes`).
    PrivacyProcess(usize),
    /// A prompt log at rest (index into `inventory.privacy.prompt_logs`).
    PromptLog(usize),
    /// An event of the timeline (index into `timeline.recent`).
    Event(usize),
}

pub struct Row {
    pub item: Item,
    pub cells: Vec<String>,
    pub scope: Option<Reach>,
}

/// When a listener, model file or egress peer was first seen, from the timeline.
pub fn since_of(s: &Snapshot, kind: &str, key: &str) -> Option<String> {
    s.timeline
        .as_ref()?
        .since
        .iter()
        .find(|x| x.kind == kind && x.key == key)
        .map(|x| since_label(&x.first_seen))
}

pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `2026-11-20T14:02:05Z` → `11-20 14:02` (the "since" columns).
pub fn since_label(t: &str) -> String {
    match (t.get(5..10), t.get(11..16)) {
        (Some(d), Some(h)) => format!("{d} {h}"),
        _ => t.to_string(),
    }
}

/// A pickle's verdict as the detail views name it (`Safe`, `Dangerous`, …).
pub fn pickle_verdict(p: &crate::model::pickle::PickleReport) -> String {
    p.verdict
        .map_or_else(|| "not judged".into(), |v| format!("{v:?}"))
}
