//! `assets/publishers.toml`: who stands behind a publisher's name (legal
//! entity, seat, jurisdiction, whether it trains or repackages), with sources.

use std::sync::OnceLock;

const PUBLISHERS: &str = include_str!("../../assets/publishers.toml");

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[allow(dead_code)]
    source_note: String,
    publisher: Vec<Publisher>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publisher {
    pub ids: Vec<String>,
    pub kind: String,
    pub entity: String,
    pub jurisdiction: String,
    pub seat: String,
    pub sources: Vec<String>,
    pub verified: bool,
    pub note: String,
}

fn all() -> &'static [Publisher] {
    static P: OnceLock<Vec<Publisher>> = OnceLock::new();
    P.get_or_init(|| {
        toml::from_str::<File>(PUBLISHERS)
            .expect("assets/publishers.toml is valid (tested)")
            .publisher
    })
}

/// The publisher whose ids include `id` (case-insensitive).
pub fn lookup(id: &str) -> Option<&'static Publisher> {
    let id = id.trim();
    all()
        .iter()
        .find(|p| p.ids.iter().any(|x| x.eq_ignore_ascii_case(id)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_parses_and_every_entry_has_a_source() {
        let all = super::all();
        assert!(all.len() >= 30);
        assert!(
            all.iter()
                .all(|p| !p.sources.is_empty() && !p.entity.is_empty())
        );
        assert!(
            all.iter()
                .all(|p| p.kind == "original" || p.kind == "repackager")
        );
        let m = super::lookup("Mistralai").expect("mistralai");
        assert_eq!(m.jurisdiction, "FR");
        assert!(super::lookup("nobody-in-particular").is_none());
    }
}
