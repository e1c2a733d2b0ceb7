//! Rows of the Models pane: one per model file, whether a server holds it, a
//! store lists it, or both, worst state first.

use ratatui::layout::Constraint;
use ratatui::text::Line;

use crate::model::pickle::PickleVerdict;
use crate::model::policy::Decision;
use crate::model::provenance::{Provenance, ProvenanceState};
use crate::model::{Drift, FileHash, Integrity, ModelAnalysis, Snapshot, StoreFile};
use crate::views::tui::rows::*;
use crate::views::tui::theme::Theme;
use crate::views::tui::widgets::*;

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
pub(crate) fn state_with_policy(
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
    match a.pickle.as_ref().and_then(|p| p.verdict) {
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
            .is_some_and(|p| p.verdict == Some(PickleVerdict::Unparseable))
    {
        return (2, "?");
    }
    // Runs known libraries' code when loaded: said, not flagged.
    if a.pickle
        .as_ref()
        .is_some_and(|p| p.verdict == Some(PickleVerdict::BenignLibrary))
    {
        return (1, "library");
    }
    (0, "ok")
}

/// Is this state word a problem (drawn in the alert colour)?
pub fn is_bad(word: &str) -> bool {
    !matches!(word, "ok" | "?" | "library")
}

pub(crate) fn hash_cell(h: &FileHash) -> String {
    match h {
        FileHash::Known { sha256 } => format!("sha256 {}…", &sha256[..sha256.len().min(8)]),
        FileHash::Pending { why } if why.starts_with("being hashed") => {
            format!("hashing {}", why.rsplit(' ').next().unwrap_or(""))
        }
        FileHash::Pending { .. } => "queued".into(),
        FileHash::Unknown { .. } => "unhashed".into(),
    }
}

pub(crate) fn integrity_cell(f: &StoreFile) -> String {
    match &f.integrity {
        Integrity::Verified => "verified".into(),
        Integrity::Mismatch { .. } => "MISMATCH".into(),
        Integrity::NoDigest => hash_cell(&f.facts.hash),
        Integrity::NotChecked { .. } => hash_cell(&f.facts.hash),
    }
}

/// Publisher or repository in one cell; "unknown" is a state, never blank.
pub(crate) fn provenance(p: &Provenance) -> String {
    match p.state {
        ProvenanceState::Unknown => "unknown".into(),
        ProvenanceState::Known => p
            .repo
            .clone()
            .or_else(|| p.publisher.clone())
            .unwrap_or_else(|| "unknown".into()),
    }
}

pub(crate) fn size_cell(b: Option<u64>) -> String {
    b.map(crate::views::tui::widgets::human_bytes)
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
            &f.facts.analysis,
            Some(&f.integrity),
            f.facts.drift.content.is_some(),
            &f.facts.decision,
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
                    provenance(&f.facts.provenance),
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
                &m.facts.analysis,
                None,
                m.facts.drift.content.is_some(),
                &m.facts.decision,
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
                        provenance(&m.facts.provenance),
                        hash_cell(&m.facts.hash),
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

pub(crate) fn hash_lines(h: &FileHash, d: &Drift, out: &mut Vec<Line<'static>>) {
    out.push(kv(
        "sha256",
        match h {
            FileHash::Known { sha256 } => sha256.clone(),
            FileHash::Pending { why } => format!("pending: {why}"),
            FileHash::Unknown { why } => format!("unknown: {why}"),
        },
    ));
    for (what, c) in [("content", &d.content), ("chat template", &d.template)] {
        if let Some(c) = c {
            out.push(kv(
                &format!("{what} CHANGED"),
                format!(
                    "was {} at this path, now {} (first seen {})",
                    c.before_sha256, c.after_sha256, c.seen_at
                ),
            ));
        }
    }
}

/// Where the model came from and what the operator's policy decided about it.
pub(crate) fn decision_lines(
    p: &crate::model::provenance::Provenance,
    d: &crate::model::policy::Decision,
    out: &mut Vec<Line<'static>>,
) {
    out.push(kv("provenance", p.label()));
    for f in p
        .facts
        .iter()
        .filter(|f| f.field == "revision" || f.field == "tag")
    {
        out.push(kv(&format!("  {}", f.field), f.value.clone()));
    }
    // Who made it, derived from what, under which licence: each with its source.
    // (What the header itself claims is listed with the header below.)
    for f in p.facts.iter().filter(|f| {
        matches!(
            f.field.as_str(),
            "base_model" | "license" | "package" | "dataset"
        ) && !f.source.ends_with("(claimed by the file)")
    }) {
        out.push(kv(
            &format!("  {}", f.field.replace('_', " ")),
            format!("{} ({})", f.value, f.source),
        ));
    }
    for o in &p.origins {
        let place = if o.jurisdiction.is_empty() {
            "jurisdiction unknown".to_string()
        } else {
            format!("{}, {}", o.jurisdiction, o.seat)
        };
        out.push(kv(
            &format!("  {} origin", o.role),
            format!(
                "{} → {} ({place}; {}{})",
                o.publisher,
                o.entity,
                o.kind,
                if o.verified {
                    ""
                } else {
                    "; not fully verified"
                }
            ),
        ));
    }
    out.push(kv("policy", d.label()));
}

pub(crate) fn analysis_lines(a: &crate::model::ModelAnalysis, out: &mut Vec<Line<'static>>) {
    if let Some(m) = &a.metadata {
        for (k, v) in [
            ("architecture", &m.architecture),
            ("name", &m.name),
            ("organization", &m.organization),
            ("license", &m.license),
            ("source", &m.source_url),
            ("quantisation", &m.file_type),
        ] {
            if let Some(v) = v {
                out.push(kv(k, v.clone()));
            }
        }
        if let Some(n) = m.parameter_count {
            out.push(kv("parameters", n.to_string()));
        }
        if let Some(t) = &m.chat_template {
            out.push(kv(
                "chat template",
                format!("sha256 {} ({} bytes)", t.sha256, t.length),
            ));
            if !t.ssti_markers.is_empty() {
                out.push(kv("template markers", t.ssti_markers.join(", ")));
            }
            out.push(Line::from(format!("  {}", t.excerpt)));
        }
        for n in &m.named_templates {
            out.push(kv(
                "chat template",
                format!("{}: sha256 {}", n.source, n.template.sha256),
            ));
        }
    }
    if let Some(s) = &a.sidecars {
        for n in &s.templates {
            out.push(kv(
                "chat template",
                format!(
                    "{}: sha256 {} ({} bytes)",
                    n.source, n.template.sha256, n.template.length
                ),
            ));
            if !n.template.ssti_markers.is_empty() {
                out.push(kv("template markers", n.template.ssti_markers.join(", ")));
            }
        }
        if let Some(c) = &s.config
            && !c.architectures.is_empty()
        {
            out.push(kv("config", c.architectures.join(", ")));
        }
        if let Some(o) = &s.ollama {
            let facts: Vec<String> = [
                o.family.as_ref().map(|f| format!("family {f}")),
                o.parameter_size.as_ref().map(|p| format!("{p} parameters")),
                o.file_type.as_ref().map(|q| format!("quantisation {q}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !facts.is_empty() {
                out.push(kv("ollama config", facts.join(", ")));
            }
            for l in &o.licenses {
                let id = l.id.as_deref().unwrap_or("not recognised");
                out.push(kv("licence layer", format!("{id}: \"{}\"", l.heading)));
            }
        }
        for n in &s.notes {
            out.push(kv("sidecar", n.clone()));
        }
    }
    if let Some(p) = &a.pickle {
        out.push(kv(
            "pickle",
            format!(
                "{}, {} opcodes",
                crate::views::tui::rows::pickle_verdict(p),
                p.opcodes
            ),
        ));
        for g in p.globals.iter().take(30) {
            out.push(Line::from(format!(
                "  {:?} {}.{} at offset {}",
                g.class, g.module, g.name, g.offset
            )));
        }
    }
    if let Some(o) = &a.onnx {
        onnx_lines(o, out);
    }
    if let Some(k) = &a.keras {
        keras_lines(k, out);
    }
    if let Some(e) = &a.error {
        out.push(kv("header not read", e.clone()));
    }
}

pub(crate) fn onnx_lines(o: &crate::model::onnx::OnnxReport, out: &mut Vec<Line<'static>>) {
    out.push(kv(
        "onnx",
        format!(
            "ir_version {}, {} nodes, {} operators, {} local functions{}",
            o.ir_version.map_or("?".into(), |v| v.to_string()),
            o.node_count,
            o.ops.len(),
            o.functions.len(),
            if o.complete { "" } else { " (partial)" }
        ),
    ));
    let opsets: Vec<String> = o
        .opsets
        .iter()
        .map(|s| {
            let d = if s.domain.is_empty() {
                "ai.onnx"
            } else {
                &s.domain
            };
            format!("{d} {}", s.version)
        })
        .collect();
    out.push(kv("opsets", opsets.join(", ")));
    let custom = &o.custom_ops;
    if !custom.is_empty() {
        let names: Vec<String> = custom
            .iter()
            .map(|op| format!("{}::{}", op.domain, op.op_type))
            .collect();
        out.push(kv("custom ops", names.join(", ")));
    }
    for x in o.external_data.iter().take(20) {
        out.push(Line::from(format!(
            "  external data {} → {} ({:?})",
            x.tensor, x.location, x.resolution
        )));
    }
}

pub(crate) fn keras_lines(k: &crate::model::keras::KerasReport, out: &mut Vec<Line<'static>>) {
    let version = [k.keras_version.as_deref(), k.backend.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    out.push(kv(
        "keras",
        format!(
            "{}{} objects; layers {}",
            if version.is_empty() {
                String::new()
            } else {
                format!("{version}; ")
            },
            k.object_count,
            if k.layers_checked {
                "checked"
            } else {
                "NOT checked"
            }
        ),
    ));
    if let Some(src) = &k.config_source {
        out.push(kv("architecture", src.clone()));
    }
    for l in k.lambdas.iter().take(20) {
        out.push(Line::from(format!("  Lambda {}: {}", l.layer, l.detail)));
    }
    for c in k.custom_objects.iter().take(20) {
        out.push(Line::from(format!(
            "  custom {} from {} at {}",
            c.class_name,
            c.module.as_deref().unwrap_or("?"),
            c.at
        )));
    }
    for n in k.notes.iter().take(5) {
        out.push(Line::from(format!("  {n}")));
    }
}

/// Model columns that fit `width`, after the state column: the least needed
/// are dropped first on narrow terminals.
pub(crate) fn model_columns(width: u16) -> Vec<(usize, Constraint)> {
    let mut cols = vec![(NAME, Constraint::Fill(2))];
    if width >= 70 {
        cols.push((FORMAT, Constraint::Length(14)));
        cols.push((INTEGRITY, Constraint::Length(16)));
    }
    if width >= 95 {
        cols.push((SIZE, Constraint::Length(9)));
        cols.push((USED_BY, Constraint::Length(18)));
    }
    if width >= 110 {
        cols.push((PROVENANCE, Constraint::Fill(1)));
    }
    // Shown in cell order: name, format, size, used by, provenance, integrity.
    cols.sort_by_key(|(i, _)| *i);
    cols
}

/// Width the name column gets: what the fixed columns leave, shared with
/// provenance as their Fill weights say.
pub(crate) fn model_name_width(width: u16, cols: &[(usize, Constraint)]) -> usize {
    let fixed: u16 = cols
        .iter()
        .map(|(_, c)| match c {
            Constraint::Length(n) => *n,
            _ => 0,
        })
        .sum();
    // Borders (2), state column (8) and one space between columns.
    let free = width.saturating_sub(2 + 8 + fixed + cols.len() as u16) as usize;
    let fills: u16 = cols
        .iter()
        .map(|(_, c)| match c {
            Constraint::Fill(n) => *n,
            _ => 0,
        })
        .sum();
    free * 2 / usize::from(fills.max(2))
}

pub(crate) fn detail_loaded(
    s: &Snapshot,
    si: usize,
    mi: usize,
    _theme: &Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(sv) = s.inventory.servers.get(si) else {
        return out;
    };
    let Some(m) = sv.models.get(mi) else {
        return out;
    };
    out.push(heading(&m.path));
    if let Some(t) = crate::views::tui::rows::since_of(s, "model", &m.path) {
        out.push(kv("seen since", t));
    }
    out.push(kv("format", m.format.label()));
    out.push(kv(
        "held by",
        format!("{} pid {} ({:?})", sv.product, sv.pid, m.held_via),
    ));
    if m.deleted {
        out.push(Line::from(
            "DELETED or REPLACED on disk since the server opened it",
        ));
    }
    if let Some(sz) = m.size_bytes {
        out.push(kv("size", human_bytes(sz)));
    }
    if let Some(d) = &m.dir_owner {
        out.push(kv(
            "directory",
            format!("owner uid {} gid {}, mode {:o}", d.uid, d.gid, d.mode),
        ));
    }
    hash_lines(&m.facts.hash, &m.facts.drift, &mut out);
    decision_lines(&m.facts.provenance, &m.facts.decision, &mut out);
    analysis_lines(&m.facts.analysis, &mut out);
    out
}

pub(crate) fn detail_store(s: &Snapshot, i: usize, _theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(f) = s.inventory.store_files.get(i) else {
        return out;
    };
    out.push(heading(&f.reference));
    out.push(kv("file", f.path.clone()));
    if let Some(t) = crate::views::tui::rows::since_of(s, "model", &f.path) {
        out.push(kv("seen since", t));
    }
    if let Some(fmt) = &f.format {
        out.push(kv("format", fmt.label()));
    }
    if let Some(sz) = f.size_bytes {
        out.push(kv("size", human_bytes(sz)));
    }
    let used: Vec<String> = s
        .inventory
        .servers
        .iter()
        .filter(|sv| sv.models.iter().any(|m| m.path == f.path))
        .map(|sv| format!("{} pid {}", sv.product, sv.pid))
        .collect();
    out.push(kv(
        "used by",
        if used.is_empty() {
            "no running server holds it".into()
        } else {
            used.join(", ")
        },
    ));
    out.push(kv(
        "integrity",
        match &f.integrity {
            Integrity::Verified => "verified: hashes to the digest its store names".into(),
            Integrity::Mismatch { actual_sha256 } => {
                format!("MISMATCH: hashes to {actual_sha256}")
            }
            Integrity::NoDigest => "the store names no digest for it".into(),
            Integrity::NotChecked { why } => format!("not checked: {why}"),
        },
    ));
    if let Some(d) = &f.expected_sha256 {
        out.push(kv("store digest", d.clone()));
    }
    if let Some(p) = &f.problem {
        out.push(kv("problem", p.clone()));
    }
    hash_lines(&f.facts.hash, &f.facts.drift, &mut out);
    out.push(kv("found in", format!("{} {}", f.store.label(), f.root)));
    decision_lines(&f.facts.provenance, &f.facts.decision, &mut out);
    analysis_lines(&f.facts.analysis, &mut out);
    out
}
