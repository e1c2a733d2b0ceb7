//! The versioned document written by `aiposture snapshot` and shown by the TUI.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Finding, Inventory};

/// Bumped on any change that breaks readers of the JSON. 2: evidence sources,
/// socket sources, blind spots' paths, port publishes' `via` and firewall
/// sources are typed objects (`model::Source`), no longer lines of text.
pub const SCHEMA_VERSION: u32 = 2;

/// The oldest version this build still reads (baselines and history kept from
/// before an upgrade): version 1's sources are read back as the text they were.
pub const OLDEST_READABLE_SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Snapshot {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub inventory: Inventory,
    /// Per-listener exposure verdicts, keyed by index into `inventory.sockets`.
    pub exposures: Vec<ListenerExposure>,
    /// What the loopback probes showed, per probed listener.
    pub probe_verdicts: Vec<ProbeVerdict>,
    pub findings: Vec<Finding>,
    /// Findings accepted by a `[[suppress]]` entry of the config: not in
    /// `findings`, not scored, not counted by `--fail-on`; kept with their reason.
    #[serde(default)]
    pub suppressed: Vec<super::SuppressedFinding>,
    /// Posture scores with their arithmetic (weights: assets/score.toml).
    pub scores: Scores,
    /// Advisory data used (embedded or an osv.dev export, its age) and matches.
    #[serde(default)]
    pub patch: super::PatchStatus,
    /// Telemetry, back-ends, tunnels, egress and the air-gap verdict.
    #[serde(default)]
    pub privacy: super::privacy::PrivacyReport,
    /// History: events since the previous observation, first-seen times, samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<super::events::TimelineView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Scores {
    /// The weakest server's score (100 with no server).
    pub host: u32,
    pub servers: Vec<ServerScore>,
    /// How much of the listening surface the score could judge.
    #[serde(default)]
    pub coverage: Coverage,
}

/// TCP listeners bound beyond loopback: those of the AI stack (servers, their
/// workers and helpers), how many of those have a known auth verdict, and how
/// many have no owner aiposture could see (any of them may be part of the stack).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Coverage {
    pub ai_listeners: usize,
    /// Whether it demands credentials is known: a probe said, or the server's
    /// own switches did (for its own ports).
    pub judged: usize,
    /// Listeners beyond loopback whose owning process could not be seen.
    pub owner_unknown: usize,
    /// The AI listeners not judged, e.g. `0.0.0.0:8265/tcp (Ray Serve, pid 812)`.
    pub unjudged: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ServerScore {
    pub pid: u32,
    pub product: String,
    pub score: u32,
    pub start: u32,
    /// One term per finding: what it cost.
    pub terms: Vec<ScoreTerm>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ScoreTerm {
    pub rule: String,
    pub severity: super::Severity,
    pub weight: u32,
}

impl ServerScore {
    /// "100 − 25 (high exposure.unauthenticated-listener) − 10 (…) = 65"
    pub fn arithmetic(&self) -> String {
        let mut s = self.start.to_string();
        for t in self.terms.iter().filter(|t| t.weight > 0) {
            s.push_str(&format!(" − {} ({} {})", t.weight, t.severity, t.rule));
        }
        format!("{s} = {}", self.score)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ProbeVerdict {
    pub socket: usize,
    pub pid: u32,
    pub identity: ProbeIdentity,
    pub version: Option<String>,
    pub auth: ProbeAuth,
    /// Number of models/items the unauthenticated request listed.
    pub listed: Option<usize>,
    /// Paths that answered 2xx without credentials while the server demanded them elsewhere.
    pub open_paths: Vec<String>,
    /// What the server's own public answers say anyone can do to get in (no
    /// account exists yet and the first to sign up becomes admin; auth is off):
    /// such a server answers without credentials in effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_grant: Vec<String>,
    pub evidence: Vec<super::Evidence>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProbeIdentity {
    /// A fingerprint marker of the product was found.
    Confirmed,
    /// It answered HTTP, but nothing like the product it was taken for.
    NotConfirmed,
    /// Nothing answered (refused, timeout, not HTTP).
    NoAnswer,
    /// No request was sent (passive mode, or no way in).
    NotProbed,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProbeAuth {
    /// The auth request succeeded without any credential.
    AnswersWithoutCredentials,
    /// 401/403 to the auth request.
    DemandsAuth,
    Unknown,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    /// Loopback probes are not part of this version; every verdict comes from /proc.
    pub mode: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ListenerExposure {
    pub socket: usize,
    pub scope: BindScope,
    /// The socket lives in a network namespace other than aiposture's.
    pub other_netns: bool,
    /// Who can reach it: the widest class among the addresses the bind covers.
    pub reach: Reach,
    /// One line an operator reads, e.g. `LAN: 0.0.0.0 covers 192.168.1.5 on eth0`.
    pub summary: String,
    /// Each step of the reasoning, with where its input was read.
    pub chain: Vec<super::Evidence>,
    /// Host addresses that forward to this listener (container port publishing).
    pub published_on: Vec<super::Endpoint>,
}

/// Who can reach a listener, narrowest first.
#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Reach {
    /// Only processes of the same network namespace, over loopback.
    LoopbackOnly,
    /// The host and its containers/VMs (a bridge or container network), not beyond.
    HostOnly,
    /// Machines on a private or link-local network.
    Lan,
    /// Peers of a VPN or overlay (WireGuard, Tailscale, CGNAT range).
    Vpn,
    /// Anyone who can route to a public address.
    Public,
    /// Could not be judged (interfaces of its namespace not readable).
    Unknown,
}

impl Reach {
    pub fn label(self) -> &'static str {
        match self {
            Reach::LoopbackOnly => "loopback-only",
            Reach::HostOnly => "host-only",
            Reach::Lan => "LAN",
            Reach::Vpn => "VPN",
            Reach::Public => "PUBLIC",
            Reach::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BindScope {
    Loopback,
    /// 0.0.0.0 or :: — every interface of its namespace.
    Wildcard,
    /// A specific non-loopback address.
    Address,
}

impl BindScope {
    pub fn label(self) -> &'static str {
        match self {
            BindScope::Loopback => "loopback",
            BindScope::Wildcard => "all interfaces",
            BindScope::Address => "non-loopback address",
        }
    }
}

impl Snapshot {
    pub fn exposure_of(&self, socket: usize) -> Option<&ListenerExposure> {
        self.exposures.iter().find(|e| e.socket == socket)
    }
}
