//! Facts derived from the inventory that views show beside the findings: the
//! pickle and content verdicts of every model file, ONNX operators that need outside code,
//! who can read each prompt log, and llama.cpp build numbers that cannot be
//! ordered. Computed once per snapshot here, by the same functions the rules
//! use, so no view judges anything again.

use crate::model::components::{Component, Ecosystem};
use crate::model::{Inventory, ModelAnalysis};

pub fn annotate(inv: &mut Inventory) {
    for s in inv.servers.iter_mut() {
        s.components.iter_mut().for_each(version_form);
        for m in s.models.iter_mut() {
            model_analysis(&mut m.facts.analysis);
            m.facts.content_verdict =
                Some(super::scan::verdict_of(&m.path, Some(&m.format), &m.facts.analysis).0);
        }
    }
    inv.system_software
        .components
        .iter_mut()
        .for_each(version_form);
    for f in inv.store_files.iter_mut() {
        model_analysis(&mut f.facts.analysis);
        f.facts.content_verdict =
            Some(super::scan::verdict_of(&f.path, f.format.as_ref(), &f.facts.analysis).0);
    }
    for log in inv.privacy.prompt_logs.iter_mut() {
        log.readers = Some(super::privacy::logs::readers(log));
    }
}

/// What one file's analysis gains: the verdict of its pickle, the custom ops of
/// an ONNX graph.
pub fn model_analysis(a: &mut ModelAnalysis) {
    if let Some(p) = a.pickle.as_mut() {
        super::pickle::judge(p);
    }
    if let Some(o) = a.onnx.as_mut() {
        o.custom_ops = super::models::custom_ops(o).into_iter().cloned().collect();
    }
}

/// llama.cpp versions: the build number as tags name it, or why there is none.
fn version_form(c: &mut Component) {
    if c.ecosystem != Ecosystem::LlamaCpp {
        return;
    }
    match super::versions::llamacpp::parse(&c.version) {
        Ok(n) => c.canonical_version = Some(format!("b{n}")),
        Err(why) => c.version_note = Some(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::advisory::component;

    #[test]
    fn llama_cpp_builds_get_their_tag_or_why_not() {
        let mut c = component(
            Ecosystem::LlamaCpp,
            "llama.cpp",
            "version: 4589 (6e2b6351)",
            "/l",
        );
        version_form(&mut c);
        assert_eq!(c.canonical_version.as_deref(), Some("b4589"));
        assert_eq!(c.version_note, None);
        // Build 1: a vendored copy's count, not a llama.cpp tag.
        let mut c = component(Ecosystem::LlamaCpp, "llama.cpp", "b1", "/l");
        version_form(&mut c);
        assert_eq!(c.canonical_version, None);
        assert!(
            c.version_note
                .as_deref()
                .is_some_and(|n| n.contains("vendored"))
        );
        let mut c = component(Ecosystem::PyPI, "vllm", "b1", "/p");
        version_form(&mut c);
        assert_eq!((c.canonical_version, c.version_note), (None, None));
    }
}
