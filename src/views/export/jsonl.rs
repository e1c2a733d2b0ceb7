//! The snapshot as JSON lines for a SIEM: one finding per line (active, then
//! suppressed), then one line per event of the timeline's last observation.
//! Field names follow the Elastic Common Schema where a field exists there;
//! the rest lives under `aiposture.*`. Names are stable: a rename is a
//! breaking change of the export, like one of the snapshot's schema.
//!
//! | field | finding | event (change since the previous observation) |
//! |---|---|---|
//! | `@timestamp` | collection time (RFC 3339, UTC) | when the change was observed |
//! | `event.kind` | `alert` | `event` |
//! | `event.category` | from the rule prefix: exposure, privacy → `network`; config, policy, suppression → `configuration`; models, weights → `file`; patch → `vulnerability`; pivot → `process`; visibility, baseline → `host` | from the event kind: server → `process`, listener/exposure/auth/egress → `network`, model/template/file → `file`, version → `package`, telemetry → `configuration`, finding → `host` |
//! | `event.type` | `info` | `start`, `end`, `change`, `creation`, `deletion`, `connection`, `info` |
//! | `event.dataset` | `aiposture.finding` | `aiposture.event` |
//! | `event.severity` | 1 info, 2 low, 3 medium, 4 high, 5 critical | same |
//! | `log.level` | the severity's name | same |
//! | `host.name` | the host's name | same |
//! | `observer.product`, `observer.version` | `aiposture`, its version | same |
//! | `rule.id`, `rule.name`, `rule.category` | rule id, finding title, rule prefix | — |
//! | `message` | `title: summary` | `kind subject: before → after` |
//! | `process.pid` | the subject's pid, when a process | the event's pid, when one |
//! | `file.path` | the subject's file, when one | the event's path, when one |
//! | `aiposture.type` | `finding` | `event` |
//! | `aiposture.severity` | severity name | same |
//! | `aiposture.subject` | `{product, pid, listener, path}` | `{product, pid, listener, path, item}` |
//! | `aiposture.summary`, `.evidence`, `.remediation` | as in the snapshot | — |
//! | `aiposture.suppressed` | `true` for an accepted risk, else `false` | — |
//! | `aiposture.suppression` | `{origin, rule, reason, owner, expires, ticket, matched_on}` when suppressed | — |
//! | `aiposture.event` | — | `{kind, before, after, evidence}` |
//!
//! Secrets never appear: every field is copied from the snapshot, whose command
//! lines and environment are redacted at collection.

use serde_json::{Value, json};

use crate::error::Error;
use crate::model::events::{Event, EventKind};
use crate::model::{Finding, Severity, Snapshot, SuppressionRef};

/// ECS `event.severity`: a number that sorts like the severity.
pub fn severity_number(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Low => 2,
        Severity::Medium => 3,
        Severity::High => 4,
        Severity::Critical => 5,
    }
}

fn rule_category(rule: &str) -> &'static str {
    match rule.split('.').next().unwrap_or("") {
        "exposure" | "privacy" => "network",
        "models" | "weights" => "file",
        "patch" => "vulnerability",
        "pivot" => "process",
        "visibility" | "baseline" => "host",
        _ => "configuration",
    }
}

fn event_category(k: EventKind) -> &'static str {
    use EventKind::*;
    match k {
        ServerStarted | ServerStopped | ServerRestarted => "process",
        ListenerAdded | ListenerRemoved | ListenerRebound | ExposureChanged | AuthChanged
        | EgressNew => "network",
        ModelAdded | ModelRemoved | ModelChanged | TemplateChanged | FileChanged => "file",
        VersionChanged => "package",
        TelemetryChanged => "configuration",
        FindingOpened | FindingClosed => "host",
    }
}

fn event_type(k: EventKind) -> &'static str {
    use EventKind::*;
    match k {
        ServerStarted => "start",
        ServerStopped => "end",
        ListenerAdded | ModelAdded => "creation",
        ListenerRemoved | ModelRemoved => "deletion",
        EgressNew => "connection",
        FindingOpened | FindingClosed => "info",
        _ => "change",
    }
}

struct Common<'a> {
    host: &'a str,
    version: &'a str,
}

impl Common<'_> {
    fn base(&self, time: &str, severity: Severity) -> serde_json::Map<String, Value> {
        let mut m = serde_json::Map::new();
        m.insert("@timestamp".into(), json!(time));
        m.insert("host".into(), json!({ "name": self.host }));
        m.insert(
            "observer".into(),
            json!({ "product": "aiposture", "vendor": "aiposture", "version": self.version }),
        );
        m.insert("log".into(), json!({ "level": severity.as_str() }));
        m
    }
}

fn finding_line(
    c: &Common,
    time: &str,
    f: &Finding,
    suppression: Option<&SuppressionRef>,
) -> Value {
    let mut m = c.base(time, f.severity);
    m.insert(
        "event".into(),
        json!({
            "kind": "alert",
            "category": [rule_category(&f.rule)],
            "type": ["info"],
            "dataset": "aiposture.finding",
            "severity": severity_number(f.severity),
        }),
    );
    m.insert(
        "rule".into(),
        json!({
            "id": f.rule,
            "name": f.title,
            "category": f.rule.split('.').next().unwrap_or(&f.rule),
            "ruleset": "aiposture",
        }),
    );
    m.insert(
        "message".into(),
        json!(format!("{}: {}", f.title, f.summary)),
    );
    if f.subject.pid != 0 {
        m.insert("process".into(), json!({ "pid": f.subject.pid }));
    }
    if let Some(p) = &f.subject.path {
        m.insert("file".into(), json!({ "path": p }));
    }
    let mut a = json!({
        "type": "finding",
        "severity": f.severity.as_str(),
        "subject": f.subject,
        "summary": f.summary,
        "evidence": f.evidence,
        "remediation": f.remediation,
        "suppressed": suppression.is_some(),
    });
    if let (Some(s), Some(obj)) = (suppression, a.as_object_mut()) {
        obj.insert(
            "suppression".into(),
            json!({
                "origin": s.origin,
                "rule": s.rule,
                "reason": s.reason,
                "owner": s.owner,
                "expires": s.expires,
                "ticket": s.ticket,
                "matched_on": s.matched_on,
            }),
        );
    }
    m.insert("aiposture".into(), a);
    Value::Object(m)
}

fn event_line(c: &Common, e: &Event) -> Value {
    let mut m = c.base(&e.time, e.severity);
    m.insert(
        "event".into(),
        json!({
            "kind": "event",
            "category": [event_category(e.kind)],
            "type": [event_type(e.kind)],
            "dataset": "aiposture.event",
            "action": e.kind.as_str(),
            "severity": severity_number(e.severity),
        }),
    );
    // The same one-line wording as `aiposture diff`, without time and evidence.
    let text = super::events::to_text(std::slice::from_ref(e));
    let first = text.lines().next().unwrap_or("");
    let message = first.split_once(' ').map_or(first, |(_, rest)| rest);
    m.insert("message".into(), json!(message));
    if let Some(pid) = e.subject.pid {
        m.insert("process".into(), json!({ "pid": pid }));
    }
    if let Some(p) = &e.subject.path {
        m.insert("file".into(), json!({ "path": p }));
    }
    m.insert(
        "aiposture".into(),
        json!({
            "type": "event",
            "severity": e.severity.as_str(),
            "subject": e.subject,
            "event": {
                "kind": e.kind,
                "before": e.before,
                "after": e.after,
                "evidence": e.evidence,
            },
        }),
    );
    Value::Object(m)
}

/// Every line, each a JSON object; the text ends with a newline (empty when
/// there is nothing to report).
pub fn render(snap: &Snapshot) -> Result<String, Error> {
    let c = Common {
        host: &snap.inventory.host.hostname,
        version: &snap.tool.version,
    };
    let time = &snap.inventory.host.collected_at;
    let mut out = String::new();
    let mut push = |v: Value| -> Result<(), Error> {
        out.push_str(&serde_json::to_string(&v)?);
        out.push('\n');
        Ok(())
    };
    for f in &snap.findings {
        push(finding_line(&c, time, f, None))?;
    }
    for s in &snap.suppressed {
        push(finding_line(&c, time, &s.finding, Some(&s.suppression)))?;
    }
    for e in snap.timeline.iter().flat_map(|t| &t.new_events) {
        push(event_line(&c, e))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::{EventSubject, TimelineView};
    use crate::model::{Evidence, SuppressedFinding};

    #[test]
    fn one_object_per_line_with_ecs_fields() {
        let mut snap = super::super::testing::snapshot();
        let f = snap.findings[0].clone();
        snap.suppressed.push(SuppressedFinding {
            finding: f,
            suppression: SuppressionRef {
                index: 0,
                origin: "c.toml:3".into(),
                rule: "exposure.*".into(),
                reason: "lab".into(),
                owner: "alice".into(),
                expires: "2099-01-01".into(),
                ticket: None,
                matched_on: "rule".into(),
            },
        });
        snap.timeline = Some(TimelineView {
            new_events: vec![Event {
                time: "2026-01-01T00:00:01Z".into(),
                kind: EventKind::ServerStarted,
                severity: Severity::Low,
                subject: EventSubject {
                    product: Some("llama_server".into()),
                    pid: Some(7),
                    ..Default::default()
                },
                before: None,
                after: Some("pid 7".into()),
                evidence: vec![Evidence::new(
                    crate::model::Source::from_v1("process table"),
                    "started",
                )],
            }],
            ..Default::default()
        });
        let text = render(&snap).expect("render");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0]["rule"]["id"], "exposure.unauthenticated-listener");
        assert_eq!(lines[0]["event"]["severity"], 4);
        assert_eq!(lines[0]["event"]["category"][0], "network");
        assert_eq!(lines[0]["aiposture"]["suppressed"], false);
        assert_eq!(lines[1]["aiposture"]["suppressed"], true);
        assert_eq!(lines[1]["aiposture"]["suppression"]["owner"], "alice");
        assert_eq!(lines[2]["event"]["kind"], "event");
        assert_eq!(lines[2]["event"]["type"][0], "start");
        assert_eq!(lines[2]["process"]["pid"], 7);
        assert_eq!(
            lines[2]["message"],
            "server_started low llama_server 7: → pid 7"
        );
        assert_eq!(lines[2]["host"]["name"], "h");
    }
}
