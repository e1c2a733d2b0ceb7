//! Provenance of model files from where they sit: a store's layout (Hugging
//! Face repo and revision, Ollama registry/namespace/model:tag, LM Studio
//! publisher/model), then the path, then what the header claims.

use crate::model::provenance::{Origin, Provenance};
use crate::model::source::Source;
use crate::model::{
    Evidence, FileFacts, Finding, Inventory, LoadedModel, Severity, StoreFile, StoreKind, Subject,
};

/// Facts a store's layout gives: HF repo and revision, Ollama registry/namespace/model:tag,
/// LM Studio `publisher/model` directories.
pub fn from_store(p: &mut Provenance, f: &StoreFile) {
    match f.store {
        StoreKind::HuggingFace => {
            // reference: org/name@revision/path
            if let Some((repo, rest)) = f.reference.split_once('@') {
                if let Some((org, _)) = repo.split_once('/') {
                    p.add("publisher", org, "Hugging Face cache path");
                }
                p.add("repo", repo, "Hugging Face cache path");
                if let Some((rev, _)) = rest.split_once('/') {
                    p.add("revision", rev, "Hugging Face cache path");
                }
            }
        }
        StoreKind::Ollama => {
            // reference: registry/namespace/model:tag
            let (name, tag) = f
                .reference
                .rsplit_once(':')
                .unwrap_or((f.reference.as_str(), ""));
            let parts: Vec<&str> = name.split('/').collect();
            if let [registry, namespace, _model] = parts.as_slice() {
                p.add("publisher", namespace, "Ollama manifest path");
                p.add("repo", name, "Ollama manifest path");
                p.add("tag", tag, "Ollama manifest path");
                p.add("registry", registry, "Ollama manifest path");
            }
        }
        StoreKind::LmStudio => {
            // reference: publisher/model/file, as LM Studio downloads them.
            let parts: Vec<&str> = f.reference.split('/').collect();
            if let [publisher, model, _file, ..] = parts.as_slice() {
                p.add("publisher", publisher, "LM Studio models path");
                p.add(
                    "repo",
                    &format!("{publisher}/{model}"),
                    "LM Studio models path",
                );
            }
        }
        _ => p.from_path(&f.path),
    }
}

/// Provenance of a store file: its store's layout first, then its header,
/// then the files beside it.
pub fn of_store_file(f: &StoreFile) -> Provenance {
    let mut p = Provenance::default();
    from_store(&mut p, f);
    if let (Some(m), Some(fmt)) = (&f.facts.analysis.metadata, &f.format) {
        p.from_metadata(m, &fmt.label());
    }
    if let Some(s) = &f.facts.analysis.sidecars {
        p.from_sidecars(s);
    }
    origins(&mut p);
    p
}

/// Who stands behind the publisher and the base models' publishers
/// (`org/name` → `org`), from assets/publishers.toml.
pub fn origins(p: &mut Provenance) {
    let mut names: Vec<(String, &str)> = Vec::new();
    if let Some(pb) = &p.publisher {
        names.push((pb.clone(), "publisher"));
    }
    for b in &p.base_models {
        if let Some((org, _)) = b.split_once('/') {
            names.push((org.to_string(), "base model"));
        }
    }
    for (name, role) in names {
        if p.origins
            .iter()
            .any(|o| o.publisher.eq_ignore_ascii_case(&name))
        {
            continue;
        }
        if let Some(e) = crate::knowledge::publishers::lookup(&name) {
            p.origins.push(Origin {
                publisher: name,
                role: role.into(),
                entity: e.entity.clone(),
                jurisdiction: e.jurisdiction.clone(),
                seat: e.seat.clone(),
                kind: e.kind.clone(),
                verified: e.verified,
                source: e.sources.first().cloned().unwrap_or_default(),
            });
        }
    }
}

/// Provenance of a loaded model: the store file at the same path (if any), its
/// path, then its header.
pub fn of_loaded(m: &LoadedModel, store: Option<&StoreFile>) -> Provenance {
    let mut p = match store {
        Some(f) => {
            let mut p = Provenance::default();
            from_store(&mut p, f);
            p
        }
        None => Provenance::default(),
    };
    p.from_path(&m.path);
    if let Some(meta) = &m.facts.analysis.metadata {
        p.from_metadata(meta, &m.format.label());
    }
    if let Some(s) = m
        .facts
        .analysis
        .sidecars
        .as_ref()
        .or(store.and_then(|f| f.facts.analysis.sidecars.as_ref()))
    {
        p.from_sidecars(s);
    }
    origins(&mut p);
    p
}

pub const RULE_LICENSE_CONFLICT: &str = "models.license-conflict";
pub const RULE_WHEEL_RECORD_MISMATCH: &str = "models.wheel-record-mismatch";

/// Findings from what a model's provenance facts say together: licences
/// that disagree between sources (a repackaging under other terms), and a
/// file whose content no longer matches the digest the wheel that installed
/// it recorded.
pub fn findings(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let files = inv
        .store_files
        .iter()
        .map(|f| (f.path.as_str(), &f.facts, "model store", 0));
    let loaded = inv.servers.iter().flat_map(|s| {
        s.models
            .iter()
            .map(move |m| (m.path.as_str(), &m.facts, s.product.as_str(), s.pid))
    });
    for (path, facts, product, pid) in loaded.chain(files) {
        if !seen.insert(path) {
            continue;
        }
        let subject = Subject {
            product: product.to_string(),
            pid,
            listener: None,
            path: Some(path.to_string()),
        };
        if let Some(f) = license_conflict(path, &facts.provenance, subject.clone()) {
            out.push(f);
        }
        if let Some(f) = record_mismatch(path, facts, subject) {
            out.push(f);
        }
    }
    out
}

fn license_conflict(path: &str, p: &Provenance, subject: Subject) -> Option<Finding> {
    let mut ids: Vec<(String, &str, &str)> = Vec::new();
    for f in p.facts.iter().filter(|f| f.field == "license") {
        if let Some(id) = crate::knowledge::licenses::normalise(&f.value)
            && !crate::knowledge::licenses::is_vague(&id)
        {
            ids.push((id, f.value.as_str(), f.source.as_str()));
        }
    }
    let first = ids.first()?.0.clone();
    if ids.iter().all(|(id, _, _)| id.eq_ignore_ascii_case(&first)) {
        return None;
    }
    Some(Finding {
        rule: RULE_LICENSE_CONFLICT.into(),
        severity: Severity::Medium,
        title: format!("{path}: its sources name different licences"),
        subject,
        summary: "The files that describe this model disagree on its licence (the model card, the header, the package that installed it): a repackaging under other terms, or a mistake. Which terms bind the operator is not settled by the files.".into(),
        evidence: ids
            .iter()
            .map(|(id, raw, src)| Evidence::new(Source::path(path), format!("{id} (written {raw:?}) in {src}")))
            .collect(),
        remediation: "Check the licence with the original publisher (the base model's card) before use; record the decision in the model policy.".into(),
    })
}

fn record_mismatch(path: &str, facts: &FileFacts, subject: Subject) -> Option<Finding> {
    let pkg = facts.analysis.sidecars.as_ref()?.package.as_ref()?;
    let want = pkg.record_sha256.as_deref()?;
    let have = facts.hash.sha256()?;
    if want.eq_ignore_ascii_case(have) {
        return None;
    }
    Some(Finding {
        rule: RULE_WHEEL_RECORD_MISMATCH.into(),
        severity: Severity::High,
        title: format!(
            "{path} differs from what {}=={} installed",
            pkg.name, pkg.version
        ),
        subject,
        summary: "The wheel's RECORD holds the sha256 of every file it installed; this model file's content no longer matches it: it was replaced or altered after installation.".into(),
        evidence: vec![
            Evidence::new(
                Source::path(format!("{}/RECORD", pkg.dist_info)),
                format!("{} sha256 {want}", pkg.record_entry),
            ),
            Evidence::new(Source::path(path), format!("content sha256 {have}")),
        ],
        remediation: "Reinstall the package from its index (pip install --force-reinstall) and find out what changed the file.".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::FileHash;
    use crate::model::sidecars::{CardFacts, PackageFacts, Sidecars};

    fn with_sidecars(
        card_license: &str,
        wheel_license: &str,
        record: &str,
        content: &str,
    ) -> Inventory {
        let mut inv = crate::model::testing::inventory();
        let mut m = crate::model::testing::loaded_model("/site/pkg/model/model.safetensors", 7);
        m.facts.analysis.sidecars = Some(Sidecars {
            card: Some(CardFacts {
                path: "/site/pkg/model/README.md".into(),
                license: Some(card_license.into()),
                base_models: vec!["mistralai/Mistral-7B-v0.1".into()],
                ..Default::default()
            }),
            package: Some(PackageFacts {
                dist_info: "/site/pkg-1.0.dist-info".into(),
                name: "pkg".into(),
                version: "1.0".into(),
                license: Some(wheel_license.into()),
                record_entry: "pkg/model/model.safetensors".into(),
                record_sha256: Some(record.into()),
            }),
            ..Default::default()
        });
        m.facts.hash = FileHash::Known {
            sha256: content.into(),
        };
        m.facts.provenance = of_loaded(&m, None);
        let mut s = crate::model::testing::server(7, "vllm");
        s.models.push(m);
        inv.servers.push(s);
        inv
    }

    fn rules(inv: &Inventory) -> Vec<String> {
        findings(inv).into_iter().map(|f| f.rule).collect()
    }

    #[test]
    fn sidecar_facts_make_provenance_known_with_origin() {
        let inv = with_sidecars("apache-2.0", "Apache Software License", "aa", "aa");
        let p = &inv.servers[0].models[0].facts.provenance;
        assert_eq!(p.state, crate::model::provenance::ProvenanceState::Known);
        assert_eq!(p.base_models, ["mistralai/Mistral-7B-v0.1"]);
        let o = &p.origins[0];
        assert_eq!(
            (
                o.publisher.as_str(),
                o.role.as_str(),
                o.jurisdiction.as_str()
            ),
            ("mistralai", "base model", "FR")
        );
        // The same licence written two ways is no conflict; equal digests no mismatch.
        assert!(rules(&inv).is_empty(), "{:?}", rules(&inv));
    }

    #[test]
    fn licences_that_disagree_and_a_changed_file_are_findings() {
        let inv = with_sidecars("apache-2.0", "MIT", "aa", "bb");
        let got = rules(&inv);
        assert!(got.contains(&RULE_LICENSE_CONFLICT.to_string()), "{got:?}");
        assert!(
            got.contains(&RULE_WHEEL_RECORD_MISMATCH.to_string()),
            "{got:?}"
        );
        // "other" says nothing to compare.
        let inv = with_sidecars("other", "MIT", "aa", "aa");
        assert!(rules(&inv).is_empty());
    }
}
