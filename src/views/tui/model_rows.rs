//! Rows of the Models pane: one per model file, whether a server holds it, a
//! store lists it, or both, worst state first.

use super::app::{Item, Row};
use crate::model::pickle::PickleVerdict;
use crate::model::policy::Decision;
use crate::model::provenance::{Provenance, ProvenanceState};
use crate::model::{FileHash, Integrity, ModelAnalysis, Snapshot, StoreFile};

/// Cells of a model row, in column order.
pub const STATE: usize = 0;
pub const NAME: usize = 1;
pub const FORMAT: usize = 2;
pub const SIZE: usize = 3;
pub const USED_BY: usize = 4;
pub const PROVENANCE: usize = 5;
pub const INTEGRITY: usize = 6;

/// The content state, else what the policy decided ("unappr." / "expired"):
/// the worst thing known about it, with its rank.
fn state_with_policy(
    a: &ModelAnalysis,
    integrity: Option<&Integrity>,
    drifted: bool,
    decision: &Decision,
) -> (u8, &'static str) {
    match (state(a, integrity, drifted), decision) {
        ((0, _), Decision::Unapproved { .. }) => (1, "unappr."),
        ((0, _), Decision::Expired { .. }) => (1, "expired"),
        (other, _) => other,
    }
}

/// One word for a model file's content: the worst thing known about it, with its rank.
/// The state word of a model row and its rank (worse first).
pub fn state(
    a: &ModelAnalysis,
    integrity: Option<&Integrity>,
    drifted: bool,
) -> (u8, &'static str) {
    if matches!(integrity, Some(Integrity::Mismatch { .. })) {
        return (7, "ALTERED");
    }
    if drifted {
        return (6, "CHANGED");
    }
    match a.pickle.as_ref().map(|p| p.verdict) {
        Some(PickleVerdict::Dangerous) => return (5, "CODE"),
        Some(PickleVerdict::Suspicious) => return (3, "unknown"),
        _ => {}
    }
    let ssti = a
        .metadata
        .as_ref()
        .and_then(|m| m.chat_template.as_ref())
        .is_some_and(|t| t.ssti_markers.iter().any(|m| !m.starts_with("namespace")));
    if ssti {
        return (4, "template");
    }
    if let Some(k) = &a.keras {
        if k.lambdas.iter().any(|l| l.bytecode) {
            return (5, "CODE");
        }
        if !k.custom_objects.is_empty() || !k.lambdas.is_empty() {
            return (3, "unknown");
        }
        if !k.layers_checked {
            return (2, "?");
        }
    }
    if let Some(o) = &a.onnx {
        if o.external_data.iter().any(|x| x.resolution.escapes()) {
            return (5, "escape");
        }
        if !o.custom_ops.is_empty() {
            return (3, "custom ops");
        }
    }
    if a.error.is_some()
        || a.pickle
            .as_ref()
            .is_some_and(|p| p.verdict == PickleVerdict::Unparseable)
    {
        return (2, "?");
    }
    (0, "ok")
}

/// Is this state word a problem (drawn in the alert colour)?
pub fn is_bad(word: &str) -> bool {
    !matches!(word, "ok" | "?")
}

fn hash_cell(h: &FileHash) -> String {
    match h {
        FileHash::Known { sha256 } => format!("sha256 {}…", &sha256[..sha256.len().min(8)]),
        FileHash::Pending { why } if why.starts_with("being hashed") => {
            format!("hashing {}", why.rsplit(' ').next().unwrap_or(""))
        }
        FileHash::Pending { .. } => "queued".into(),
        FileHash::Unknown { .. } => "unhashed".into(),
    }
}

fn integrity_cell(f: &StoreFile) -> String {
    match &f.integrity {
        Integrity::Verified => "verified".into(),
        Integrity::Mismatch { .. } => "MISMATCH".into(),
        Integrity::NoDigest => hash_cell(&f.hash),
        Integrity::NotChecked { .. } => hash_cell(&f.hash),
    }
}

/// Publisher or repository in one cell; "unknown" is a state, never blank.
fn provenance(p: &Provenance) -> String {
    match p.state {
        ProvenanceState::Unknown => "unknown".into(),
        ProvenanceState::Known => p
            .repo
            .clone()
            .or_else(|| p.publisher.clone())
            .unwrap_or_else(|| "unknown".into()),
    }
}

fn size_cell(b: Option<u64>) -> String {
    b.map(super::render::human_bytes)
        .unwrap_or_else(|| "?".into())
}

pub fn rows(s: &Snapshot) -> Vec<Row> {
    let inv = &s.inventory;
    let mut ranked: Vec<(u8, Row)> = Vec::new();
    // Servers that hold each store file (same path, outside containers).
    let holders = |path: &str| -> Vec<String> {
        inv.servers
            .iter()
            .filter(|sv| sv.confinement.container.is_none())
            .filter(|sv| sv.models.iter().any(|m| m.path == path))
            .map(|sv| format!("{} {}", sv.product_id, sv.pid))
            .collect()
    };
    for (i, f) in inv.store_files.iter().enumerate() {
        let Some(format) = &f.format else { continue };
        let (rank, word) = state_with_policy(
            &f.analysis,
            Some(&f.integrity),
            f.drift.content.is_some(),
            &f.decision,
        );
        let used = holders(&f.path);
        ranked.push((
            rank,
            Row {
                item: Item::StoreModel(i),
                cells: vec![
                    word.into(),
                    f.reference.clone(),
                    format.label(),
                    size_cell(f.size_bytes),
                    if used.is_empty() {
                        "-".into()
                    } else {
                        used.join(", ")
                    },
                    provenance(&f.provenance),
                    integrity_cell(f),
                ],
                scope: None,
            },
        ));
    }
    for (si, srv) in inv.servers.iter().enumerate() {
        for (mi, m) in srv.models.iter().enumerate() {
            let in_store = srv.confinement.container.is_none()
                && inv
                    .store_files
                    .iter()
                    .any(|f| f.format.is_some() && f.path == m.path);
            if in_store {
                continue;
            }
            let (rank, word) = match state_with_policy(
                &m.analysis,
                None,
                m.drift.content.is_some(),
                &m.decision,
            ) {
                (0, _) if m.deleted => (6, "DELETED"),
                other => other,
            };
            ranked.push((
                rank,
                Row {
                    item: Item::LoadedModel(si, mi),
                    cells: vec![
                        word.into(),
                        m.path.clone(),
                        m.format.label(),
                        size_cell(m.size_bytes),
                        format!("{} {}", srv.product_id, srv.pid),
                        provenance(&m.provenance),
                        hash_cell(&m.hash),
                    ],
                    scope: None,
                },
            ));
        }
    }
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1.cells[NAME].cmp(&b.1.cells[NAME]))
    });
    ranked.into_iter().map(|(_, r)| r).collect()
}
