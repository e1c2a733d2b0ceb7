//! `assets/onnx_types.toml`: the ONNX tensor element types (TensorProto.DataType),
//! their size in raw_data and the typed field that holds them otherwise, for
//! checking an initializer's data as onnx.checker and numpy_helper do.

use std::collections::HashMap;
use std::sync::OnceLock;

const ONNX_TYPES: &str = include_str!("../../assets/onnx_types.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TypesFile {
    #[allow(dead_code)]
    source: String,
    #[serde(rename = "type")]
    types: Vec<OnnxType>,
}

/// One element type.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnnxType {
    pub id: u32,
    pub name: String,
    /// Bits of one element in raw_data; 0 where the packing is not known here.
    pub bits: u32,
    /// The TensorProto field that holds the values when raw_data does not.
    pub field: String,
    /// Values of `field` per element; 0 where several elements share one value.
    pub per_element: u32,
}

impl OnnxType {
    /// Bytes `elements` take in raw_data, where this table knows the packing.
    pub fn raw_bytes(&self, elements: u64) -> Option<u64> {
        match self.bits {
            0 => None,
            b => elements
                .checked_mul(u64::from(b))
                .map(|bits| bits.div_ceil(8)),
        }
    }

    /// Values of the typed field that `elements` take, where one is per element.
    pub fn typed_values(&self, elements: u64) -> Option<u64> {
        match self.per_element {
            0 => None,
            k => elements.checked_mul(u64::from(k)),
        }
    }
}

/// The embedded table.
pub fn get(id: u32) -> Option<&'static OnnxType> {
    static T: OnceLock<HashMap<u32, OnnxType>> = OnceLock::new();
    T.get_or_init(|| {
        let f: TypesFile =
            toml::from_str(ONNX_TYPES).expect("assets/onnx_types.toml is valid (tested)");
        f.types.into_iter().map(|t| (t.id, t)).collect()
    })
    .get(&id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_parses_with_sizes_and_fields() {
        let f = super::get(1).expect("FLOAT");
        assert_eq!(
            (f.name.as_str(), f.raw_bytes(12), f.typed_values(12)),
            ("FLOAT", Some(48), Some(12))
        );
        let c = super::get(14).expect("COMPLEX64");
        assert_eq!((c.raw_bytes(3), c.typed_values(3)), (Some(24), Some(6)));
        let i4 = super::get(22).expect("INT4");
        assert_eq!((i4.raw_bytes(5), i4.typed_values(5)), (Some(3), None));
        assert_eq!(super::get(8).and_then(|s| s.raw_bytes(1)), None, "STRING");
        assert!(super::get(0).is_none(), "UNDEFINED is not a type");
        assert!(super::get(99).is_none());
    }
}
