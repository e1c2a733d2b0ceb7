//! Where a model says, or its location shows, it came from. Derived from what is
//! already collected (store layout, header metadata); "unknown" is a state of its
//! own, never an empty field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::metadata::ModelMetadata;

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProvenanceState {
    /// At least a publisher or a repository is known.
    Known,
    /// Neither the location nor the header names a publisher or repository.
    #[default]
    Unknown,
}

/// One provenance fact and where it was read.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ProvenanceFact {
    /// publisher, repo, revision, tag, license, base_model, url
    pub field: String,
    pub value: String,
    /// e.g. `Hugging Face cache path`, `GGUF general.organization` (a claim the file makes).
    pub source: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Provenance {
    pub state: ProvenanceState,
    /// First found, location before header: where it was downloaded from is a
    /// stronger fact than what the file says about itself.
    pub publisher: Option<String>,
    /// `org/name` (Hugging Face), `registry/namespace/model` (Ollama), or a URL.
    pub repo: Option<String>,
    pub revision: Option<String>,
    pub license: Option<String>,
    pub base_models: Vec<String>,
    /// Every fact with its source, including those that lost to an earlier one.
    pub facts: Vec<ProvenanceFact>,
}

impl Provenance {
    pub fn add(&mut self, field: &str, value: &str, source: &str) {
        let value = value.trim();
        if value.is_empty()
            || self.facts.len() >= 32
            || self
                .facts
                .iter()
                .any(|f| f.field == field && f.value == value && f.source == source)
        {
            return;
        }
        self.facts.push(ProvenanceFact {
            field: field.into(),
            value: value.into(),
            source: source.into(),
        });
        let slot = match field {
            "publisher" => &mut self.publisher,
            "repo" => &mut self.repo,
            "revision" => &mut self.revision,
            "license" => &mut self.license,
            "base_model" => {
                self.base_models.push(value.into());
                return;
            }
            _ => return,
        };
        if slot.is_none() {
            *slot = Some(value.into());
        }
        if self.publisher.is_some() || self.repo.is_some() {
            self.state = ProvenanceState::Known;
        }
    }

    /// Source of the first fact for `field` equal to `value` (case-insensitive).
    pub fn source_of(&self, field: &str, value: &str) -> Option<&str> {
        self.facts
            .iter()
            .find(|f| f.field == field && f.value.eq_ignore_ascii_case(value))
            .map(|f| f.source.as_str())
    }

    /// One line for lists: `Qwen/Qwen2.5-0.5B (Hugging Face cache path)` or `unknown provenance`.
    pub fn label(&self) -> String {
        match self.state {
            ProvenanceState::Unknown => "unknown provenance".into(),
            ProvenanceState::Known => {
                let main = self
                    .repo
                    .clone()
                    .or_else(|| self.publisher.clone())
                    .unwrap_or_default();
                let src = self
                    .facts
                    .iter()
                    .find(|f| (f.field == "repo" || f.field == "publisher") && f.value == main)
                    .map(|f| f.source.as_str())
                    .unwrap_or("?");
                format!("{main} ({src})")
            }
        }
    }

    /// Facts from a model's location: a Hugging Face cache path anywhere in it
    /// (`…/models--org--name/…`), or an LM Studio `publisher/model/file` layout.
    pub fn from_path(&mut self, path: &str) {
        let mut parts = path.split('/');
        while let Some(p) = parts.next() {
            if let Some(repo) = p.strip_prefix("models--") {
                let repo = repo.replacen("--", "/", 1);
                if let Some((org, _)) = repo.split_once('/') {
                    self.add("publisher", org, "Hugging Face cache path");
                }
                self.add("repo", &repo, "Hugging Face cache path");
                if parts.next() == Some("snapshots")
                    && let Some(rev) = parts.next()
                {
                    self.add("revision", rev, "Hugging Face cache path");
                }
                return;
            }
        }
    }

    /// Facts a header claims (GGUF `general.*`, safetensors `__metadata__`).
    pub fn from_metadata(&mut self, m: &ModelMetadata, format: &str) {
        let src = |k: &str| format!("{format} {k} (claimed by the file)");
        if let Some(v) = &m.organization {
            self.add("publisher", v, &src("general.organization"));
        }
        if let Some(v) = &m.author {
            self.add("publisher", v, &src("general.author"));
        }
        if let Some(v) = &m.repo_url {
            self.add("repo", v, &src("general.repo_url"));
        }
        if let Some(v) = &m.source_url {
            self.add("url", v, &src("general.source.url"));
        }
        if let Some(v) = &m.license {
            self.add("license", v, &src("general.license"));
        }
        for b in &m.base_models {
            self.add("base_model", b, &src("general.base_model.*"));
        }
    }
}
