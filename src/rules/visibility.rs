//! Unknown is a state: a server aiposture could not inspect gets a finding, so
//! its score drops instead of passing as clean.

use crate::model::{Evidence, Finding, Inventory, Severity, Source, Subject};

pub const RULE: &str = crate::model::finding::NOT_INSPECTABLE_RULE;

pub fn findings(inv: &Inventory) -> Vec<Finding> {
    inv.servers
        .iter()
        .filter_map(|s| {
            let mut blind: Vec<Evidence> = inv
                .blind_spots
                .iter()
                .filter(|b| matches!(b.path, Source::Proc { pid, .. } if pid == s.pid))
                .map(|b| Evidence::new(b.path.clone(), format!("{}: {}", b.what, b.reason)))
                .collect();
            let fds_hidden = blind.iter().any(|e| e.source == Source::proc(s.pid, "fd"));
            // In a container, the runtime's API would have told its ports and name.
            if s.confinement.container.is_some() {
                blind.extend(
                    inv.blind_spots
                        .iter()
                        .filter(|b| matches!(b.path, Source::DockerApi { .. }))
                        .map(|b| Evidence::new(b.path.clone(), format!("{}: {}", b.what, b.reason))),
                );
            }
            (fds_hidden || blind.len() >= 2).then(|| Finding {
                rule: RULE.into(),
                severity: Severity::Medium,
                title: format!(
                    "{} (pid {}) could not be inspected: its exposure, auth and models are unknown",
                    s.product, s.pid
                ),
                subject: Subject {
                    product: s.product.clone(),
                    pid: s.pid,
                    listener: None,
                    path: None,
                },
                summary: "Recognised by its command line, but its open files, memory maps or environment were not readable. Nothing here says it is safe.".into(),
                evidence: blind,
                remediation: "Run aiposture as root, or as the user the server runs as, to judge it.".into(),
            })
        })
        .collect()
}
