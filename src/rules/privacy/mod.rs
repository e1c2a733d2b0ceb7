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
use crate::model::{Finding, Inventory, Source};

/// What could not be seen of these processes that decides whether they reach
/// out: their open sockets (their connections are then not attributed).
fn not_assessed(inventory: &Inventory, pids: &[u32]) -> Vec<String> {
    inventory
        .blind_spots
        .iter()
        .filter_map(|b| {
            let hidden = match &b.path {
                Source::Proc { pid, file, .. } => file == "fd" && pids.contains(pid),
                Source::ProcEach {
                    pids: each, file, ..
                } => file == "fd" && each.iter().any(|p| pids.contains(p)),
                _ => false,
            };
            hidden.then(|| format!("{} ({}): its connections cannot be seen", b.what, b.reason))
        })
        .collect()
}

/// The privacy report of an inventory and its findings.
pub fn analyse(inventory: &Inventory, knowledge: &Knowledge) -> (PrivacyReport, Vec<Finding>) {
    let facts = &inventory.privacy;
    let privacy = &knowledge.privacy;
    let mut processes = Vec::new();
    for s in &inventory.servers {
        // The whole tree: what a helper sends, the server sends.
        let members: Vec<u32> = std::iter::once(s.pid)
            .chain(s.workers.iter().map(|w| w.pid))
            .chain(s.helpers.iter().map(|h| h.pid))
            .collect();
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
            egress: egress::egress_of(inventory, knowledge, &members),
            not_assessed: not_assessed(inventory, &members),
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
            not_assessed: not_assessed(inventory, &[a.pid]),
        });
    }
    let air_gap = verdict::air_gap(&processes, &facts.actors, privacy);
    let mut findings = verdict::findings(&processes, &facts.actors, privacy);
    findings.extend(logs::findings(inventory, knowledge));
    (PrivacyReport { air_gap, processes }, findings)
}
