//! Model files: stores whose files no longer match the digest they are named by.

use crate::model::archive::ArchiveReport;
use crate::model::keras::KerasReport;
use crate::model::metadata::ChatTemplate;
use crate::model::onnx::{ExternalResolution, OnnxOp, OnnxReport};
use crate::model::pickle::{GlobalClass, PickleReport, PickleVerdict};
use crate::model::{
    Evidence, Finding, Integrity, Inventory, ModelAnalysis, ModelFormat, Severity, Source, Subject,
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
                    Evidence::new(Source::path(f.path.clone()), format!("sha256 {actual_sha256}")),
                    Evidence::new(
                        Source::path(f.root.clone()),
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
pub const RULE_UNCHECKED: &str = "models.could-not-be-checked";
pub const RULE_PICKLE_LIBRARY: &str = "models.pickle-library-classes";
pub const RULE_ARCHIVE_ESCAPE: &str = "models.archive-path-escape";
pub const RULE_ARCHIVE_DUPLICATES: &str = "models.archive-duplicate-names";
pub const RULE_ARCHIVE_BOMB: &str = "models.archive-bomb";
pub const RULE_ARCHIVE_ENCRYPTED: &str = "models.archive-encryption-flag";

/// Template markers that normal chat templates also use: alone they prove nothing.
const BENIGN_ALONE: [&str; 1] = ["namespace"];

/// The SSTI markers of a chat template that mean something on their own.
pub fn template_escape_markers(t: &crate::model::metadata::ChatTemplate) -> Vec<&String> {
    t.ssti_markers
        .iter()
        .filter(|m| !BENIGN_ALONE.iter().any(|b| m.starts_with(b)))
        .collect()
}

/// A model file the readers could not vet: what it would do when loaded is
/// unknown, which is never a pass.
fn unchecked(
    path: &str,
    where_: &str,
    loaded: bool,
    subject: Subject,
    why: Vec<String>,
) -> Finding {
    Finding {
        rule: RULE_UNCHECKED.into(),
        severity: if loaded { Severity::Medium } else { Severity::Low },
        title: format!("{path} ({where_}) could not be checked"),
        subject,
        summary: "Its content could not be read to the end the way its loader reads it (truncated, malformed, over a bound of the reader, or read two ways by two loaders), so nothing is known about what loading it does.".into(),
        evidence: why
            .into_iter()
            .take(8)
            .map(|w| Evidence::new(Source::path(path), w))
            .collect(),
        remediation: "Re-download the file from its publisher and compare its digest; until it can be checked, do not load it.".into(),
    }
}

/// A pickle of known libraries' classes only: loading it runs those
/// libraries' own code. Stated as a fact (info), so an auditor sees which
/// code a load trusts, without the alarm an unknown import deserves.
fn library_classes(p: &PickleReport, path: &str, where_: &str, subject: Subject) -> Finding {
    let mut libraries: Vec<&str> = p
        .globals
        .iter()
        .filter_map(|g| g.library.as_deref())
        .collect();
    libraries.sort_unstable();
    libraries.dedup();
    let mut evidence: Vec<Evidence> = p
        .globals
        .iter()
        .filter(|g| g.class == GlobalClass::Library)
        .take(12)
        .map(|g| {
            Evidence::new(
                Source::file_offset(path, g.offset),
                format!(
                    "{} class {}.{} at offset {}",
                    g.library.as_deref().unwrap_or("library"),
                    g.module,
                    g.name,
                    g.offset
                ),
            )
        })
        .collect();
    for (key, version) in &p.declared_versions {
        evidence.push(Evidence::new(
            Source::path(path),
            format!("the pickle records {key} = {version}"),
        ));
    }
    Finding {
        rule: RULE_PICKLE_LIBRARY.into(),
        severity: Severity::Info,
        title: format!(
            "{path} ({where_}) is a pickle of {} classes",
            libraries.join(", ")
        ),
        subject,
        summary: "Every import is a tensor rebuilder or a class of a well-known ML library (assets/pickle_libraries.toml); loading it runs that library's code (its __setstate__), nothing the file brings. Trust rests on where the file came from and on the library release that loads it.".into(),
        evidence,
        remediation: "Nothing to fix in the file. Load it only with the library release it was written for, and prefer a format that carries no code (skops, ONNX, safetensors) for models you share.".into(),
    }
}

/// What an extracting tool or a second reader could be fooled by in a
/// container: names that escape, repeated names, bombs, encryption flags.
pub fn archive_findings(
    ar: &ArchiveReport,
    path: &str,
    where_: &str,
    subject: &dyn Fn() -> Subject,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let kind = ar.kind.label();
    let ev = |detail: String| Evidence::new(Source::path(path), detail);
    if !ar.escaping.is_empty() {
        out.push(Finding {
            rule: RULE_ARCHIVE_ESCAPE.into(),
            severity: Severity::High,
            title: format!("{path} ({where_}) has {kind} members that extract outside their directory"),
            subject: subject(),
            summary: "Member names that are absolute, carry `..` or are links pointing out of the archive make an extracting tool (unzip, tarfile, a model hub's unpacker) write files elsewhere on the host: the zip-slip pattern. Model archives never need them.".into(),
            evidence: ar
                .escaping
                .iter()
                .take(20)
                .map(|m| ev(format!("member {:?}: {}", m.member, m.detail)))
                .collect(),
            remediation: "Do not extract it. Get the model from its publisher again; if it must be unpacked, use a tool that refuses escaping names (tarfile's data filter, unzip without -:).".into(),
        });
    }
    if !ar.duplicates.is_empty() {
        out.push(Finding {
            rule: RULE_ARCHIVE_DUPLICATES.into(),
            severity: Severity::Medium,
            title: format!("{path} ({where_}) repeats {kind} member names"),
            subject: subject(),
            summary: "Two members share a name, so two tools can read two different contents under it (one takes the first, another the last): a scanner and a loader may not see the same file. Every copy found was read.".into(),
            evidence: ar.duplicates.iter().take(20).map(|d| ev(d.clone())).collect(),
            remediation: "Treat the archive as tampered with: rebuild it from its source, or get it again from its publisher.".into(),
        });
    }
    if !ar.bombs.is_empty() {
        out.push(Finding {
            rule: RULE_ARCHIVE_BOMB.into(),
            severity: Severity::Medium,
            title: format!("{path} ({where_}) has {kind} members that inflate like a decompression bomb"),
            subject: subject(),
            summary: "A member inflates more than a thousand times to tens of megabytes or more; unpacking or loading it can exhaust memory or disk. Only its first bytes were read.".into(),
            evidence: ar
                .bombs
                .iter()
                .take(20)
                .map(|m| ev(format!("member {:?}: {}", m.member, m.detail)))
                .collect(),
            remediation: "Do not unpack it on a shared host; get the model from its publisher again.".into(),
        });
    }
    if !ar.encrypted.is_empty() {
        out.push(Finding {
            rule: RULE_ARCHIVE_ENCRYPTED.into(),
            severity: Severity::Low,
            title: format!("{path} ({where_}) has {kind} members flagged as encrypted"),
            subject: subject(),
            summary: "The encryption flag makes tools that honour it (most scanners) skip a member, while loaders that ignore it (PyTorch's zip reader) read it as plain data. The members were read as the loaders read them; any that could not be are listed as not checked.".into(),
            evidence: ar.encrypted.iter().take(20).map(|m| ev(format!("member {m:?}"))).collect(),
            remediation: "Model archives are not encrypted: rebuild the archive without the flag or get it again from its publisher.".into(),
        });
    }
    out
}

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
    let mut unchecked_why: Vec<String> = Vec::new();
    if let Some(p) = &a.pickle {
        let listed: Vec<Evidence> = p
            .globals
            .iter()
            .filter(|g| matches!(g.class, GlobalClass::Unknown | GlobalClass::Dangerous))
            .take(20)
            .map(|g| {
                Evidence::new(
                    Source::file_offset(path, g.offset),
                    format!(
                        "{:?} global {}.{} at offset {}",
                        g.class, g.module, g.name, g.offset
                    ),
                )
            })
            .collect();
        match super::pickle::verdict(p) {
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
            PickleVerdict::Unparseable => {
                unchecked_why.extend(p.incomplete.iter().cloned());
                unchecked_why.extend(p.anomalies.iter().cloned());
            }
            PickleVerdict::BenignLibrary => out.push(library_classes(p, path, where_, subject())),
            PickleVerdict::Safe => {}
        }
    }
    unchecked_why.extend(a.error.iter().cloned());
    if let Some(ar) = &a.archive {
        unchecked_why.extend(
            ar.unchecked
                .iter()
                .map(|m| format!("member {:?}: {}", m.member, m.detail)),
        );
        out.extend(archive_findings(ar, path, where_, &subject));
    }
    let dangerous = a
        .pickle
        .as_ref()
        .is_some_and(|p| super::pickle::verdict(p) == PickleVerdict::Dangerous);
    // A file already known to run code needs no "could not be checked" too.
    if !unchecked_why.is_empty() && !dangerous {
        out.push(unchecked(path, where_, loaded, subject(), unchecked_why));
    }
    if let Some(o) = &a.onnx {
        out.extend(onnx_findings(o, path, &subject, where_));
    }
    if let Some(k) = &a.keras {
        out.extend(keras_findings(k, path, &subject, where_, loaded));
    }
    let flagged: Vec<(String, &ChatTemplate, Vec<&String>)> = all_templates(a)
        .into_iter()
        .map(|(src, t)| (src, t, template_escape_markers(t)))
        .filter(|(_, _, m)| !m.is_empty())
        .collect();
    if !flagged.is_empty() {
        let sources: Vec<&str> = flagged.iter().map(|(s, _, _)| s.as_str()).collect();
        out.push(Finding {
            rule: RULE_TEMPLATE_SSTI.into(),
            severity: if loaded { Severity::High } else { Severity::Medium },
            title: format!(
                "{path} ({where_}) has a chat template with Jinja escape patterns ({})",
                sources.join(", ")
            ),
            subject: subject(),
            summary: "Servers render chat templates with Jinja (the GGUF header's, or transformers' tokenizer_config.json / chat_template.jinja beside the weights); attribute walks such as __class__/__subclasses__ are how template injection reaches code (CVE-2024-34359).".into(),
            evidence: flagged
                .iter()
                .map(|(src, t, real)| {
                    Evidence::new(
                        Source::path(path),
                        format!(
                            "{src} sha256 {}: {}; excerpt: {}",
                            t.sha256,
                            real.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                            t.excerpt
                        ),
                    )
                })
                .collect(),
            remediation: "Replace the template with a reviewed one (most servers accept a template file or a named built-in) or use a model from a trusted publisher.".into(),
        });
    }
    out
}

/// Every chat template a loader of this model could render, with where it is.
pub fn all_templates(a: &ModelAnalysis) -> Vec<(String, &ChatTemplate)> {
    a.templates()
}

pub const RULE_ONNX_EXTERNAL_ESCAPE: &str = "models.onnx-external-data-escape";
pub const RULE_ONNX_EXTERNAL_MISSING: &str = "models.onnx-external-data-missing";
pub const RULE_ONNX_CUSTOM_OPS: &str = "models.onnx-custom-ops";
pub const RULE_KERAS_LAMBDA: &str = "models.keras-lambda-bytecode";
pub const RULE_KERAS_CUSTOM: &str = "models.keras-custom-objects";

/// Operators that need code from outside the model file: neither in a
/// built-in domain nor defined by a model-local function.
pub fn custom_ops(o: &OnnxReport) -> Vec<&OnnxOp> {
    let builtin = crate::knowledge::onnx_domains::builtin();
    o.ops
        .iter()
        .filter(|op| !builtin.contains(&op.domain))
        .filter(|op| !o.functions.contains(op))
        .collect()
}

pub(super) fn onnx_findings(
    o: &OnnxReport,
    path: &str,
    subject: &dyn Fn() -> Subject,
    where_: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let escaping: Vec<Evidence> = o
        .external_data
        .iter()
        .filter(|x| x.resolution.escapes())
        .map(|x| {
            let how = match &x.resolution {
                ExternalResolution::Absolute => "an absolute path".to_string(),
                ExternalResolution::ParentTraversal => "climbs out with ..".to_string(),
                ExternalResolution::OutsideDir { target } => format!("resolves to {target}"),
                _ => String::new(),
            };
            Evidence::new(
                Source::path(path),
                format!(
                    "initializer {} external_data location {:?}: {how}",
                    x.tensor, x.location
                ),
            )
        })
        .collect();
    if !escaping.is_empty() {
        out.push(Finding {
            rule: RULE_ONNX_EXTERNAL_ESCAPE.into(),
            severity: Severity::High,
            title: format!("{path} ({where_}) points its external weights outside its directory"),
            subject: subject(),
            summary: "ONNX loaders read an initializer's external_data location relative to the model; an absolute path, `..` or a symlink out makes onnx.load / ONNX Runtime read (and, served, possibly return) arbitrary files of the loading user (onnx external-data path traversal: CVE-2022-25882, CVE-2024-27318 / GHSA-whh8-fjgc-qp73, and through symlinks CVE-2026-27489).".into(),
            evidence: escaping,
            remediation: "Do not load it. Get the model from a trusted source; external data must be plain file names inside the model's directory.".into(),
        });
    }
    let missing: Vec<Evidence> = o
        .external_data
        .iter()
        .filter(|x| x.resolution == ExternalResolution::Missing)
        .map(|x| {
            Evidence::new(
                Source::path(path),
                format!(
                    "initializer {} external_data location {:?} does not exist",
                    x.tensor, x.location
                ),
            )
        })
        .collect();
    if !missing.is_empty() {
        out.push(Finding {
            rule: RULE_ONNX_EXTERNAL_MISSING.into(),
            severity: Severity::Low,
            title: format!("{path} ({where_}) names external weight files that are not there"),
            subject: subject(),
            summary: "The model cannot load as it is, and whoever can create the missing file next to it decides the weights.".into(),
            evidence: missing,
            remediation: "Download the model's external data files again, or remove the model.".into(),
        });
    }
    let custom = custom_ops(o);
    if !custom.is_empty() {
        out.push(Finding {
            rule: RULE_ONNX_CUSTOM_OPS.into(),
            severity: Severity::Medium,
            title: format!("{path} ({where_}) uses operators from custom domains"),
            subject: subject(),
            summary: "Operators outside the ONNX and ONNX Runtime domains run only with a native custom-op library the model's author supplies: code that is not in the model file and that this check cannot see.".into(),
            evidence: custom
                .iter()
                .take(20)
                .map(|op| Evidence::new(Source::path(path), format!("node op_type {} in domain {}", op.op_type, op.domain)))
                .collect(),
            remediation: "Find out which library provides these operators and who built it; load the model only with a reviewed library, or use a model made of standard operators.".into(),
        });
    }
    out
}

pub(super) fn keras_findings(
    k: &KerasReport,
    path: &str,
    subject: &dyn Fn() -> Subject,
    where_: &str,
    loaded: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let source = k.config_source.as_deref().unwrap_or("architecture");
    let bytecode: Vec<Evidence> = k
        .lambdas
        .iter()
        .filter(|l| l.bytecode)
        .map(|l| {
            Evidence::new(
                Source::path(path),
                format!("{source}: Lambda layer {}: {}", l.layer, l.detail),
            )
        })
        .collect();
    if !bytecode.is_empty() {
        out.push(Finding {
            rule: RULE_KERAS_LAMBDA.into(),
            severity: if loaded { Severity::Critical } else { Severity::High },
            title: format!("{path} ({where_}) has Lambda layers holding Python bytecode"),
            subject: subject(),
            summary: "A Lambda layer stores its function as marshalled Python bytecode; keras.models.load_model runs it when safe_mode is off, and Keras before 2.13 and legacy .h5 loading had no safe_mode (CVE-2024-3660).".into(),
            evidence: bytecode,
            remediation: "Do not load it with safe_mode=False or an old Keras. Rebuild the layer as a registered subclass with reviewed code, or get the model from a trusted source.".into(),
        });
    }
    let mut named: Vec<Evidence> = k
        .custom_objects
        .iter()
        .map(|c| {
            Evidence::new(
                Source::path(path),
                format!(
                    "{source}: {} from module {} (registered as {}) at {}",
                    c.class_name,
                    c.module.as_deref().unwrap_or("?"),
                    c.registered_name.as_deref().unwrap_or("-"),
                    c.at
                ),
            )
        })
        .collect();
    named.extend(k.lambdas.iter().filter(|l| !l.bytecode).map(|l| {
        Evidence::new(
            Source::path(path),
            format!("{source}: Lambda layer {}: {}", l.layer, l.detail),
        )
    }));
    if !named.is_empty() {
        out.push(Finding {
            rule: RULE_KERAS_CUSTOM.into(),
            severity: Severity::Medium,
            title: format!("{path} ({where_}) needs custom Python objects to load"),
            subject: subject(),
            summary: "Its architecture names classes or functions outside Keras; loading imports and runs them from whatever module of that name is installed.".into(),
            evidence: named.into_iter().take(20).collect(),
            remediation: "Check that the named modules are your own reviewed code before loading; prefer models built from Keras layers only.".into(),
        });
    }
    out
}

/// Pickle and template findings for loaded models and model-store files.
pub fn content_findings(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &inv.servers {
        for m in &s.models {
            out.extend(analysis_findings(
                &m.facts.analysis,
                &m.path,
                &s.product,
                s.pid,
                true,
            ));
        }
    }
    for f in &inv.store_files {
        out.extend(analysis_findings(
            &f.facts.analysis,
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
        "onnx" => ("ONNX", |f| matches!(f, ModelFormat::Onnx)),
        "keras" => ("a Keras 3 archive", |f| matches!(f, ModelFormat::Keras)),
        "h5" | "hdf5" => ("HDF5", |f| matches!(f, ModelFormat::Hdf5)),
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

fn extension_finding(path: &str, format: &ModelFormat, product: &str, pid: u32) -> Option<Finding> {
    let (name, fits) = claimed(path)?;
    if fits(format) {
        return None;
    }
    Some(Finding {
        rule: RULE_EXTENSION_LIES.into(),
        severity: Severity::Low,
        title: format!("{path} is named as {name} but holds {}", format.label()),
        subject: Subject {
            product: product.to_string(),
            pid,
            listener: None,
            path: Some(path.to_string()),
        },
        summary:
            "Scanners and loaders that go by the extension judge this file as something it is not."
                .into(),
        evidence: vec![Evidence::new(
            Source::path(path),
            format!("first bytes: {}", format.label()),
        )],
        remediation: "Rename it to match its content, and find out why it was named otherwise."
            .into(),
    })
}

/// Model files (loaded, or in a store or model directory) whose name claims
/// another format than their content: tools that trust extensions (scanners,
/// loaders) are misled by them. Store blobs named by digest claim nothing.
pub fn extension_findings(inv: &Inventory) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &inv.servers {
        for m in &s.models {
            out.extend(extension_finding(&m.path, &m.format, &s.product, s.pid));
        }
    }
    let loaded = |p: &str| {
        inv.servers
            .iter()
            .any(|s| s.models.iter().any(|m| m.path == p))
    };
    for f in inv.store_files.iter().filter(|f| !loaded(&f.path)) {
        if let Some(format) = &f.format {
            out.extend(extension_finding(
                &f.path,
                format,
                &format!("{} ({})", f.store.label(), f.root),
                0,
            ));
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

    use crate::formats::analyse::analyse;
    use crate::knowledge::pickle_rules::PickleRules;
    use std::path::{Path, PathBuf};

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/models")
            .join(name)
    }

    fn findings_for(path: &Path, format: ModelFormat, loaded: bool) -> Vec<Finding> {
        let rules = PickleRules::embedded().unwrap();
        let a = analyse(path, &format, &rules);
        assert_eq!(a.error, None, "{}", path.display());
        analysis_findings(&a, &path.display().to_string(), "test", 1, loaded)
    }

    fn rules_of(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.rule.as_str()).collect()
    }

    fn evidence(f: &Finding) -> String {
        f.evidence
            .iter()
            .map(|e| e.detail.clone())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn domain_list_parses_and_keeps_the_standard_ones() {
        let d = crate::knowledge::onnx_domains::builtin();
        for want in [
            "",
            "ai.onnx",
            "ai.onnx.ml",
            "ai.onnx.preview.training",
            "com.microsoft",
        ] {
            assert!(d.iter().any(|x| x == want), "{want}");
        }
    }

    #[test]
    fn a_model_that_could_not_be_read_is_a_finding_never_a_pass() {
        let rules = PickleRules::embedded().unwrap();
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle/truncated_p4.pkl");
        let a = analyse(&path, &ModelFormat::Pickle { protocol: 4 }, &rules);
        for loaded in [true, false] {
            let f = analysis_findings(&a, "m.pkl", "test", 1, loaded);
            assert_eq!(rules_of(&f), [RULE_UNCHECKED], "{f:?}");
            assert!(evidence(&f[0]).contains("truncated"), "{}", evidence(&f[0]));
        }
        let broken = ModelAnalysis {
            error: Some("tensor \"a\" ends past the data section".into()),
            ..Default::default()
        };
        let f = analysis_findings(&broken, "m.safetensors", "test", 1, true);
        assert_eq!(rules_of(&f), [RULE_UNCHECKED]);
        assert_eq!(f[0].severity, Severity::Medium);
    }

    #[test]
    fn benign_onnx_and_keras_have_no_findings() {
        for (name, format) in [
            ("benign.onnx", ModelFormat::Onnx),
            ("onnx_external/external.onnx", ModelFormat::Onnx),
            ("benign.keras", ModelFormat::Keras),
            ("benign.h5", ModelFormat::Hdf5),
            ("weights_only.h5", ModelFormat::Hdf5),
        ] {
            let f = findings_for(&fixture(name), format, true);
            assert!(f.is_empty(), "{name}: {:?}", rules_of(&f));
        }
    }

    #[test]
    fn onnx_external_data_outside_the_directory_and_missing() {
        let f = findings_for(&fixture("traversal.onnx"), ModelFormat::Onnx, false);
        assert_eq!(
            rules_of(&f),
            [RULE_ONNX_EXTERNAL_ESCAPE, RULE_ONNX_EXTERNAL_MISSING]
        );
        assert_eq!(f[0].severity, Severity::High);
        let e = evidence(&f[0]);
        assert!(
            e.contains("\"../../etc/passwd\"") && e.contains("\"/etc/shadow\""),
            "{e}"
        );
        assert!(!e.contains("missing.bin"), "{e}");
        assert!(evidence(&f[1]).contains("missing.bin"));
    }

    #[test]
    fn onnx_external_data_symlinked_out_is_an_escape() {
        let t = tempfile::tempdir().unwrap();
        let model = t.path().join("model");
        std::fs::create_dir(&model).unwrap();
        std::fs::copy(
            fixture("onnx_external/external.onnx"),
            model.join("external.onnx"),
        )
        .unwrap();
        std::fs::write(t.path().join("outside"), [0u8; 1024]).unwrap();
        std::os::unix::fs::symlink(t.path().join("outside"), model.join("external.onnx.data"))
            .unwrap();
        let f = findings_for(&model.join("external.onnx"), ModelFormat::Onnx, false);
        assert_eq!(rules_of(&f), [RULE_ONNX_EXTERNAL_ESCAPE]);
        assert!(
            evidence(&f[0]).contains("resolves to"),
            "{}",
            evidence(&f[0])
        );
    }

    #[test]
    fn onnx_custom_domain_ops_are_named_standard_and_contrib_are_not() {
        let f = findings_for(&fixture("custom_op.onnx"), ModelFormat::Onnx, true);
        assert_eq!(rules_of(&f), [RULE_ONNX_CUSTOM_OPS]);
        let e = evidence(&f[0]);
        assert!(e.contains("Steal") && e.contains("Inject"), "{e}");
        assert!(!e.contains("FusedGemm") && !e.contains("If"), "{e}");
    }

    #[test]
    fn keras_lambda_bytecode_is_flagged_in_both_formats() {
        for (name, format) in [
            ("lambda.keras", ModelFormat::Keras),
            ("lambda.h5", ModelFormat::Hdf5),
        ] {
            let f = findings_for(&fixture(name), format.clone(), false);
            assert_eq!(rules_of(&f), [RULE_KERAS_LAMBDA], "{name}");
            assert_eq!(f[0].severity, Severity::High);
            assert!(evidence(&f[0]).contains("lambda"), "{}", evidence(&f[0]));
            let loaded = findings_for(&fixture(name), format, true);
            assert_eq!(loaded[0].severity, Severity::Critical);
        }
    }

    #[test]
    fn keras_custom_objects_are_named() {
        let f = findings_for(&fixture("custom.keras"), ModelFormat::Keras, false);
        assert_eq!(rules_of(&f), [RULE_KERAS_CUSTOM]);
        let e = evidence(&f[0]);
        assert!(
            e.contains("Exfil from module my_pkg.layers (registered as MyPkg>Exfil)"),
            "{e}"
        );
    }

    #[test]
    fn new_extensions_are_checked_against_content() {
        let (_, fits) = claimed("/m/model.onnx").unwrap();
        assert!(fits(&ModelFormat::Onnx) && !fits(&ModelFormat::Hdf5));
        let (_, fits) = claimed("/m/model.h5").unwrap();
        assert!(fits(&ModelFormat::Hdf5) && !fits(&ModelFormat::Keras));
        let (_, fits) = claimed("/m/model.keras").unwrap();
        assert!(fits(&ModelFormat::Keras) && !fits(&ModelFormat::PytorchZip));
    }
}
