//! What a model file says about itself, read from its header only (GGUF key-value
//! section, safetensors JSON header). Every string here came from an untrusted file:
//! it is sanitised (no control or bidi characters) and capped before it is stored.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest text field kept, in characters.
pub const MAX_FIELD_CHARS: usize = 512;
/// Most entries kept in `ModelMetadata::general`.
pub const MAX_GENERAL_ENTRIES: usize = 64;
/// Most notes kept.
pub const MAX_NOTES: usize = 32;
/// Characters of a chat template shown in `ChatTemplate::excerpt`.
pub const EXCERPT_CHARS: usize = 300;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ModelMetadata {
    pub architecture: Option<String>,
    pub name: Option<String>,
    pub organization: Option<String>,
    pub author: Option<String>,
    pub version: Option<String>,
    pub license: Option<String>,
    pub source_url: Option<String>,
    pub repo_url: Option<String>,
    /// One line per declared base model: "name [organization] <url>".
    pub base_models: Vec<String>,
    pub parameter_count: Option<u64>,
    pub quantization: Option<String>,
    pub file_type: Option<String>,
    pub tensor_count: Option<u64>,
    pub context_length: Option<u64>,
    /// Other provenance strings (GGUF `general.*`, safetensors `__metadata__`), capped.
    pub general: BTreeMap<String, String>,
    pub chat_template: Option<ChatTemplate>,
    /// GGUF's named templates (`tokenizer.chat_template.<name>`): rendered
    /// too when a client asks for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named_templates: Vec<NamedTemplate>,
    /// What the parser noticed: inconsistencies, caps hit, values it could not use.
    pub notes: Vec<String>,
    /// What the format's reference loader rejects or would read otherwise than
    /// this header says, each with its file offset: the file is not clean.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub structure_errors: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ChatTemplate {
    /// SHA-256 of the template's raw bytes, lowercase hex.
    pub sha256: String,
    /// Length of the template in bytes.
    pub length: u64,
    /// The first characters, sanitised; newlines shown as ⏎.
    pub excerpt: String,
    /// Jinja sandbox-escape markers found, as "marker at byte-offset".
    pub ssti_markers: Vec<String>,
}

/// A chat template and where a loader finds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NamedTemplate {
    /// `tokenizer_config.json chat_template`, `chat_template.jinja`,
    /// `GGUF tokenizer.chat_template.tool_use` …
    pub source: String,
    pub template: ChatTemplate,
}

impl ModelMetadata {
    /// Add a note, up to `MAX_NOTES`; the last slot says how many were dropped.
    pub fn note(&mut self, text: impl Into<String>) {
        match self.notes.len() {
            n if n < MAX_NOTES - 1 => self.notes.push(sanitize(&text.into(), MAX_FIELD_CHARS)),
            n if n == MAX_NOTES - 1 => self.notes.push("further notes dropped".into()),
            _ => {}
        }
    }

    /// Insert into `general` unless the cap is reached (then one note says so).
    pub fn put_general(&mut self, key: &str, value: &str) {
        if self.general.len() >= MAX_GENERAL_ENTRIES && !self.general.contains_key(key) {
            if !self.notes.iter().any(|n| n.starts_with("more than")) {
                self.note(format!(
                    "more than {MAX_GENERAL_ENTRIES} provenance strings; the rest are not kept"
                ));
            }
            return;
        }
        self.general
            .insert(sanitize(key, 128), sanitize(value, MAX_FIELD_CHARS));
    }
}

/// Characters that make a string render as something else: bidi overrides and
/// isolates, zero-width characters, the BOM.
fn is_deceptive(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Replace control and deceptive characters with U+FFFD and cap to `max_chars`
/// characters (a cut string ends with …).
pub fn sanitize(s: &str, max_chars: usize) -> String {
    clean(s, max_chars, false)
}

/// As `sanitize`, but newlines become ⏎ (for one-line excerpts of templates).
pub fn excerpt(s: &str, max_chars: usize) -> String {
    clean(s, max_chars, true)
}

fn clean(s: &str, max_chars: usize, show_newlines: bool) -> String {
    let mut out = String::with_capacity(s.len().min(max_chars * 4));
    for (n, c) in s.chars().enumerate() {
        if n == max_chars {
            out.push('…');
            break;
        }
        out.push(match c {
            '\n' if show_newlines => '⏎',
            c if c.is_control() || is_deceptive(c) => '\u{FFFD}',
            c => c,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_strips_controls_and_caps() {
        assert_eq!(
            sanitize("a\x1b[31mb\u{202E}c", 100),
            "a\u{FFFD}[31mb\u{FFFD}c"
        );
        assert_eq!(sanitize("abcdef", 3), "abc…");
        assert_eq!(excerpt("a\nb\tc", 10), "a⏎b\u{FFFD}c");
        assert_eq!(sanitize("a\nb", 10), "a\u{FFFD}b");
    }

    #[test]
    fn notes_and_general_are_capped() {
        let mut m = ModelMetadata::default();
        for i in 0..100 {
            m.put_general(&format!("k{i}"), "v");
        }
        assert_eq!(m.general.len(), MAX_GENERAL_ENTRIES);
        for i in 0..100 {
            m.note(format!("n{i}"));
        }
        assert_eq!(m.notes.len(), MAX_NOTES);
        assert_eq!(m.notes.last().unwrap(), "further notes dropped");
    }
}
