//! What an ONNX model's protobuf says about itself, read field by field
//! without its weights: provenance, operator domains, external data.
//! Every string came from an untrusted file and is sanitised and capped.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Distinct (domain, op_type) pairs kept; more are counted, not listed.
pub const MAX_OPS: usize = 256;
/// External-data references kept.
pub const MAX_EXTERNAL: usize = 64;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct OnnxReport {
    pub ir_version: Option<u64>,
    /// Opsets the model imports: the operator domains it declares.
    pub opsets: Vec<OnnxOpset>,
    /// Nodes seen in the graph, its subgraphs, training graphs and functions.
    pub node_count: u64,
    /// Distinct operators used, each with its domain ("" is the default ai.onnx).
    pub ops: Vec<OnnxOp>,
    /// Model-local functions (domain, name): nodes calling them run no native code.
    pub functions: Vec<OnnxOp>,
    /// Initializers whose bytes live in another file (data_location EXTERNAL).
    pub external_data: Vec<OnnxExternalData>,
    /// The walk read every field it looked for; false when a cap stopped it.
    pub complete: bool,
    /// Operators that need code from outside the model file: neither in a
    /// built-in domain (`assets/onnx_domains.toml`) nor a model-local function;
    /// set by `rules`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_ops: Vec<OnnxOp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct OnnxOpset {
    pub domain: String,
    pub version: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord)]
pub struct OnnxOp {
    pub domain: String,
    pub op_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct OnnxExternalData {
    /// Initializer name.
    pub tensor: String,
    /// The `location` entry of its external_data, as written in the file.
    pub location: String,
    pub resolution: ExternalResolution,
    /// The `offset` and `length` entries (bytes), where given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Bytes the tensor's shape and element type take, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_bytes: Option<u64>,
}

/// Where an external-data location leads, judged against the model's directory.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum ExternalResolution {
    /// A file inside the model's directory.
    Inside,
    /// Inside the directory, but no such file.
    Missing,
    /// An absolute path: the loader reads whatever it names.
    Absolute,
    /// Climbs out with `..`.
    ParentTraversal,
    /// Resolves (through symlinks) to `target`, outside the model's directory.
    OutsideDir { target: String },
    /// Not judged (no location entry, a location over the length cap, the
    /// model's directory unreadable), and why.
    Unknown { why: String },
}

impl ExternalResolution {
    /// The loader would read a file outside the model's directory.
    pub fn escapes(&self) -> bool {
        matches!(
            self,
            Self::Absolute | Self::ParentTraversal | Self::OutsideDir { .. }
        )
    }
}
