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

/// Names shorter than this identify a text only when a heading is exactly
/// the name ("MIT License"), never as a prefix ("apache" in a sentence).
const PREFIX_MIN: usize = 12;
/// Lines of a licence text searched for its heading.
const HEADING_LINES: usize = 12;

/// The identifier a licence *text* is headed with (see assets/licenses.toml);
/// `None` when no heading is recognised (it is then shown by its first line,
/// never guessed).
pub fn identify_text(text: &str) -> Option<String> {
    let norm = |l: &str| {
        l.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase()
            .trim_end_matches([':', '.', ','])
            .to_string()
    };
    let lines: Vec<String> = text
        .lines()
        .map(norm)
        .filter(|l| !l.is_empty())
        .take(HEADING_LINES)
        .collect();
    let candidates = lines.iter().enumerate().flat_map(|(i, l)| {
        let joined = lines.get(i + 1).map(|n| format!("{l} {n}"));
        std::iter::once(l.clone()).chain(joined)
    });
    for c in candidates {
        if let Some(id) = table().get(&c).filter(|id| !is_vague(id)) {
            return Some(id.clone());
        }
        let prefix = table().iter().filter(|(name, id)| {
            name.len() >= PREFIX_MIN
                && !is_vague(id)
                && c.strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with([' ', ',', ';', '(']))
        });
        if let Some((_, id)) = prefix.max_by_key(|(name, _)| name.len()) {
            return Some(id.clone());
        }
    }
    None
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

    #[test]
    fn licence_texts_are_known_by_their_heading() {
        let apache = "\n                                 Apache License\n                           Version 2.0, January 2004\n                        http://www.apache.org/licenses/\n";
        assert_eq!(identify_text(apache).as_deref(), Some("Apache-2.0"));
        let llama = "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n";
        assert_eq!(
            identify_text(llama).as_deref(),
            Some("LicenseRef-Llama-3.2")
        );
        let phi = "Microsoft.\nCopyright (c) Microsoft Corporation.\n\nMIT License\n\nPermission is hereby granted";
        assert_eq!(identify_text(phi).as_deref(), Some("MIT"));
        assert_eq!(
            identify_text("Gemma Terms of Use\n\nLast modified: February 21, 2024").as_deref(),
            Some("LicenseRef-Gemma")
        );
        // A policy or a sentence that merely mentions a licence is not one.
        assert_eq!(
            identify_text("Llama 3.2 Acceptable Use Policy\nMeta is committed to"),
            None
        );
        assert_eq!(identify_text("Other terms apply. Apache is a tribe."), None);
        assert_eq!(identify_text(""), None);
    }
}
