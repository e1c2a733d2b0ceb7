//! Model files added, removed and changed (content, chat template), and
//! versions of the stack changed.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::components::Component;
use crate::model::events::{EventKind, EventSubject};
use crate::model::{FileHash, LoadedModel, ModelAnalysis, Server, StoreFile};

use super::severity::*;
use super::side::*;

// ---------------------------------------------------------------- models

/// What a model file is compared by.
pub(super) struct ModelView<'a> {
    pub(super) path: &'a str,
    pub(super) hash: &'a FileHash,
    pub(super) analysis: &'a ModelAnalysis,
    /// Replaced or deleted on disk while a process holds it.
    pub(super) deleted: bool,
    pub(super) what: String,
}

impl<'a> ModelView<'a> {
    pub(super) fn loaded(m: &'a LoadedModel) -> ModelView<'a> {
        ModelView {
            path: &m.path,
            hash: &m.facts.hash,
            analysis: &m.facts.analysis,
            deleted: m.deleted,
            what: format!("{} held by pid {}", m.format.label(), m.pid),
        }
    }

    pub(super) fn stored(f: &'a StoreFile) -> ModelView<'a> {
        ModelView {
            path: &f.path,
            hash: &f.facts.hash,
            analysis: &f.facts.analysis,
            deleted: false,
            what: format!("{} {}", f.store.label(), f.reference),
        }
    }

    pub(super) fn hash_text(&self) -> String {
        match self.hash {
            FileHash::Known { sha256 } => format!("sha256 {sha256}"),
            FileHash::Pending { why } | FileHash::Unknown { why } => format!("not hashed: {why}"),
        }
    }

    pub(super) fn template(&self) -> Option<Option<&'a str>> {
        self.analysis
            .metadata
            .as_ref()
            .map(|m| m.chat_template.as_ref().map(|t| t.sha256.as_str()))
    }
}

pub(super) fn loaded_models(
    o: &Side,
    n: &Side,
    a: Option<&Server>,
    b: Option<&Server>,
    out: &mut Out,
) {
    pub(super) fn index(s: Option<&Server>) -> BTreeMap<&str, &LoadedModel> {
        let mut m = BTreeMap::new();
        for lm in s.map(|s| s.models.as_slice()).unwrap_or_default() {
            m.entry(lm.path.as_str()).or_insert(lm);
        }
        m
    }
    let (ma, mb) = (index(a), index(b));
    let subject = |s: &Server, path: &str| EventSubject {
        path: Some(path.to_string()),
        ..server_subject(s)
    };
    let Some(s) = b.or(a) else { return };
    for (path, x) in &ma {
        match mb.get(path) {
            Some(y) => model_pair(
                o,
                n,
                &ModelView::loaded(x),
                &ModelView::loaded(y),
                subject(s, path),
                out,
            ),
            None => {
                let v = ModelView::loaded(x);
                out.push(
                    EventKind::ModelRemoved,
                    Trend::Neutral,
                    subject(s, path),
                    Some(v.hash_text()),
                    None,
                    vec![o.ev(format!("{path}: {}", v.what))],
                );
            }
        }
    }
    for (path, y) in &mb {
        if !ma.contains_key(path)
            && let Some(s) = b
        {
            let v = ModelView::loaded(y);
            out.push(
                EventKind::ModelAdded,
                Trend::Neutral,
                subject(s, path),
                None,
                Some(v.hash_text()),
                vec![n.ev(format!("{path}: {}", v.what))],
            );
        }
    }
}

pub(super) fn store_files(o: &Side, n: &Side, out: &mut Out) {
    // Tokenizers and configs are not models: only files recognised by content.
    pub(super) fn index<'a>(side: &Side<'a>) -> BTreeMap<String, ModelView<'a>> {
        side.snap
            .inventory
            .store_files
            .iter()
            .filter(|f| f.format.is_some())
            .map(|f| (f.path.clone(), ModelView::stored(f)))
            .collect()
    }
    let (ma, mb) = (index(o), index(n));
    for (path, x) in &ma {
        let subject = EventSubject {
            path: Some(path.clone()),
            item: Some(x.what.clone()),
            ..Default::default()
        };
        match mb.get(path) {
            Some(y) => model_pair(o, n, x, y, subject, out),
            None => out.push(
                EventKind::ModelRemoved,
                Trend::Neutral,
                subject,
                Some(x.hash_text()),
                None,
                vec![o.ev(format!("{path}: {}", x.what))],
            ),
        }
    }
    for (path, y) in &mb {
        if !ma.contains_key(path) {
            out.push(
                EventKind::ModelAdded,
                Trend::Neutral,
                EventSubject {
                    path: Some(path.clone()),
                    item: Some(y.what.clone()),
                    ..Default::default()
                },
                None,
                Some(y.hash_text()),
                vec![n.ev(format!("{path}: {}", y.what))],
            );
        }
    }
}

/// Content and chat-template changes of one path present on both sides.
pub(super) fn model_pair(
    o: &Side,
    n: &Side,
    x: &ModelView,
    y: &ModelView,
    subject: EventSubject,
    out: &mut Out,
) {
    let content = match (x.hash, y.hash) {
        (FileHash::Known { sha256: a }, FileHash::Known { sha256: b }) if a != b => {
            Some((format!("sha256 {a}"), format!("sha256 {b}")))
        }
        _ if !x.deleted && y.deleted => Some((
            x.hash_text(),
            format!("{} (deleted or replaced on disk while held)", y.hash_text()),
        )),
        _ => None,
    };
    if let Some((before, after)) = content {
        out.push(
            EventKind::ModelChanged,
            Trend::Worse,
            subject.clone(),
            Some(before),
            Some(after),
            vec![
                o.ev(format!("{}: {}, {}", x.path, x.what, x.hash_text())),
                n.ev(format!("{}: {}, {}", y.path, y.what, y.hash_text())),
            ],
        );
    }
    // Metadata not read on one side (error, cap) is not a template change.
    if let (Some(ta), Some(tb)) = (x.template(), y.template())
        && ta != tb
    {
        let text = |t: Option<&str>| match t {
            Some(h) => format!("chat template sha256 {h}"),
            None => "no chat template".to_string(),
        };
        out.push(
            EventKind::TemplateChanged,
            Trend::Worse,
            subject,
            Some(text(ta)),
            Some(text(tb)),
            vec![
                o.ev(format!("{}: header of {}, {}", x.path, x.what, text(ta))),
                n.ev(format!("{}: header of {}, {}", y.path, y.what, text(tb))),
            ],
        );
    }
}

// ---------------------------------------------------------------- versions

/// Versions by (ecosystem, key): several distributions of one name may be on a path.
pub(super) fn version_index(
    cs: &[Component],
) -> BTreeMap<(String, &str), (BTreeSet<&str>, &Component)> {
    let mut m: BTreeMap<(String, &str), (BTreeSet<&str>, &Component)> = BTreeMap::new();
    for c in cs.iter().filter(|c| !c.shadowed) {
        let eco = serde_json::to_value(c.ecosystem)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        m.entry((eco, c.key.as_str()))
            .or_insert_with(|| (BTreeSet::new(), c))
            .0
            .insert(c.version.as_str());
    }
    m
}

/// Versions present on both sides that differ. A component that appears or goes
/// is not reported: a partly read environment would flood the diff.
pub(super) fn versions(
    o: &Side,
    n: &Side,
    a: &[Component],
    b: &[Component],
    subject: EventSubject,
    out: &mut Out,
) {
    let (va, vb) = (version_index(a), version_index(b));
    for (key, (x, ca)) in &va {
        if let Some((y, cb)) = vb.get(key)
            && x != y
        {
            let join = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
            out.push(
                EventKind::VersionChanged,
                Trend::Neutral,
                EventSubject {
                    item: Some(format!("{} {}", key.0, cb.name)),
                    ..subject.clone()
                },
                Some(join(x)),
                Some(join(y)),
                vec![
                    o.ev(format!("{} {} from {}", ca.name, join(x), ca.path)),
                    n.ev(format!("{} {} from {}", cb.name, join(y), cb.path)),
                ],
            );
        }
    }
}

pub(super) fn host_versions(o: &Side, n: &Side, out: &mut Out) {
    versions(
        o,
        n,
        &o.snap.inventory.system_software.components,
        &n.snap.inventory.system_software.components,
        EventSubject {
            product: Some("host".into()),
            ..Default::default()
        },
        out,
    );
}
