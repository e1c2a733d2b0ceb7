//! Verdicts of `aiposture scan`: the same judgements as the model findings
//! (`rules::models`), per file, with the reasons spelled out.

use crate::model::pickle::{GlobalClass, PickleVerdict};
use crate::model::scan::{FileVerdict, ScanReport, ScannedFile};

use super::models::template_escape_markers;

/// Globals listed per file; the rest are counted.
const MAX_LISTED: usize = 20;

/// Set every file's verdict and reasons from its analysis.
pub fn judge(report: &mut ScanReport) {
    for f in report.files.iter_mut() {
        if let Some(p) = f.analysis.pickle.as_mut() {
            super::pickle::judge(p);
        }
        let (verdict, reasons) = judge_file(f);
        f.verdict = verdict;
        f.reasons = reasons;
    }
}

fn judge_file(f: &ScannedFile) -> (FileVerdict, Vec<String>) {
    verdict_of(&f.path, f.format.as_ref(), &f.analysis)
}

/// The verdict and its reasons for one file's content: its format (`None`: not
/// a model format) and the header analysis of it.
pub fn verdict_of(
    path: &str,
    format: Option<&crate::model::ModelFormat>,
    a: &crate::model::ModelAnalysis,
) -> (FileVerdict, Vec<String>) {
    let mut verdict = match format {
        Some(_) => FileVerdict::Clean,
        None => FileVerdict::NotAModel,
    };
    let mut reasons = Vec::new();
    if let Some(e) = &a.error {
        verdict = verdict.max(FileVerdict::Error);
        reasons.push(e.clone());
    }
    if let Some(p) = &a.pickle {
        verdict = verdict.max(match super::pickle::verdict(p) {
            PickleVerdict::Safe => FileVerdict::Clean,
            PickleVerdict::BenignLibrary => FileVerdict::BenignLibrary,
            PickleVerdict::Suspicious => FileVerdict::Suspicious,
            PickleVerdict::Dangerous => FileVerdict::Dangerous,
            PickleVerdict::Unparseable => FileVerdict::Unparseable,
        });
        let flagged: Vec<_> = p
            .globals
            .iter()
            .filter(|g| matches!(g.class, GlobalClass::Unknown | GlobalClass::Dangerous))
            .collect();
        for g in flagged.iter().take(MAX_LISTED) {
            let class = match g.class {
                GlobalClass::Dangerous => "dangerous",
                _ => "unknown",
            };
            reasons.push(format!(
                "{class} global {}.{} at offset {}",
                g.module, g.name, g.offset
            ));
        }
        if flagged.len() > MAX_LISTED {
            reasons.push(format!("{} more globals", flagged.len() - MAX_LISTED));
        }
        if super::pickle::verdict(p) == PickleVerdict::Unparseable {
            // The walker's first note says where and why it stopped.
            let why = p.notes.first().map(String::as_str).unwrap_or("stopped");
            reasons.push(format!("pickle walk incomplete: {why}"));
        }
    }
    for (source, t) in super::models::all_templates(a) {
        let markers = template_escape_markers(t);
        if !markers.is_empty() {
            verdict = verdict.max(FileVerdict::Suspicious);
            let list: Vec<&str> = markers.iter().map(|s| s.as_str()).collect();
            reasons.push(format!(
                "chat template {source} (sha256 {}) has Jinja escape patterns: {}",
                t.sha256,
                list.join(", ")
            ));
        }
    }
    // ONNX and Keras: the same findings the dashboard raises, as reasons.
    let subject = || crate::model::Subject {
        product: "scan".into(),
        pid: 0,
        listener: None,
        path: Some(path.to_string()),
    };
    let mut found = Vec::new();
    if let Some(o) = &a.onnx {
        found.extend(super::models::onnx_findings(o, path, &subject, "on disk"));
    }
    if let Some(k) = &a.keras {
        found.extend(super::models::keras_findings(
            k, path, &subject, "on disk", false,
        ));
    }
    if let Some(ar) = &a.archive {
        found.extend(super::models::archive_findings(
            ar, path, "on disk", &subject,
        ));
        if !ar.unchecked.is_empty() {
            verdict = verdict.max(FileVerdict::Error);
            for m in ar.unchecked.iter().take(MAX_LISTED) {
                reasons.push(format!("not checked: member {:?}: {}", m.member, m.detail));
            }
        }
    }
    for finding in found {
        verdict = verdict.max(if finding.severity >= crate::model::Severity::High {
            FileVerdict::Dangerous
        } else {
            FileVerdict::Suspicious
        });
        let detail: Vec<&str> = finding
            .evidence
            .iter()
            .take(MAX_LISTED)
            .map(|e| e.detail.as_str())
            .collect();
        reasons.push(format!("{}: {}", finding.title, detail.join("; ")));
    }
    (verdict, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pickle::{PickleGlobal, PickleReport};

    fn file(pickle: Option<PickleReport>, error: Option<&str>) -> ScannedFile {
        ScannedFile {
            path: "x.pkl".into(),
            size_bytes: Some(1),
            format: Some(crate::model::ModelFormat::Pickle { protocol: 4 }),
            verdict: FileVerdict::NotAModel,
            reasons: vec![],
            analysis: crate::model::ModelAnalysis {
                metadata: None,
                pickle,
                error: error.map(String::from),
                ..Default::default()
            },
        }
    }

    fn report(incomplete: bool, globals: Vec<PickleGlobal>) -> PickleReport {
        PickleReport {
            verdict: None,
            globals,
            opcodes: 3,
            protocol: Some(4),
            notes: vec!["truncated at offset 9".into()],
            incomplete: incomplete.then(|| "truncated at offset 9".into()),
            ..Default::default()
        }
    }

    #[test]
    fn verdicts_follow_the_pickle_walk_and_errors() {
        let os_system = PickleGlobal {
            module: "os".into(),
            name: "system".into(),
            offset: 2,
            class: GlobalClass::Dangerous,
            library: None,
        };
        let mut r = ScanReport {
            files: vec![
                file(Some(report(false, vec![])), None),
                file(Some(report(false, vec![os_system])), None),
                file(Some(report(true, vec![])), None),
                file(None, Some("no data.pkl member")),
            ],
            notes: vec![],
        };
        judge(&mut r);
        let got: Vec<FileVerdict> = r.files.iter().map(|f| f.verdict).collect();
        assert_eq!(
            got,
            [
                FileVerdict::Clean,
                FileVerdict::Dangerous,
                FileVerdict::Unparseable,
                FileVerdict::Error
            ]
        );
        assert_eq!(
            r.files[1].reasons,
            ["dangerous global os.system at offset 2"]
        );
        assert!(r.files[2].reasons[0].contains("truncated at offset 9"));
        assert_eq!(r.worst(), FileVerdict::Dangerous);
        assert!(r.worst().fails());
    }
}
