//! Accepted risks: `[[suppress]]` entries of the config, and the findings they
//! cover. A suppressed finding is moved aside, never dropped: exports list it
//! under `suppressed` with the reason, owner and expiry that justify it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Finding;

/// One `[[suppress]]` entry of the config, as written there. Every subject field
/// given must match; `any_subject = true` must be said to match every subject.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// The file the entry is written in; set when the config is read.
    #[serde(skip)]
    pub file: String,
    /// The line of its `[[suppress]]` header, from 1 (0: not read from a file).
    #[serde(skip)]
    pub line: u64,
    /// Rule id, exact (`exposure.unauthenticated-listener`) or a prefix ending
    /// in `*` (`privacy.*`).
    pub rule: String,
    /// `Finding.subject.product`, or the product id of the finding's server
    /// (`llama_server`); case-insensitive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// `Finding.subject.listener`, exact, e.g. `0.0.0.0:8080/tcp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<String>,
    /// `Finding.subject.path`, exact or a prefix ending in `*`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Match every subject: must be said, so that no entry hides a rule
    /// everywhere by accident.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub any_subject: bool,
    pub reason: String,
    pub owner: String,
    /// YYYY-MM-DD, UTC: the last day the suppression holds.
    pub expires: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

impl Suppression {
    /// Where the entry is written, `config.toml:42`; empty when it was not read
    /// from a file.
    pub fn origin(&self) -> String {
        match (self.file.as_str(), self.line) {
            ("", _) => String::new(),
            (f, 0) => f.to_string(),
            (f, n) => format!("{f}:{n}"),
        }
    }

    /// The entry as a source of evidence.
    pub fn source(&self) -> super::Source {
        super::Source::Config {
            file: (!self.file.is_empty()).then(|| self.file.clone()),
            key: "[[suppress]]".into(),
            line: (self.line > 0).then_some(self.line),
        }
    }
}

/// A finding the operator accepted, and the entry that accepts it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SuppressedFinding {
    pub finding: Finding,
    pub suppression: SuppressionRef,
}

/// The suppression entry that covers a finding, copied so the export stands alone.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SuppressionRef {
    /// Position among the config's `[[suppress]]` entries, from 0.
    pub index: usize,
    /// Where the entry is written, `config.toml:42`.
    pub origin: String,
    /// The entry's rule pattern.
    pub rule: String,
    pub reason: String,
    pub owner: String,
    /// YYYY-MM-DD, last day it holds.
    pub expires: String,
    pub ticket: Option<String>,
    /// What matched, e.g. `rule exposure.unauthenticated-listener, listener 0.0.0.0:8080/tcp`.
    pub matched_on: String,
}
