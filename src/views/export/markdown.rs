//! The snapshot as a Markdown audit report: dated, attributable, readable on
//! paper. Sections: identity of the run (host, UTC time, tool version,
//! advisory data age), privileges and blind spots, the posture score with its
//! arithmetic, every finding by severity with evidence and remediation,
//! accepted risks with reason/owner/expiry, the air-gap verdict with every
//! reach-out, each model's provenance and policy decision, and the changes
//! since the previous observation.
//!
//! Text read from the host (paths, command lines, model names) can hold
//! Markdown: it is escaped (`|`, backticks, brackets, `<`, `*`, control
//! characters) so that it never opens a link, a table cell or HTML.

use std::fmt::Write;

use crate::error::Error;
use crate::model::privacy::AirGapState;
use crate::model::{FileHash, Finding, Integrity, Reach, Severity, Snapshot};

/// Inline text from the host, safe inside a paragraph or a table cell.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '|' | '`' | '*' | '[' | ']' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => out.extend(c.escape_default()),
            c => out.push(c),
        }
    }
    out
}

fn row(out: &mut String, cells: &[String]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

fn header(out: &mut String, names: &[&str]) {
    let _ = writeln!(out, "| {} |", names.join(" | "));
    let _ = writeln!(
        out,
        "|{}|",
        names.iter().map(|_| "---").collect::<Vec<_>>().join("|")
    );
}

fn severity_title(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

fn subject(f: &Finding) -> String {
    let s = &f.subject;
    let mut parts = vec![s.product.clone()];
    if s.pid != 0 {
        parts.push(format!("pid {}", s.pid));
    }
    parts.extend(s.listener.clone());
    parts.extend(s.path.clone());
    parts.join(", ")
}

pub fn render(snap: &Snapshot) -> Result<String, Error> {
    Ok(to_markdown(snap))
}

pub fn to_markdown(snap: &Snapshot) -> String {
    let mut o = String::new();
    let inv = &snap.inventory;
    let host = &inv.host;
    let _ = writeln!(o, "# aiposture audit report: {}\n", escape(&host.hostname));

    header(&mut o, &["", ""]);
    row(&mut o, &["Host".into(), escape(&host.hostname)]);
    row(
        &mut o,
        &["Collected (UTC)".into(), escape(&host.collected_at)],
    );
    row(
        &mut o,
        &[
            "Collection took".into(),
            format!("{} ms", host.collection_ms),
        ],
    );
    row(
        &mut o,
        &[
            "Tool".into(),
            escape(&format!(
                "{} {} ({})",
                snap.tool.name, snap.tool.version, snap.tool.mode
            )),
        ],
    );
    row(
        &mut o,
        &["Snapshot schema".into(), snap.schema_version.to_string()],
    );
    if let Some(os) = &host.os {
        row(&mut o, &["OS".into(), escape(os)]);
    }
    if let Some(k) = &host.kernel {
        row(&mut o, &["Kernel".into(), escape(k)]);
    }
    let d = &snap.patch.data;
    let age = match d.age_days {
        Some(n) => format!("{n} days old (finding above {} days)", d.max_age_days),
        None => "age unknown".into(),
    };
    row(
        &mut o,
        &[
            "Advisory data".into(),
            escape(&format!(
                "{}: {} records, newest modified {}, {age}",
                d.origin,
                d.records,
                d.newest_modified.as_deref().unwrap_or("unknown")
            )),
        ],
    );
    row(
        &mut o,
        &[
            "Probes".into(),
            if inv.probes_enabled {
                "loopback probes sent".into()
            } else {
                "passive (nothing sent)".into()
            },
        ],
    );

    summary(&mut o, snap);
    privileges(&mut o, snap);
    score(&mut o, snap);
    servers(&mut o, snap);
    findings(&mut o, snap);
    suppressed(&mut o, snap);
    patch(&mut o, snap);
    privacy(&mut o, snap);
    models(&mut o, snap);
    events(&mut o, snap);
    o
}

fn summary(o: &mut String, snap: &Snapshot) {
    let _ = writeln!(o, "\n## Summary\n");
    let counts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .map(|s| {
            let n = snap.findings.iter().filter(|f| f.severity == *s).count();
            format!("{n} {s}")
        })
        .collect();
    let _ = writeln!(o, "- **Posture score:** {} / 100", snap.scores.host);
    let _ = writeln!(
        o,
        "- **Findings:** {} ({})",
        snap.findings.len(),
        counts.join(", ")
    );
    let _ = writeln!(
        o,
        "- **Accepted risks (suppressed):** {}",
        snap.suppressed.len()
    );
    let _ = writeln!(o, "- **AI servers:** {}", snap.inventory.servers.len());
    let _ = writeln!(
        o,
        "- **Air gap:** {}",
        snap.privacy
            .air_gap
            .state
            .map_or("not judged", AirGapState::as_str)
    );
    let _ = writeln!(o, "- **Blind spots:** {}", snap.inventory.blind_spots.len());
}

fn privileges(o: &mut String, snap: &Snapshot) {
    let p = &snap.inventory.privileges;
    let _ = writeln!(o, "\n## Privileges and blind spots\n");
    let caps = if p.capabilities.is_empty() {
        "none".to_string()
    } else {
        p.capabilities.join(", ")
    };
    let _ = writeln!(
        o,
        "Collected as **{}** (uid {}{}); capabilities that widen what is read: {}.",
        escape(&p.user),
        p.uid,
        if p.is_root { ", root" } else { "" },
        escape(&caps)
    );
    if !p.is_root {
        let _ = writeln!(
            o,
            "\nNot root: other users' process environments, file descriptors and model files \
             may be unreadable; each such gap is listed below."
        );
    }
    let spots = &snap.inventory.blind_spots;
    if spots.is_empty() {
        let _ = writeln!(o, "\nNo blind spots: everything looked at could be read.");
        return;
    }
    let _ = writeln!(o);
    header(o, &["What could not be seen", "Path", "Why", "Consequence"]);
    for b in spots {
        row(
            o,
            &[
                escape(&b.what),
                escape(&b.path.to_string()),
                escape(&b.reason),
                escape(&b.consequence),
            ],
        );
    }
}

fn score(o: &mut String, snap: &Snapshot) {
    let _ = writeln!(o, "\n## Posture score\n");
    let _ = writeln!(
        o,
        "Host score **{}**: the weakest server's (100 with no server). Each finding costs \
         its weight (`assets/score.toml`); suppressed findings cost nothing.\n",
        snap.scores.host
    );
    let c = &snap.scores.coverage;
    let _ = writeln!(
        o,
        "Judged: the auth of {} of {} AI listeners beyond loopback is known{}{}.\n",
        c.judged,
        c.ai_listeners,
        if c.unjudged.is_empty() {
            String::new()
        } else {
            format!(" (not: {})", escape(&c.unjudged.join(", ")))
        },
        match c.owner_unknown {
            0 => String::new(),
            n => format!(
                "; {n} more listener{} beyond loopback ha{} no owner aiposture could see (see the blind spots)",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "ve" }
            ),
        }
    );
    if snap.scores.servers.is_empty() {
        let _ = writeln!(o, "No AI server was found.");
        return;
    }
    header(o, &["Server", "PID", "Score", "Arithmetic"]);
    for s in &snap.scores.servers {
        row(
            o,
            &[
                escape(&s.product),
                s.pid.to_string(),
                s.score.to_string(),
                escape(&s.arithmetic()),
            ],
        );
    }
}

fn servers(o: &mut String, snap: &Snapshot) {
    let inv = &snap.inventory;
    if inv.servers.is_empty() {
        return;
    }
    let _ = writeln!(o, "\n## AI servers\n");
    header(o, &["Product", "PID", "User", "Listeners (reach)", "Auth"]);
    for s in &inv.servers {
        let listeners: Vec<String> = s
            .sockets
            .iter()
            .filter_map(|&i| {
                inv.sockets
                    .get(i)
                    .filter(|k| k.is_listener())
                    .map(|k| (i, k))
            })
            .map(|(i, k)| {
                let reach = snap.exposure_of(i).map_or(Reach::Unknown, |e| e.reach);
                format!("{} ({})", k.local, reach.label())
            })
            .collect();
        row(
            o,
            &[
                escape(&s.product),
                s.pid.to_string(),
                escape(s.user.as_deref().unwrap_or("?")),
                escape(&if listeners.is_empty() {
                    "none".into()
                } else {
                    listeners.join(", ")
                }),
                format!("{:?}", s.auth.state).to_lowercase(),
            ],
        );
    }
}

fn finding_block(o: &mut String, n: usize, f: &Finding) {
    let _ = writeln!(o, "\n#### {n}. {}\n", escape(&f.title));
    let _ = writeln!(o, "- **Rule:** `{}`", f.rule.replace('`', "'"));
    let _ = writeln!(o, "- **Severity:** {}", f.severity);
    let _ = writeln!(o, "- **Subject:** {}", escape(&subject(f)));
    let _ = writeln!(o, "\n{}\n", escape(&f.summary));
    if !f.evidence.is_empty() {
        header(o, &["Evidence: where read", "What was read"]);
        for e in &f.evidence {
            row(o, &[escape(&e.source.to_string()), escape(&e.detail)]);
        }
    }
    let _ = writeln!(o, "\n**Remediation:** {}", escape(&f.remediation));
}

fn findings(o: &mut String, snap: &Snapshot) {
    let _ = writeln!(o, "\n## Findings");
    if snap.findings.is_empty() {
        let _ = writeln!(o, "\nNo active findings.");
        return;
    }
    let mut n = 0;
    for s in Severity::ALL.iter().rev() {
        let of: Vec<&Finding> = snap.findings.iter().filter(|f| f.severity == *s).collect();
        if of.is_empty() {
            continue;
        }
        let _ = writeln!(o, "\n### {} ({})", severity_title(*s), of.len());
        for f in of {
            n += 1;
            finding_block(o, n, f);
        }
    }
}

fn suppressed(o: &mut String, snap: &Snapshot) {
    let _ = writeln!(o, "\n## Accepted risks (suppressed findings)\n");
    if snap.suppressed.is_empty() {
        let _ = writeln!(o, "None.");
        return;
    }
    let _ = writeln!(
        o,
        "Not scored and not counted by `--fail-on`; each is listed with the entry that accepts it.\n"
    );
    header(
        o,
        &[
            "Severity", "Rule", "Finding", "Subject", "Reason", "Owner", "Expires", "Ticket",
            "Entry",
        ],
    );
    for s in &snap.suppressed {
        let f = &s.finding;
        let r = &s.suppression;
        row(
            o,
            &[
                f.severity.to_string(),
                escape(&f.rule),
                escape(&f.title),
                escape(&subject(f)),
                escape(&r.reason),
                escape(&r.owner),
                escape(&r.expires),
                escape(r.ticket.as_deref().unwrap_or("-")),
                escape(&format!("{} ({})", r.origin, r.matched_on)),
            ],
        );
    }
    let _ = writeln!(o);
    for s in &snap.suppressed {
        let _ = writeln!(
            o,
            "- {} — remediation if the risk is no longer accepted: {}",
            escape(&s.finding.title),
            escape(&s.finding.remediation)
        );
    }
}

/// What the advisory check covered: components per state, and each one it
/// could not compare or had no data for, with why.
fn patch(o: &mut String, snap: &Snapshot) {
    use crate::model::advisory::Coverage;
    let cov = &snap.patch.coverage;
    let _ = writeln!(o, "\n## Patch status: what was checked\n");
    if cov.is_empty() {
        let _ = writeln!(o, "No component coverage is recorded in this snapshot.");
        return;
    }
    header(o, &["State", "Components"]);
    let count = |f: &dyn Fn(&Coverage) -> bool| cov.iter().filter(|c| f(&c.coverage)).count();
    for (label, n) in [
        (
            "vulnerable",
            count(&|c| matches!(c, Coverage::Vulnerable { .. })),
        ),
        (
            "no known advisories",
            count(&|c| *c == Coverage::NoKnownAdvisories),
        ),
        (
            "not comparable",
            count(&|c| matches!(c, Coverage::NotComparable { .. })),
        ),
        (
            "not covered",
            count(&|c| matches!(c, Coverage::NotCovered { .. })),
        ),
    ] {
        row(o, &[label.into(), n.to_string()]);
    }
    // One row per (owner, reason) for what had no data (a host's whole dpkg
    // list would be hundreds of rows); one per component not comparable.
    let mut rows: Vec<(String, Vec<&str>, &str, String)> = Vec::new();
    for c in cov {
        let owner = format!("{} {}", c.product, c.pid);
        match &c.coverage {
            Coverage::NotCovered { why } => {
                match rows
                    .iter_mut()
                    .find(|r| r.0 == owner && r.3 == *why && r.2 == "not covered")
                {
                    Some(r) => r.1.push(&c.name),
                    None => rows.push((owner, vec![&c.name], "not covered", why.clone())),
                }
            }
            Coverage::NotComparable { why } => rows.push((
                owner,
                vec![&c.name],
                "not comparable",
                format!("version {}: {why}", c.version),
            )),
            _ => {}
        }
    }
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(o, "\nNot checked (never reported as safe):\n");
    header(o, &["Owner", "Components", "State", "Why"]);
    for (owner, names, state, why) in rows {
        let shown = if names.len() > 8 {
            format!("{} and {} more", names[..8].join(", "), names.len() - 8)
        } else {
            names.join(", ")
        };
        row(
            o,
            &[escape(&owner), escape(&shown), state.into(), escape(&why)],
        );
    }
}

fn privacy(o: &mut String, snap: &Snapshot) {
    let gap = &snap.privacy.air_gap;
    let _ = writeln!(o, "\n## Privacy: air-gap readiness\n");
    let _ = writeln!(
        o,
        "Verdict: **{}**.",
        gap.state.map_or("not judged", AirGapState::as_str)
    );
    if gap.reach_outs.is_empty() {
        let _ = writeln!(o, "\nNothing found that would reach out of the host.");
        return;
    }
    let _ = writeln!(o);
    header(o, &["Process", "PID", "Kind", "What", "State"]);
    for r in &gap.reach_outs {
        row(
            o,
            &[
                escape(&r.product),
                r.pid.to_string(),
                escape(&r.kind),
                escape(&r.what),
                r.state.as_str().into(),
            ],
        );
    }
}

fn hash_text(h: &FileHash) -> String {
    match h {
        FileHash::Known { sha256 } => sha256.clone(),
        FileHash::Pending { why } => format!("pending: {why}"),
        FileHash::Unknown { why } => format!("unknown: {why}"),
    }
}

fn models(o: &mut String, snap: &Snapshot) {
    let inv = &snap.inventory;
    let _ = writeln!(o, "\n## Models: provenance and policy decisions\n");
    let policy = match &inv.policy {
        crate::model::policy::PolicyStatus::Absent { path } => {
            format!("no policy file at {path}: models are not judged against approvals")
        }
        crate::model::policy::PolicyStatus::Loaded { path, approvals } => {
            format!("{path}, {} approvals", approvals.len())
        }
        crate::model::policy::PolicyStatus::Invalid { path, error } => {
            format!("{path} is invalid: {error}")
        }
    };
    let _ = writeln!(o, "Policy: {}.\n", escape(&policy));
    let loaded: Vec<_> = inv
        .servers
        .iter()
        .flat_map(|s| s.models.iter().map(move |m| (s, m)))
        .collect();
    let stored: Vec<_> = inv
        .store_files
        .iter()
        .filter(|f| f.format.is_some())
        .collect();
    if loaded.is_empty() && stored.is_empty() {
        let _ = writeln!(o, "No model files were found.");
        return;
    }
    header(
        o,
        &[
            "Model file",
            "Where",
            "sha256",
            "Provenance",
            "Decision trail",
        ],
    );
    for (s, m) in loaded {
        row(
            o,
            &[
                escape(&m.path),
                escape(&format!("loaded by {} pid {}", s.product, s.pid)),
                escape(&hash_text(&m.facts.hash)),
                escape(&m.facts.provenance.label()),
                escape(&m.facts.decision.label()),
            ],
        );
    }
    for f in stored {
        let integrity = match &f.integrity {
            Integrity::Verified => "verified against the store digest".to_string(),
            Integrity::Mismatch { actual_sha256 } => {
                format!(
                    "MISMATCH: store says {:?}, content {actual_sha256}",
                    f.expected_sha256
                )
            }
            Integrity::NoDigest => hash_text(&f.facts.hash),
            Integrity::NotChecked { why } => format!("not checked: {why}"),
        };
        row(
            o,
            &[
                escape(&f.path),
                escape(&format!("{} {}", f.store.label(), f.reference)),
                escape(&integrity),
                escape(&f.facts.provenance.label()),
                escape(&f.facts.decision.label()),
            ],
        );
    }
}

fn events(o: &mut String, snap: &Snapshot) {
    let Some(t) = &snap.timeline else { return };
    let _ = writeln!(o, "\n## Changes since the previous observation\n");
    if t.new_events.is_empty() {
        let _ = writeln!(o, "None.");
        return;
    }
    header(
        o,
        &[
            "Time (UTC)",
            "Change",
            "Severity",
            "Subject",
            "Before → after",
        ],
    );
    for e in &t.new_events {
        let change = match (&e.before, &e.after) {
            (Some(b), Some(a)) => format!("{b} → {a}"),
            (None, Some(a)) => format!("→ {a}"),
            (Some(b), None) => format!("{b} → gone"),
            (None, None) => String::new(),
        };
        row(
            o,
            &[
                escape(&e.time),
                e.kind.as_str().into(),
                e.severity.to_string(),
                escape(&e.subject.label()),
                escape(&change),
            ],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_has_each_section_and_escapes_host_text() {
        let mut snap = super::super::testing::snapshot();
        snap.inventory.blind_spots.push(crate::model::BlindSpot {
            what: "env of pid 9".into(),
            path: crate::model::Source::from_v1("environ of pid 9"),
            reason: "EACCES".into(),
            consequence: "auth unknown".into(),
        });
        snap.scores.servers.push(crate::model::ServerScore {
            pid: 1,
            product: "llama_server".into(),
            score: 75,
            start: 100,
            terms: vec![crate::model::ScoreTerm {
                rule: "exposure.unauthenticated-listener".into(),
                severity: Severity::High,
                weight: 25,
            }],
        });
        let md = to_markdown(&snap);
        for want in [
            "# aiposture audit report: h",
            "| Collected (UTC) | 2026-01-01T00:00:00Z |",
            "### High (1)",
            "#### 1. Unauthenticated \\| listener",
            "| sock_diag of net:\\[1\\] | 0.0.0.0:8080 \\`LISTEN\\` |",
            "**Remediation:** Bind to 127.0.0.1 or set --api-key.",
            "100 − 25 (high exposure.unauthenticated-listener) = 75",
            "| env of pid 9 | environ of pid 9 | EACCES | auth unknown |",
            "Verdict: **not judged**.",
        ] {
            assert!(md.contains(want), "missing {want:?} in\n{md}");
        }
        assert_eq!(
            escape("a|b`c[d](e)<f>\x1b"),
            "a\\|b\\`c\\[d\\](e)\\<f\\>\\u{1b}"
        );
    }
}
