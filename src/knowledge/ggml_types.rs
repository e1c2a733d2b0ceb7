//! `assets/ggml_types.toml`: the ggml tensor types a GGUF loader knows (block
//! size and bytes per block) and its limits on tensor infos, for checking a
//! GGUF's tensor layout as `gguf_init_from_file` does.

use std::collections::HashMap;
use std::sync::OnceLock;

const GGML_TYPES: &str = include_str!("../../assets/ggml_types.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TypesFile {
    #[allow(dead_code)]
    source: String,
    max_dims: u32,
    max_name: usize,
    default_alignment: u64,
    #[serde(rename = "type")]
    types: Vec<GgmlType>,
}

/// One tensor type: `block` elements take `bytes` bytes.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GgmlType {
    pub id: u32,
    pub name: String,
    pub block: u64,
    pub bytes: u64,
}

#[derive(Debug)]
pub struct GgmlTypes {
    /// Dimensions a tensor may have (GGML_MAX_DIMS).
    pub max_dims: u32,
    /// Name bytes allowed, including the terminating NUL (GGML_MAX_NAME).
    pub max_name: usize,
    pub default_alignment: u64,
    by_id: HashMap<u32, GgmlType>,
}

impl GgmlTypes {
    pub fn get(&self, id: u32) -> Option<&GgmlType> {
        self.by_id.get(&id)
    }
}

/// The embedded table (assets/ggml_types.toml).
pub fn embedded() -> &'static GgmlTypes {
    static T: OnceLock<GgmlTypes> = OnceLock::new();
    T.get_or_init(|| {
        let f: TypesFile =
            toml::from_str(GGML_TYPES).expect("assets/ggml_types.toml is valid (tested)");
        GgmlTypes {
            max_dims: f.max_dims,
            max_name: f.max_name,
            default_alignment: f.default_alignment,
            by_id: f.types.into_iter().map(|t| (t.id, t)).collect(),
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_parses_with_the_common_types() {
        let t = super::embedded();
        assert_eq!((t.max_dims, t.max_name, t.default_alignment), (4, 64, 32));
        let q4k = t.get(12).expect("Q4_K");
        assert_eq!(
            (q4k.name.as_str(), q4k.block, q4k.bytes),
            ("Q4_K", 256, 144)
        );
        assert!(t.get(4).is_none(), "Q4_2 was removed");
        assert!(t.get(1000).is_none());
    }
}
