//! The findings as SARIF 2.1.0: one run, a rule per finding kind, a result per
//! finding (and per suppressed finding, marked accepted with its reason).
//! Results whose subject or evidence is a file carry a `file://` location;
//! the others name the server or listener as a logical location.
//!
//! `partialFingerprints` hash the rule, product and listener or path, never the
//! pid, so an alert keeps its identity across restarts of the server.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::cyclonedx::percent_encode;
use crate::error::Error;
use crate::model::source::FileLocation;
use crate::model::{Finding, Severity, Snapshot, Source, SuppressedFinding};

/// The `$schema` of the document: the OASIS standard's schema (errata 01), kept
/// in the repository as `assets/schemas/sarif-schema-2.1.0.json`.
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// Cargo.toml's `repository`, when the package names one (no URL is made up).
const TOOL_URL: &str = env!("CARGO_PKG_REPOSITORY");
const FINGERPRINT: &str = "aiposture/v1";

pub fn to_sarif(snapshot: &Snapshot) -> Result<String, Error> {
    let mut s = serde_json::to_string_pretty(&document(snapshot))?;
    s.push('\n');
    Ok(s)
}

/// Level of a result: GitHub and most viewers show only these three.
fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning's `security-severity`: over 9.0 critical, 7.0 high,
/// 4.0 medium, 0.1 low.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Info => "0.0",
    }
}

struct Rule<'a> {
    worst: Severity,
    first: &'a Finding,
}

fn document(s: &Snapshot) -> Value {
    let all: Vec<(&Finding, Option<&SuppressedFinding>)> = s
        .findings
        .iter()
        .map(|f| (f, None))
        .chain(s.suppressed.iter().map(|x| (&x.finding, Some(x))))
        .collect();

    let mut rules: BTreeMap<&str, Rule<'_>> = BTreeMap::new();
    for (f, _) in &all {
        let r = rules.entry(f.rule.as_str()).or_insert(Rule {
            worst: f.severity,
            first: f,
        });
        r.worst = r.worst.max(f.severity);
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rule_values: Vec<Value> = rules.iter().map(|(id, r)| rule(id, r)).collect();

    // Subjects that several findings of one rule share get the title (pids
    // removed) in their fingerprint, so that each keeps its own identity.
    let mut shared: BTreeMap<String, usize> = BTreeMap::new();
    for (f, _) in &all {
        *shared.entry(subject_key(f)).or_default() += 1;
    }
    let results: Vec<Value> = all
        .iter()
        .map(|(f, sup)| {
            let key = subject_key(f);
            let key = if shared.get(&key).copied().unwrap_or(0) > 1 {
                format!("{key}\u{0}{}", without_pids(&f.title))
            } else {
                key
            };
            result(f, *sup, index.get(f.rule.as_str()).copied(), &key)
        })
        .collect();

    let mut driver = json!({
        "name": s.tool.name,
        "version": s.tool.version,
        "semanticVersion": s.tool.version,
        "rules": rule_values,
    });
    if !TOOL_URL.is_empty() {
        driver["informationUri"] = json!(TOOL_URL);
    }
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [{
                "executionSuccessful": true,
                "endTimeUtc": s.inventory.host.collected_at,
                "machine": s.inventory.host.hostname,
            }],
            "results": results,
            "properties": {
                "host": s.inventory.host.hostname,
                "collectedAt": s.inventory.host.collected_at,
                "hostScore": s.scores.host,
            },
        }],
    })
}

fn rule(id: &str, r: &Rule<'_>) -> Value {
    let category = id.split('.').next().unwrap_or(id);
    json!({
        "id": id,
        "name": camel(id),
        "shortDescription": {"text": words(id)},
        "fullDescription": {"text": r.first.summary},
        "help": {
            "text": format!("Remediation: {}", r.first.remediation),
            "markdown": format!("**Remediation:** {}", r.first.remediation),
        },
        "defaultConfiguration": {"level": level(r.worst)},
        "properties": {
            "security-severity": security_severity(r.worst),
            "tags": ["security", category],
            "precision": "high",
        },
    })
}

/// `exposure.unauthenticated-listener` → `ExposureUnauthenticatedListener`.
fn camel(id: &str) -> String {
    id.split(['.', '-', '_'])
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// `exposure.unauthenticated-listener` → `exposure: unauthenticated listener`.
fn words(id: &str) -> String {
    match id.split_once('.') {
        Some((cat, rest)) => format!("{cat}: {}", rest.replace(['-', '_', '.'], " ")),
        None => id.replace(['-', '_'], " "),
    }
}

fn subject_key(f: &Finding) -> String {
    let s = &f.subject;
    format!(
        "{}\u{0}{}\u{0}{}\u{0}{}",
        f.rule,
        s.product,
        s.listener.as_deref().unwrap_or(""),
        s.path.as_deref().unwrap_or("")
    )
}

/// `llama-server (pid 3060) runs as root` → `llama-server (pid) runs as root`.
fn without_pids(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut rest = title;
    while let Some(i) = rest.find("pid ") {
        out.push_str(&rest[..i + 3]);
        rest = rest[i + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

fn fingerprint(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `file://` URI of an absolute path, every byte outside RFC 3986's unreserved
/// set and `/` percent-encoded.
pub fn file_uri(path: &str) -> String {
    format!("file://{}", percent_encode(path, b"/"))
}

fn physical(at: FileLocation<'_>) -> Value {
    let mut p = json!({"artifactLocation": {"uri": file_uri(at.path)}});
    match (at.line, at.offset) {
        (Some(n), _) => p["region"] = json!({"startLine": n}),
        (None, Some(o)) => p["region"] = json!({"byteOffset": o}),
        (None, None) => {}
    }
    p
}

/// The file a finding is about, placed at the line or offset its own evidence
/// points to in that file; else the first file of its evidence.
fn primary<'a>(
    subject: Option<&'a Source>,
    evidence: &[FileLocation<'a>],
) -> Option<FileLocation<'a>> {
    match subject.and_then(Source::artifact) {
        Some(at) => Some(
            evidence
                .iter()
                .find(|e| e.path == at.path && (e.line.is_some() || e.offset.is_some()))
                .copied()
                .unwrap_or(at),
        ),
        None => evidence.first().copied(),
    }
}

fn result(
    f: &Finding,
    sup: Option<&SuppressedFinding>,
    rule_index: Option<usize>,
    key: &str,
) -> Value {
    // A subject that is not an absolute path (`embedded` advisory data) has no file.
    let subject = f
        .subject
        .path
        .as_deref()
        .filter(|p| p.starts_with('/'))
        .map(Source::path);
    let evidence_files: Vec<(FileLocation<'_>, &str)> = f
        .evidence
        .iter()
        .filter_map(|e| Some((e.source.artifact()?, e.detail.as_str())))
        .collect();
    let located: Vec<FileLocation<'_>> = evidence_files.iter().map(|(at, _)| *at).collect();
    let primary = primary(subject.as_ref(), &located);

    let mut r = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": format!("{}. {} Remediation: {}", f.title, f.summary, f.remediation)},
        "partialFingerprints": {FINGERPRINT: fingerprint(key)},
        "properties": {
            "severity": f.severity.as_str(),
            "product": f.subject.product,
            "pid": f.subject.pid,
            "evidence": f.evidence.iter().map(|e| json!({"source": e.source, "detail": e.detail})).collect::<Vec<_>>(),
            "remediation": f.remediation,
        },
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    match primary {
        Some(at) => {
            r["locations"] = json!([{"physicalLocation": physical(at)}]);
        }
        None => {
            let name = f
                .subject
                .listener
                .clone()
                .unwrap_or_else(|| f.subject.product.clone());
            let fqn = match &f.subject.listener {
                Some(l) => format!("{}/{l}", f.subject.product),
                None => f.subject.product.clone(),
            };
            r["locations"] = json!([{"logicalLocations": [{
                "name": name,
                "fullyQualifiedName": fqn,
                "kind": "resource",
            }]}]);
        }
    }
    let related: Vec<Value> = evidence_files
        .iter()
        .filter(|(at, _)| primary != Some(*at))
        .enumerate()
        .map(|(i, (at, detail))| {
            json!({"id": i, "physicalLocation": physical(*at), "message": {"text": detail}})
        })
        .collect();
    if !related.is_empty() {
        r["relatedLocations"] = json!(related);
    }
    if let Some(s) = sup {
        let x = &s.suppression;
        r["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": x.reason,
            "properties": {
                "owner": x.owner,
                "expires": x.expires,
                "origin": x.origin,
                "ticket": x.ticket,
                "matchedOn": x.matched_on,
            },
        }]);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_uris_are_percent_encoded_and_placed_at_their_line() {
        assert_eq!(
            file_uri("/srv/my models/a#1%.gguf"),
            "file:///srv/my%20models/a%231%25.gguf"
        );
        let policy = Source::path("/etc/aiposture/policy.toml");
        let at_line = Source::file_line("/etc/aiposture/policy.toml", 12);
        let other = Source::file_offset("/srv/m.pkl", 40);
        let kernel = Source::path("/proc/812/status");
        let evidence: Vec<FileLocation<'_>> = [&kernel, &other, &at_line]
            .into_iter()
            .filter_map(Source::artifact)
            .collect();
        assert_eq!(evidence.len(), 2, "a /proc file is no artifact");
        let p = primary(Some(&policy), &evidence).expect("a location");
        assert_eq!((p.path, p.line), ("/etc/aiposture/policy.toml", Some(12)));
        assert_eq!(primary(None, &evidence).and_then(|p| p.offset), Some(40));
        assert_eq!(
            physical(evidence[0]),
            json!({"artifactLocation": {"uri": "file:///srv/m.pkl"}, "region": {"byteOffset": 40}})
        );
    }

    #[test]
    fn pids_leave_titles_and_severities_map_to_levels() {
        assert_eq!(
            without_pids("llama-server (pid 3060) runs as root, pid 7"),
            "llama-server (pid) runs as root, pid"
        );
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Info), "note");
        assert_eq!(
            camel("exposure.unauthenticated-listener"),
            "ExposureUnauthenticatedListener"
        );
    }
}
