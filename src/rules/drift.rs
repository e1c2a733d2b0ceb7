//! Model files whose content or chat template changed at the same path since an
//! earlier run saw them: weights swapped in place, or a template edited.

use crate::model::{Change, Drift, Evidence, Finding, Inventory, Severity, Source, Subject};

pub const RULE_CONTENT_DRIFT: &str = "models.content-changed";
pub const RULE_TEMPLATE_DRIFT: &str = "models.chat-template-changed";

/// The history behind these findings lives here; say so in the evidence.
const HISTORY: &str = "$XDG_STATE_HOME/aiposture/hashes.json";

fn for_file(drift: &Drift, path: &str, product: &str, pid: u32, loaded: bool) -> Vec<Finding> {
    let subject = || Subject {
        product: product.to_string(),
        pid,
        listener: None,
        path: Some(path.to_string()),
    };
    let evidence = |c: &Change, what: &str| {
        vec![
            Evidence::new(
                Source::path(path),
                format!("{what} sha256 now {}", c.after_sha256),
            ),
            Evidence::new(
                Source::record(HISTORY),
                format!(
                    "{what} sha256 was {} at this path; new value first seen {}",
                    c.before_sha256, c.seen_at
                ),
            ),
        ]
    };
    let mut out = Vec::new();
    if let Some(c) = &drift.content {
        out.push(Finding {
            rule: RULE_CONTENT_DRIFT.into(),
            severity: if loaded { Severity::High } else { Severity::Medium },
            title: format!("{path} changed content since an earlier run"),
            subject: subject(),
            summary: "Same path, different bytes: the weights were replaced or modified in place. Whatever loads this path now runs other weights than before.".into(),
            evidence: evidence(c, "content"),
            remediation: "Find out who changed it (file owner, mtime, package or pull logs); if it was not a planned update, stop servers using it and restore the file from its source. Findings of this kind end 7 days after the change was first seen.".into(),
        });
    }
    if let Some(c) = &drift.template {
        out.push(Finding {
            rule: RULE_TEMPLATE_DRIFT.into(),
            severity: if loaded { Severity::Medium } else { Severity::Low },
            title: format!("{path}: its chat template changed since an earlier run"),
            subject: subject(),
            summary: "A chat template that servers render for requests (the header's, or one beside the weights: tokenizer_config.json, chat_template.jinja, an Ollama template layer) is different from the one seen before at this path.".into(),
            evidence: evidence(c, "chat templates"),
            remediation: "Review the new template (detail view shows an excerpt and escape markers); if the change was not planned, restore the model file from its source.".into(),
        });
    }
    out
}

pub fn findings(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &inv.servers {
        for m in &s.models {
            out.extend(for_file(&m.facts.drift, &m.path, &s.product, s.pid, true));
        }
    }
    for f in &inv.store_files {
        out.extend(for_file(
            &f.facts.drift,
            &f.path,
            &format!("{:?} store", f.store),
            0,
            false,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(a: &str, b: &str) -> Option<Change> {
        Some(Change {
            before_sha256: a.into(),
            after_sha256: b.into(),
            seen_at: "2026-12-01T07:00:00Z".into(),
        })
    }

    #[test]
    fn loaded_file_drift_is_high_and_names_both_hashes() {
        let mut s = crate::model::testing::server(7, "llama_server");
        let mut m = crate::model::testing::loaded_model("/m/a.gguf", 7);
        m.facts.drift = Drift {
            content: change("aa", "bb"),
            template: change("t1", "t2"),
        };
        s.models = vec![m];
        let mut inv = crate::model::testing::inventory();
        inv.servers = vec![s];
        let f = findings(&inv);
        assert_eq!(f.len(), 2);
        assert_eq!(
            (f[0].rule.as_str(), f[0].severity),
            (RULE_CONTENT_DRIFT, Severity::High)
        );
        assert!(f[0].evidence.iter().any(|e| e.detail.contains("aa")));
        assert!(f[0].evidence.iter().any(|e| e.detail.contains("bb")));
        assert_eq!(f[1].rule, RULE_TEMPLATE_DRIFT);
    }

    #[test]
    fn no_drift_no_finding() {
        let inv = crate::model::testing::inventory();
        assert!(findings(&inv).is_empty());
    }
}
