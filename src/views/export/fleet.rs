//! The fleet report in every export format: a text table, JSON, JSON lines (one
//! host per line), a Markdown table and a Prometheus textfile. Failed hosts are
//! rows with their error in each of them.

use std::fmt::Write as _;

use crate::error::Error;
use crate::model::fleet::{ExposureCounts, FailStage, FleetHost, FleetReport, HostState};
use crate::model::privacy::AirGapState;
use crate::model::{Reach, Severity};

/// Text table columns, in order.
pub const COLUMNS: [&str; 9] = [
    "HOST",
    "STATE",
    "NAME",
    "SERVERS",
    "WORST",
    "C/H/M/L/I",
    "SUPPR",
    "DATA AGE",
    "AIR GAP",
];

/// The cells of a host's row, as the text table and the TUI show them.
pub fn row_cells(h: &FleetHost) -> [String; 9] {
    match &h.state {
        HostState::Ok { summary: s } => [
            h.target.clone(),
            "ok".into(),
            s.hostname.clone(),
            if s.is_root {
                s.servers.to_string()
            } else {
                // Not root: other users' processes may be hidden from it.
                format!("{} ({} blind)", s.servers, s.blind_spots)
            },
            worst_label(s.worst_exposure, &s.servers_by_exposure),
            format!(
                "{}/{}/{}/{}/{}",
                s.findings.critical,
                s.findings.high,
                s.findings.medium,
                s.findings.low,
                s.findings.info
            ),
            s.suppressed.to_string(),
            age_label(s.advisory_age_days, s.advisory_max_age_days),
            s.air_gap.map_or("unknown", AirGapState::as_str).to_string(),
        ],
        HostState::Error { stage, message, .. } => [
            h.target.clone(),
            format!("ERROR {}", stage.as_str()),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            one_line(message, 120),
        ],
    }
}

/// "LAN", or "LAN +2 unknown" when some servers could not be judged.
pub fn worst_label(worst: Option<Reach>, by: &ExposureCounts) -> String {
    match worst {
        None => "-".into(),
        Some(Reach::Unknown) => Reach::Unknown.label().into(),
        Some(r) if by.unknown > 0 => format!("{} +{} unknown", r.label(), by.unknown),
        Some(r) => r.label().into(),
    }
}

pub fn age_label(age: Option<u64>, max: u64) -> String {
    match age {
        None => "unknown".into(),
        Some(d) if d > max => format!("{d}d (stale)"),
        Some(d) => format!("{d}d"),
    }
}

fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

pub fn to_text(r: &FleetReport) -> String {
    let rows: Vec<[String; 9]> = r.hosts.iter().map(row_cells).collect();
    let mut widths = COLUMNS.map(|c| c.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<w$}  ");
            }
        }
        s.trim_end().to_string()
    };
    let mut out = format!(
        "fleet of {} hosts at {} ({} ok, {} failed) in {} ms\n",
        r.hosts.len(),
        r.collected_at,
        r.hosts.len() - r.failed(),
        r.failed(),
        r.duration_ms
    );
    out.push_str(&line(&COLUMNS.map(String::from)));
    out.push('\n');
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}

pub fn to_json(r: &FleetReport) -> Result<String, Error> {
    let mut s = serde_json::to_string_pretty(r)?;
    s.push('\n');
    Ok(s)
}

/// JSON Schema of the fleet document.
pub fn schema() -> Result<String, Error> {
    let mut s = serde_json::to_string_pretty(&schemars::schema_for!(FleetReport))?;
    s.push('\n');
    Ok(s)
}

/// One line per host, ECS-style envelope (`@timestamp`, `event.*`) around the row.
pub fn to_jsonl(r: &FleetReport) -> Result<String, Error> {
    let mut out = String::new();
    for h in &r.hosts {
        let mut v = serde_json::to_value(h)?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("@timestamp".into(), r.collected_at.clone().into());
            obj.insert(
                "event".into(),
                serde_json::json!({
                    "dataset": "aiposture.fleet",
                    "kind": "state",
                    "outcome": if h.is_ok() { "success" } else { "failure" },
                }),
            );
        }
        out.push_str(&serde_json::to_string(&v)?);
        out.push('\n');
    }
    Ok(out)
}

fn md_cell(s: &str) -> String {
    one_line(s, 400).replace('\\', "\\\\").replace('|', "\\|")
}

pub fn to_markdown(r: &FleetReport) -> String {
    let mut out = format!(
        "# aiposture fleet report\n\n\
         - Collected: {} (UTC), {} ms\n\
         - Tool: aiposture {}\n\
         - Remote command: `{}`\n\
         - Hosts: {} ({} ok, {} failed)\n\n",
        r.collected_at,
        r.duration_ms,
        r.tool_version,
        r.remote_command.replace('`', "'"),
        r.hosts.len(),
        r.hosts.len() - r.failed(),
        r.failed()
    );
    out.push_str(
        "| Host | State | Name | Collected (host clock) | Version | Servers | Worst exposure \
         | Critical | High | Medium | Low | Info | Suppressed | Advisory data age | Air gap | Score |\n",
    );
    out.push_str("|---|---|---|---|---|--:|---|--:|--:|--:|--:|--:|--:|---|---|--:|\n");
    for h in &r.hosts {
        let cells: Vec<String> = match &h.state {
            HostState::Ok { summary: s } => vec![
                h.target.clone(),
                "ok".into(),
                s.hostname.clone(),
                s.collected_at.clone(),
                s.tool_version.clone(),
                if s.is_root {
                    s.servers.to_string()
                } else {
                    format!(
                        "{} (as {}, {} blind spots)",
                        s.servers, s.user, s.blind_spots
                    )
                },
                worst_label(s.worst_exposure, &s.servers_by_exposure),
                s.findings.critical.to_string(),
                s.findings.high.to_string(),
                s.findings.medium.to_string(),
                s.findings.low.to_string(),
                s.findings.info.to_string(),
                s.suppressed.to_string(),
                age_label(s.advisory_age_days, s.advisory_max_age_days),
                s.air_gap.map_or("unknown", AirGapState::as_str).to_string(),
                s.score.to_string(),
            ],
            HostState::Error { stage, .. } => {
                let mut v = vec![h.target.clone(), format!("**error: {}**", stage.as_str())];
                v.resize(16, String::new());
                v
            }
        };
        let cells: Vec<String> = cells.iter().map(|c| md_cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    let failed: Vec<&FleetHost> = r.hosts.iter().filter(|h| !h.is_ok()).collect();
    if !failed.is_empty() {
        out.push_str("\n## Hosts not read\n\n");
        for h in failed {
            if let HostState::Error {
                stage,
                message,
                exit_code,
            } = &h.state
            {
                let _ = writeln!(
                    out,
                    "- **{}**: {}{} after {} ms — {}",
                    md_cell(&h.target),
                    stage.as_str(),
                    exit_code
                        .map(|c| format!(" (exit {c})"))
                        .unwrap_or_default(),
                    h.duration_ms,
                    md_cell(message)
                );
            }
        }
    }
    out
}

/// A Prometheus label value: backslash, double quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// node_exporter textfile: `aiposture_fleet_` prefix, base units, HELP/TYPE,
/// labels bounded by the fleet's size (host) and fixed sets (severity, reach,
/// stage, air-gap state).
pub fn to_prometheus(r: &FleetReport) -> String {
    let mut out = String::new();
    run_families(r, &mut out);
    let ok: Vec<(&FleetHost, &crate::model::fleet::HostSummary)> = r
        .hosts
        .iter()
        .filter_map(|h| h.summary().map(|s| (h, s)))
        .collect();
    posture_families(&ok, &mut out);
    out
}

/// One gauge family `aiposture_fleet_<name>` with its samples.
fn family(out: &mut String, name: &str, help: &str, samples: Vec<(String, f64)>) {
    let _ = writeln!(out, "# HELP aiposture_fleet_{name} {help}");
    let _ = writeln!(out, "# TYPE aiposture_fleet_{name} gauge");
    for (labels, v) in samples {
        let _ = writeln!(out, "aiposture_fleet_{name}{labels} {v}");
    }
}

fn host(h: &FleetHost) -> String {
    format!("host=\"{}\"", label(&h.target))
}

/// The run itself: when it started, which hosts answered, how long each took.
fn run_families(r: &FleetReport, out: &mut String) {
    family(
        out,
        "collection_timestamp_seconds",
        "Start of the fleet run (Unix time).",
        vec![(
            String::new(),
            unix_seconds(&r.collected_at).unwrap_or(f64::NAN),
        )],
    );
    family(
        out,
        "host_up",
        "1 when the host's snapshot was read over SSH, 0 when it failed.",
        r.hosts
            .iter()
            .map(|h| {
                (
                    format!("{{{}}}", host(h)),
                    if h.is_ok() { 1.0 } else { 0.0 },
                )
            })
            .collect(),
    );
    family(
        out,
        "host_error",
        "1 for a host that failed, labelled with the stage where it stopped.",
        r.hosts
            .iter()
            .filter_map(|h| match &h.state {
                HostState::Error { stage, .. } => Some((
                    format!("{{{},stage=\"{}\"}}", host(h), stage_label(*stage)),
                    1.0,
                )),
                HostState::Ok { .. } => None,
            })
            .collect(),
    );
    family(
        out,
        "host_duration_seconds",
        "Time from starting ssh to its exit, per host.",
        r.hosts
            .iter()
            .map(|h| (format!("{{{}}}", host(h)), h.duration_ms as f64 / 1000.0))
            .collect(),
    );
}

/// What the hosts that answered report: exposure, findings, scores, models …
fn posture_families(ok: &[(&FleetHost, &crate::model::fleet::HostSummary)], out: &mut String) {
    family(
        out,
        "host_info",
        "Host name and aiposture version the host reported (value is always 1).",
        ok.iter()
            .map(|(h, s)| {
                (
                    format!(
                        "{{{},hostname=\"{}\",version=\"{}\",user=\"{}\"}}",
                        host(h),
                        label(&s.hostname),
                        label(&s.tool_version),
                        label(&s.user)
                    ),
                    1.0,
                )
            })
            .collect(),
    );
    family(
        out,
        "last_collection_timestamp_seconds",
        "When the host collected its snapshot (Unix time, host clock).",
        ok.iter()
            .filter_map(|(h, s)| {
                unix_seconds(&s.collected_at).map(|t| (format!("{{{}}}", host(h)), t))
            })
            .collect(),
    );
    family(
        out,
        "servers",
        "AI servers per host by the widest reach of their listeners.",
        ok.iter()
            .flat_map(|(h, s)| {
                ExposureCounts::ORDER.iter().map(move |&reach| {
                    (
                        format!("{{{},exposure=\"{}\"}}", host(h), reach_label(reach)),
                        s.servers_by_exposure.get(reach) as f64,
                    )
                })
            })
            .collect(),
    );
    family(
        out,
        "findings",
        "Open findings per host by severity (suppressed ones not counted).",
        ok.iter()
            .flat_map(|(h, s)| {
                Severity::ALL.iter().map(move |&sev| {
                    (
                        format!("{{{},severity=\"{}\"}}", host(h), sev.as_str()),
                        s.findings.get(sev) as f64,
                    )
                })
            })
            .collect(),
    );
    family(
        out,
        "suppressed_findings",
        "Findings accepted by suppression entries, per host.",
        ok.iter()
            .map(|(h, s)| (format!("{{{}}}", host(h)), s.suppressed as f64))
            .collect(),
    );
    family(
        out,
        "blind_spots",
        "Things the host's aiposture could not read.",
        ok.iter()
            .map(|(h, s)| (format!("{{{}}}", host(h)), s.blind_spots as f64))
            .collect(),
    );
    family(
        out,
        "advisory_data_age_seconds",
        "Age of the advisory data the host used (whole days, in seconds).",
        ok.iter()
            .filter_map(|(h, s)| {
                s.advisory_age_days
                    .map(|d| (format!("{{{}}}", host(h)), (d * 86_400) as f64))
            })
            .collect(),
    );
    family(
        out,
        "posture_score",
        "Posture score of the host (its weakest server; 100 with none).",
        ok.iter()
            .map(|(h, s)| (format!("{{{}}}", host(h)), f64::from(s.score)))
            .collect(),
    );
    family(
        out,
        "air_gap",
        "Air-gap readiness: 1 for the host's state (ready, not_ready, unknown).",
        ok.iter()
            .map(|(h, s)| {
                let state = match s.air_gap {
                    Some(AirGapState::Ready) => "ready",
                    Some(AirGapState::NotReady) => "not_ready",
                    Some(AirGapState::Unknown) | None => "unknown",
                };
                (format!("{{{},state=\"{state}\"}}", host(h)), 1.0)
            })
            .collect(),
    );
}

fn stage_label(s: FailStage) -> &'static str {
    // Label values in snake_case like the other label values.
    match s {
        FailStage::RemoteCommand => "remote_command",
        other => other.as_str(),
    }
}

use super::prometheus::reach_label;

fn unix_seconds(rfc3339: &str) -> Option<f64> {
    humantime::parse_rfc3339_weak(rfc3339)
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as f64)
}

/// A two-host report (one ok, one failed) for the renderers' tests.
#[cfg(test)]
pub(crate) fn sample_report() -> FleetReport {
    use crate::model::fleet::{FLEET_SCHEMA_VERSION, HostSummary, SeverityCounts};
    {
        let summary = HostSummary {
            hostname: "gpu1".into(),
            collected_at: "2026-11-20T14:00:00Z".into(),
            tool_version: "0.1.0".into(),
            user: "root".into(),
            is_root: true,
            blind_spots: 0,
            servers: 2,
            worst_exposure: Some(Reach::Lan),
            servers_by_exposure: ExposureCounts {
                lan: 1,
                unknown: 1,
                ..ExposureCounts::default()
            },
            findings: SeverityCounts {
                high: 1,
                info: 3,
                ..SeverityCounts::default()
            },
            suppressed: 1,
            advisory_age_days: Some(12),
            advisory_max_age_days: 30,
            air_gap: Some(AirGapState::NotReady),
            score: 65,
        };
        FleetReport {
            schema_version: FLEET_SCHEMA_VERSION,
            tool_version: "0.1.0".into(),
            collected_at: "2026-11-20T14:00:05Z".into(),
            duration_ms: 900,
            remote_command: "aiposture snapshot -o -".into(),
            hosts: vec![
                FleetHost {
                    target: "root@gpu1:2222".into(),
                    state: HostState::Ok {
                        summary: Box::new(summary),
                    },
                    duration_ms: 800,
                    kept: None,
                    keep_error: None,
                },
                FleetHost {
                    target: "gpu|\"2\"".into(),
                    state: HostState::Error {
                        stage: FailStage::Connect,
                        message: "ssh: connect to host gpu2 port 22: Connection refused".into(),
                        exit_code: Some(255),
                    },
                    duration_ms: 3,
                    kept: None,
                    keep_error: None,
                },
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_has_the_failed_host() {
        let r = sample_report();
        assert!(to_text(&r).contains("ERROR connect"));
        assert!(to_text(&r).contains("LAN +1 unknown"));
        let md = to_markdown(&r);
        assert!(md.contains("| gpu\\|\"2\" | **error: connect** |"), "{md}");
        assert!(md.contains("Connection refused"), "{md}");
        let lines: Vec<serde_json::Value> = to_jsonl(&r)
            .expect("jsonl")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1]["event"]["outcome"], "failure");
        assert_eq!(lines[1]["stage"], "connect");
        let prom = to_prometheus(&r);
        assert!(
            prom.contains("aiposture_fleet_host_up{host=\"gpu|\\\"2\\\"\"} 0"),
            "{prom}"
        );
        assert!(
            prom.contains("aiposture_fleet_host_error{host=\"gpu|\\\"2\\\"\",stage=\"connect\"} 1")
        );
        assert!(
            prom.contains("aiposture_fleet_findings{host=\"root@gpu1:2222\",severity=\"high\"} 1")
        );
        assert!(prom.contains(
            "aiposture_fleet_advisory_data_age_seconds{host=\"root@gpu1:2222\"} 1036800"
        ));
        let back: FleetReport = serde_json::from_str(&to_json(&r).expect("json")).expect("parses");
        assert_eq!(back, r);
    }
}
