//! `aiposture scan` output: one JSON document, or text with one block per file.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::error::Error;
use crate::model::scan::ScanReport;

pub fn to_json(report: &ScanReport) -> Result<String, Error> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

/// Names and reasons come from files and directories an attacker may have
/// chosen: control characters (terminal escapes) are shown escaped.
fn printable(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

/// `verdict  format  path`, then the reasons indented; non-models are counted,
/// not listed; a summary line ends it.
pub fn to_text(report: &ScanReport) -> String {
    let mut out = String::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.files {
        *counts.entry(f.verdict.label()).or_default() += 1;
        if f.format.is_none() && f.analysis.error.is_none() {
            continue;
        }
        let format = f
            .format
            .as_ref()
            .map(|m| m.label())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<11}  {:<27}  {}",
            f.verdict.label(),
            format,
            printable(&f.path)
        );
        for r in &f.reasons {
            let _ = writeln!(out, "    {}", printable(r));
        }
        if let Some(m) = &f.analysis.metadata {
            let what: Vec<String> = [
                m.name.as_deref().map(|n| format!("name {n}")),
                m.architecture
                    .as_deref()
                    .map(|n| format!("architecture {n}")),
                m.source_url.as_deref().map(|n| format!("source {n}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !what.is_empty() {
                let _ = writeln!(out, "    {}", printable(&what.join(", ")));
            }
        }
    }
    for n in &report.notes {
        let _ = writeln!(out, "note: {}", printable(n));
    }
    let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let _ = writeln!(
        out,
        "{} files: {}",
        report.files.len(),
        if summary.is_empty() {
            "none".into()
        } else {
            summary.join(", ")
        }
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scan::{FileVerdict, ScannedFile};

    #[test]
    fn text_escapes_names_and_counts_non_models() {
        let r = ScanReport {
            files: vec![
                ScannedFile {
                    path: "evil\x1b[2J.pkl".into(),
                    size_bytes: Some(9),
                    format: Some(crate::model::ModelFormat::Pickle { protocol: 4 }),
                    verdict: FileVerdict::Dangerous,
                    reasons: vec!["dangerous global os.system at offset 2".into()],
                    analysis: Default::default(),
                },
                ScannedFile {
                    path: "README.md".into(),
                    size_bytes: Some(3),
                    format: None,
                    verdict: FileVerdict::NotAModel,
                    reasons: vec![],
                    analysis: Default::default(),
                },
            ],
            notes: vec![],
        };
        let t = to_text(&r);
        assert!(!t.contains('\x1b'), "{t}");
        assert!(t.contains("evil\\u{1b}[2J.pkl"), "{t}");
        assert!(!t.contains("README.md"), "{t}");
        assert!(t.ends_with("2 files: 1 dangerous, 1 not a model\n"), "{t}");
    }
}
