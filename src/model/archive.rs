//! What the archive reader saw of a container (zip, tar): its members, the
//! names an extracting tool would write outside its directory, repeated
//! names, members flagged encrypted, members that inflate absurdly, members
//! that could not be read, and which members held pickles or nested
//! archives. Plain data; the reader lives in `formats::archive`, the findings
//! in `rules::models`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveKind {
    Zip,
    Tar,
    #[serde(rename = "7z")]
    SevenZ,
}

impl ArchiveKind {
    pub fn label(self) -> &'static str {
        match self {
            ArchiveKind::Zip => "zip",
            ArchiveKind::Tar => "tar",
            ArchiveKind::SevenZ => "7z",
        }
    }
}

/// A member and what is wrong with it or what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemberNote {
    /// The member's name (sanitised, capped), nested ones as `outer!inner`.
    pub member: String,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArchiveReport {
    pub kind: ArchiveKind,
    /// Members listed (nested archives' members included).
    pub members: u64,
    /// Members whose content was sniffed.
    pub sniffed: u64,
    /// Members read as pickles (by content, whatever their name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pickles: Vec<String>,
    /// Archives inside the archive that were opened.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nested: Vec<String>,
    /// Absolute names, drive letters, `..` components, links pointing out:
    /// an extracting tool writes outside its directory (zip-slip).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escaping: Vec<MemberNote>,
    /// Names that occur more than once: two tools may read two contents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<String>,
    /// Members whose encryption flag is set (read as the loaders that ignore
    /// the flag read them, where possible).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encrypted: Vec<String>,
    /// Members whose declared size or compression ratio is a bomb's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bombs: Vec<MemberNote>,
    /// Members, or parts of the archive, that could not be read or were over
    /// a bound: not checked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<MemberNote>,
}

impl ArchiveReport {
    pub fn new(kind: ArchiveKind) -> Self {
        ArchiveReport {
            kind,
            members: 0,
            sniffed: 0,
            pickles: Vec::new(),
            nested: Vec::new(),
            escaping: Vec::new(),
            duplicates: Vec::new(),
            encrypted: Vec::new(),
            bombs: Vec::new(),
            unchecked: Vec::new(),
        }
    }
}
