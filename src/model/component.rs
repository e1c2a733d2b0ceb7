//! An installed component: what a server runs, at which version, and where that
//! version was read. Filled by the version readers (dist-info, Go build info,
//! llama.cpp build, dpkg); matched against advisories by `rules::advisories`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The package world a component's name and version belong to; it decides how
/// names are normalised and versions ordered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(from = "String", into = "String")]
#[schemars(with = "String")]
pub enum Ecosystem {
    /// Python distributions (PEP 440 versions, PEP 503 names).
    PyPI,
    /// Go modules (module path, SemVer with `v`).
    Go,
    /// llama.cpp builds (`bNNNN` build numbers).
    LlamaCpp,
    /// Debian packages (dpkg status).
    Debian,
    /// Anything else, by its OSV ecosystem name (e.g. `Triton`, `npm`).
    Other(String),
}

impl Ecosystem {
    pub fn as_str(&self) -> &str {
        match self {
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Go => "Go",
            Ecosystem::LlamaCpp => "llama.cpp",
            Ecosystem::Debian => "Debian",
            Ecosystem::Other(s) => s,
        }
    }
}

impl From<String> for Ecosystem {
    fn from(s: String) -> Self {
        match s.as_str() {
            "PyPI" => Ecosystem::PyPI,
            "Go" => Ecosystem::Go,
            "llama.cpp" => Ecosystem::LlamaCpp,
            "Debian" => Ecosystem::Debian,
            _ => Ecosystem::Other(s),
        }
    }
}

impl From<Ecosystem> for String {
    fn from(e: Ecosystem) -> Self {
        e.as_str().to_string()
    }
}

impl std::fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Component {
    pub ecosystem: Ecosystem,
    /// As installed (dist-info `Name:`, Go module path, `llama.cpp`).
    pub name: String,
    /// Exactly as read, local labels kept (`2.5.1+cu124`, `v0.1.34`, `b3561`).
    pub version: String,
    /// Where the version was read (a METADATA file, a binary, `/props`).
    pub source: String,
}

impl Component {
    pub fn new(
        ecosystem: Ecosystem,
        name: impl Into<String>,
        version: impl Into<String>,
        source: impl Into<String>,
    ) -> Self {
        Component {
            ecosystem,
            name: name.into(),
            version: version.into(),
            source: source.into(),
        }
    }
}
