//! Reads the files beside a model's weights (see `model::sidecars`): small,
//! capped reads of named files in the weights' directory, the model card's
//! YAML front matter, and — for a model under a Python `site-packages` — the
//! `.dist-info` whose RECORD lists the file. Never follows a name outside the
//! directory; a file that exists but cannot be read or parsed is a note.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;

use crate::model::metadata::sanitize;
use crate::model::sidecars::{
    CardFacts, ConfigFacts, LicenseText, NamedTemplate, OllamaFacts, PackageFacts, Sidecars,
};

/// Bytes read of `config.json`, `README.md` and template files.
const SMALL_CAP: u64 = 1 << 20;
/// `tokenizer_config.json` can carry large added-token tables.
const TOKENIZER_CONFIG_CAP: u64 = 16 << 20;
/// Templates read from `additional_chat_templates/`.
const MAX_EXTRA_TEMPLATES: usize = 32;
/// Ancestors searched for a `site-packages` with `.dist-info` directories.
const MAX_ANCESTORS: usize = 8;
/// `.dist-info` directories read in one `site-packages`.
const MAX_DISTS: usize = 2000;
const RECORD_CAP: u64 = 8 << 20;
const FIELD: usize = 200;

/// The sidecar files whose identity decides whether a cached analysis is
/// still current.
pub const WATCHED: [&str; 5] = [
    "config.json",
    "README.md",
    "tokenizer_config.json",
    "chat_template.jinja",
    "chat_template.json",
];

/// What the files beside `model` say; `None` when there is nothing.
pub fn read(model: &Path) -> Option<Sidecars> {
    let dir = model.parent()?;
    let mut s = Sidecars::default();
    templates(dir, &mut s);
    config(dir, &mut s);
    card(dir, &mut s);
    s.package = package(model);
    (!s.is_empty()).then_some(s)
}

fn read_capped(path: &Path, cap: u64) -> Result<Option<Vec<u8>>, String> {
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut buf = Vec::new();
    f.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if buf.len() as u64 > cap {
        return Err(format!(
            "{}: larger than the {cap} bytes read",
            path.display()
        ));
    }
    Ok(Some(buf))
}

fn json(path: &Path, cap: u64, s: &mut Sidecars) -> Option<serde_json::Value> {
    match read_capped(path, cap) {
        Ok(Some(b)) => match serde_json::from_slice(&b) {
            Ok(v) => Some(v),
            Err(e) => {
                s.notes.push(format!("{}: not JSON ({e})", path.display()));
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            s.notes.push(e);
            None
        }
    }
}

fn push_template(s: &mut Sidecars, source: String, raw: &[u8]) {
    if s.templates.len() < MAX_EXTRA_TEMPLATES + 4 {
        s.templates.push(NamedTemplate {
            source,
            template: super::gguf::chat_template(raw),
        });
    }
}

/// Every template transformers would render: `chat_template.jinja` (what
/// save_pretrained writes since 4.43), `chat_template.json` (processors),
/// `tokenizer_config.json`'s `chat_template` (a string, or named entries),
/// and `additional_chat_templates/*.jinja`.
fn templates(dir: &Path, s: &mut Sidecars) {
    match read_capped(&dir.join("chat_template.jinja"), SMALL_CAP) {
        Ok(Some(raw)) => push_template(s, "chat_template.jinja".into(), &raw),
        Ok(None) => {}
        Err(e) => s.notes.push(e),
    }
    if let Some(v) = json(&dir.join("chat_template.json"), SMALL_CAP, s)
        && let Some(t) = v.get("chat_template").and_then(|t| t.as_str())
    {
        push_template(s, "chat_template.json chat_template".into(), t.as_bytes());
    }
    if let Some(v) = json(&dir.join("tokenizer_config.json"), TOKENIZER_CONFIG_CAP, s) {
        match v.get("chat_template") {
            Some(serde_json::Value::String(t)) => push_template(
                s,
                "tokenizer_config.json chat_template".into(),
                t.as_bytes(),
            ),
            Some(serde_json::Value::Array(named)) => {
                for n in named.iter().take(MAX_EXTRA_TEMPLATES) {
                    let name = n.get("name").and_then(|x| x.as_str()).unwrap_or("?");
                    if let Some(t) = n.get("template").and_then(|x| x.as_str()) {
                        push_template(
                            s,
                            format!("tokenizer_config.json chat_template {}", sanitize(name, 64)),
                            t.as_bytes(),
                        );
                    }
                }
            }
            _ => {}
        }
    }
    let extra = dir.join("additional_chat_templates");
    if let Ok(entries) = std::fs::read_dir(&extra) {
        let mut names: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jinja"))
            .collect();
        names.sort();
        for p in names.into_iter().take(MAX_EXTRA_TEMPLATES) {
            match read_capped(&p, SMALL_CAP) {
                Ok(Some(raw)) => {
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    push_template(
                        s,
                        format!("additional_chat_templates/{}", sanitize(&name, 64)),
                        &raw,
                    );
                }
                Ok(None) => {}
                Err(e) => s.notes.push(e),
            }
        }
    }
}

fn config(dir: &Path, s: &mut Sidecars) {
    let path = dir.join("config.json");
    let Some(v) = json(&path, SMALL_CAP, s) else {
        return;
    };
    let text = |k: &str| text_of(&v, k);
    s.config = Some(ConfigFacts {
        path: path.display().to_string(),
        name_or_path: text("_name_or_path"),
        architectures: strings(&v, "architectures"),
        model_type: text("model_type"),
    });
}

/// A JSON string field, sanitised; `None` when absent or empty.
fn text_of(v: &serde_json::Value, k: &str) -> Option<String> {
    v.get(k)
        .and_then(|x| x.as_str())
        .map(|t| sanitize(t, FIELD))
        .filter(|t| !t.is_empty())
}

/// The first strings of a JSON array field, sanitised.
fn strings(v: &serde_json::Value, k: &str) -> Vec<String> {
    v.get(k)
        .and_then(|a| a.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str())
                .take(8)
                .map(|t| sanitize(t, FIELD))
                .collect()
        })
        .unwrap_or_default()
}

/// Bytes of an Ollama licence layer read for its heading.
const LICENSE_HEAD: u64 = 64 * 1024;

/// What an Ollama manifest's config blob and licence layers say, added to
/// `s` (unreadable layers become notes).
pub fn ollama_layers(config: Option<&Path>, licenses: &[PathBuf], s: &mut Sidecars) {
    let mut o = OllamaFacts::default();
    if let Some(path) = config
        && let Some(v) = json(path, SMALL_CAP, s)
    {
        let text = |k: &str| text_of(&v, k);
        o.config_path = Some(path.display().to_string());
        o.model_format = text("model_format");
        o.family = text("model_family");
        o.families = strings(&v, "model_families");
        o.parameter_size = text("model_type");
        o.file_type = text("file_type");
    }
    for path in licenses.iter().take(8) {
        let head = std::fs::File::open(path).and_then(|f| {
            let mut b = Vec::new();
            f.take(LICENSE_HEAD).read_to_end(&mut b).map(|_| b)
        });
        match head {
            Ok(b) => {
                let text = String::from_utf8_lossy(&b);
                o.licenses.push(LicenseText {
                    path: path.display().to_string(),
                    heading: sanitize(
                        text.lines()
                            .map(str::trim)
                            .find(|l| !l.is_empty())
                            .unwrap_or(""),
                        FIELD,
                    ),
                    id: crate::knowledge::licenses::identify_text(&text),
                });
            }
            Err(e) => s
                .notes
                .push(format!("Ollama licence layer {}: {e}", path.display())),
        }
    }
    if o != OllamaFacts::default() {
        // Text Ollama or an uploader wrote, like a header: credentials never kept.
        let redact = crate::model::redact::redact_text;
        for f in [
            &mut o.family,
            &mut o.parameter_size,
            &mut o.file_type,
            &mut o.model_format,
        ]
        .into_iter()
        .flatten()
        {
            *f = redact(f);
        }
        for l in o.licenses.iter_mut() {
            l.heading = redact(&l.heading);
        }
        s.ollama = Some(o);
    }
}

/// The YAML front matter of `README.md` (the Hub's model card metadata).
fn card(dir: &Path, s: &mut Sidecars) {
    let path = dir.join("README.md");
    let raw = match read_capped(&path, SMALL_CAP) {
        Ok(Some(raw)) => raw,
        Ok(None) => return,
        Err(e) => {
            s.notes.push(e);
            return;
        }
    };
    let text = String::from_utf8_lossy(&raw);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return;
    };
    let Some(end) = rest.find("\n---") else {
        s.notes
            .push(format!("{}: front matter never closed", path.display()));
        return;
    };
    let docs = match yaml_rust2::YamlLoader::load_from_str(&rest[..end]) {
        Ok(d) => d,
        Err(e) => {
            s.notes.push(format!(
                "{}: front matter is not YAML ({e})",
                path.display()
            ));
            return;
        }
    };
    let Some(doc) = docs.first() else {
        return;
    };
    let one = |k: &str| doc[k].as_str().map(|t| sanitize(t, FIELD));
    let many = |k: &str| -> Vec<String> {
        match &doc[k] {
            yaml_rust2::Yaml::String(t) => vec![sanitize(t, FIELD)],
            yaml_rust2::Yaml::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str())
                .take(16)
                .map(|t| sanitize(t, FIELD))
                .collect(),
            _ => Vec::new(),
        }
    };
    s.card = Some(CardFacts {
        path: path.display().to_string(),
        license: one("license"),
        license_name: one("license_name"),
        base_models: many("base_model"),
        datasets: many("datasets"),
        languages: many("language"),
        library: one("library_name"),
        pipeline_tag: one("pipeline_tag"),
    });
}

/// Model files a wheel's RECORD lists, per `site-packages`, read once per
/// directory state: path relative to `site-packages` → (dist-info, sha256).
type RecordIndex = HashMap<String, (PathBuf, Option<String>)>;

fn record_cache() -> &'static Mutex<HashMap<(PathBuf, i64), RecordIndex>> {
    static C: std::sync::OnceLock<Mutex<HashMap<(PathBuf, i64), RecordIndex>>> =
        std::sync::OnceLock::new();
    C.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The distribution whose RECORD lists `model`, if the file sits under a
/// directory holding `.dist-info` directories (a site-packages or target).
fn package(model: &Path) -> Option<PackageFacts> {
    let mut dir = model.parent()?;
    for _ in 0..MAX_ANCESTORS {
        let parent = dir.parent()?;
        if has_dist_info(parent) {
            return lookup(parent, model);
        }
        dir = parent;
    }
    None
}

fn has_dist_info(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .take(10_000)
            .any(|e| e.file_name().to_string_lossy().ends_with(".dist-info"))
    })
}

fn lookup(site: &Path, model: &Path) -> Option<PackageFacts> {
    use std::os::unix::fs::MetadataExt;
    let rel = model
        .strip_prefix(site)
        .ok()?
        .to_string_lossy()
        .into_owned();
    let mtime = std::fs::metadata(site).map(|m| m.mtime()).unwrap_or(0);
    let key = (site.to_path_buf(), mtime);
    let mut cache = record_cache().lock().ok()?;
    if !cache.contains_key(&key) {
        cache.retain(|(p, _), _| p != site);
        if cache.len() > 64 {
            cache.clear();
        }
        cache.insert(key.clone(), index(site));
    }
    let (dist_info, sha) = cache.get(&key)?.get(&rel)?.clone();
    drop(cache);
    let meta = read_capped(&dist_info.join("METADATA"), SMALL_CAP)
        .ok()
        .flatten()
        .unwrap_or_default();
    let meta = String::from_utf8_lossy(&meta);
    let header = |k: &str| {
        meta.lines()
            .take_while(|l| !l.is_empty())
            .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(':')))
            .map(|v| sanitize(v.trim(), FIELD))
            .filter(|v| !v.is_empty() && v != "UNKNOWN")
    };
    let classifier = meta
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.strip_prefix("Classifier:"))
        .map(str::trim)
        .find(|c| c.starts_with("License ::"))
        .map(|c| sanitize(c, FIELD));
    Some(PackageFacts {
        dist_info: dist_info.display().to_string(),
        name: header("Name").unwrap_or_default(),
        version: header("Version").unwrap_or_default(),
        license: header("License-Expression")
            .or_else(|| header("License"))
            .or(classifier),
        record_entry: sanitize(&rel, FIELD),
        record_sha256: sha,
    })
}

/// Model files the RECORDs under `site` list, with their digests.
fn index(site: &Path) -> RecordIndex {
    let mut out = RecordIndex::new();
    let Ok(entries) = std::fs::read_dir(site) else {
        return out;
    };
    for e in entries.flatten().take(MAX_DISTS) {
        let name = e.file_name();
        if !name.to_string_lossy().ends_with(".dist-info") {
            continue;
        }
        let Ok(Some(record)) = read_capped(&e.path().join("RECORD"), RECORD_CAP) else {
            continue;
        };
        for line in String::from_utf8_lossy(&record).lines() {
            // path,sha256=<urlsafe base64, no padding>,size (paths with a
            // comma are quoted; model files rarely are).
            let mut fields = line.rsplitn(3, ',');
            let (_size, hash, path) = (fields.next(), fields.next(), fields.next());
            let (Some(hash), Some(path)) = (hash, path) else {
                continue;
            };
            let path = path.trim_matches('"');
            if !model_like(path) {
                continue;
            }
            let sha = hash.strip_prefix("sha256=").and_then(|b| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(b)
                    .ok()
                    .filter(|d| d.len() == 32)
                    .map(|d| d.iter().map(|x| format!("{x:02x}")).collect())
            });
            out.insert(path.to_string(), (e.path(), sha));
        }
    }
    out
}

/// Extensions of files a RECORD entry is kept for.
fn model_like(path: &str) -> bool {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    matches!(
        ext.as_str(),
        "safetensors"
            | "bin"
            | "pt"
            | "pth"
            | "onnx"
            | "gguf"
            | "pkl"
            | "pickle"
            | "joblib"
            | "h5"
            | "keras"
            | "npz"
            | "npy"
            | "ckpt"
            | "msgpack"
            | "model"
            | "ot"
            | "tflite"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(dir: &Path, name: &str, text: &str) {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    #[test]
    fn every_template_a_loader_renders_is_read_with_its_source() {
        let d = tempfile::tempdir().expect("tempdir");
        put(d.path(), "model.safetensors", "");
        put(
            d.path(),
            "tokenizer_config.json",
            r#"{"chat_template": [{"name": "default", "template": "{{ x }}"}, {"name": "tool_use", "template": "{{ ''.__class__ }}"}]}"#,
        );
        put(
            d.path(),
            "chat_template.json",
            r#"{"chat_template": "{{ y }}"}"#,
        );
        put(d.path(), "additional_chat_templates/rag.jinja", "{{ z }}");
        put(
            d.path(),
            "config.json",
            r#"{"_name_or_path": "org/base", "architectures": ["LlamaForCausalLM"], "model_type": "llama"}"#,
        );
        put(
            d.path(),
            "README.md",
            "---\nlicense: llama3.1\nbase_model:\n- org/base\n- org/other\nlanguage: en\n---\n# text\n",
        );
        let s = read(&d.path().join("model.safetensors")).expect("sidecars");
        let sources: Vec<&str> = s.templates.iter().map(|t| t.source.as_str()).collect();
        assert_eq!(
            sources,
            [
                "chat_template.json chat_template",
                "tokenizer_config.json chat_template default",
                "tokenizer_config.json chat_template tool_use",
                "additional_chat_templates/rag.jinja"
            ]
        );
        assert!(!s.templates[2].template.ssti_markers.is_empty());
        let c = s.config.expect("config");
        assert_eq!(c.name_or_path.as_deref(), Some("org/base"));
        assert_eq!(c.architectures, ["LlamaForCausalLM"]);
        let card = s.card.expect("card");
        assert_eq!(card.license.as_deref(), Some("llama3.1"));
        assert_eq!(card.base_models, ["org/base", "org/other"]);
        assert_eq!(card.languages, ["en"]);
        assert!(s.package.is_none());
    }

    #[test]
    fn broken_sidecars_are_notes_and_nothing_is_nothing() {
        let d = tempfile::tempdir().expect("tempdir");
        put(d.path(), "m.gguf", "");
        assert!(read(&d.path().join("m.gguf")).is_none());
        put(d.path(), "config.json", "{not json");
        put(d.path(), "README.md", "---\nlicense: [unclosed\n");
        let s = read(&d.path().join("m.gguf")).expect("notes");
        assert_eq!(s.notes.len(), 2, "{:?}", s.notes);
        assert!(s.config.is_none() && s.card.is_none());
    }
}
