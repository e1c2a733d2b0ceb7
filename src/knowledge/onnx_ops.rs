//! `assets/onnx_ops.toml`: the operators of ONNX's registered domains and the
//! opset versions at which each was (re)defined, to say which nodes
//! onnx.checker refuses as "No Op registered".

use std::collections::HashMap;
use std::sync::OnceLock;

const ONNX_OPS: &str = include_str!("../../assets/onnx_ops.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OpsFile {
    #[allow(dead_code)]
    source: String,
    max_version: HashMap<String, i64>,
    op: Vec<Op>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Op {
    domain: String,
    name: String,
    since: Vec<i64>,
}

struct Table {
    max_version: HashMap<String, i64>,
    first_since: HashMap<(String, String), i64>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| {
        let f: OpsFile = toml::from_str(ONNX_OPS).expect("assets/onnx_ops.toml is valid (tested)");
        Table {
            max_version: f.max_version,
            first_since: f
                .op
                .into_iter()
                .map(|o| {
                    (
                        (o.domain, o.name),
                        o.since.into_iter().min().unwrap_or(i64::MAX),
                    )
                })
                .collect(),
        }
    })
}

/// `ai.onnx` is the default domain's other name.
fn canonical(domain: &str) -> &str {
    if domain == "ai.onnx" { "" } else { domain }
}

/// Whether the registry defines `op` in `domain` at opset `version`:
/// `Some(false)` is what onnx.checker refuses; `None` where this table cannot
/// say (a domain it does not register, or a version newer than it knows).
pub fn defined_at(domain: &str, op: &str, version: i64) -> Option<bool> {
    let t = table();
    let d = canonical(domain);
    let newest = *t.max_version.get(d)?;
    if version > newest {
        return None;
    }
    Some(
        t.first_since
            .get(&(d.to_string(), op.to_string()))
            .is_some_and(|first| *first <= version),
    )
}

#[cfg(test)]
mod tests {
    use super::defined_at;

    #[test]
    fn operators_exist_from_their_first_version() {
        assert_eq!(defined_at("", "MatMul", 17), Some(true));
        assert_eq!(defined_at("ai.onnx", "Gelu", 20), Some(true));
        assert_eq!(
            defined_at("", "Gelu", 17),
            Some(false),
            "Gelu came in opset 20"
        );
        assert_eq!(defined_at("", "NoSuchOp", 17), Some(false));
        assert_eq!(
            defined_at("ai.onnx.ml", "TreeEnsembleClassifier", 3),
            Some(true)
        );
        assert_eq!(defined_at("com.microsoft", "FusedGemm", 1), None);
        assert_eq!(
            defined_at("", "MatMul", 10_000),
            None,
            "newer than the table"
        );
    }
}
