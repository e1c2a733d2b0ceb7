//! Model files: stores whose files no longer match the digest they are named by.

use crate::model::pickle::{GlobalClass, PickleVerdict};
use crate::model::{
    Evidence, Finding, Integrity, Inventory, ModelAnalysis, ModelFormat, Severity, Subject,
};

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

pub const RULE_PICKLE_DANGEROUS: &str = "models.pickle-code-execution";
pub const RULE_PICKLE_SUSPICIOUS: &str = "models.pickle-unknown-globals";
pub const RULE_TEMPLATE_SSTI: &str = "models.chat-template-ssti";

/// Template markers that normal chat templates also use: alone they prove nothing.
const BENIGN_ALONE: [&str; 1] = ["namespace"];

/// Pickle and chat-template findings for one model file.
fn analysis_findings(
    a: &ModelAnalysis,
    path: &str,
    product: &str,
    pid: u32,
    loaded: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let subject = || Subject {
        product: product.to_string(),
        pid,
        listener: None,
        path: Some(path.to_string()),
    };
    let where_ = if loaded {
        "loaded by a running server"
    } else {
        "on disk"
    };
    if let Some(p) = &a.pickle {
        let listed: Vec<Evidence> = p
            .globals
            .iter()
            .filter(|g| g.class != GlobalClass::Allowed)
            .take(20)
            .map(|g| {
                Evidence::new(
                    path,
                    format!(
                        "{:?} global {}.{} at offset {}",
                        g.class, g.module, g.name, g.offset
                    ),
                )
            })
            .collect();
        match p.verdict {
            PickleVerdict::Dangerous => out.push(Finding {
                rule: RULE_PICKLE_DANGEROUS.into(),
                severity: if loaded { Severity::Critical } else { Severity::High },
                title: format!("{path} ({where_}) runs code when unpickled"),
                subject: subject(),
                summary: "Its pickle imports functions that execute commands or code; loading it (torch.load without weights_only, pickle.load, joblib.load) runs them.".into(),
                evidence: listed,
                remediation: "Do not load it. Get the model in safetensors or GGUF from a trusted source; if it must be a checkpoint, load with torch.load(weights_only=True).".into(),
            }),
            PickleVerdict::Suspicious => out.push(Finding {
                rule: RULE_PICKLE_SUSPICIOUS.into(),
                severity: Severity::Medium,
                title: format!("{path} ({where_}) imports globals outside the allowlist"),
                subject: subject(),
                summary: "Its pickle imports classes or functions that are neither known-safe tensor rebuilders nor known code-execution primitives.".into(),
                evidence: listed,
                remediation: "Review the listed globals; prefer safetensors or GGUF, or torch.load(weights_only=True) which refuses them.".into(),
            }),
            PickleVerdict::Safe | PickleVerdict::Unparseable => {}
        }
    }
    if let Some(t) = a.metadata.as_ref().and_then(|m| m.chat_template.as_ref()) {
        let real: Vec<&String> = t
            .ssti_markers
            .iter()
            .filter(|m| !BENIGN_ALONE.iter().any(|b| m.starts_with(b)))
            .collect();
        if !real.is_empty() {
            out.push(Finding {
                rule: RULE_TEMPLATE_SSTI.into(),
                severity: if loaded { Severity::High } else { Severity::Medium },
                title: format!("{path} ({where_}) has a chat template with Jinja escape patterns"),
                subject: subject(),
                summary: "Servers render the GGUF chat template with Jinja; attribute walks such as __class__/__subclasses__ are how template injection reaches code (CVE-2024-34359).".into(),
                evidence: vec![Evidence::new(
                    path,
                    format!("tokenizer.chat_template sha256 {}: {}; excerpt: {}", t.sha256, real.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "), t.excerpt),
                )],
                remediation: "Replace the template with a reviewed one (most servers accept a template file or a named built-in) or use a model from a trusted publisher.".into(),
            });
        }
    }
    out
}

/// Pickle and template findings for loaded models and model-store files.
pub fn content_findings(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &inv.servers {
        for m in &s.models {
            out.extend(analysis_findings(
                &m.analysis,
                &m.path,
                &s.product,
                s.pid,
                true,
            ));
        }
    }
    for f in &inv.store_files {
        out.extend(analysis_findings(
            &f.analysis,
            &f.path,
            &format!("{:?} store", f.store),
            0,
            false,
        ));
    }
    out
}

pub const RULE_EXTENSION_LIES: &str = "models.extension-mismatch";

/// Does a format fit what an extension claims?
type Fits = fn(&ModelFormat) -> bool;

/// What a file's extension claims, as the format families that may carry it.
fn claimed(path: &str) -> Option<(&'static str, Fits)> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "gguf" => ("GGUF", |f| matches!(f, ModelFormat::Gguf { .. })),
        "safetensors" => ("safetensors", |f| matches!(f, ModelFormat::Safetensors)),
        "npy" => ("NumPy", |f| matches!(f, ModelFormat::Numpy)),
        "npz" => ("NumPy .npz", |f| matches!(f, ModelFormat::Npz)),
        "pt" | "pth" | "bin" | "ckpt" | "pkl" | "pickle" => ("a PyTorch/pickle checkpoint", |f| {
            matches!(
                f,
                ModelFormat::PytorchZip
                    | ModelFormat::PytorchLegacy
                    | ModelFormat::Pickle { .. }
                    | ModelFormat::Joblib { .. }
            )
        }),
        // joblib.dump names compressed files after the compressor by default.
        "joblib" | "z" | "gz" | "bz2" | "lzma" | "xz" | "lz4" => ("a joblib pickle", |f| {
            matches!(f, ModelFormat::Pickle { .. } | ModelFormat::Joblib { .. })
        }),
        _ => return None,
    })
}

/// Loaded model files whose name claims another format than their content:
/// tools that trust extensions (scanners, loaders) are misled by them.
pub fn extension_findings(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &inv.servers {
        for m in &s.models {
            let Some((name, fits)) = claimed(&m.path) else {
                continue;
            };
            if fits(&m.format) {
                continue;
            }
            out.push(Finding {
                rule: RULE_EXTENSION_LIES.into(),
                severity: Severity::Low,
                title: format!("{} is named as {name} but holds {}", m.path, m.format.label()),
                subject: Subject {
                    product: s.product.clone(),
                    pid: s.pid,
                    listener: None,
                    path: Some(m.path.clone()),
                },
                summary: "Scanners and loaders that go by the extension judge this file as something it is not.".into(),
                evidence: vec![Evidence::new(m.path.clone(), format!("first bytes: {}", m.format.label()))],
                remediation: "Rename it to match its content, and find out why it was named otherwise.".into(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Compression;

    #[test]
    fn extensions_of_the_pickle_family_fit_their_formats() {
        let fits = |path: &str, f: ModelFormat| claimed(path).is_some_and(|(_, fits)| fits(&f));
        assert!(fits("m.pt", ModelFormat::PytorchLegacy));
        assert!(fits("m.npz", ModelFormat::Npz));
        assert!(!fits("m.npz", ModelFormat::Numpy));
        let zlib = ModelFormat::Joblib {
            compression: Compression::Zlib,
        };
        assert!(fits("m.joblib", zlib.clone()));
        assert!(fits("m.joblib", ModelFormat::Pickle { protocol: 4 }));
        assert!(fits("m.pkl.z", zlib.clone()));
        // An extension that lies: an .npz named as a checkpoint, a GGUF as .npz.
        assert!(!fits("m.pt", ModelFormat::Npz));
        assert!(!fits("m.npz", ModelFormat::Gguf { version: 3 }));
        assert!(!fits("m.safetensors", zlib));
    }
}
