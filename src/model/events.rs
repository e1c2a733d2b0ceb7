//! Events: what changed between two observations of the host (two collections
//! of the dashboard, two snapshots, a baseline and now), each with its time,
//! subject, before → after and evidence.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Evidence, Severity};

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ServerStarted,
    ServerStopped,
    /// The same server (product, executable, user) came back under a new pid.
    ServerRestarted,
    ListenerAdded,
    ListenerRemoved,
    /// The same server's port moved to another address (127.0.0.1 → 0.0.0.0).
    ListenerRebound,
    ExposureChanged,
    AuthChanged,
    ModelAdded,
    ModelRemoved,
    /// Same path, other content (sha256).
    ModelChanged,
    /// Same path, other chat template.
    TemplateChanged,
    VersionChanged,
    EgressNew,
    TelemetryChanged,
    FindingOpened,
    FindingClosed,
    /// A watched file or directory changed on disk (inotify), before any rehash.
    FileChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 18] = [
        EventKind::ServerStarted,
        EventKind::ServerStopped,
        EventKind::ServerRestarted,
        EventKind::ListenerAdded,
        EventKind::ListenerRemoved,
        EventKind::ListenerRebound,
        EventKind::ExposureChanged,
        EventKind::AuthChanged,
        EventKind::ModelAdded,
        EventKind::ModelRemoved,
        EventKind::ModelChanged,
        EventKind::TemplateChanged,
        EventKind::VersionChanged,
        EventKind::EgressNew,
        EventKind::TelemetryChanged,
        EventKind::FindingOpened,
        EventKind::FindingClosed,
        EventKind::FileChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ServerStarted => "server_started",
            EventKind::ServerStopped => "server_stopped",
            EventKind::ServerRestarted => "server_restarted",
            EventKind::ListenerAdded => "listener_added",
            EventKind::ListenerRemoved => "listener_removed",
            EventKind::ListenerRebound => "listener_rebound",
            EventKind::ExposureChanged => "exposure_changed",
            EventKind::AuthChanged => "auth_changed",
            EventKind::ModelAdded => "model_added",
            EventKind::ModelRemoved => "model_removed",
            EventKind::ModelChanged => "model_changed",
            EventKind::TemplateChanged => "template_changed",
            EventKind::VersionChanged => "version_changed",
            EventKind::EgressNew => "egress_new",
            EventKind::TelemetryChanged => "telemetry_changed",
            EventKind::FindingOpened => "finding_opened",
            EventKind::FindingClosed => "finding_closed",
            EventKind::FileChanged => "file_changed",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an event is about: enough to find it again in a later snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
pub struct EventSubject {
    /// Product id of the server (`llama_server`), when a server is concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// `0.0.0.0:8080/tcp`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// A finding rule, a component, a switch or a peer, when that is the subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

impl EventSubject {
    /// One line: `llama_server 812 0.0.0.0:8080/tcp`.
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(p) = &self.product {
            parts.push(p.clone());
        }
        if let Some(pid) = self.pid {
            parts.push(pid.to_string());
        }
        for s in [&self.listener, &self.path, &self.item]
            .into_iter()
            .flatten()
        {
            parts.push(s.clone());
        }
        parts.join(" ")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Event {
    /// RFC 3339 UTC: when the change was observed (the later collection).
    pub time: String,
    pub kind: EventKind,
    pub severity: Severity,
    pub subject: EventSubject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub evidence: Vec<Evidence>,
}

/// What the timeline knows, attached to a snapshot that was observed by it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct TimelineView {
    /// The store file, or `memory` when history lives only as long as this process.
    pub store: String,
    /// Why history is not kept on disk (state directory not writable, store refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_only: Option<String>,
    /// What changed since the previous observation (by any aiposture run).
    pub new_events: Vec<Event>,
    /// The newest events kept, newest first.
    pub recent: Vec<Event>,
    /// Since when each listener, model file and egress peer seen now has been seen.
    pub since: Vec<Since>,
    /// Open findings and egress connections over the last hours, oldest first.
    pub samples: Vec<Sample>,
    /// What the file watcher covers (dashboard only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<WatchStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Since {
    /// `listener`, `model`, `egress`
    pub kind: String,
    pub key: String,
    pub first_seen: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Sample {
    pub time: String,
    pub open_findings: u64,
    pub egress: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct WatchStatus {
    /// Directories with an inotify watch.
    pub watches: usize,
    /// The kernel's per-user limit (`fs.inotify.max_user_watches`).
    pub limit: Option<u64>,
    /// Roots that could not be watched, with why.
    pub errors: Vec<String>,
}

/// What is kept, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    pub days: u32,
    pub max_events: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            days: 90,
            max_events: 100_000,
        }
    }
}
