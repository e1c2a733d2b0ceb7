//! Inventory → judgements. Pure functions: no I/O, so every rule is testable on
//! a hand-built inventory and gives the same answer for the same input.

pub mod advisories;
pub mod baseline;
pub mod config_audit;
pub mod derive;
pub mod diff;
pub mod drift;
pub mod exposure;
pub mod firewall;
pub mod models;
pub mod pickle;
pub mod pivot;
pub mod policy;
pub mod printed_token;
pub mod privacy;
pub mod probe;
pub mod provenance;
pub mod reach;
pub mod scan;
pub mod score;
pub mod suppress;
pub mod versions;
pub mod visibility;
pub mod weights_access;

use crate::knowledge::Knowledge;
use crate::model::{Finding, Inventory, SCHEMA_VERSION, Snapshot, ToolInfo};

/// Run every rule over an inventory and assemble the snapshot.
pub fn analyse(mut inventory: Inventory, knowledge: &Knowledge) -> Snapshot {
    policy::annotate(&mut inventory);
    derive::annotate(&mut inventory);
    let exposures = reach::listener_exposures(&inventory, &knowledge.network);
    let probe_verdicts = probe::verdicts(&inventory, &knowledge.fingerprints);
    let mut findings = exposure::unauthenticated_exposed(
        &inventory,
        &exposures,
        &probe_verdicts,
        &knowledge.signatures,
    );
    findings.extend(printed_token::findings(&inventory));
    findings.extend(exposure::partial_auth(
        &inventory,
        &exposures,
        &probe_verdicts,
    ));
    findings.extend(config_audit::findings(&inventory.servers, &knowledge.audit));
    findings.extend(pivot::findings(&inventory.servers));
    findings.extend(visibility::findings(&inventory));
    findings.extend(models::findings(&inventory));
    findings.extend(models::content_findings(&inventory));
    findings.extend(models::extension_findings(&inventory));
    findings.extend(drift::findings(&inventory));
    findings.extend(weights_access::findings(&inventory));
    findings.extend(policy::findings(&inventory));
    findings.extend(provenance::findings(&inventory));
    // Each server's components and the host's, against the advisory data.
    let (patch, patch_findings) = advisories::analyse_inventory(&inventory, &knowledge.advisories);
    findings.extend(patch_findings);
    let (privacy, privacy_findings) = privacy::analyse(&inventory, knowledge);
    findings.extend(privacy_findings);
    // Accepted risks move aside before scoring: they cost no points and fail no gate.
    let today = inventory
        .host
        .collected_at
        .get(..10)
        .filter(|d| crate::model::date::parse_date(d).is_ok());
    let ids: Vec<(u32, &str)> = inventory
        .servers
        .iter()
        .map(|s| (s.pid, s.product_id.as_str()))
        .collect();
    let (mut findings, mut suppressed, about_suppressions) =
        suppress::apply(findings, &knowledge.suppressions, today, &ids);
    findings.extend(about_suppressions);
    sort_findings(&mut findings);
    suppressed.sort_by(|a, b| order(&a.finding, &b.finding));
    let mut scores = score::scores(&inventory.servers, &findings, &knowledge.score);
    scores.coverage = score::coverage(&inventory, &exposures, &probe_verdicts);
    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            mode: if inventory.probes_enabled {
                "active: /proc and read-only loopback probes".into()
            } else {
                "passive: /proc only, no probes".into()
            },
        },
        inventory,
        exposures,
        probe_verdicts,
        findings,
        suppressed,
        scores,
        patch,
        privacy,
        timeline: None,
    }
}

/// Worst first, then by product and pid.
fn order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    b.severity
        .cmp(&a.severity)
        .then_with(|| a.subject.product.cmp(&b.subject.product))
        .then_with(|| a.subject.pid.cmp(&b.subject.pid))
}

/// Worst first, then by product and pid (stable: rules keep their order within).
pub fn sort_findings(findings: &mut [crate::model::Finding]) {
    findings.sort_by(order);
}
