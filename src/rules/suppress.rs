//! Suppressions as policy: a finding the operator accepted (config `[[suppress]]`,
//! with reason, owner and expiry) is moved aside, not dropped. An expired entry
//! suppresses nothing and says so loudly; an entry that matches nothing is
//! reported so that stale accepted risks do not pile up unseen.

use crate::model::{
    Evidence, Finding, Severity, Source, Subject, SuppressedFinding, Suppression, SuppressionRef,
};

pub const RULE_EXPIRED: &str = "suppression.expired";
pub const RULE_UNUSED: &str = "suppression.unused";

/// Active findings, suppressed findings, and the findings about the suppressions
/// themselves (expired, unused). `today` is YYYY-MM-DD (UTC) of the collection;
/// `None` (unknown date) treats every entry as expired: never hide on a guess.
/// `product_ids` maps a server's pid to its product id (`llama_server`), so an
/// entry may name the product by id as well as by the finding's product name.
pub fn apply(
    findings: Vec<Finding>,
    suppressions: &[Suppression],
    today: Option<&str>,
    product_ids: &[(u32, &str)],
) -> (Vec<Finding>, Vec<SuppressedFinding>, Vec<Finding>) {
    let expired: Vec<bool> = suppressions
        .iter()
        .map(|s| today.is_none_or(|t| t > s.expires.as_str()))
        .collect();
    let mut used = vec![false; suppressions.len()];
    let mut active = Vec::new();
    let mut suppressed = Vec::new();
    let mut extra = Vec::new();
    for f in findings {
        let mut cover = None;
        for (i, s) in suppressions.iter().enumerate() {
            let id = product_ids
                .iter()
                .find(|(pid, _)| *pid == f.subject.pid && *pid != 0)
                .map(|(_, id)| *id);
            let Some(on) = matched_on(s, &f, id) else {
                continue;
            };
            used[i] = true;
            if expired[i] {
                extra.push(expired_finding(s, &f, today));
            } else if cover.is_none() {
                cover = Some((i, on));
            }
        }
        match cover {
            Some((i, on)) => suppressed.push(SuppressedFinding {
                finding: f,
                suppression: reference(i, &suppressions[i], on),
            }),
            None => active.push(f),
        }
    }
    for (i, s) in suppressions.iter().enumerate() {
        if !used[i] {
            extra.push(unused_finding(s, expired[i]));
        }
    }
    (active, suppressed, extra)
}

/// What matched, when the rule and every subject field the entry gives match.
/// `product_id` is the id of the finding's server, when it is about one.
pub fn matched_on(s: &Suppression, f: &Finding, product_id: Option<&str>) -> Option<String> {
    if !glob(&s.rule, &f.rule) {
        return None;
    }
    let mut on = vec![format!("rule {}", f.rule)];
    if let Some(want) = &s.product {
        let want = want.trim();
        if want.eq_ignore_ascii_case(&f.subject.product) {
            on.push(format!("product {}", f.subject.product));
        } else if product_id.is_some_and(|id| want.eq_ignore_ascii_case(id)) {
            on.push(format!("product {want}"));
        } else {
            return None;
        }
    }
    if let Some(want) = &s.listener {
        if f.subject.listener.as_deref() != Some(want.as_str()) {
            return None;
        }
        on.push(format!("listener {want}"));
    }
    if let Some(want) = &s.path {
        let have = f.subject.path.as_deref()?;
        if !glob(want, have) {
            return None;
        }
        on.push(format!("path {have}"));
    }
    if s.any_subject {
        on.push("any subject".into());
    }
    Some(on.join(", "))
}

/// Exact, or a prefix when the pattern ends in `*`.
fn glob(pattern: &str, value: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => value.starts_with(prefix),
        None => pattern == value,
    }
}

fn reference(index: usize, s: &Suppression, matched_on: String) -> SuppressionRef {
    SuppressionRef {
        index,
        origin: s.origin(),
        rule: s.rule.clone(),
        reason: s.reason.clone(),
        owner: s.owner.clone(),
        expires: s.expires.clone(),
        ticket: s.ticket.clone(),
        matched_on,
    }
}

fn entry_evidence(s: &Suppression) -> Vec<Evidence> {
    let origin = s.source();
    let mut ev = vec![
        Evidence::new(origin.clone(), format!("rule = {:?}", s.rule)),
        Evidence::new(origin.clone(), format!("reason = {:?}", s.reason)),
        Evidence::new(origin.clone(), format!("owner = {:?}", s.owner)),
        Evidence::new(origin.clone(), format!("expires = {:?}", s.expires)),
    ];
    if let Some(t) = &s.ticket {
        ev.push(Evidence::new(origin.clone(), format!("ticket = {t:?}")));
    }
    ev
}

fn today_evidence(today: Option<&str>) -> Evidence {
    Evidence::new(
        Source::note("host.collected_at"),
        match today {
            Some(t) => format!("today is {t} (UTC)"),
            None => "the collection date is unknown: the entry is treated as expired".into(),
        },
    )
}

fn expired_finding(s: &Suppression, f: &Finding, today: Option<&str>) -> Finding {
    let mut evidence = entry_evidence(s);
    evidence.push(today_evidence(today));
    evidence.push(Evidence::new(
        Source::note("finding"),
        format!("it covered [{}] {}: {}", f.severity, f.rule, f.title),
    ));
    Finding {
        rule: RULE_EXPIRED.into(),
        severity: Severity::Medium,
        title: format!("Accepted risk expired on {}: {}", s.expires, f.rule),
        subject: f.subject.clone(),
        summary: format!(
            "The suppression owned by {} expired after {}; the finding it accepted is active \
             again until the risk is fixed or accepted anew.",
            s.owner, s.expires
        ),
        evidence,
        remediation: "Fix the finding, or renew the [[suppress]] entry with a current reason \
                      and a new expires date (the owner decides); remove the entry once fixed."
            .into(),
    }
}

fn unused_finding(s: &Suppression, expired: bool) -> Finding {
    let mut evidence = entry_evidence(s);
    evidence.push(Evidence::new(
        Source::note("findings of this collection"),
        "no finding matches the rule and subject of this entry",
    ));
    Finding {
        rule: RULE_UNUSED.into(),
        severity: Severity::Info,
        title: format!("Suppression matches no finding: {}", s.rule),
        subject: Subject {
            product: "aiposture config".into(),
            pid: 0,
            listener: None,
            path: (!s.file.is_empty()).then(|| s.file.clone()),
        },
        summary: if expired {
            format!(
                "An expired suppression (after {}) matches nothing: the risk it accepted is gone \
                 or the entry no longer describes it.",
                s.expires
            )
        } else {
            "A suppression matches nothing: the risk it accepted is gone, or the entry no \
             longer describes it (a changed listener or path) and would not cover it."
                .into()
        },
        evidence,
        remediation: "Remove the [[suppress]] entry if the risk is fixed; otherwise correct its \
                      rule, product, listener or path."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, product: &str, pid: u32, listener: Option<&str>) -> Finding {
        Finding {
            rule: rule.into(),
            severity: Severity::High,
            title: format!("{rule} title"),
            subject: Subject {
                product: product.into(),
                pid,
                listener: listener.map(str::to_string),
                path: None,
            },
            summary: String::new(),
            evidence: vec![Evidence::new(Source::from_v1("x"), "y")],
            remediation: String::new(),
        }
    }

    fn entry(rule: &str, listener: Option<&str>, expires: &str) -> Suppression {
        Suppression {
            file: "c.toml".into(),
            line: 3,
            rule: rule.into(),
            listener: listener.map(str::to_string),
            reason: "lab box, isolated VLAN".into(),
            owner: "alice".into(),
            expires: expires.into(),
            ticket: Some("SEC-12".into()),
            ..Suppression::default()
        }
    }

    const OPEN: &str = "exposure.unauthenticated-listener";

    #[test]
    fn a_matching_entry_moves_the_finding_aside_with_its_reason() {
        let fs = vec![
            finding(OPEN, "llama_server", 7, Some("0.0.0.0:8080/tcp")),
            finding(OPEN, "ollama", 8, Some("0.0.0.0:11434/tcp")),
        ];
        let s = [entry(OPEN, Some("0.0.0.0:8080/tcp"), "2026-06-30")];
        let (active, suppressed, extra) = apply(fs, &s, Some("2026-06-30"), &[]);
        assert_eq!(active.len(), 1);
        assert_eq!(active[0].subject.product, "ollama");
        assert_eq!(suppressed.len(), 1);
        let r = &suppressed[0].suppression;
        assert_eq!(suppressed[0].finding.subject.pid, 7);
        assert_eq!((r.index, r.owner.as_str()), (0, "alice"));
        assert_eq!(r.reason, "lab box, isolated VLAN");
        assert_eq!(r.ticket.as_deref(), Some("SEC-12"));
        assert_eq!(
            r.matched_on,
            "rule exposure.unauthenticated-listener, listener 0.0.0.0:8080/tcp"
        );
        assert!(extra.is_empty(), "{extra:?}");
    }

    #[test]
    fn an_expired_entry_suppresses_nothing_and_says_so() {
        let fs = vec![finding(OPEN, "llama_server", 7, Some("0.0.0.0:8080/tcp"))];
        let s = [entry(OPEN, Some("0.0.0.0:8080/tcp"), "2026-06-29")];
        let (active, suppressed, extra) = apply(fs, &s, Some("2026-06-30"), &[]);
        assert_eq!(active.len(), 1);
        assert!(suppressed.is_empty());
        assert_eq!(extra.len(), 1);
        let e = &extra[0];
        assert_eq!(
            (e.rule.as_str(), e.severity),
            (RULE_EXPIRED, Severity::Medium)
        );
        assert_eq!(e.subject, active[0].subject);
        let ev: Vec<String> = e.evidence.iter().map(|x| x.detail.clone()).collect();
        assert!(
            ev.contains(&"expires = \"2026-06-29\"".to_string()),
            "{ev:?}"
        );
        assert!(ev.contains(&"owner = \"alice\"".to_string()), "{ev:?}");
        assert!(
            ev.iter().any(|d| d.contains("today is 2026-06-30")),
            "{ev:?}"
        );
        assert!(ev.iter().any(|d| d.contains(OPEN)), "{ev:?}");
    }

    #[test]
    fn an_unknown_date_never_suppresses() {
        let fs = vec![finding(OPEN, "llama_server", 7, Some("0.0.0.0:8080/tcp"))];
        let s = [entry(OPEN, Some("0.0.0.0:8080/tcp"), "2999-01-01")];
        let (active, suppressed, extra) = apply(fs, &s, None, &[]);
        assert_eq!((active.len(), suppressed.len()), (1, 0));
        assert_eq!(extra[0].rule, RULE_EXPIRED);
    }

    #[test]
    fn an_entry_matching_nothing_is_reported_unused() {
        let fs = vec![finding(OPEN, "llama_server", 7, Some("0.0.0.0:8080/tcp"))];
        let s = [
            entry(OPEN, Some("0.0.0.0:9090/tcp"), "2026-12-31"),
            entry("privacy.*", Some("0.0.0.0:8080/tcp"), "2020-01-01"),
        ];
        let (active, suppressed, extra) = apply(fs, &s, Some("2026-06-30"), &[]);
        assert_eq!((active.len(), suppressed.len()), (1, 0));
        let rules: Vec<&str> = extra.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(rules, [RULE_UNUSED, RULE_UNUSED]);
        assert_eq!(extra[0].severity, Severity::Info);
        // The entry's file is the subject; its line is in the typed evidence.
        assert_eq!(extra[0].subject.path.as_deref(), Some("c.toml"));
        assert_eq!(
            extra[0].evidence[0].source.to_string(),
            "c.toml:3 [[suppress]]"
        );
        assert!(extra[1].summary.contains("expired"), "{}", extra[1].summary);
    }

    #[test]
    fn every_given_field_must_match() {
        let f = Finding {
            subject: Subject {
                path: Some("/srv/models/a.gguf".into()),
                ..finding("models.unapproved", "Ollama", 3, None).subject
            },
            ..finding("models.unapproved", "Ollama", 3, None)
        };
        let mut s = entry("models.*", None, "2030-01-01");
        s.product = Some("ollama".into());
        s.path = Some("/srv/models/*".into());
        assert_eq!(
            matched_on(&s, &f, None).as_deref(),
            Some("rule models.unapproved, product Ollama, path /srv/models/a.gguf")
        );
        s.path = Some("/srv/other/*".into());
        assert_eq!(matched_on(&s, &f, None), None);
        s.path = Some("/srv/models/a.gguf".into());
        s.listener = Some("0.0.0.0:1/tcp".into());
        assert_eq!(
            matched_on(&s, &f, None),
            None,
            "a finding without a listener"
        );
        // An exact rule is not a prefix.
        let s = Suppression {
            any_subject: true,
            ..entry("models.unapproved-x", None, "2030-01-01")
        };
        assert_eq!(matched_on(&s, &f, None), None);
        let s = Suppression {
            any_subject: true,
            ..entry("models.unapproved", None, "2030-01-01")
        };
        assert_eq!(
            matched_on(&s, &f, None).as_deref(),
            Some("rule models.unapproved, any subject")
        );
    }

    #[test]
    fn a_product_matches_by_name_or_by_the_servers_id() {
        let f = finding(OPEN, "llama.cpp llama-server", 7, Some("0.0.0.0:8080/tcp"));
        let mut s = entry(OPEN, None, "2030-01-01");
        s.product = Some("llama_server".into());
        assert_eq!(matched_on(&s, &f, None), None);
        assert_eq!(
            matched_on(&s, &f, Some("llama_server")).as_deref(),
            Some("rule exposure.unauthenticated-listener, product llama_server")
        );
        s.product = Some("LLAMA.CPP llama-server".into());
        assert!(matched_on(&s, &f, None).is_some());
        // The id comes from the pid of the finding's own server only.
        s.product = Some("ollama".into());
        let (active, suppressed, _) = apply(
            vec![f],
            &[s],
            Some("2026-06-30"),
            &[(8, "ollama"), (7, "llama_server")],
        );
        assert_eq!((active.len(), suppressed.len()), (1, 0));
    }

    #[test]
    fn the_first_valid_entry_covers_and_an_expired_one_still_speaks() {
        let fs = vec![finding(OPEN, "llama_server", 7, Some("0.0.0.0:8080/tcp"))];
        let s = [
            entry(OPEN, Some("0.0.0.0:8080/tcp"), "2020-01-01"),
            entry("exposure.*", Some("0.0.0.0:8080/tcp"), "2030-01-01"),
        ];
        let (active, suppressed, extra) = apply(fs, &s, Some("2026-06-30"), &[]);
        assert!(active.is_empty());
        assert_eq!(suppressed[0].suppression.index, 1);
        assert_eq!(extra.len(), 1);
        assert_eq!(extra[0].rule, RULE_EXPIRED);
    }
}
