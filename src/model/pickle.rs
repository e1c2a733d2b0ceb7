//! What the static pickle analyser found in one pickle stream: the globals it
//! would import (each with the class the embedded pickle rules give it), how
//! many opcodes it walked, whether it read the stream to its end, and the
//! verdict the rules draw from that. Plain data only; the walker lives in
//! `formats::pickle`, the verdict in `rules::pickle`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest text taken from a pickle that a report keeps, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Outcome of one static scan. Order of precedence: `Dangerous` (any dangerous
/// global, even in a stream that later fails to parse: the unpickler runs
/// opcodes as it reads them) > `Unparseable` > `Suspicious` > `BenignLibrary`
/// > `Safe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PickleVerdict {
    /// Every global is on the allowlist (or there is none).
    Safe,
    /// Every global is allowed or a class of a well-known ML library
    /// (`assets/pickle_libraries.toml`): loading runs that library's code.
    BenignLibrary,
    /// At least one global is neither allowed, nor a known library's, nor
    /// known dangerous.
    Suspicious,
    /// At least one global can run code, touch files, the network or processes.
    Dangerous,
    /// The stream is truncated, malformed, or exceeds a bound of the walker.
    Unparseable,
}

/// Which list of the embedded pickle rules (`assets/pickle_*.toml`) an imported
/// global is on: allowed, known dangerous, or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GlobalClass {
    Allowed,
    /// A class (or pickling helper) of a well-known ML library, read from
    /// that library's sources: its `__setstate__` is the library's own code.
    Library,
    Unknown,
    Dangerous,
}

/// One `GLOBAL`, `INST`, `STACK_GLOBAL` or extension-code import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PickleGlobal {
    /// Module as written in the file (sanitised, capped); `<computed>` when the
    /// operands of `STACK_GLOBAL` were not string constants.
    pub module: String,
    pub name: String,
    /// Byte offset of the importing opcode in the scanned file.
    pub offset: u64,
    pub class: GlobalClass,
    /// The library whose class it is (`class` = library).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PickleReport {
    /// What the imports and the walk amount to; set by `rules::pickle`
    /// (`None` only in a report no rule has judged yet).
    pub verdict: Option<PickleVerdict>,
    pub globals: Vec<PickleGlobal>,
    /// Opcodes walked, nested pickles included.
    pub opcodes: u64,
    /// Protocol of the first `PROTO` opcode; `None` for protocols 0 and 1.
    pub protocol: Option<u8>,
    pub notes: Vec<String>,
    /// Why the stream was not read to its end the way the loader would read it
    /// (truncated, malformed, over a bound of the walker, a member or pickle
    /// that does not parse); `None` when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
    /// Places where CPython's C unpickler (what `pickle.load` uses) and its
    /// pure-Python one read the stream differently (a FRAME that ends inside
    /// an argument, begins inside another, or announces more than there is):
    /// a file crafted to be read two ways is never clean.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub anomalies: Vec<String>,
    /// Library versions the pickle itself records (scikit-learn writes
    /// `_sklearn_version` into every estimator's state): key → version text.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub declared_versions: std::collections::BTreeMap<String, String>,
}

/// Merges the report of one archive member into the archive's (`into`):
/// its imports, opcodes, anomalies (named by member) and recorded library
/// versions. Notes and incompleteness are the caller's to word. Returns the
/// member's notes, each prefixed with the member's name.
pub fn merge_member(into: &mut Option<PickleReport>, member: &str, r: PickleReport) -> Vec<String> {
    let named = |t: &String| format!("member {member:?}: {t}");
    let notes = r.notes.iter().map(named).collect();
    let anomalies: Vec<String> = r.anomalies.iter().map(named).collect();
    match into {
        Some(all) => {
            all.globals.extend(r.globals);
            all.opcodes += r.opcodes;
            all.anomalies.extend(anomalies);
            for (k, v) in r.declared_versions {
                all.declared_versions.entry(k).or_insert(v);
            }
        }
        None => {
            *into = Some(PickleReport {
                notes: Vec::new(),
                incomplete: None,
                anomalies,
                ..r
            })
        }
    }
    notes
}

/// Text from a file made fit for a report: control characters escaped, at most
/// [`MAX_TEXT_CHARS`] characters (an ellipsis marks a cut).
pub fn clean_text(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
        // Stop early: a long input must not cost more than the cap.
        if out.len() > 4 * MAX_TEXT_CHARS + 16 {
            break;
        }
    }
    if out.chars().count() > MAX_TEXT_CHARS {
        let mut cut: String = out.chars().take(MAX_TEXT_CHARS - 1).collect();
        cut.push('…');
        return cut;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_escapes_and_caps() {
        assert_eq!(clean_text("os\n\x1b[31m"), "os\\n\\u{1b}[31m");
        let long = "a".repeat(500);
        let c = clean_text(&long);
        assert_eq!(c.chars().count(), MAX_TEXT_CHARS);
        assert!(c.ends_with('…'));
        assert_eq!(clean_text(&"a".repeat(200)), "a".repeat(200));
    }
}
