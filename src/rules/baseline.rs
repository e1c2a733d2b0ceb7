//! Drift from the baseline: every change since the snapshot the operator
//! accepted (`aiposture baseline save`) that matters for posture becomes a
//! `baseline.drift` finding, with the change's own severity and evidence.
//!
//! Drift findings are not scored: the posture they lead to is judged by the
//! other rules already; these say "this is new since you last looked".

use crate::model::baseline::BaselineRead;
use crate::model::events::{Event, EventKind};
use crate::model::{Evidence, Finding, Snapshot, Source, Subject};

use super::diff::{Judged, Trend, diff_judged};

pub const RULE: &str = "baseline.drift";

/// Add drift findings (or the blind spot of an unusable baseline) to a snapshot.
pub fn apply(snapshot: &mut Snapshot, baseline: &BaselineRead) {
    match baseline {
        BaselineRead::Absent => {}
        BaselineRead::Unusable(b) => snapshot.inventory.blind_spots.push(b.clone()),
        BaselineRead::Loaded {
            path,
            snapshot: base,
        } => {
            let drift = drift_findings(base, path, snapshot);
            if !drift.is_empty() {
                snapshot.findings.extend(drift);
                super::sort_findings(&mut snapshot.findings);
            }
        }
    }
}

/// The posture-relevant changes from `baseline` (read from `path`) to `now`.
pub fn drift_findings(baseline: &Snapshot, path: &str, now: &Snapshot) -> Vec<Finding> {
    let taken = format!(
        "baseline taken {} on host {}",
        baseline.inventory.host.collected_at, baseline.inventory.host.hostname
    );
    diff_judged(baseline, now)
        .into_iter()
        .filter(is_drift)
        .map(|j| finding(j.event, path, &taken))
        .collect()
}

/// Changes that widen, add or replace something. Findings opening or closing
/// are not drift: they are findings themselves already.
fn is_drift(j: &Judged) -> bool {
    use EventKind as K;
    match j.event.kind {
        K::ServerStarted
        | K::ListenerAdded
        | K::ListenerRebound
        | K::ModelAdded
        | K::ModelChanged
        | K::TemplateChanged
        | K::VersionChanged
        | K::EgressNew => true,
        K::ExposureChanged | K::AuthChanged | K::TelemetryChanged => j.trend == Trend::Worse,
        _ => false,
    }
}

fn finding(e: Event, path: &str, taken: &str) -> Finding {
    let change = match (&e.before, &e.after) {
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (None, Some(a)) => format!("now {a}"),
        (Some(b), None) => format!("was {b}"),
        (None, None) => String::new(),
    };
    let what = e.subject.label();
    let mut evidence = vec![Evidence::new(Source::path(path), taken)];
    evidence.extend(e.evidence);
    Finding {
        rule: RULE.into(),
        severity: e.severity,
        title: format!("Changed since the baseline: {} {what}", e.kind),
        subject: Subject {
            product: e.subject.product.unwrap_or_else(|| "host".into()),
            pid: e.subject.pid.unwrap_or(0),
            listener: e.subject.listener,
            path: e.subject.path,
        },
        summary: format!(
            "{} since the accepted baseline ({taken}): {change}. An unreviewed change \
             to the stack is how a widened bind or a swapped model goes unnoticed.",
            e.kind
        ),
        evidence,
        remediation: "review the change; if accepted, run `aiposture baseline save` again".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::knowledge::Knowledge;
    use crate::model::testing::{inventory, server};
    use crate::model::{BlindSpot, Endpoint, Protocol, Severity, Socket, SocketOwner, SocketState};

    fn snap_with(addr: &str, pid: u32) -> Snapshot {
        let mut inv = inventory();
        let mut s = server(pid, "llama_server");
        s.exe = Some("/usr/bin/llama-server".into());
        s.sockets = vec![0];
        inv.servers.push(s);
        inv.sockets.push(Socket {
            protocol: Protocol::Tcp,
            local: Endpoint {
                addr: addr.parse().expect("addr"),
                port: 8080,
                v4_mapped: false,
            },
            remote: None,
            state: SocketState::Listen,
            inode: 1,
            uid: 0,
            netns: None,
            source: Source::from_v1("sock_diag"),
            owner: SocketOwner::Processes {
                pids: vec![pid],
                comm: "llama-server".into(),
            },
        });
        let k = Knowledge::embedded().expect("knowledge");
        super::super::analyse(inv, &k)
    }

    #[test]
    fn rebind_since_baseline_is_a_drift_finding_restart_is_not() {
        let base = snap_with("127.0.0.1", 812);
        let mut now = snap_with("0.0.0.0", 913);
        let before = now.findings.len();
        apply(
            &mut now,
            &BaselineRead::Loaded {
                path: "/state/baseline.json".into(),
                snapshot: Arc::new(base.clone()),
            },
        );
        let drift: Vec<&Finding> = now.findings.iter().filter(|f| f.rule == RULE).collect();
        assert_eq!(now.findings.len(), before + drift.len());
        assert_eq!(drift.len(), 1, "{drift:#?}");
        let f = drift[0];
        assert!(f.title.contains("listener_rebound"), "{}", f.title);
        assert_eq!(f.subject.listener.as_deref(), Some("0.0.0.0:8080/tcp"));
        assert_eq!(f.subject.pid, 913);
        assert_eq!(f.severity, Severity::Medium);
        assert!(f.summary.contains("127.0.0.1:8080/tcp → 0.0.0.0:8080/tcp"));
        assert_eq!(f.evidence[0].source.to_string(), "/state/baseline.json");
        assert!(f.evidence[0].detail.contains("2026-01-01T00:00:00Z"));
        assert!(f.remediation.contains("aiposture baseline save"));
        // Still sorted worst first.
        assert!(
            now.findings
                .windows(2)
                .all(|w| w[0].severity >= w[1].severity)
        );

        // An unchanged host has no drift; an unusable baseline is a blind spot.
        let mut same = base.clone();
        let n = same.findings.len();
        apply(
            &mut same,
            &BaselineRead::Loaded {
                path: "b".into(),
                snapshot: Arc::new(base.clone()),
            },
        );
        assert_eq!(same.findings.len(), n);
        let blind = BlindSpot {
            what: "baseline snapshot".into(),
            path: Source::from_v1("b"),
            reason: "not JSON".into(),
            consequence: "c".into(),
        };
        apply(&mut same, &BaselineRead::Unusable(blind.clone()));
        assert_eq!(same.findings.len(), n);
        assert_eq!(same.inventory.blind_spots.last(), Some(&blind));
    }

    #[test]
    fn narrowing_and_stopping_are_not_drift() {
        let wide = snap_with("0.0.0.0", 812);
        let mut narrow = snap_with("127.0.0.1", 812);
        narrow.inventory.servers.clear();
        assert_eq!(drift_findings(&wide, "b", &narrow), vec![]);
    }
}
