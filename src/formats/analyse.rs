//! What a model file holds, read from its header only: provenance and chat
//! template (GGUF, safetensors), or every import its pickle would perform
//! (plain pickle and joblib, PyTorch zip's data.pkl, legacy torch.save, object
//! arrays in .npy and .npz). Results are cached per content.

use std::collections::HashMap;
use std::path::Path;

use super::{archive, gguf, safetensors};
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::archive::ArchiveKind;
use crate::model::pickle::PickleReport;
use crate::model::{ModelAnalysis, ModelFormat};

/// The pickle walk of a PyTorch zip held in memory (fuzzing, tests).
pub fn scan_torch_zip(bytes: &[u8], rules: &PickleRules) -> Result<PickleReport, String> {
    let scan = archive::analyse_zip(
        std::io::Cursor::new(bytes),
        rules,
        archive::Role::Torch,
        archive::ArchiveLimits::default(),
    )?;
    scan.pickle
        .ok_or_else(|| "no pickle in the archive".to_string())
}

/// A container's facts and pickles into `a`; a container with no pickle
/// that should have one (a torch archive) is an error.
fn archive_into(
    a: &mut ModelAnalysis,
    path: &Path,
    kind: ArchiveKind,
    role: archive::Role,
    rules: &PickleRules,
) {
    match archive::analyse_file(path, kind, role, rules) {
        Ok(scan) => {
            if role != archive::Role::Facts {
                a.pickle = scan.pickle;
            }
            a.archive = Some(scan.report);
        }
        Err(e) if role == archive::Role::Facts => {
            a.error.get_or_insert(e);
        }
        Err(e) => a.error = Some(e),
    }
}

/// Metadata is text an uploader chose: a URL in it may carry credentials
/// (`https://user:token@host/…`, `?token=…`). Strip them like command lines.
fn redact(m: &mut crate::model::metadata::ModelMetadata) {
    use crate::model::redact::redact_text;
    for field in [
        &mut m.source_url,
        &mut m.repo_url,
        &mut m.name,
        &mut m.author,
        &mut m.organization,
    ]
    .into_iter()
    .flatten()
    {
        *field = redact_text(field);
    }
    for b in m.base_models.iter_mut() {
        *b = redact_text(b);
    }
    for v in m.general.values_mut() {
        *v = redact_text(v);
    }
    // They quote names and locations the file chose.
    for e in m.structure_errors.iter_mut() {
        *e = redact_text(e);
    }
}

pub fn analyse(path: &Path, format: &ModelFormat, rules: &PickleRules) -> ModelAnalysis {
    let mut a = content(path, format, rules);
    a.sidecars = super::sidecars::read(path).map(|mut s| {
        redact_sidecars(&mut s);
        s
    });
    a
}

/// Files beside the weights are text an uploader chose, like headers: URL
/// credentials and tokens in them are stripped before anything keeps them.
fn redact_sidecars(s: &mut crate::model::sidecars::Sidecars) {
    use crate::model::redact::redact_text;
    let mut fields: Vec<&mut String> = Vec::new();
    if let Some(c) = s.config.as_mut() {
        fields.extend(c.name_or_path.as_mut());
        fields.extend(c.architectures.iter_mut());
        fields.extend(c.model_type.as_mut());
    }
    if let Some(c) = s.card.as_mut() {
        fields.extend(c.license.as_mut());
        fields.extend(c.license_name.as_mut());
        fields.extend(c.base_models.iter_mut());
        fields.extend(c.datasets.iter_mut());
        fields.extend(c.languages.iter_mut());
        fields.extend(c.library.as_mut());
        fields.extend(c.pipeline_tag.as_mut());
    }
    if let Some(p) = s.package.as_mut() {
        fields.extend([&mut p.name, &mut p.version]);
        fields.extend(p.license.as_mut());
    }
    fields.extend(s.notes.iter_mut());
    for f in fields {
        *f = redact_text(f);
    }
}

/// What the file itself holds.
fn content(path: &Path, format: &ModelFormat, rules: &PickleRules) -> ModelAnalysis {
    let mut a = ModelAnalysis::default();
    match format {
        ModelFormat::Gguf { .. } => match gguf::read_gguf(path) {
            Ok(mut m) => {
                redact(&mut m);
                // What the loader rejects is an error of the file, its header kept.
                if !m.structure_errors.is_empty() {
                    a.error = Some(format!(
                        "the GGUF loader rejects this layout: {}",
                        m.structure_errors.join("; ")
                    ));
                }
                a.metadata = Some(m)
            }
            Err(e) => a.error = Some(e),
        },
        ModelFormat::Safetensors => match safetensors::read_safetensors(path) {
            Ok(mut m) => {
                redact(&mut m);
                // What the loader rejects is an error of the file, its header kept.
                if !m.structure_errors.is_empty() {
                    a.error = Some(format!(
                        "the safetensors loader rejects this header: {}",
                        m.structure_errors.join("; ")
                    ));
                }
                a.metadata = Some(m)
            }
            Err(e) => a.error = Some(e),
        },
        // Uncompressed joblib files are pickles: the joblib walk is the
        // pickle walk plus joblib's inline arrays.
        ModelFormat::Pickle { .. } | ModelFormat::Joblib { .. } => {
            match super::joblib::analyse_file(path, rules) {
                Ok(r) => a.pickle = Some(r),
                Err(e) => a.error = Some(e),
            }
        }
        ModelFormat::PytorchLegacy => match super::torch_legacy::analyse_file(path, rules) {
            Ok(r) => a.pickle = Some(r),
            Err(e) => a.error = Some(e),
        },
        ModelFormat::Npz => {
            match super::npz::analyse_file(path, rules) {
                Ok(r) => a.pickle = Some(r),
                Err(e) => a.error = Some(e),
            }
            archive_into(&mut a, path, ArchiveKind::Zip, archive::Role::Facts, rules);
        }
        ModelFormat::PytorchZip => {
            archive_into(&mut a, path, ArchiveKind::Zip, archive::Role::Torch, rules)
        }
        ModelFormat::Archive { archive: kind } => {
            archive_into(&mut a, path, *kind, archive::Role::Generic, rules)
        }
        ModelFormat::Numpy => match super::npy::scan_npy(path, rules) {
            Ok(report) => a.pickle = report,
            Err(e) => a.error = Some(e),
        },
        ModelFormat::Onnx => match super::onnx::read_onnx(path) {
            Ok((mut m, report)) => {
                redact(&mut m);
                // What the loader rejects is an error of the file, its header kept.
                if !m.structure_errors.is_empty() {
                    a.error = Some(format!(
                        "the ONNX loader rejects this model: {}",
                        m.structure_errors.join("; ")
                    ));
                }
                a.metadata = Some(m);
                a.onnx = Some(report);
            }
            Err(e) => a.error = Some(e),
        },
        ModelFormat::Keras => {
            match super::keras::read_keras(path) {
                Ok(report) => a.keras = Some(report),
                Err(e) => a.error = Some(e),
            }
            archive_into(&mut a, path, ArchiveKind::Zip, archive::Role::Facts, rules);
        }
        ModelFormat::Hdf5 => match super::hdf5::read_hdf5(path) {
            Ok(report) => a.keras = Some(report),
            Err(e) => a.error = Some(e),
        },
    }
    a
}

/// (dev, inode, size, mtime) of the file and of the sidecar files beside it
/// → analysis: unchanged files are read once, and an edited
/// `tokenizer_config.json` is seen at the next refresh.
#[derive(Default)]
pub struct AnalysisCache(HashMap<Vec<(u64, u64, u64, i64)>, ModelAnalysis>);

impl AnalysisCache {
    pub fn get_or_analyse(
        &mut self,
        path: &Path,
        format: &ModelFormat,
        rules: &PickleRules,
    ) -> ModelAnalysis {
        use std::os::unix::fs::MetadataExt;
        let Ok(m) = std::fs::metadata(path) else {
            return analyse(path, format, rules);
        };
        let mut key = vec![(m.dev(), m.ino(), m.len(), m.mtime())];
        if let Some(dir) = path.parent() {
            for name in super::sidecars::WATCHED {
                if let Ok(s) = std::fs::metadata(dir.join(name)) {
                    key.push((s.dev(), s.ino(), s.len(), s.mtime()));
                }
            }
        }
        if self.0.len() > 10_000 {
            self.0.clear();
        }
        self.0
            .entry(key)
            .or_insert_with(|| analyse(path, format, rules))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pickle::PickleVerdict;

    #[test]
    fn credentials_in_files_beside_the_weights_are_stripped() {
        let d = tempfile::tempdir().expect("tempdir");
        let canary = "hf_SIDECARCANARY1234567890";
        std::fs::write(
            d.path().join("config.json"),
            format!(r#"{{"_name_or_path": "https://user:{canary}@hub.example/org/m"}}"#),
        )
        .expect("write");
        std::fs::write(
            d.path().join("README.md"),
            format!("---\nbase_model: https://x:{canary}@h.example/a/b\n---\n"),
        )
        .expect("write");
        let path = d.path().join("m.safetensors");
        std::fs::write(&path, b"").expect("write");
        let rules = crate::test_support::pickle_rules();
        let a = analyse(&path, &ModelFormat::Safetensors, &rules);
        let json = serde_json::to_string(&a).expect("json");
        assert!(a.sidecars.is_some(), "{json}");
        assert!(!json.contains(canary), "{json}");
    }

    #[test]
    fn pickle_family_files_are_sniffed_and_analysed_end_to_end() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
        let rules = PickleRules::embedded().expect("rules");
        for (name, verdict) in [
            ("torch_legacy.pt", PickleVerdict::Safe),
            ("torch_legacy_evil.pt", PickleVerdict::Dangerous),
            ("model.joblib", PickleVerdict::Safe),
            ("after_array.joblib", PickleVerdict::Dangerous),
            ("two_faced.joblib", PickleVerdict::Dangerous),
            ("model.joblib.xz", PickleVerdict::Safe),
            ("after_array_evil.joblib.gz", PickleVerdict::Dangerous),
            ("plain.npz", PickleVerdict::Safe),
            ("objects.npz", PickleVerdict::Safe),
            ("evil.npz", PickleVerdict::Dangerous),
        ] {
            let path = dir.join(name);
            let format = super::super::magic::recognise(&path)
                .expect("readable")
                .unwrap_or_else(|| panic!("{name} not recognised"));
            let a = analyse(&path, &format, &rules);
            assert_eq!(a.error, None, "{name}");
            let p = a
                .pickle
                .unwrap_or_else(|| panic!("{name}: no pickle report"));
            assert_eq!(
                crate::rules::pickle::verdict(&p),
                verdict,
                "{name} ({format:?}): {p:#?}"
            );
        }
    }

    #[test]
    fn credentials_in_metadata_urls_are_stripped() {
        let mut m = crate::model::metadata::ModelMetadata {
            source_url: Some("https://bob:hf_secrettoken@huggingface.co/org/m".into()),
            base_models: vec!["base <https://x.example/m?token=abc123>".into()],
            ..Default::default()
        };
        m.general
            .insert("general.url".into(), "https://u:p@h/x".into());
        redact(&mut m);
        let all = format!("{m:?}");
        for secret in ["hf_secrettoken", "abc123", "u:p@"] {
            assert!(!all.contains(secret), "{secret} kept: {all}");
        }
        assert!(all.contains("huggingface.co/org/m"));
    }
}
