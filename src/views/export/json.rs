//! The snapshot as versioned JSON, and its JSON Schema generated from the types.

use crate::error::Error;
use crate::model::Snapshot;

pub fn to_json(snapshot: &Snapshot) -> Result<String, Error> {
    let mut s = serde_json::to_string_pretty(snapshot)?;
    s.push('\n');
    Ok(s)
}

/// JSON Schema of the snapshot document (`docs/snapshot.schema.json`).
pub fn schema() -> Result<String, Error> {
    let schema = schemars::schema_for!(Snapshot);
    let mut s = serde_json::to_string_pretty(&schema)?;
    s.push('\n');
    Ok(s)
}
