//! Models against the operator's decisions (policy.toml): each model gets its
//! provenance and decision trail; a loaded model no approval covers, an approval
//! past its expiry, and a policy file that could not be used are findings.
//! With no policy file nothing is flagged per model: one note says so.

use crate::model::policy::{Approval, Decision, PolicyStatus};
use crate::model::provenance::Provenance;
use crate::model::{Evidence, Finding, Integrity, Inventory, Severity, Source, StoreFile, Subject};
use crate::rules::provenance;

pub const RULE_POLICY_ABSENT: &str = "policy.absent";
pub const RULE_POLICY_INVALID: &str = "policy.invalid";
pub const RULE_UNAPPROVED_MODEL: &str = "policy.unapproved-model";
pub const RULE_APPROVAL_EXPIRED: &str = "policy.approval-expired";

/// The sha256 a store file is known to have: computed from its content, or its
/// store digest once verified, or the digest computed when it does not match.
fn known_sha256(f: &StoreFile) -> Option<&str> {
    f.facts.hash.sha256().or(match &f.integrity {
        Integrity::Verified => f.expected_sha256.as_deref(),
        Integrity::Mismatch { actual_sha256 } => Some(actual_sha256),
        _ => None,
    })
}

/// `https://huggingface.co/Org/Name/` and `org/name` compare equal.
fn repo_key(r: &str) -> String {
    let r = r.trim().trim_end_matches('/');
    let r = r
        .strip_prefix("https://")
        .or_else(|| r.strip_prefix("http://"))
        .unwrap_or(r);
    let r = r
        .strip_prefix("huggingface.co/")
        .or_else(|| r.strip_prefix("hf.co/"))
        .unwrap_or(r);
    r.to_ascii_lowercase()
}

/// Today as YYYY-MM-DD, from the collection time (rules read no clock).
fn today(inv: &Inventory) -> Option<&str> {
    inv.host
        .collected_at
        .get(..10)
        .filter(|d| crate::model::date::parse_date(d).is_ok())
}

/// What matched, if every field the approval gives matches the model.
fn matches(a: &Approval, sha: Option<&str>, p: &Provenance) -> Option<String> {
    let mut what = Vec::new();
    if let Some(want) = &a.sha256 {
        if !sha?.eq_ignore_ascii_case(want) {
            return None;
        }
        what.push("sha256 of its content".to_string());
    }
    // The model's primary publisher/repo only (location before header): a file
    // claiming another publisher in its header does not borrow that approval.
    if let Some(want) = &a.publisher {
        let have = p.publisher.as_deref()?;
        if !have.eq_ignore_ascii_case(want.trim()) {
            return None;
        }
        what.push(format!(
            "publisher {have:?} from {}",
            p.source_of("publisher", have).unwrap_or("?")
        ));
    }
    if let Some(want) = &a.repo {
        let have = p.repo.as_deref()?;
        if repo_key(have) != repo_key(want) {
            return None;
        }
        what.push(format!(
            "repo {have:?} from {}",
            p.source_of("repo", have).unwrap_or("?")
        ));
    }
    if !a.jurisdictions.is_empty() {
        what.push(jurisdictions_match(&a.jurisdictions, p)?);
    }
    Some(what.join(", "))
}

/// Every name behind the model (its publisher, its base models' organisations)
/// must have a verified origin seated in one of `allowed`: a name the
/// publishers table does not know, or knows without a verified seat, is not
/// approved by origin (an unknown origin is not an allowed one).
fn jurisdictions_match(allowed: &[String], p: &Provenance) -> Option<String> {
    let mut names: Vec<&str> = p.publisher.as_deref().into_iter().collect();
    names.extend(
        p.base_models
            .iter()
            .filter_map(|b| b.split_once('/').map(|(org, _)| org)),
    );
    if names.is_empty() {
        return None;
    }
    let mut seen = Vec::new();
    for n in names {
        let o = p
            .origins
            .iter()
            .find(|o| o.publisher.eq_ignore_ascii_case(n))?;
        if !o.verified
            || !allowed
                .iter()
                .any(|j| j.eq_ignore_ascii_case(&o.jurisdiction))
        {
            return None;
        }
        let line = format!("{} ({}, {})", o.publisher, o.entity, o.jurisdiction);
        if !seen.contains(&line) {
            seen.push(line);
        }
    }
    Some(format!("origin {}", seen.join("; ")))
}

fn decide(
    approvals: &[Approval],
    policy_path: &str,
    today: Option<&str>,
    sha: Option<&str>,
    p: &Provenance,
) -> Decision {
    let mut expired = None;
    for a in approvals {
        let Some(matched) = matches(a, sha, p) else {
            continue;
        };
        let lapsed = match (today, &a.expires) {
            (Some(t), Some(x)) => t > x.as_str(),
            _ => false,
        };
        if !lapsed {
            return Decision::Approved {
                entry: a.label(policy_path),
                matched,
                reason: a.reason.clone(),
                approver: a.approver.clone(),
                date: a.date.clone(),
                expires: a.expires.clone(),
                origin_country: a.origin_country.clone(),
            };
        }
        expired.get_or_insert(Decision::Expired {
            entry: a.label(policy_path),
            matched,
            expired_on: a.expires.clone().unwrap_or_default(),
        });
    }
    expired.unwrap_or_else(|| Decision::Unapproved {
        why: format!(
            "none of {} approvals matches (sha256 {}; {})",
            approvals.len(),
            sha.map(|s| s.to_string())
                .unwrap_or_else(|| "unknown: no verified store digest".into()),
            match (&p.publisher, &p.repo) {
                (None, None) => "unknown provenance".to_string(),
                (pb, r) => format!(
                    "publisher {}, repo {}",
                    pb.as_deref().unwrap_or("unknown"),
                    r.as_deref().unwrap_or("unknown")
                ),
            }
        ),
    })
}

/// Fill each model's provenance and decision trail.
pub fn annotate(inv: &mut Inventory) {
    let today = today(inv).map(str::to_string);
    let (approvals, path) = match &inv.policy {
        PolicyStatus::Loaded { path, approvals } => (Some(approvals.clone()), path.clone()),
        other => (None, other.path().to_string()),
    };
    for f in inv.store_files.iter_mut() {
        f.facts.provenance = provenance::of_store_file(f);
        f.facts.decision = match &approvals {
            Some(a) => decide(
                a,
                &path,
                today.as_deref(),
                known_sha256(f),
                &f.facts.provenance,
            ),
            None => Decision::NoPolicy,
        };
    }
    let stores = &inv.store_files;
    for s in inv.servers.iter_mut() {
        for m in s.models.iter_mut() {
            let store = stores.iter().find(|f| f.path == m.path);
            m.facts.provenance = provenance::of_loaded(m, store);
            m.facts.decision = match &approvals {
                Some(a) => decide(
                    a,
                    &path,
                    today.as_deref(),
                    m.facts.hash.sha256().or(store.and_then(known_sha256)),
                    &m.facts.provenance,
                ),
                None => Decision::NoPolicy,
            };
        }
    }
}

fn policy_subject(path: &str) -> Subject {
    Subject {
        product: "model policy".into(),
        pid: 0,
        listener: None,
        path: Some(path.to_string()),
    }
}

/// Findings of the policy: run after `annotate`.
pub fn findings(inv: &Inventory) -> Vec<Finding> {
    let any_model = inv.servers.iter().any(|s| !s.models.is_empty())
        || inv.store_files.iter().any(|f| f.format.is_some());
    match &inv.policy {
        PolicyStatus::Absent { path } => {
            if !any_model {
                return Vec::new();
            }
            vec![Finding {
                rule: RULE_POLICY_ABSENT.into(),
                severity: Severity::Info,
                title: "no model policy: models are not judged against approvals".into(),
                subject: policy_subject(path),
                summary: "Without a policy file no model is approved or flagged as unapproved; provenance is still shown per model.".into(),
                evidence: vec![Evidence::new(Source::path(path.clone()), "no such file")],
                remediation: format!("To decide which models may run, write [[approve]] entries (by sha256 or publisher/repo, with reason, approver, date, optional expires) to {path}; config.example.toml documents the format. Set [models] policy to use another path."),
            }]
        }
        PolicyStatus::Invalid { path, error } => vec![Finding {
            rule: RULE_POLICY_INVALID.into(),
            severity: Severity::Medium,
            title: "the model policy file is invalid: no approval is applied".into(),
            subject: policy_subject(path),
            summary: "Models are not judged against approvals until the file parses; every other check still runs.".into(),
            evidence: vec![Evidence::new(Source::path(path.clone()), error.clone())],
            remediation: format!("Fix the line named in the error in {path} (the format is documented in config.example.toml); it is read again on the next refresh."),
        }],
        PolicyStatus::Loaded { path, approvals } => {
            let mut out = unapproved(inv, path);
            out.extend(expired(inv, path, approvals));
            out
        }
    }
}

fn unapproved(inv: &Inventory, policy: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in &inv.servers {
        for m in &s.models {
            let Decision::Unapproved { why } = &m.facts.decision else {
                continue;
            };
            let mut evidence = vec![
                Evidence::new(
                    Source::path(m.path.clone()),
                    format!("{} loaded by pid {}", m.format.label(), m.pid),
                ),
                Evidence::new(
                    Source::path(m.path.clone()),
                    format!("provenance: {}", m.facts.provenance.label()),
                ),
                Evidence::new(Source::path(policy), why.clone()),
            ];
            for f in m.facts.provenance.facts.iter().take(8) {
                evidence.push(Evidence::new(
                    Source::note(f.source.clone()),
                    format!("{} = {}", f.field, f.value),
                ));
            }
            out.push(Finding {
                rule: RULE_UNAPPROVED_MODEL.into(),
                severity: Severity::Medium,
                title: format!("{} (pid {}) runs a model no approval covers: {}", s.product, s.pid, m.path),
                subject: Subject {
                    product: s.product.clone(),
                    pid: s.pid,
                    listener: None,
                    path: Some(m.path.clone()),
                },
                summary: "The operator's policy lists the models that may run; this one is not among them (by digest or by provenance).".into(),
                evidence,
                remediation: format!("Review the model, then add an [[approve]] entry for it to {policy} (publisher/repo as shown, or its sha256), or stop the server from loading it."),
            });
        }
    }
    out
}

fn expired(inv: &Inventory, policy: &str, approvals: &[Approval]) -> Vec<Finding> {
    let Some(today) = today(inv) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for a in approvals {
        let Some(x) = a.expires.as_deref().filter(|x| today > *x) else {
            continue;
        };
        let label = a.label(policy);
        let covered =
            |d: &Decision| matches!(d, Decision::Expired { entry, .. } if *entry == label);
        let loaded: Vec<(&crate::model::Server, &crate::model::LoadedModel)> = inv
            .servers
            .iter()
            .flat_map(|s| s.models.iter().map(move |m| (s, m)))
            .filter(|(_, m)| covered(&m.facts.decision))
            .collect();
        let stored = inv
            .store_files
            .iter()
            .filter(|f| covered(&f.facts.decision));
        let mut evidence = vec![Evidence::new(
            Source::file_line(policy, a.line as u64),
            format!(
                "approved {} by {} ({:?}), expired after {x}; today is {today}",
                a.date, a.approver, a.reason
            ),
        )];
        for (s, m) in &loaded {
            evidence.push(Evidence::new(
                Source::path(m.path.clone()),
                format!(
                    "loaded by {} pid {}: no approval in force covers it",
                    s.product, s.pid
                ),
            ));
        }
        for f in stored.take(10) {
            evidence.push(Evidence::new(
                Source::path(f.path.clone()),
                "on disk, covered only by this approval",
            ));
        }
        let (severity, subject) = match loaded.first() {
            Some((s, _)) => (
                Severity::Medium,
                Subject {
                    product: s.product.clone(),
                    pid: s.pid,
                    listener: None,
                    path: Some(format!("{policy}:{}", a.line)),
                },
            ),
            None => (
                Severity::Low,
                policy_subject(&format!("{policy}:{}", a.line)),
            ),
        };
        out.push(Finding {
            rule: RULE_APPROVAL_EXPIRED.into(),
            severity,
            title: format!("approval {label} expired on {x}"),
            subject,
            summary: "An approval past its expiry no longer approves anything: the models it covered are unapproved until it is renewed.".into(),
            evidence,
            remediation: format!("Review the models again, then set a new date and expires at {policy}:{} (or remove the entry and stop using them).", a.line),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn approval(
        line: usize,
        publisher: Option<&str>,
        repo: Option<&str>,
        expires: Option<&str>,
    ) -> Approval {
        Approval {
            line,
            sha256: None,
            publisher: publisher.map(Into::into),
            repo: repo.map(Into::into),
            origin_country: Some("FR".into()),
            jurisdictions: Vec::new(),
            reason: "reviewed".into(),
            approver: "alice".into(),
            date: "2026-01-01".into(),
            expires: expires.map(Into::into),
        }
    }

    fn hf() -> Provenance {
        let mut p = Provenance::default();
        p.from_path("/h/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B/snapshots/abc/m.gguf");
        p
    }

    #[test]
    fn approvals_match_on_every_field_they_give() {
        let p = hf();
        let ok = approval(
            3,
            Some("qwen"),
            Some("https://huggingface.co/Qwen/Qwen2.5-0.5B/"),
            None,
        );
        assert!(matches(&ok, None, &p).is_some());
        let other_repo = approval(3, Some("Qwen"), Some("Qwen/Other"), None);
        assert!(matches(&other_repo, None, &p).is_none());
        let mut by_sha = approval(3, None, None, None);
        by_sha.sha256 = Some("a".repeat(64));
        assert!(
            matches(&by_sha, None, &p).is_none(),
            "unknown digest never matches"
        );
        assert!(matches(&by_sha, Some(&"a".repeat(64)), &p).is_some());
        assert!(matches(&by_sha, Some(&"b".repeat(64)), &p).is_none());
    }

    #[test]
    fn approval_by_jurisdiction_needs_every_origin_known_verified_and_allowed() {
        let by_origin = |codes: &[&str]| Approval {
            jurisdictions: codes.iter().map(|c| c.to_string()).collect(),
            ..approval(5, None, None, None)
        };
        // Qwen (Alibaba Cloud, CN), from the cache path.
        let mut p = hf();
        crate::rules::provenance::origins(&mut p);
        let m = matches(&by_origin(&["CN"]), None, &p).expect("CN allowed");
        assert!(m.contains("Alibaba") && m.contains("CN"), "{m}");
        assert!(matches(&by_origin(&["FR", "US"]), None, &p).is_none());
        // A French publisher's fine-tune of a Chinese base model: both must be allowed.
        let mut p = Provenance::default();
        p.from_path("/h/hub/models--mistralai--tuned/snapshots/r/m.gguf");
        p.add(
            "base_model",
            "Qwen/Qwen2.5-7B",
            "model card front matter (README.md)",
        );
        crate::rules::provenance::origins(&mut p);
        assert!(matches(&by_origin(&["FR"]), None, &p).is_none());
        assert!(matches(&by_origin(&["FR", "CN"]), None, &p).is_some());
        // A publisher the table does not know is never approved by origin.
        let mut p = Provenance::default();
        p.from_path("/h/hub/models--someone-else--m/snapshots/r/m.gguf");
        crate::rules::provenance::origins(&mut p);
        assert!(matches(&by_origin(&["FR", "CN", "US"]), None, &p).is_none());
        assert!(matches(&by_origin(&["US"]), None, &Provenance::default()).is_none());
    }

    #[test]
    fn a_header_claim_does_not_borrow_another_publishers_approval() {
        let mut p = Provenance::default();
        p.from_path("/h/hub/models--evil--tool/snapshots/r/m.gguf");
        let meta = crate::model::metadata::ModelMetadata {
            organization: Some("Qwen".into()),
            ..Default::default()
        };
        p.from_metadata(&meta, "GGUF v3");
        assert_eq!(p.publisher.as_deref(), Some("evil"));
        assert!(matches(&approval(1, Some("Qwen"), None, None), None, &p).is_none());
    }

    #[test]
    fn expiry_is_inclusive_and_in_force_approvals_win() {
        let p = hf();
        let lapsed = approval(1, Some("Qwen"), None, Some("2026-06-30"));
        let d = decide(
            std::slice::from_ref(&lapsed),
            "policy.toml",
            Some("2026-06-30"),
            None,
            &p,
        );
        assert!(matches!(d, Decision::Approved { .. }), "{d:?}");
        let d = decide(
            std::slice::from_ref(&lapsed),
            "policy.toml",
            Some("2026-07-01"),
            None,
            &p,
        );
        assert!(
            matches!(&d, Decision::Expired { expired_on, .. } if expired_on == "2026-06-30"),
            "{d:?}"
        );
        let fresh = approval(9, None, Some("Qwen/Qwen2.5-0.5B"), None);
        let d = decide(
            &[lapsed, fresh],
            "policy.toml",
            Some("2026-07-01"),
            None,
            &p,
        );
        assert!(
            matches!(&d, Decision::Approved { entry, .. } if entry.starts_with("policy.toml:9")),
            "{d:?}"
        );
        let d = decide(&[], "policy.toml", None, None, &Provenance::default());
        assert!(
            matches!(&d, Decision::Unapproved { why } if why.contains("unknown provenance")),
            "{d:?}"
        );
    }
}
