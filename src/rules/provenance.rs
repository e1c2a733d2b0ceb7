//! Provenance of model files from where they sit: a store's layout (Hugging
//! Face repo and revision, Ollama registry/namespace/model:tag, LM Studio
//! publisher/model), then the path, then what the header claims.

use crate::model::provenance::Provenance;
use crate::model::{LoadedModel, StoreFile, StoreKind};

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

/// Provenance of a store file: its store's layout first, then its header.
pub fn of_store_file(f: &StoreFile) -> Provenance {
    let mut p = Provenance::default();
    from_store(&mut p, f);
    if let (Some(m), Some(fmt)) = (&f.facts.analysis.metadata, &f.format) {
        p.from_metadata(m, &fmt.label());
    }
    p
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
    p
}
