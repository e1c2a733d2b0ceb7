//! Versions of the running stack: what each server's process actually runs
//! (its Python distributions, Go modules, llama.cpp build) and what the host
//! provides (NVIDIA driver, CUDA, Debian packages). Read from files, never by
//! executing anything; matched against advisories by the rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Package ecosystem, spelled as OSV spells it where OSV has one.
#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
pub enum Ecosystem {
    PyPI,
    Go,
    #[serde(rename = "llama.cpp")]
    LlamaCpp,
    Debian,
    /// Interpreter, driver, CUDA runtime: versions with no package manager entry.
    #[serde(rename = "system")]
    System,
}

/// How a version was read.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum VersionSource {
    /// `Name`/`Version` headers of a `*.dist-info/METADATA`.
    DistInfoMetadata,
    /// `Name`/`Version` headers of a `*.egg-info/PKG-INFO` (or an `.egg-info` file).
    EggInfoPkgInfo,
    /// `version` / `version_info` of a venv's `pyvenv.cfg`.
    PyvenvCfg,
    /// A conda package record name in `conda-meta/` (`python-3.11.5-h955ad1f_0.json`).
    CondaMeta,
    /// Only major.minor, from the interpreter's file name or its `lib/pythonX.Y`.
    InterpreterPath,
    /// The Go build info embedded in the binary (`.go.buildinfo`).
    GoBuildInfo,
    /// llama.cpp's `LLAMA_BUILD_NUMBER` / `LLAMA_COMMIT` symbols in the binary.
    ElfSymbols,
    /// An entry of `/var/lib/dpkg/status`.
    DpkgStatus,
    /// `/proc/driver/nvidia/version`.
    ProcDriverVersion,
    /// A CUDA toolkit's `version.json`.
    CudaVersionJson,
    /// The file name of a shared library the process maps (`libcudart.so.12.4.127`).
    MappedLibrary,
}

/// One versioned piece of software.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Component {
    pub ecosystem: Ecosystem,
    /// As written by the package (`Jinja2`, `github.com/gin-gonic/gin`).
    pub name: String,
    /// Name to match advisories on: PEP 503 normalised for PyPI (`jinja2`,
    /// `typing-extensions`), lowercase for Debian, as written otherwise.
    pub key: String,
    /// As written, local labels kept (`2.5.1+cu124`, `v1.9.1`, `b4589`, `3.0.11-1~deb12u2`).
    pub version: String,
    /// The file the version was read from, as the process sees it.
    pub path: String,
    pub how: VersionSource,
    /// Go: the module this one is replaced by (`=>` line), `path version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    /// Debian: the source package (advisories are filed against it), when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_package: Option<String>,
    /// PyPI: a distribution of the same name earlier on `sys.path` is the one imported.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shadowed: bool,
    /// Source revision the build names: llama.cpp's `LLAMA_COMMIT`, Go's `vcs.revision`
    /// (main module only). Advisories with GIT ranges match on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
    /// Free-form qualifier (`main module`, `Go toolchain`, `commit 0c1e570`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Why this version cannot be ordered by its ecosystem's rules (e.g. a
    /// llama.cpp build number from a vendored copy); set by `rules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_note: Option<String>,
    /// The version as the ecosystem's ordering reads it (llama.cpp: `b<N>`),
    /// when that differs in form from `version`; set by `rules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canonical_version: Option<String>,
}

/// The Python environment of one process, derived from its files.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PythonEnv {
    /// Interpreter as started (argv[0] or the script's shebang target).
    pub executable: String,
    /// Target of /proc/PID/exe (the real binary, symlinks resolved).
    pub real_executable: Option<String>,
    /// `major.minor.micro` where a file says so, else `major.minor`.
    pub version: Option<String>,
    /// The venv (directory holding `pyvenv.cfg`), when there is one.
    pub venv: Option<String>,
    /// `home` of `pyvenv.cfg` or the directory of the real interpreter.
    pub base_prefix: Option<String>,
    /// `include-system-site-packages` of `pyvenv.cfg`.
    pub system_site_packages: bool,
    /// A conda environment (`conda-meta/` next to `bin/`).
    pub conda: bool,
    /// Directories read for distributions, in `sys.path` order, with why each.
    pub site_dirs: Vec<SiteDir>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SiteDir {
    pub path: String,
    /// `PYTHONPATH`, `venv`, `base prefix`, `user site`, `Debian dist-packages`.
    pub why: String,
    /// found, absent, unreadable
    pub state: String,
    pub distributions: usize,
}

/// Go build info of a server's binary, beyond the module list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct GoBuild {
    /// Toolchain, as written (`go1.22.5`).
    pub go_version: String,
    /// `path` line: the main package.
    pub main_package: Option<String>,
    /// `build` settings other than `-ldflags` (which may carry values), e.g. `CGO_ENABLED=1`.
    pub settings: Vec<String>,
}

/// What a server's process runs, beyond its own product name.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Runtime {
    pub python: Option<PythonEnv>,
    pub go: Option<GoBuild>,
    /// Per-file errors while reading versions (malformed METADATA, truncated build info).
    pub errors: Vec<String>,
    /// Where else the version is visible (e.g. the `/props` `build_info` probe answer).
    pub notes: Vec<String>,
}

/// Host-level software: driver, CUDA toolkit, Debian packages.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SystemSoftware {
    pub components: Vec<Component>,
    /// Things looked for and not there, with the path (e.g. no NVIDIA driver loaded).
    pub absent: Vec<Absent>,
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Absent {
    pub what: String,
    pub path: String,
}

/// PEP 503: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::pep503;

    #[test]
    fn pep503_examples_from_the_spec() {
        for n in [
            "friendly-bard",
            "Friendly-Bard",
            "FRIENDLY-BARD",
            "friendly.bard",
            "friendly_bard",
            "friendly--bard",
            "FrIeNdLy-._.-bArD",
        ] {
            assert_eq!(pep503(n), "friendly-bard", "{n}");
        }
        assert_eq!(pep503("typing_extensions"), "typing-extensions");
    }
}
