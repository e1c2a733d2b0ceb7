//! `assets/template_markers.toml`: strings whose presence in a chat template is
//! a Jinja escape pattern (server-side template injection), each group sourced.

use std::sync::OnceLock;

use serde::Deserialize;

const TEMPLATE_MARKERS: &str = include_str!("../../assets/template_markers.toml");

#[derive(Deserialize)]
struct MarkerFile {
    group: Vec<MarkerGroup>,
}
#[derive(Deserialize)]
struct MarkerGroup {
    #[allow(dead_code)]
    source: String,
    markers: Vec<String>,
}

/// The SSTI markers of `assets/template_markers.toml`, in file order.
pub fn markers() -> &'static [String] {
    static M: OnceLock<Vec<String>> = OnceLock::new();
    M.get_or_init(|| {
        toml::from_str::<MarkerFile>(TEMPLATE_MARKERS)
            .expect("assets/template_markers.toml is valid (tested)")
            .group
            .into_iter()
            .flat_map(|g| g.markers)
            .collect()
    })
}
