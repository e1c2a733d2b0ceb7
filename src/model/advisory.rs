//! What the advisory matching used and found: the data set (embedded or the
//! operator's osv.dev export, how many records, how old) and, per installed
//! component, the vulnerabilities that apply with their fixes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Severity;

/// Data older than this is a finding unless the config says otherwise.
pub const DEFAULT_MAX_AGE_DAYS: u64 = 90;
use super::components::{Component, Ecosystem, VersionSource, pep503};

/// Which advisory data was used, and how fresh it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AdvisoryData {
    /// `embedded` (shipped in the binary) or the path given by `--advisories` /
    /// `[advisories] path`.
    pub origin: String,
    /// Records loaded and indexed (withdrawn ones not counted).
    pub records: usize,
    /// Withdrawn records seen and ignored.
    pub withdrawn: usize,
    /// Files that could not be read as OSV records (skipped, never silently).
    pub unreadable: usize,
    /// The first few reasons, `file: why`.
    pub errors: Vec<String>,
    /// Newest `modified` date among the records (RFC 3339), the age of the data.
    pub newest_modified: Option<String>,
    /// Days between `newest_modified` and the collection.
    pub age_days: Option<u64>,
    /// Older than this is a finding (`[advisories] max_age_days`).
    pub max_age_days: u64,
    /// Records per ecosystem as the data names them (`PyPI`, `Go`, `GIT`,
    /// `Debian:12` …): what the data covers. A component of an ecosystem
    /// with none is "not covered", never "no known advisories".
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub ecosystems: std::collections::BTreeMap<String, usize>,
}

/// What the advisory check says of one installed component.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Coverage {
    /// Advisories apply: this many vulnerabilities (aliases merged).
    Vulnerable { count: usize },
    /// The data covers the component's ecosystem and no advisory applies to
    /// its version (compared, or none names the package).
    NoKnownAdvisories,
    /// Advisories name the package but its version cannot be ordered
    /// against them.
    NotComparable { why: String },
    /// The data in use has no records for the component's ecosystem: nothing
    /// was checked.
    NotCovered { why: String },
}

impl Coverage {
    /// The words every view uses.
    pub fn label(&self) -> String {
        match self {
            Coverage::Vulnerable { count } => format!("vulnerable ({count})"),
            Coverage::NoKnownAdvisories => "no known advisories".into(),
            Coverage::NotComparable { .. } => "not comparable".into(),
            Coverage::NotCovered { .. } => "not covered".into(),
        }
    }
}

/// The coverage of one component of one server (or the host, pid 0).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ComponentCoverage {
    pub pid: u32,
    pub product: String,
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    #[serde(flatten)]
    pub coverage: Coverage,
}

/// One vulnerability (all its ids merged) that applies to one installed component.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AdvisoryMatch {
    pub component: Component,
    /// Every id of the vulnerability: record ids and their aliases (CVE, GHSA,
    /// PYSEC, GO), sorted, CVE first.
    pub ids: Vec<String>,
    /// The records that matched (a subset of `ids`).
    pub records: Vec<String>,
    pub severity: Severity,
    /// CVSS vector and its base score, when a record gives one.
    pub cvss: Option<CvssScore>,
    /// The severity came from the database's own rating, not a CVSS vector, or
    /// from nothing at all (then `medium`).
    pub severity_source: String,
    pub summary: String,
    /// First versions without the vulnerability, as the records give them.
    pub fixed: Vec<String>,
    /// Inclusive ceilings (`last_affected`): newer versions may still be affected.
    pub last_affected: Vec<String>,
    /// No record of this vulnerability names a fix or a ceiling above this version.
    pub no_fix_known: bool,
    /// Matched on a bound that was not a valid version as written (`2.6.0-NA`).
    pub low_confidence: bool,
    /// Where each matching record was read (`embedded:PyPI/PYSEC-….json`,
    /// `/path/all.zip:GHSA-….json`), with the range that matched.
    pub matched_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct CvssScore {
    pub vector: String,
    pub score: f64,
}

/// Patch status of a snapshot: the data used and every match.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PatchStatus {
    pub data: AdvisoryData,
    /// One entry per (server, component, vulnerability), worst first.
    pub matches: Vec<ServerAdvisoryMatch>,
    /// One entry per (server, component): what was checked and found.
    #[serde(default)]
    pub coverage: Vec<ComponentCoverage>,
}

impl PatchStatus {
    /// The coverage of component `c` of the owner with `pid`.
    pub fn coverage_of(&self, pid: u32, c: &Component) -> Option<&Coverage> {
        self.coverage
            .iter()
            .find(|x| {
                x.pid == pid
                    && x.name == c.name
                    && x.version == c.version
                    && x.ecosystem == c.ecosystem
            })
            .map(|x| &x.coverage)
    }
}

/// A match and the server (or host, pid 0) whose component it is.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ServerAdvisoryMatch {
    pub pid: u32,
    pub product: String,
    #[serde(flatten)]
    pub found: AdvisoryMatch,
}

/// A component as the version readers would report it (tests, benchmarks, and
/// callers that learn a version elsewhere, e.g. from a probe answer).
pub fn component(ecosystem: Ecosystem, name: &str, version: &str, path: &str) -> Component {
    let (key, how) = match ecosystem {
        Ecosystem::PyPI => (pep503(name), VersionSource::DistInfoMetadata),
        Ecosystem::Go => (name.to_string(), VersionSource::GoBuildInfo),
        Ecosystem::LlamaCpp => (name.to_string(), VersionSource::ElfSymbols),
        Ecosystem::Debian => (name.to_lowercase(), VersionSource::DpkgStatus),
        Ecosystem::System => (name.to_string(), VersionSource::ProcDriverVersion),
    };
    Component {
        version_note: None,
        canonical_version: None,
        ecosystem,
        name: name.to_string(),
        key,
        version: version.to_string(),
        path: path.to_string(),
        how,
        replaced_by: None,
        source_package: None,
        shadowed: false,
        revision: None,
        detail: None,
    }
}
