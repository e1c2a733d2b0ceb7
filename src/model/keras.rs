//! What a Keras model's architecture JSON declares (Keras 3 `.keras`
//! config.json, legacy `.h5` model_config attribute), read without Keras:
//! Lambda layers carry Python bytecode; custom objects name code outside Keras.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Lambda layers and custom objects kept each.
pub const MAX_LISTED: usize = 32;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct KerasReport {
    /// From metadata.json (`.keras`) or the `keras_version` attribute (`.h5`).
    pub keras_version: Option<String>,
    pub backend: Option<String>,
    /// Where the architecture was read; `None`: not found, layers unchecked.
    pub config_source: Option<String>,
    /// Every layer of the architecture was looked at. False is "unknown", never "safe".
    pub layers_checked: bool,
    /// Serialised objects with a class_name (layers, initializers, …) seen.
    pub object_count: u64,
    pub lambdas: Vec<KerasLambda>,
    pub custom_objects: Vec<KerasCustomObject>,
    /// Caps hit, unexpected shapes, why layers were not checked.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct KerasLambda {
    /// Layer name and its place in the tree, e.g. `model/sequential/lambda`.
    pub layer: String,
    /// The function is serialised Python bytecode (marshal, base64): it runs on load.
    pub bytecode: bool,
    /// What the function field holds: bytecode size, or the function it names.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct KerasCustomObject {
    pub class_name: String,
    pub module: Option<String>,
    pub registered_name: Option<String>,
    /// Where in the tree, as for Lambda layers.
    pub at: String,
}
