//! The snapshot as a Prometheus textfile for node_exporter's textfile collector
//! (`--collector.textfile.directory`, Debian: `/var/lib/prometheus/node-exporter`).
//!
//! Conventions: every name starts with `aiposture_`, values are in base units
//! (seconds, not days or milliseconds), each family has `# HELP` and `# TYPE`,
//! no sample carries a timestamp (the collector refuses them). Labels are of
//! bounded cardinality — a platform team pays per series:
//!
//! | label | values |
//! |---|---|
//! | `severity` | info, low, medium, high, critical (all five always present) |
//! | `prefix` | first part of a rule id: exposure, config, pivot, models, patch, policy, privacy, weights, visibility, suppression, baseline (only those with findings) |
//! | `product` | signature id of `assets/signatures.toml` (llama_server, ollama, …) |
//! | `reach` | loopback_only, host_only, lan, vpn, public, unknown; `none` for a server without listener |
//! | `kind` (models) | loaded, stored; `decision`: no_policy, approved, expired, unapproved |
//! | `state` | integrity verified, mismatch, no_digest, not_checked; air gap ready, not_ready, unknown |
//! | `kind` (reach-outs) | telemetry, update check, hub pull, cloud features, backend, tunnel, agent, mcp server, egress |
//! | `version` | the tool's version (`aiposture_info`) |
//!
//! No pid, path, address, host name or finding text is ever a label: those are
//! in the JSON and Markdown exports. A family whose labels come from what is
//! present (`prefix`, `product`, reach-out `kind`) has no series when nothing is.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::error::Error;
use crate::model::policy::Decision;
use crate::model::privacy::AirGapState;
use crate::model::{Integrity, Reach, Severity, Snapshot};

/// A label value as the exposition format requires: `\`, `"` and newline escaped.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Seconds since the epoch of an RFC 3339 time.
fn epoch_seconds(rfc3339: &str) -> Option<f64> {
    humantime::parse_rfc3339_weak(rfc3339)
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// A reach as a label value (`loopback_only`, `lan`, …), shared with the fleet textfile.
pub(super) fn reach_label(r: Reach) -> &'static str {
    match r {
        Reach::LoopbackOnly => "loopback_only",
        Reach::HostOnly => "host_only",
        Reach::Lan => "lan",
        Reach::Vpn => "vpn",
        Reach::Public => "public",
        Reach::Unknown => "unknown",
    }
}

const REACHES: [Reach; 6] = [
    Reach::LoopbackOnly,
    Reach::HostOnly,
    Reach::Lan,
    Reach::Vpn,
    Reach::Public,
    Reach::Unknown,
];

fn decision_label(d: &Decision) -> &'static str {
    match d {
        Decision::NoPolicy => "no_policy",
        Decision::Approved { .. } => "approved",
        Decision::Expired { .. } => "expired",
        Decision::Unapproved { .. } => "unapproved",
    }
}

fn integrity_label(i: &Integrity) -> &'static str {
    match i {
        Integrity::Verified => "verified",
        Integrity::Mismatch { .. } => "mismatch",
        Integrity::NoDigest => "no_digest",
        Integrity::NotChecked { .. } => "not_checked",
    }
}

/// The text being built: one family at a time.
struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.0, "# HELP {name} {help}");
        let _ = writeln!(self.0, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = write!(self.0, "{{{}}}", l.join(","));
        }
        let _ = writeln!(self.0, " {}", number(value));
    }

    fn gauge(&mut self, name: &str, help: &str, value: f64) {
        self.family(name, "gauge", help);
        self.sample(name, &[], value);
    }

    fn by_severity(&mut self, name: &str, help: &str, counts: &BTreeMap<Severity, usize>) {
        self.family(name, "gauge", help);
        for s in Severity::ALL {
            let n = counts.get(&s).copied().unwrap_or(0);
            self.sample(name, &[("severity", s.as_str())], n as f64);
        }
    }
}

/// Integers without a fraction; everything else as Rust prints f64 (which the
/// format accepts).
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn count_severities<'a>(it: impl Iterator<Item = Severity> + 'a) -> BTreeMap<Severity, usize> {
    let mut m = BTreeMap::new();
    for s in it {
        *m.entry(s).or_default() += 1;
    }
    m
}

pub fn render(snap: &Snapshot) -> Result<String, Error> {
    Ok(to_text(snap))
}

pub fn to_text(snap: &Snapshot) -> String {
    let inv = &snap.inventory;
    let mut o = Out(String::new());

    tool_and_collection(snap, &mut o);
    findings(snap, &mut o);
    exposure(snap, &mut o);
    models(snap, &mut o);
    patch(snap, &mut o);
    air_gap(snap, &mut o);
    o.gauge(
        "aiposture_blind_spots",
        "Things that could not be seen during the last collection (see the JSON for which).",
        inv.blind_spots.len() as f64,
    );
    if let Some(t) = &snap.timeline {
        o.by_severity(
            "aiposture_timeline_new_events",
            "Events (changes) since the previous observation, by severity.",
            &count_severities(t.new_events.iter().map(|e| e.severity)),
        );
    }
    o.0
}

/// The writer's version, when the collection ran and what it cost, the host's score.
fn tool_and_collection(snap: &Snapshot, o: &mut Out) {
    let inv = &snap.inventory;
    o.family(
        "aiposture_info",
        "gauge",
        "Version of aiposture that wrote this file (always 1).",
    );
    o.sample("aiposture_info", &[("version", &snap.tool.version)], 1.0);

    if let Some(t) = epoch_seconds(&inv.host.collected_at) {
        o.gauge(
            "aiposture_last_collection_timestamp_seconds",
            "Unix time of the last successful collection.",
            t,
        );
    }
    o.gauge(
        "aiposture_collection_duration_seconds",
        "Time the last collection took.",
        inv.host.collection_ms as f64 / 1000.0,
    );
    o.gauge(
        "aiposture_processes_seen",
        "Processes looked at during the last collection.",
        inv.processes_seen as f64,
    );
    o.gauge(
        "aiposture_posture_score",
        "Posture score of the host, 0 to 100: the weakest server's (100 with no server).",
        snap.scores.host as f64,
    );
}

/// Active findings by severity and rule prefix; suppressed ones by severity.
fn findings(snap: &Snapshot, o: &mut Out) {
    o.by_severity(
        "aiposture_findings",
        "Active findings by severity (suppressed ones not included).",
        &count_severities(snap.findings.iter().map(|f| f.severity)),
    );
    let mut prefixes: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &snap.findings {
        let p = f.rule.split('.').next().unwrap_or(&f.rule);
        *prefixes.entry(p).or_default() += 1;
    }
    o.family(
        "aiposture_findings_by_rule_prefix",
        "gauge",
        "Active findings by the first part of their rule id (exposure, models, privacy, ...).",
    );
    for (p, n) in &prefixes {
        o.sample(
            "aiposture_findings_by_rule_prefix",
            &[("prefix", p)],
            *n as f64,
        );
    }
    o.by_severity(
        "aiposture_suppressed_findings",
        "Findings accepted by a [[suppress]] entry of the config, by severity.",
        &count_severities(snap.suppressed.iter().map(|s| s.finding.severity)),
    );
}

/// AI servers by product and widest exposure; listeners by reach.
fn exposure(snap: &Snapshot, o: &mut Out) {
    let inv = &snap.inventory;
    // A server's exposure is the widest reach of its listeners.
    let mut servers: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut listeners: BTreeMap<Reach, usize> = BTreeMap::new();
    for s in &inv.servers {
        let mut widest: Option<Reach> = None;
        for &i in &s.sockets {
            if !inv.sockets.get(i).is_some_and(|k| k.is_listener()) {
                continue;
            }
            let r = snap.exposure_of(i).map_or(Reach::Unknown, |e| e.reach);
            *listeners.entry(r).or_default() += 1;
            // Unknown is not "wider" than a known reach, but must not hide behind loopback.
            widest = Some(match widest {
                None => r,
                Some(w) if w == Reach::Unknown || r == Reach::Unknown => {
                    if w == Reach::Public || r == Reach::Public {
                        Reach::Public
                    } else {
                        Reach::Unknown
                    }
                }
                Some(w) => w.max(r),
            });
        }
        let reach = widest.map_or("none", reach_label);
        *servers.entry((s.product_id.as_str(), reach)).or_default() += 1;
    }
    o.family(
        "aiposture_servers",
        "gauge",
        "AI servers by product and by the widest reach of their listeners (none: no listener).",
    );
    for ((product, reach), n) in &servers {
        o.sample(
            "aiposture_servers",
            &[("product", product), ("reach", reach)],
            *n as f64,
        );
    }
    o.family(
        "aiposture_listeners",
        "gauge",
        "Listeners of AI servers by who can reach them.",
    );
    for r in REACHES {
        let n = listeners.get(&r).copied().unwrap_or(0);
        o.sample(
            "aiposture_listeners",
            &[("reach", reach_label(r))],
            n as f64,
        );
    }
}

/// Model files by the policy's decision, store files by integrity, hashes pending.
fn models(snap: &Snapshot, o: &mut Out) {
    let inv = &snap.inventory;
    let mut models: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for m in inv.servers.iter().flat_map(|s| &s.models) {
        *models
            .entry(("loaded", decision_label(&m.facts.decision)))
            .or_default() += 1;
    }
    let mut integrity: BTreeMap<&str, usize> = BTreeMap::new();
    for f in inv.store_files.iter().filter(|f| f.format.is_some()) {
        *models
            .entry(("stored", decision_label(&f.facts.decision)))
            .or_default() += 1;
        *integrity.entry(integrity_label(&f.integrity)).or_default() += 1;
    }
    o.family(
        "aiposture_models",
        "gauge",
        "Model files loaded by a server or found in a store, by the policy's decision.",
    );
    for kind in ["loaded", "stored"] {
        for d in ["no_policy", "approved", "expired", "unapproved"] {
            let n = models.get(&(kind, d)).copied().unwrap_or(0);
            o.sample(
                "aiposture_models",
                &[("kind", kind), ("decision", d)],
                n as f64,
            );
        }
    }
    o.family(
        "aiposture_store_model_files",
        "gauge",
        "Model files of stores by integrity against the digest the store names.",
    );
    for st in ["verified", "mismatch", "no_digest", "not_checked"] {
        let n = integrity.get(st).copied().unwrap_or(0);
        o.sample("aiposture_store_model_files", &[("state", st)], n as f64);
    }
    o.gauge(
        "aiposture_model_files_hash_pending",
        "Model files still waiting for their sha256.",
        inv.hashing.files_pending as f64,
    );
}

/// Age of the advisory data and the advisories that match.
fn patch(snap: &Snapshot, o: &mut Out) {
    let inv = &snap.inventory;
    let data = &snap.patch.data;
    let age = data
        .newest_modified
        .as_deref()
        .and_then(epoch_seconds)
        .zip(epoch_seconds(&inv.host.collected_at))
        .map(|(newest, now)| (now - newest).max(0.0).floor())
        .or(data.age_days.map(|d| d as f64 * 86_400.0));
    if let Some(age) = age {
        o.gauge(
            "aiposture_advisory_data_age_seconds",
            "Age of the advisory data: collection time minus its newest record's modified time.",
            age,
        );
    }
    o.gauge(
        "aiposture_advisory_data_max_age_seconds",
        "Advisory data older than this is a finding ([advisories] max_age_days).",
        data.max_age_days as f64 * 86_400.0,
    );
    o.by_severity(
        "aiposture_advisory_matches",
        "Known vulnerabilities of installed components (per server and component), by severity.",
        &count_severities(snap.patch.matches.iter().map(|m| m.found.severity)),
    );
    use crate::model::advisory::Coverage;
    o.family(
        "aiposture_components",
        "gauge",
        "Versioned components (per server) by what the advisory check could say: not_covered and not_comparable were never checked.",
    );
    for st in [
        "vulnerable",
        "no_known_advisories",
        "not_comparable",
        "not_covered",
    ] {
        let n = snap
            .patch
            .coverage
            .iter()
            .filter(|c| match &c.coverage {
                Coverage::Vulnerable { .. } => st == "vulnerable",
                Coverage::NoKnownAdvisories => st == "no_known_advisories",
                Coverage::NotComparable { .. } => st == "not_comparable",
                Coverage::NotCovered { .. } => st == "not_covered",
            })
            .count();
        o.sample("aiposture_components", &[("coverage", st)], n as f64);
    }
}

/// The air-gap verdict and what reaches out, by kind.
fn air_gap(snap: &Snapshot, o: &mut Out) {
    let gap = snap.privacy.air_gap.state;
    o.family(
        "aiposture_air_gap",
        "gauge",
        "Air-gap readiness: 1 for the current verdict, 0 for the others (all 0: not judged).",
    );
    for (state, label) in [
        (AirGapState::Ready, "ready"),
        (AirGapState::NotReady, "not_ready"),
        (AirGapState::Unknown, "unknown"),
    ] {
        let v = if gap == Some(state) { 1.0 } else { 0.0 };
        o.sample("aiposture_air_gap", &[("state", label)], v);
    }
    let mut reach_outs: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &snap.privacy.air_gap.reach_outs {
        *reach_outs.entry(r.kind.as_str()).or_default() += 1;
    }
    o.family(
        "aiposture_air_gap_reach_outs",
        "gauge",
        "Things that would (or might) reach out of the host, by kind.",
    );
    for (k, n) in &reach_outs {
        o.sample("aiposture_air_gap_reach_outs", &[("kind", k)], *n as f64);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::snapshot as snap;
    use super::*;

    #[test]
    fn families_have_help_and_type_and_escaped_labels() {
        let t = to_text(&snap());
        assert!(
            t.contains("aiposture_info{version=\"1.2\\\"3\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("aiposture_findings{severity=\"high\"} 1\n"),
            "{t}"
        );
        assert!(
            t.contains("aiposture_findings{severity=\"critical\"} 0\n"),
            "{t}"
        );
        assert!(t.contains("aiposture_findings_by_rule_prefix{prefix=\"exposure\"} 1\n"));
        assert!(
            t.contains("aiposture_last_collection_timestamp_seconds 1767225600\n"),
            "{t}"
        );
        assert!(
            t.contains("aiposture_collection_duration_seconds 0.001\n"),
            "{t}"
        );
        assert!(!t.contains("aiposture_timeline_new_events"));
        for line in t.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            assert!(t.contains(&format!("# TYPE {name} gauge\n")), "{line}");
            assert!(t.contains(&format!("# HELP {name} ")), "{line}");
        }
        assert_eq!(escape_label("a\\b\n\"c\""), "a\\\\b\\n\\\"c\\\"");
    }
}
