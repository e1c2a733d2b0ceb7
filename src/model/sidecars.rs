//! What the files beside a model's weights say about it: the chat templates a
//! loader would use (`tokenizer_config.json`, `chat_template.jinja`,
//! `chat_template.json`, `additional_chat_templates/`), the architecture and
//! the name it was loaded from (`config.json`), the model card's YAML
//! (`README.md`: licence, base models, datasets, languages), and, for a model
//! installed from a Python wheel, the distribution's METADATA and the digest
//! its RECORD holds for the file. Plain data, every fact with the file it was
//! read from; the reader is `formats::sidecars`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::metadata::NamedTemplate;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ConfigFacts {
    pub path: String,
    /// `_name_or_path`: what the weights were loaded from when saved.
    pub name_or_path: Option<String>,
    pub architectures: Vec<String>,
    pub model_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CardFacts {
    pub path: String,
    pub license: Option<String>,
    pub license_name: Option<String>,
    pub base_models: Vec<String>,
    pub datasets: Vec<String>,
    pub languages: Vec<String>,
    pub library: Option<String>,
    pub pipeline_tag: Option<String>,
}

/// A licence text: an Ollama licence layer (the Modelfile's LICENSE).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct LicenseText {
    pub path: String,
    /// Its first non-empty line, as written (sanitised, capped).
    pub heading: String,
    /// The identifier its heading names (assets/licenses.toml), if recognised.
    pub id: Option<String>,
}

/// The Ollama manifest's config blob and licence layers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct OllamaFacts {
    /// The config blob read, if any.
    pub config_path: Option<String>,
    pub model_format: Option<String>,
    pub family: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<String>,
    /// Parameter count as Ollama states it (`8.0B`).
    pub parameter_size: Option<String>,
    /// Quantisation (`Q4_K_M`).
    pub file_type: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseText>,
}

/// The Python distribution whose RECORD lists the model file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct PackageFacts {
    /// The `.dist-info` directory.
    pub dist_info: String,
    pub name: String,
    pub version: String,
    /// `License-Expression`, else `License`, else a licence classifier.
    pub license: Option<String>,
    /// The file's path as RECORD lists it.
    pub record_entry: String,
    /// sha256 RECORD holds for the file (lowercase hex), if it holds one.
    pub record_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Sidecars {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<NamedTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<CardFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<PackageFacts>,
    /// What the other layers of an Ollama manifest say about the model layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ollama: Option<OllamaFacts>,
    /// Files that exist but could not be read or parsed, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Sidecars {
    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
            && self.config.is_none()
            && self.card.is_none()
            && self.package.is_none()
            && self.ollama.is_none()
            && self.notes.is_empty()
    }
}
