//! Posture scores: every point traced to a finding and a weight in assets/score.toml.

use crate::knowledge::score::ScoreModel;
use crate::model::{
    AuthState, BindScope, Coverage, Finding, Inventory, ListenerExposure, ProbeAuth, ProbeVerdict,
    Protocol, ScoreTerm, Scores, Server, ServerScore, SocketOwner, SocketState,
};

/// How much of the listening surface beyond loopback has a known auth verdict.
pub fn coverage(
    inv: &Inventory,
    exposures: &[ListenerExposure],
    probes: &[ProbeVerdict],
) -> Coverage {
    let mut c = Coverage::default();
    let beyond_loopback = |idx: usize| {
        exposures
            .iter()
            .find(|e| e.socket == idx)
            .is_some_and(|e| e.scope != BindScope::Loopback)
    };
    for (idx, sock) in inv.sockets.iter().enumerate() {
        if sock.protocol != Protocol::Tcp
            || sock.state != SocketState::Listen
            || !beyond_loopback(idx)
        {
            continue;
        }
        if matches!(sock.owner, SocketOwner::Unknown { .. }) {
            c.owner_unknown += 1;
            continue;
        }
        let Some(server) = inv.servers.iter().find(|s| s.sockets.contains(&idx)) else {
            continue;
        };
        c.ai_listeners += 1;
        let probed = probes
            .iter()
            .any(|p| p.socket == idx && p.auth != ProbeAuth::Unknown);
        let own_switches = server.helper_of(idx, sock).is_none()
            && matches!(
                server.auth.state,
                AuthState::Configured | AuthState::NotConfigured | AuthState::Unsupported
            );
        if probed || own_switches {
            c.judged += 1;
        } else {
            c.unjudged.push(format!(
                "{}/tcp ({}, pid {})",
                sock.local, server.product, server.pid
            ));
        }
    }
    c
}

pub fn scores(servers: &[Server], findings: &[Finding], model: &ScoreModel) -> Scores {
    let servers: Vec<ServerScore> = servers
        .iter()
        .map(|s| {
            let terms: Vec<ScoreTerm> = findings
                .iter()
                .filter(|f| f.subject.pid == s.pid)
                .map(|f| ScoreTerm {
                    rule: f.rule.clone(),
                    severity: f.severity,
                    weight: model.weight(f.severity),
                })
                .collect();
            let lost: u32 = terms.iter().map(|t| t.weight).sum();
            ServerScore {
                pid: s.pid,
                product: s.product.clone(),
                score: model.start.saturating_sub(lost),
                start: model.start,
                terms,
            }
        })
        .collect();
    // Findings about no server (model stores) count against the host directly.
    let unattached: u32 = findings
        .iter()
        .filter(|f| f.subject.pid == 0)
        .map(|f| model.weight(f.severity))
        .sum();
    let host_only = model.start.saturating_sub(unattached);
    Scores {
        host: servers
            .iter()
            .map(|s| s.score)
            .min()
            .unwrap_or(model.start)
            .min(host_only),
        servers,
        coverage: Coverage::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's own port its switches judge, a helper's port nobody probed, a
    /// port whose owner is unseen, and one on loopback (not part of the surface).
    #[test]
    fn coverage_counts_what_could_be_judged() {
        use crate::model::testing::{ep, inventory, server};
        use crate::model::{Helper, Socket, Source};
        let sock = |local: &str, owner: SocketOwner| Socket {
            protocol: Protocol::Tcp,
            local: ep(local),
            remote: None,
            state: SocketState::Listen,
            inode: 1,
            uid: 0,
            netns: None,
            source: Source::kernel("/proc/net/tcp"),
            owner,
        };
        let by = |pid: u32| SocketOwner::Processes {
            pids: vec![pid],
            comm: "p".into(),
        };
        let mut inv = inventory();
        inv.sockets = vec![
            sock("0.0.0.0:8080", by(10)),
            sock("0.0.0.0:9090", by(11)),
            sock(
                "0.0.0.0:7000",
                SocketOwner::Unknown {
                    reason: "permission denied".into(),
                },
            ),
            sock("127.0.0.1:5000", by(10)),
        ];
        let mut s = server(10, "llama_server");
        s.auth.state = AuthState::Configured;
        s.sockets = vec![0, 1, 3];
        s.helpers = vec![Helper {
            pid: 11,
            comm: "python3".into(),
            cmdline: vec![],
            role: "helper process".into(),
            sockets: vec![1],
        }];
        inv.servers = vec![s];
        let k = crate::knowledge::Knowledge::embedded().expect("knowledge");
        let exp = crate::rules::reach::listener_exposures(&inv, &k.network);
        let c = coverage(&inv, &exp, &[]);
        assert_eq!(
            (c.ai_listeners, c.judged, c.owner_unknown),
            (2, 1, 1),
            "{c:?}"
        );
        assert_eq!(c.unjudged, ["0.0.0.0:9090/tcp (llama_server, pid 10)"]);
    }
    use crate::model::{Evidence, Severity, Subject};

    fn f(pid: u32, rule: &str, severity: Severity) -> Finding {
        Finding {
            rule: rule.into(),
            severity,
            title: String::new(),
            subject: Subject {
                product: "p".into(),
                pid,
                listener: None,
                path: None,
            },
            summary: String::new(),
            evidence: vec![Evidence::new(crate::model::Source::from_v1("x"), "y")],
            remediation: String::new(),
        }
    }

    #[test]
    fn arithmetic_is_traceable_and_floors_at_zero() {
        let model = ScoreModel::embedded().expect("score asset");
        let s = |pid| crate::model::testing::server(pid, "llama_server");
        let findings = vec![
            f(1, "exposure.unauthenticated-listener", Severity::High),
            f(1, "pivot.runs-as-root", Severity::Medium),
            f(2, "a", Severity::Critical),
            f(2, "b", Severity::Critical),
            f(2, "c", Severity::Critical),
        ];
        let sc = scores(&[s(1), s(2), s(3)], &findings, &model);
        assert_eq!(sc.servers[0].score, 65);
        assert_eq!(
            sc.servers[0].arithmetic(),
            "100 − 25 (high exposure.unauthenticated-listener) − 10 (medium pivot.runs-as-root) = 65"
        );
        assert_eq!(sc.servers[1].score, 0);
        assert_eq!(sc.servers[2].score, 100);
        assert_eq!(sc.host, 0);
    }
}
