//! Findings opened and closed.

use std::collections::BTreeMap;

use crate::model::events::{EventKind, EventSubject};
use crate::model::{Finding, Severity};

use super::severity::*;
use super::side::*;

// ---------------------------------------------------------------- findings

pub(super) type FindingKey<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

pub(super) fn finding_key(f: &Finding) -> FindingKey<'_> {
    (
        &f.rule,
        &f.subject.product,
        f.subject.listener.as_deref(),
        f.subject.path.as_deref(),
    )
}

pub(super) fn findings(o: &Side, n: &Side, out: &mut Out) {
    pub(super) fn index<'a>(side: &Side<'a>) -> BTreeMap<FindingKey<'a>, &'a Finding> {
        let mut m: BTreeMap<FindingKey<'_>, &Finding> = BTreeMap::new();
        for f in &side.snap.findings {
            m.entry(finding_key(f)).or_insert(f);
        }
        m
    }
    let (fa, fb) = (index(o), index(n));
    let evidence = |side: &Side, f: &Finding| {
        let mut v = vec![side.ev(format!("{} {}: {}", f.severity, f.rule, f.title))];
        v.extend(
            f.evidence
                .iter()
                .take(3)
                .map(|e| side.ev(format!("{}: {}", e.source, e.detail))),
        );
        v
    };
    let subject = |f: &Finding| EventSubject {
        product: Some(f.subject.product.clone()),
        pid: Some(f.subject.pid),
        listener: f.subject.listener.clone(),
        path: f.subject.path.clone(),
        item: Some(f.rule.clone()),
    };
    for (k, f) in &fb {
        if !fa.contains_key(k) {
            out.push_with(
                EventKind::FindingOpened,
                Trend::Worse,
                f.severity,
                subject(f),
                None,
                Some(f.title.clone()),
                evidence(n, f),
            );
        }
    }
    for (k, f) in &fa {
        if !fb.contains_key(k) {
            out.push_with(
                EventKind::FindingClosed,
                Trend::Better,
                Severity::Info,
                subject(f),
                Some(f.title.clone()),
                None,
                evidence(o, f),
            );
        }
    }
}
