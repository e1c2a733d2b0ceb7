//! Model files: stores whose files no longer match the digest they are named by.

use crate::model::{Evidence, Finding, Integrity, Inventory, Severity, Subject};

pub const RULE_DIGEST_MISMATCH: &str = "models.digest-mismatch";

pub fn findings(inv: &Inventory) -> Vec<Finding> {
    inv.store_files
        .iter()
        .filter_map(|f| {
            let Integrity::Mismatch { actual_sha256 } = &f.integrity else {
                return None;
            };
            Some(Finding {
                rule: RULE_DIGEST_MISMATCH.into(),
                severity: Severity::High,
                title: format!("{} does not match the digest its store names it by", f.reference),
                subject: Subject {
                    product: format!("{:?} store", f.store),
                    pid: 0,
                    listener: None,
                    path: Some(f.path.clone()),
                },
                summary: "The file changed after download: corrupted, or swapped for other weights. Whatever loads it next runs what is there now.".into(),
                evidence: vec![
                    Evidence::new(f.path.clone(), format!("sha256 {actual_sha256}")),
                    Evidence::new(
                        f.root.clone(),
                        format!("the store names it sha256 {}", f.expected_sha256.clone().unwrap_or_default()),
                    ),
                ],
                remediation: "Stop servers using it, remove the file and pull the model again from its source; find out what changed it (who can write the store?).".into(),
            })
        })
        .collect()
}
