//! A baseline snapshot as read for drift: the host as the operator accepted it
//! (`aiposture baseline save`). Not serialised: it only carries the file read
//! from the collector to the rules.

use std::sync::Arc;

use super::{BlindSpot, Snapshot};

#[derive(Debug, Clone)]
pub enum BaselineRead {
    /// No baseline file: nothing to compare with, no drift findings.
    Absent,
    Loaded {
        /// The file, as configured.
        path: String,
        snapshot: Arc<Snapshot>,
    },
    /// There but unusable (unreadable, not a snapshot, another schema version).
    Unusable(BlindSpot),
}
