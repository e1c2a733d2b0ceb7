//! Where a model says, or its location shows, it came from. Derived from what is
//! already collected (store layout, header metadata); "unknown" is a state of its
//! own, never an empty field.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::metadata::ModelMetadata;

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ProvenanceState {
    /// At least a publisher, a repository, a base model or the package that
    /// installed it is known.
    Known,
    /// Neither the location, the header nor the files beside it name any.
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
    /// Who stands behind the publisher and the base models' publishers, from
    /// the sourced table in assets/publishers.toml.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<Origin>,
}

/// The legal entity behind a publisher's name (facts with their source).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Origin {
    /// The name as the model's facts give it (`mistralai`, `Qwen`).
    pub publisher: String,
    /// `publisher` or `base model`.
    pub role: String,
    pub entity: String,
    /// ISO 3166-1 alpha-2; empty where no single seat is known.
    pub jurisdiction: String,
    pub seat: String,
    /// `original` (trains its own weights) or `repackager`.
    pub kind: String,
    /// Whether the sources state entity and seat both.
    pub verified: bool,
    pub source: String,
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
                if !self.base_models.iter().any(|b| b == value) {
                    self.base_models.push(value.into());
                }
                self.state = ProvenanceState::Known;
                return;
            }
            // A distribution that installed the file is where it came from.
            "package" => {
                self.state = ProvenanceState::Known;
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

    /// Facts the files beside the weights give: the card's licence and base
    /// models, the name config.json says the weights were loaded from, the
    /// wheel that installed the file.
    pub fn from_sidecars(&mut self, s: &crate::model::sidecars::Sidecars) {
        if let Some(p) = &s.package {
            let src = format!("wheel METADATA ({})", p.dist_info);
            self.add("package", &format!("pypi:{}=={}", p.name, p.version), &src);
            if let Some(l) = &p.license {
                self.add("license", l, &src);
            }
        }
        if let Some(c) = &s.card {
            let src = format!("model card front matter ({})", c.path);
            if let Some(l) = &c.license {
                self.add("license", l, &src);
            }
            for b in &c.base_models {
                self.add("base_model", b, &src);
            }
            for d in &c.datasets {
                self.add("dataset", d, &src);
            }
        }
        if let Some(o) = &s.ollama {
            for l in &o.licenses {
                if let Some(id) = &l.id {
                    self.add("license", id, &format!("Ollama licence layer ({})", l.path));
                }
            }
            if let Some(f) = &o.family {
                let src = format!(
                    "Ollama config layer ({})",
                    o.config_path.as_deref().unwrap_or("?")
                );
                self.add("family", f, &src);
            }
        }
        if let Some(c) = &s.config
            && let Some(n) = &c.name_or_path
            // A hub id (org/name), not a local path someone saved from.
            && n.split('/').count() == 2
            && !n.starts_with(['/', '.', '~'])
        {
            self.add(
                "base_model",
                n,
                &format!("config.json _name_or_path ({})", c.path),
            );
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
