//! Auth that anyone can grant themselves is no auth: a server that printed its
//! access token to a file that other local users can read has, for them, no
//! authentication at all (and for anyone they hand the token to).

use crate::model::privacy::LogReaders;
use crate::model::{Evidence, Finding, Inventory, Severity, Source, Subject};
use crate::rules::privacy::logs::{chain_readers, describe};

pub const RULE_TOKEN_IN_READABLE_OUTPUT: &str = "exposure.token-in-readable-output";

pub fn findings(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &inv.servers {
        for t in &s.token_outputs {
            let Some(file) = t.access.first().filter(|a| !a.is_dir) else {
                continue;
            };
            let readers = chain_readers(file, &t.access);
            let (severity, whom) = match readers {
                LogReaders::Everyone => (Severity::High, "every local user".to_string()),
                LogReaders::Group { gid } => (
                    Severity::Medium,
                    format!("the other members of group {gid}"),
                ),
                LogReaders::Owner | LogReaders::Unknown => continue,
            };
            let mut evidence = vec![Evidence::new(
                Source::file_line(t.path.clone(), t.line),
                format!(
                    "the access token {} printed on its {} (pid {}); the token itself is not read into any output",
                    s.product, t.stream, t.pid
                ),
            )];
            evidence.extend(
                t.access
                    .iter()
                    .map(|a| Evidence::new(Source::path(a.path.clone()), describe(a, readers))),
            );
            out.push(Finding {
                rule: RULE_TOKEN_IN_READABLE_OUTPUT.into(),
                severity,
                title: format!(
                    "{} (pid {}) printed its access token to {}, readable by {whom}",
                    s.product, s.pid, t.path
                ),
                subject: Subject {
                    pid: s.pid,
                    product: s.product.clone(),
                    listener: None,
                    path: Some(t.path.clone()),
                },
                summary: format!(
                    "Its authentication is on, but the key is in a file {whom} can read: for them the server is open, with the rights of its user (a notebook runs their code). Ports reachable beyond the host extend that to whoever they pass the token to."
                ),
                evidence,
                remediation: "Write the server's output where only its user can read it (chmod 600 the file, or a directory that others cannot enter), or give it a fixed secret from a file only its user can read instead of a printed one; then restart it so the printed token stops working.".into(),
            });
        }
    }
    out
}
