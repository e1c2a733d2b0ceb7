//! Helpers shared by the unit tests (compiled only for `cargo test`).

use std::path::PathBuf;

use crate::knowledge::pickle_rules::PickleRules;

/// A checked-in fixture: `tests/fixtures/<dir>/<name>`.
pub fn fixture(dir: &str, name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

/// The embedded pickle allowlist.
pub fn pickle_rules() -> PickleRules {
    PickleRules::embedded().expect("embedded pickle rules parse")
}
