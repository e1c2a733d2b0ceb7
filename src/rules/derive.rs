//! Facts derived from the inventory that views show beside the findings: the
//! content verdict of every model file, ONNX operators that need outside code,
//! who can read each prompt log, and llama.cpp build numbers that cannot be
//! ordered. Computed once per snapshot here, by the same functions the rules
//! use, so no view judges anything again.

use crate::model::components::{Component, Ecosystem};
use crate::model::{Inventory, ModelAnalysis};

pub fn annotate(inv: &mut Inventory) {
    for s in inv.servers.iter_mut() {
        s.components.iter_mut().for_each(version_form);
        for m in s.models.iter_mut() {
            model_analysis(&mut m.analysis);
            m.content_verdict =
                Some(super::scan::verdict_of(&m.path, Some(&m.format), &m.analysis).0);
        }
    }
    inv.system_software
        .components
        .iter_mut()
        .for_each(version_form);
    for f in inv.store_files.iter_mut() {
        model_analysis(&mut f.analysis);
        f.content_verdict =
            Some(super::scan::verdict_of(&f.path, f.format.as_ref(), &f.analysis).0);
    }
    for log in inv.privacy.prompt_logs.iter_mut() {
        log.readers = Some(super::privacy::logs::readers(log));
    }
}

/// What one file's analysis gains: the custom ops of an ONNX graph.
pub fn model_analysis(a: &mut ModelAnalysis) {
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
