//! A finding: one claim about the host, with the evidence it rests on and what to do.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::source::Source;

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord, Hash,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown severity {s:?} (info, low, medium, high, critical)"))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rule id of a server that could not be inspected (its sockets, auth and
/// models are unknown): the dashboard shows such a server's exposure as unknown.
pub const NOT_INSPECTABLE_RULE: &str = "visibility.server-not-inspectable";

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Finding {
    /// Stable rule id, e.g. `exposure.unauthenticated-listener`.
    pub rule: String,
    pub severity: Severity,
    pub title: String,
    pub subject: Subject,
    /// Why it matters, in a sentence or two.
    pub summary: String,
    pub evidence: Vec<Evidence>,
    pub remediation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Subject {
    pub product: String,
    pub pid: u32,
    /// e.g. `0.0.0.0:8080/tcp`
    pub listener: Option<String>,
    /// A file the finding is about (model files, stores), when not a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Evidence {
    /// Where it was read.
    #[serde(deserialize_with = "super::source::v1_or_v2")]
    pub source: Source,
    /// What was read there.
    pub detail: String,
}

impl Evidence {
    pub fn new(source: Source, detail: impl Into<String>) -> Self {
        Evidence {
            source,
            detail: detail.into(),
        }
    }
}
