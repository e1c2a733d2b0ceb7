//! Events (`aiposture diff`) as text lines or a JSON array.

use crate::error::Error;
use crate::model::events::Event;

/// `TIME KIND SEVERITY SUBJECT: before → after`, then each evidence line indented.
pub fn to_text(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        let change = match (&e.before, &e.after) {
            (Some(b), Some(a)) => format!("{b} → {a}"),
            (None, Some(a)) => format!("→ {a}"),
            (Some(b), None) => format!("{b} → gone"),
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "{} {} {} {}: {change}\n",
            e.time,
            e.kind,
            e.severity,
            e.subject.label()
        ));
        for ev in &e.evidence {
            out.push_str(&format!("    {}: {}\n", ev.source, ev.detail));
        }
    }
    out
}

pub fn to_json(events: &[Event]) -> Result<String, Error> {
    let mut s = serde_json::to_string_pretty(events)?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::events::{EventKind, EventSubject};
    use crate::model::{Evidence, Severity};

    #[test]
    fn one_line_per_event_then_evidence() {
        let e = Event {
            time: "2026-01-02T00:00:00Z".into(),
            kind: EventKind::ListenerRebound,
            severity: Severity::Medium,
            subject: EventSubject {
                product: Some("llama_server".into()),
                pid: Some(913),
                listener: Some("0.0.0.0:8080/tcp".into()),
                ..Default::default()
            },
            before: Some("127.0.0.1:8080/tcp".into()),
            after: Some("0.0.0.0:8080/tcp".into()),
            evidence: vec![Evidence::new(
                crate::model::Source::record("old snapshot t"),
                "127.0.0.1:8080/tcp, sock_diag",
            )],
        };
        assert_eq!(
            to_text(&[e]),
            "2026-01-02T00:00:00Z listener_rebound medium llama_server 913 0.0.0.0:8080/tcp: \
             127.0.0.1:8080/tcp → 0.0.0.0:8080/tcp\n    old snapshot t: 127.0.0.1:8080/tcp, sock_diag\n"
        );
        assert_eq!(to_json(&[]).ok().as_deref(), Some("[]\n"));
    }
}
