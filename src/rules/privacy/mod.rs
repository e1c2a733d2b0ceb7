//! Privacy: does the "local" stack stay local? Per process: telemetry and
//! phone-home switches resolved to on/off/unknown, cloud back-ends, tunnels,
//! live egress; prompt logs at rest; the host's air-gap verdict.

pub mod logs;

use crate::knowledge::Knowledge;
use crate::model::Finding;
use crate::model::Inventory;
use crate::model::privacy::PrivacyReport;

/// The privacy report of an inventory and its findings.
pub fn analyse(inventory: &Inventory, knowledge: &Knowledge) -> (PrivacyReport, Vec<Finding>) {
    let _ = (inventory, knowledge);
    (
        PrivacyReport::default(),
        logs::findings(inventory, knowledge),
    )
}
