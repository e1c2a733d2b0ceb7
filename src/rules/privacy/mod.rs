//! Privacy: does the "local" stack stay local? Per process: telemetry and
//! phone-home switches resolved to on/off/unknown, cloud back-ends, tunnels,
//! live egress; prompt logs at rest; the host's air-gap verdict.

pub mod backends;
pub mod egress;
pub mod logs;
pub mod switches;
pub mod tunnels;
pub mod verdict;

use crate::knowledge::Knowledge;
use crate::model::privacy::{ActorKind, PrivacyReport, PrivacyRole, ProcessPrivacy};
use crate::model::{Finding, Inventory};

/// The privacy report of an inventory and its findings.
pub fn analyse(inventory: &Inventory, knowledge: &Knowledge) -> (PrivacyReport, Vec<Finding>) {
    let facts = &inventory.privacy;
    let privacy = &knowledge.privacy;
    let mut processes = Vec::new();
    for s in &inventory.servers {
        processes.push(ProcessPrivacy {
            pid: s.pid,
            product: s.product.clone(),
            role: PrivacyRole::Server,
            switches: switches::resolve_all(s, &privacy.switches, &facts.switch_files),
            backends: backends::backends(
                s,
                privacy,
                &knowledge.network,
                &facts.hosts_names,
                &facts.config_backends,
            ),
            tunnels: tunnels::of_server(s, &privacy.tunnel_triggers, &facts.actors, privacy),
            egress: egress::egress_of(
                inventory,
                knowledge,
                &std::iter::once(s.pid)
                    .chain(s.workers.iter().map(|w| w.pid))
                    .collect::<Vec<_>>(),
            ),
        });
    }
    for a in &facts.actors {
        processes.push(ProcessPrivacy {
            pid: a.pid,
            product: a.name.clone(),
            role: match a.kind {
                ActorKind::Tunnel => PrivacyRole::Tunnel,
                ActorKind::Agent => PrivacyRole::Agent,
                ActorKind::McpServer => PrivacyRole::McpServer,
            },
            switches: Vec::new(),
            backends: Vec::new(),
            tunnels: tunnels::of_actor(a, privacy),
            egress: egress::egress_of(inventory, knowledge, &[a.pid]),
        });
    }
    let air_gap = verdict::air_gap(&processes, &facts.actors, privacy);
    let mut findings = verdict::findings(&processes, &facts.actors, privacy);
    findings.extend(logs::findings(inventory, knowledge));
    (PrivacyReport { air_gap, processes }, findings)
}
