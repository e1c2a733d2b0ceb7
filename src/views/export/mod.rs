//! Exporters: the snapshot rendered for machines and auditors. Each exporter is
//! a pure function `&Snapshot → String`; writing is `write_all` (atomic, one
//! file per format under stable names).

pub mod cyclonedx;
pub mod events;
pub mod fleet;
pub mod json;
pub mod jsonl;
pub mod markdown;
pub mod prometheus;
pub mod sarif;
pub mod scan;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub use crate::atomic::write_atomic;
use crate::error::Error;
use crate::model::Snapshot;

/// One export format: its name on the command line and in `[export] formats`,
/// the file it is written to under an output directory, and its renderer.
#[derive(Debug)]
pub struct Format {
    pub name: &'static str,
    /// Stable, host-independent, so that a textfile collector, cron job or
    /// log shipper can be pointed at it once.
    pub file_name: &'static str,
    /// Permission bits of the written file. The Prometheus textfile must be
    /// readable by node_exporter (its own user); the reports stay owner-only.
    pub mode: u32,
    pub render: fn(&Snapshot) -> Result<String, Error>,
}

impl PartialEq for Format {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// Every format, one line each (adding a format is adding its line).
#[rustfmt::skip]
pub const FORMATS: &[Format] = &[
    Format { name: "json", file_name: "aiposture.json", mode: 0o600, render: json::to_json },
    Format { name: "jsonl", file_name: "aiposture.jsonl", mode: 0o600, render: jsonl::render },
    Format { name: "markdown", file_name: "aiposture.md", mode: 0o600, render: markdown::render },
    Format { name: "prometheus", file_name: "aiposture.prom", mode: 0o644, render: prometheus::render },
    Format { name: "cyclonedx", file_name: "aiposture.cdx.json", mode: 0o600, render: cyclonedx_bom },
    Format { name: "sarif", file_name: "aiposture.sarif", mode: 0o600, render: sarif::to_sarif },
];

/// Every BOM gets its own serial number (CycloneDX: "each generated BOM").
fn cyclonedx_bom(s: &Snapshot) -> Result<String, Error> {
    cyclonedx::to_json(s, &cyclonedx::new_serial()?)
}

impl Format {
    pub fn by_name(name: &str) -> Option<&'static Format> {
        FORMATS
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name.trim()))
    }

    /// `json, jsonl, markdown, prometheus`
    pub fn names() -> String {
        FORMATS
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Resolve format names (`["json", "markdown"]`), each once, in the order given.
pub fn formats(names: &[String]) -> Result<Vec<&'static Format>, String> {
    let mut out: Vec<&'static Format> = Vec::new();
    for n in names {
        let f = Format::by_name(n)
            .ok_or_else(|| format!("unknown export format {n:?} (one of {})", Format::names()))?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

/// Temp files of `write_atomic` older than this are left-overs of a killed
/// run (a write takes milliseconds), never a write in progress.
const STALE_TEMP: Duration = Duration::from_secs(600);

/// Render every format first (nothing is written when one fails), then write
/// each to `dir/<file_name>` atomically: a reader (node_exporter, a log
/// shipper) sees the old file or the new one, never a part. The directory is
/// created when missing. Returns the paths written, in the order given.
pub fn write_all(
    snapshot: &Snapshot,
    formats: &[&'static Format],
    dir: &Path,
) -> Result<Vec<PathBuf>, Error> {
    let rendered: Vec<(&Format, String)> = formats
        .iter()
        .map(|f| (f.render)(snapshot).map(|text| (*f, text)))
        .collect::<Result<_, _>>()?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    remove_stale_temps(dir);
    let mut written = Vec::new();
    for (f, text) in rendered {
        let path = dir.join(f.file_name);
        crate::atomic::write_atomic_mode(&path, text.as_bytes(), Some(f.mode))?;
        written.push(path);
    }
    Ok(written)
}

/// A run killed between creating its temp file and renaming it leaves
/// `.aiposture-*.tmp` behind: hidden, and matching no export's name (a textfile
/// collector reads `*.prom` only). The next run removes the old ones.
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(crate::atomic::TEMP_PREFIX)
            && name.ends_with(crate::atomic::TEMP_SUFFIX))
        {
            continue;
        }
        let old = e
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age > STALE_TEMP);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// A snapshot with one high finding, collected at 2026-01-01 on host `h`.
#[cfg(test)]
pub(crate) mod testing {
    use crate::model::testing::inventory;
    use crate::model::{Evidence, Finding, Scores, Severity, Snapshot, Subject, ToolInfo};

    pub fn snapshot() -> Snapshot {
        Snapshot {
            schema_version: crate::model::SCHEMA_VERSION,
            tool: ToolInfo {
                name: "aiposture".into(),
                version: "1.2\"3".into(),
                mode: "active".into(),
            },
            inventory: inventory(),
            exposures: vec![],
            probe_verdicts: vec![],
            findings: vec![Finding {
                rule: "exposure.unauthenticated-listener".into(),
                severity: Severity::High,
                title: "Unauthenticated | listener".into(),
                subject: Subject {
                    product: "llama_server".into(),
                    pid: 1,
                    listener: Some("0.0.0.0:8080/tcp".into()),
                    path: None,
                },
                summary: "Anyone on the LAN can use it.".into(),
                evidence: vec![Evidence::new(
                    crate::model::Source::note("sock_diag of net:[1]"),
                    "0.0.0.0:8080 `LISTEN`",
                )],
                remediation: "Bind to 127.0.0.1 or set --api-key.".into(),
            }],
            suppressed: vec![],
            scores: Scores {
                host: 75,
                servers: vec![],
                coverage: Default::default(),
            },
            patch: Default::default(),
            privacy: Default::default(),
            timeline: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_and_files_are_unique() {
        for (i, a) in FORMATS.iter().enumerate() {
            for b in &FORMATS[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.file_name, b.file_name);
            }
            assert!(a.file_name.starts_with("aiposture."), "{}", a.file_name);
        }
        let f = formats(&["markdown".into(), "JSON".into(), "markdown".into()]).expect("known");
        assert_eq!(
            f.iter().map(|f| f.name).collect::<Vec<_>>(),
            ["markdown", "json"]
        );
        let e = formats(&["xml".into()]).err().unwrap_or_default();
        assert!(e.contains("\"xml\"") && e.contains("prometheus"), "{e}");
    }
}
