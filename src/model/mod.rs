//! Plain data: what was collected (inventory) and what it means (findings).
//! No I/O here; everything serialises into the snapshot JSON.

pub mod advisory;
pub mod archive;
pub mod argv;
pub mod baseline;
pub mod components;
pub mod date;
pub mod events;
pub mod finding;
pub mod firewall;
pub mod fleet;
pub mod gpu;
pub mod inventory;
pub mod keras;
pub mod keys;
pub mod metadata;
pub mod model_file;
pub mod onnx;
pub mod pickle;
pub mod policy;
pub mod privacy;
pub mod provenance;
pub mod redact;
pub mod scan;
pub mod sidecars;
pub mod snapshot;
pub mod socket;
pub mod source;
pub mod suppress;
#[cfg(test)]
pub mod testing;

pub use advisory::{AdvisoryData, AdvisoryMatch, CvssScore, PatchStatus, ServerAdvisoryMatch};
pub use finding::{Evidence, Finding, Severity, Subject};
pub use inventory::*;
pub use model_file::*;
pub use snapshot::{
    BindScope, Coverage, ListenerExposure, ProbeAuth, ProbeIdentity, ProbeVerdict, Reach,
    SCHEMA_VERSION, ScoreTerm, Scores, ServerScore, Snapshot, ToolInfo,
};
pub use socket::*;
pub use source::Source;
pub use suppress::{SuppressedFinding, Suppression, SuppressionRef};
