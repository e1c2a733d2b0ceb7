//! `aiposture scan`: model files named on the command line, each sniffed by
//! content and analysed like the collector analyses the files it finds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ModelAnalysis, ModelFormat};

pub use super::model_file::FileVerdict;

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
