//! Library errors. The binary wraps them with `anyhow` context at the edges.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("embedded asset {path} is invalid: {message}")]
    Asset { path: String, message: String },
    #[error("config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("advisory data {path}: {message}")]
    Advisories { path: PathBuf, message: String },
    #[error("timeline store {path}: {message}")]
    Store { path: String, message: String },
    #[error("{path} is not an aiposture snapshot: {message}")]
    NotASnapshot { path: PathBuf, message: String },
    #[error("cannot serialise the snapshot: {0}")]
    Serialise(#[from] serde_json::Error),
}

/// An error with its causes, for a message an operator reads
/// ("cannot write /x: Read-only file system (os error 30)").
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!(": {c}"));
        cur = c.source();
    }
    s
}
