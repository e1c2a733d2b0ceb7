//! Posture scores: every point traced to a finding and a weight in assets/score.toml.

use crate::knowledge::score::ScoreModel;
use crate::model::{Finding, ScoreTerm, Scores, Server, ServerScore};

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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
