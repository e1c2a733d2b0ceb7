//! `assets/licenses.toml`: licence names as cards, headers and package
//! metadata write them, mapped to one SPDX (or LicenseRef-) identifier, so
//! two sources can be compared.

use std::collections::HashMap;
use std::sync::OnceLock;

const LICENSES: &str = include_str!("../../assets/licenses.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    sources: HashMap<String, String>,
    license: Vec<Entry>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    names: Vec<String>,
}

fn table() -> &'static HashMap<String, String> {
    static T: OnceLock<HashMap<String, String>> = OnceLock::new();
    T.get_or_init(|| {
        let f: File = toml::from_str(LICENSES).expect("assets/licenses.toml is valid (tested)");
        let mut m = HashMap::new();
        for e in f.license {
            m.insert(e.id.to_ascii_lowercase(), e.id.clone());
            for n in e.names {
                m.insert(n.to_ascii_lowercase(), e.id.clone());
            }
        }
        m
    })
}

/// The identifier a licence name stands for; a name not in the table is
/// kept as written (trimmed). `None` for an empty name.
pub fn normalise(name: &str) -> Option<String> {
    let t = name.trim();
    if t.is_empty() {
        return None;
    }
    Some(
        table()
            .get(&t.to_ascii_lowercase())
            .cloned()
            .unwrap_or_else(|| t.to_string()),
    )
}

/// Whether the identifier says nothing comparable ("other", "unknown").
pub fn is_vague(id: &str) -> bool {
    matches!(
        id.to_ascii_lowercase().as_str(),
        "licenseref-other" | "unknown" | "none" | "unlicensed" | "proprietary"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_cards_headers_and_classifiers_meet() {
        assert_eq!(normalise("apache-2.0").as_deref(), Some("Apache-2.0"));
        assert_eq!(
            normalise("License :: OSI Approved :: Apache Software License").as_deref(),
            Some("Apache-2.0")
        );
        assert_eq!(normalise(" MIT ").as_deref(), Some("MIT"));
        assert_eq!(
            normalise("llama3.1").as_deref(),
            Some("LicenseRef-Llama-3.1")
        );
        assert_eq!(
            normalise("Some custom terms").as_deref(),
            Some("Some custom terms")
        );
        assert_eq!(normalise("  "), None);
        assert!(is_vague("LicenseRef-Other"));
    }
}
