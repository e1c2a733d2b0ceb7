//! Model files on the host: those a server maps or holds open, the stores and
//! model directories they come from, who can write them, and their content
//! hashes (cache, background hasher, integrity against store digests).

pub mod access;
pub mod dirs;
pub mod hashcache;
pub mod hasher;
pub(crate) mod integrity;
pub mod loaded;
pub mod stores;

use std::path::Path;

use crate::collect::host::UserNames;
use crate::formats::analyse::AnalysisCache;
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::{Server, StoreFile};

/// Who could swap each model file (owner and mode up to the store root for
/// store files, up to `/` as their process sees them for loaded models), and
/// what each file's header holds (cached per content).
pub fn annotate(
    servers: &mut [Server],
    store_files: &mut [StoreFile],
    users: &UserNames,
    groups: &access::Groups,
    analyses: &mut AnalysisCache,
    rules: &PickleRules,
) {
    let plain = |p: &Path| p.to_path_buf();
    for f in store_files.iter_mut().filter(|f| stores::is_model(f)) {
        f.facts.access = access::chain(
            Path::new(&f.path),
            Some(Path::new(&f.root)),
            &plain,
            users,
            groups,
        );
    }
    for s in servers.iter_mut() {
        for m in s.models.iter_mut().filter(|m| !m.deleted) {
            let pid = m.pid;
            let through_root = move |p: &Path| loaded::through_root(pid, p);
            m.facts.access = access::chain(&m.fs_path(), None, &through_root, users, groups);
            // As the process sees it: through its root (containers).
            let seen = loaded::through_root(m.pid, &m.fs_path());
            m.facts.analysis = analyses.get_or_analyse(&seen, &m.format, rules);
        }
    }
    for f in store_files.iter_mut() {
        if let Some(format) = f.format.clone() {
            f.facts.analysis = analyses.get_or_analyse(Path::new(&f.path), &format, rules);
        }
        if let Some(t) = f.template_layer.clone() {
            ollama_template(&mut f.facts.analysis, &t);
        }
        if f.config_layer.is_some() || !f.license_layers.is_empty() {
            let licenses: Vec<std::path::PathBuf> = f
                .license_layers
                .iter()
                .map(std::path::PathBuf::from)
                .collect();
            let s = f
                .facts
                .analysis
                .sidecars
                .get_or_insert_with(Default::default);
            crate::formats::sidecars::ollama_layers(
                f.config_layer.as_deref().map(Path::new),
                &licenses,
                s,
            );
        }
    }
}

/// Ollama's template layer joins the templates a loader renders (hashed, its
/// markers listed); a blob that cannot be read is said so.
fn ollama_template(a: &mut crate::model::ModelAnalysis, blob: &str) {
    use std::io::Read;
    let s = a.sidecars.get_or_insert_with(Default::default);
    let mut raw = Vec::new();
    match std::fs::File::open(blob).and_then(|f| f.take(1 << 20).read_to_end(&mut raw)) {
        Ok(_) => s.templates.push(crate::model::sidecars::NamedTemplate {
            source: format!(
                "Ollama template layer {}",
                Path::new(blob)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            template: crate::formats::gguf::chat_template(&raw),
        }),
        Err(e) => s.notes.push(format!("Ollama template layer {blob}: {e}")),
    }
}

#[cfg(test)]
mod ollama_template_tests {
    #[test]
    fn the_template_layer_joins_the_templates_or_says_why_not() {
        let d = tempfile::tempdir().expect("tempdir");
        let blob = d.path().join("sha256-22");
        std::fs::write(&blob, "{{ .Prompt }}").expect("write");
        let mut a = crate::model::ModelAnalysis::default();
        super::ollama_template(&mut a, &blob.to_string_lossy());
        super::ollama_template(&mut a, "/nonexistent/sha256-33");
        let s = a.sidecars.expect("sidecars");
        assert_eq!(s.templates.len(), 1);
        assert_eq!(s.templates[0].source, "Ollama template layer sha256-22");
        assert_eq!(s.templates[0].template.length, 13);
        assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    }
}
