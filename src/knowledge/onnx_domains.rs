//! `assets/onnx_domains.toml`: operator domains built into ONNX and ONNX
//! Runtime; an operator outside them needs code from outside the model file.

const ONNX_DOMAINS: &str = include_str!("../../assets/onnx_domains.toml");

#[derive(serde::Deserialize)]
struct DomainFile {
    domain: Vec<DomainEntry>,
}
#[derive(serde::Deserialize)]
struct DomainEntry {
    names: Vec<String>,
    #[allow(dead_code)]
    source: String,
}

/// Operator domains built into ONNX and ONNX Runtime (assets/onnx_domains.toml).
pub fn builtin() -> &'static [String] {
    static D: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    D.get_or_init(|| {
        toml::from_str::<DomainFile>(ONNX_DOMAINS)
            .expect("assets/onnx_domains.toml is valid (tested)")
            .domain
            .into_iter()
            .flat_map(|d| d.names)
            .collect()
    })
}
