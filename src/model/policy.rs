//! The operator's decisions about models (policy.toml) and, per model, the
//! decision reached: approved by which entry, expired, unapproved, or no policy.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One approval of the policy file, as written there.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Approval {
    /// Line of the `[[approve]]` header in the policy file: how the entry is named.
    pub line: usize,
    /// Content digest (lowercase hex); matches that exact file only.
    pub sha256: Option<String>,
    /// Provenance match: every field given must equal the model's (case-insensitive).
    pub publisher: Option<String>,
    pub repo: Option<String>,
    /// Country of origin as the operator records it (not derived from the model).
    pub origin_country: Option<String>,
    /// Origin match: every publisher behind the model (its own and its base
    /// models', from assets/publishers.toml, verified) has its seat in one of
    /// these ISO 3166-1 alpha-2 codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdictions: Vec<String>,
    pub reason: String,
    pub approver: String,
    /// YYYY-MM-DD.
    pub date: String,
    /// YYYY-MM-DD, last day the approval holds.
    pub expires: Option<String>,
}

impl Approval {
    /// e.g. `policy.toml:12 (publisher "Qwen")`.
    pub fn label(&self, path: &str) -> String {
        let mut what = Vec::new();
        if let Some(s) = &self.sha256 {
            what.push(format!("sha256 {}", &s[..s.len().min(16)]));
        }
        if let Some(p) = &self.publisher {
            what.push(format!("publisher {p:?}"));
        }
        if let Some(r) = &self.repo {
            what.push(format!("repo {r:?}"));
        }
        if !self.jurisdictions.is_empty() {
            what.push(format!("jurisdictions {}", self.jurisdictions.join("/")));
        }
        format!("{path}:{} ({})", self.line, what.join(", "))
    }
}

/// What was read of the policy file during a collection.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum PolicyStatus {
    /// No file at `path`: models are not judged against approvals.
    Absent { path: String },
    Loaded {
        path: String,
        approvals: Vec<Approval>,
    },
    /// The file could not be read or parsed; `error` names the line.
    Invalid { path: String, error: String },
}

impl Default for PolicyStatus {
    fn default() -> Self {
        PolicyStatus::Absent {
            path: String::new(),
        }
    }
}

impl PolicyStatus {
    pub fn path(&self) -> &str {
        match self {
            PolicyStatus::Absent { path }
            | PolicyStatus::Loaded { path, .. }
            | PolicyStatus::Invalid { path, .. } => path,
        }
    }
}

/// The decision trail of one model file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Decision {
    /// No (valid) policy file: nothing was decided.
    #[default]
    NoPolicy,
    /// An approval in force covers it.
    Approved {
        /// The approval, e.g. `policy.toml:12 (publisher "Qwen")`.
        entry: String,
        /// What matched, e.g. `sha256 of the store digest`, `publisher "Qwen" from GGUF general.organization`.
        matched: String,
        reason: String,
        approver: String,
        date: String,
        expires: Option<String>,
        origin_country: Option<String>,
    },
    /// Only approvals past their expiry cover it.
    Expired {
        entry: String,
        matched: String,
        expired_on: String,
    },
    /// No approval covers it; `why` says what was compared.
    Unapproved { why: String },
}

impl Decision {
    pub fn label(&self) -> String {
        match self {
            Decision::NoPolicy => "no policy file: not judged".into(),
            Decision::Approved {
                entry,
                matched,
                reason,
                approver,
                date,
                ..
            } => format!("approved by {entry}: {matched}; {reason:?} ({approver}, {date})"),
            Decision::Expired {
                entry, expired_on, ..
            } => format!("approval {entry} expired on {expired_on}"),
            Decision::Unapproved { why } => format!("unapproved: {why}"),
        }
    }
}
