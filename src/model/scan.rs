//! `aiposture scan`: model files named on the command line, each sniffed by
//! content and analysed like the collector analyses the files it finds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ModelAnalysis, ModelFormat};

/// What one file amounts to, worst first in `Ord` terms reversed: the report's
/// exit code is decided by the worst verdict present.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FileVerdict {
    /// Not a model format aiposture recognises by content (config, tokenizer, text).
    NotAModel,
    /// A model whose header was read and holds nothing that runs code.
    Clean,
    /// Could not be read or parsed: truncated, malformed, over a bound. Not vetted.
    Error,
    /// A pickle stream the walker could not finish: what follows the break is unknown.
    Unparseable,
    /// Imports outside the allowlist, or a chat template with Jinja escape patterns.
    Suspicious,
    /// A pickle that imports code-execution primitives.
    Dangerous,
}

impl FileVerdict {
    pub fn label(self) -> &'static str {
        match self {
            FileVerdict::NotAModel => "not a model",
            FileVerdict::Clean => "clean",
            FileVerdict::Error => "error",
            FileVerdict::Unparseable => "unparseable",
            FileVerdict::Suspicious => "suspicious",
            FileVerdict::Dangerous => "dangerous",
        }
    }

    /// Everything but a clean model or a non-model leaves the file unvetted.
    pub fn fails(self) -> bool {
        !matches!(self, FileVerdict::NotAModel | FileVerdict::Clean)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScannedFile {
    /// As given or found by the walk (lossy UTF-8).
    pub path: String,
    pub size_bytes: Option<u64>,
    /// Format by content; `None` for non-models and unreadable files.
    pub format: Option<ModelFormat>,
    pub verdict: FileVerdict,
    /// Why it was judged so, one line each (globals, template markers, errors).
    pub reasons: Vec<String>,
    #[serde(default)]
    pub analysis: ModelAnalysis,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanReport {
    pub files: Vec<ScannedFile>,
    /// Walk limits hit, symlinks and special files skipped.
    pub notes: Vec<String>,
}

impl ScanReport {
    /// The worst verdict of any file (`NotAModel` when there is none).
    pub fn worst(&self) -> FileVerdict {
        self.files
            .iter()
            .map(|f| f.verdict)
            .max()
            .unwrap_or(FileVerdict::NotAModel)
    }
}
