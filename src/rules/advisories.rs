//! Installed components → the advisories that apply, offline.
//!
//! Per component: look up the records of its package (index, never a scan),
//! evaluate each `affected[]` entry by the OSV algorithm (exact `versions[]`
//! entry, or any range: `introduced`/`fixed`/`last_affected`/`limit` over the
//! range's ordering), then merge the records that describe one vulnerability
//! (shared id or alias: PYSEC/GHSA/CVE/GO) into one match, and one finding.
//!
//! Policies, each tested:
//! - withdrawn records never match (they are not even indexed);
//! - an `affected[]` entry with neither ranges nor versions matches nothing (the
//!   spec's reading; osv-scalibr does the same);
//! - a range of a type that cannot be evaluated offline (`GIT`, `GIT_TAG`) is
//!   skipped, and evaluation goes on with the next range;
//! - a version that cannot be ordered (llama.cpp build 0, Go `(devel)`) is
//!   "unknown", reported as such, never "oldest";
//! - a PyPI bound that is not PEP 440 as written (`2.6.0-NA`) is read without its
//!   suffix and the match is marked low-confidence.

use std::collections::BTreeSet;

use crate::knowledge::advisories::{
    Advisory, AdvisoryDb, LLAMA_CPP_REPO, OsvAffected, OsvEvent, PackageKey,
};
use crate::model::advisory::{ComponentCoverage, Coverage};
use crate::model::components::{Component, Ecosystem};
use crate::model::{
    AdvisoryData, AdvisoryMatch, CvssScore, Evidence, Finding, Inventory, PatchStatus,
    ServerAdvisoryMatch, Severity, Source, Subject,
};
use crate::rules::versions::{Scheme, Version};

pub const RULE_VULNERABLE: &str = "patch.vulnerable-component";
pub const RULE_NOT_COMPARABLE: &str = "patch.version-not-comparable";
pub const RULE_STALE_DATA: &str = "patch.advisory-data-stale";

/// What one record says about one installed version.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Affected(Hit),
    NotAffected,
    /// Could not be decided: why.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The first fixed version above the installed one, per matching range.
    pub fixed: Vec<(Version, String)>,
    /// `last_affected` ceilings at or above the installed version.
    pub last_affected: Vec<String>,
    pub low_confidence: bool,
    /// The range or list entry that matched, for the evidence.
    pub how: String,
}

fn ecosystem_scheme(key: &PackageKey) -> Option<Scheme> {
    match key.ecosystem.as_str() {
        "PyPI" => Some(Scheme::Pep440),
        "Go" => Some(Scheme::Semver),
        "Debian" => Some(Scheme::Dpkg),
        "Triton" => Some(Scheme::TritonRelease),
        "GIT" if key.name == LLAMA_CPP_REPO => Some(Scheme::LlamaCppBuild),
        _ => None,
    }
}

fn range_scheme(kind: &str, key: &PackageKey) -> Option<Scheme> {
    match kind {
        "ECOSYSTEM" if key.ecosystem != "GIT" => ecosystem_scheme(key),
        "SEMVER" => Some(Scheme::Semver),
        "LLAMACPP_BUILD" => Some(Scheme::LlamaCppBuild),
        "TRITON_RELEASE" => Some(Scheme::TritonRelease),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Introduced,
    Fixed,
    LastAffected,
    Limit,
}

fn events_of(e: &OsvEvent) -> impl Iterator<Item = (Kind, &str)> {
    [
        (Kind::Introduced, e.introduced.as_deref()),
        (Kind::Fixed, e.fixed.as_deref()),
        (Kind::LastAffected, e.last_affected.as_deref()),
        (Kind::Limit, e.limit.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
}

/// A parsed event: `None` is below every version (`introduced: "0"`) for
/// `Introduced`, above every version (`limit: "*"`) for `Limit`.
struct Event<'a> {
    kind: Kind,
    at: Option<Version>,
    raw: &'a str,
}

/// Evaluate one `affected[]` entry for an installed version.
pub fn evaluate(installed: &str, key: &PackageKey, aff: &OsvAffected) -> Verdict {
    let mut unknown: Option<String> = None;
    // An exact `versions[]` entry is enough to be affected; the ranges are still
    // evaluated because they carry the fix.
    let listed: Option<String> = match ecosystem_scheme(key) {
        Some(scheme) => scheme
            .parse_installed(installed)
            .ok()
            .and_then(|v| aff.versions.iter().find(|l| scheme.same(&v, l)).cloned()),
        None => aff
            .versions
            .iter()
            .find(|l| l.trim() == installed.trim())
            .cloned(),
    };
    let mut hits: Vec<Hit> = Vec::new();
    for range in &aff.ranges {
        let Some(scheme) = range_scheme(&range.kind, key) else {
            continue; // GIT, GIT_TAG, unknown types: not evaluable offline; go on
        };
        let v = match scheme.parse_installed(installed) {
            Ok(v) => v,
            Err(e) => {
                unknown = Some(e);
                continue;
            }
        };
        match evaluate_range(scheme, &v, &range.events) {
            Ok(Some(mut hit)) => {
                hit.how = format!("{} range {}", range.kind, describe(&range.events));
                hits.push(hit);
            }
            Ok(None) => {}
            Err(e) => unknown = Some(e),
        }
    }
    if hits.is_empty() {
        return match (listed, unknown) {
            (Some(l), _) => Verdict::Affected(Hit {
                fixed: Vec::new(),
                last_affected: Vec::new(),
                low_confidence: false,
                how: format!("listed version {l}"),
            }),
            (None, Some(why)) => Verdict::Unknown(why),
            (None, None) => Verdict::NotAffected,
        };
    }
    let mut merged = hits.remove(0);
    for h in hits {
        merged.fixed.extend(h.fixed);
        merged.last_affected.extend(h.last_affected);
        merged.low_confidence &= h.low_confidence;
        merged.how = format!("{}; {}", merged.how, h.how);
    }
    if let Some(l) = listed {
        // A listed version is a match on the record's own words, not on a bound.
        merged.low_confidence = false;
        merged.how = format!("{}; listed version {l}", merged.how);
    }
    Verdict::Affected(merged)
}

/// The OSV evaluation of one range; `Err` when a bound cannot be read.
fn evaluate_range(scheme: Scheme, v: &Version, events: &[OsvEvent]) -> Result<Option<Hit>, String> {
    let mut parsed: Vec<Event> = Vec::new();
    let mut lenient = false;
    for (kind, raw) in events.iter().flat_map(events_of) {
        let at = match (kind, raw.trim()) {
            (Kind::Introduced, "0") | (Kind::Limit, "*") => None,
            _ => {
                let b = scheme
                    .parse_bound(raw)
                    .map_err(|e| format!("bound {raw:?}: {e}"))?;
                lenient |= b.lenient;
                Some(b.version)
            }
        };
        parsed.push(Event { kind, at, raw });
    }
    // BeforeLimits: with limits, the version must be below one of them.
    let limits: Vec<&Event> = parsed.iter().filter(|e| e.kind == Kind::Limit).collect();
    if !limits.is_empty() && !limits.iter().any(|l| l.at.as_ref().is_none_or(|at| v < at)) {
        return Ok(None);
    }
    let mut ordered: Vec<&Event> = parsed.iter().filter(|e| e.kind != Kind::Limit).collect();
    ordered.sort_by(|a, b| a.at.cmp(&b.at)); // None ("0") first; stable for ties
    let mut vulnerable = false;
    for e in &ordered {
        match (e.kind, &e.at) {
            (Kind::Introduced, None) => vulnerable = true,
            (Kind::Introduced, Some(at)) if v >= at => vulnerable = true,
            (Kind::Fixed, Some(at)) if v >= at => vulnerable = false,
            (Kind::LastAffected, Some(at)) if v > at => vulnerable = false,
            _ => {}
        }
    }
    if !vulnerable {
        return Ok(None);
    }
    let next_fix = ordered
        .iter()
        .filter(|e| e.kind == Kind::Fixed)
        .filter_map(|e| e.at.as_ref().filter(|at| *at > v).map(|at| (at, e.raw)))
        .min_by(|a, b| a.0.cmp(b.0))
        .map(|(at, raw)| (at.clone(), raw.to_string()));
    let last_affected = ordered
        .iter()
        .filter(|e| e.kind == Kind::LastAffected)
        .filter(|e| e.at.as_ref().is_some_and(|at| at >= v))
        .map(|e| e.raw.to_string())
        .collect();
    Ok(Some(Hit {
        fixed: next_fix.into_iter().collect(),
        last_affected,
        low_confidence: lenient,
        how: String::new(),
    }))
}

fn describe(events: &[OsvEvent]) -> String {
    let parts: Vec<String> = events
        .iter()
        .flat_map(events_of)
        .map(|(k, v)| {
            let k = match k {
                Kind::Introduced => "introduced",
                Kind::Fixed => "fixed",
                Kind::LastAffected => "last_affected",
                Kind::Limit => "limit",
            };
            format!("{k} {v}")
        })
        .collect();
    parts.join(", ")
}

/// A component whose version could not be ordered against its advisories.
#[derive(Debug, Clone, PartialEq)]
pub struct NotComparable {
    pub component: Component,
    pub advisories: Vec<String>,
    pub why: String,
}

/// Match components against the advisory set: one `AdvisoryMatch` per
/// (component, vulnerability), aliases merged.
pub fn match_components(
    components: &[Component],
    db: &AdvisoryDb,
) -> (Vec<AdvisoryMatch>, Vec<NotComparable>) {
    let mut matches = Vec::new();
    let mut unknown = Vec::new();
    for original in components {
        // A distribution shadowed by another of the same name earlier on sys.path
        // is on disk but not what the process imports.
        if original.shadowed {
            continue;
        }
        let Some(c) = effective(original) else {
            continue;
        };
        let c = &c;
        let key = db.key_of(c);
        let mut hits: Vec<(&Advisory, Hit)> = Vec::new();
        let mut undecided: Vec<String> = Vec::new();
        let mut why = String::new();
        for (adv, aff) in db.lookup(&key) {
            match evaluate(&c.version, &key, aff) {
                Verdict::Affected(h) => hits.push((adv, h)),
                Verdict::NotAffected => {}
                Verdict::Unknown(w) => {
                    if !undecided.contains(&adv.id) {
                        undecided.push(adv.id.clone());
                    }
                    why = w;
                }
            }
        }
        // An entry decided by another affected[] of the same record is not undecided.
        undecided.retain(|id| !hits.iter().any(|(a, _)| &a.id == id));
        if !undecided.is_empty() {
            unknown.push(NotComparable {
                component: c.clone(),
                advisories: undecided,
                why,
            });
        }
        for group in group_by_alias(hits) {
            matches.push(build_match(c, &group));
        }
    }
    (matches, unknown)
}

/// The code a process really runs: a Go module replaced (`=> path version`) by
/// another module is matched as that one; a replacement by a local directory
/// has no version to match.
fn effective(c: &Component) -> Option<Component> {
    let Some(r) = c.replaced_by.as_deref() else {
        return Some(c.clone());
    };
    let (path, version) = r.trim().split_once(' ')?;
    let mut out = c.clone();
    out.name = path.to_string();
    out.key = path.to_string();
    out.version = version.trim().to_string();
    Some(out)
}

/// Union of records sharing any id or alias (PYSEC-… ↔ GHSA-… ↔ CVE-…).
type Group<'a> = Vec<(&'a Advisory, Hit)>;

fn group_by_alias(hits: Group<'_>) -> Vec<Group<'_>> {
    let mut groups: Vec<(BTreeSet<String>, Group)> = Vec::new();
    for (adv, hit) in hits {
        let ids: BTreeSet<String> = std::iter::once(adv.id.clone())
            .chain(adv.aliases.iter().cloned())
            .collect();
        let mut merged_ids = ids;
        let mut merged_hits = vec![(adv, hit)];
        let mut i = 0;
        while i < groups.len() {
            if groups[i].0.intersection(&merged_ids).next().is_some() {
                let (g_ids, g_hits) = groups.swap_remove(i);
                merged_ids.extend(g_ids);
                merged_hits.extend(g_hits);
            } else {
                i += 1;
            }
        }
        groups.push((merged_ids, merged_hits));
    }
    let mut out: Vec<Group> = groups.into_iter().map(|(_, h)| h).collect();
    for g in &mut out {
        g.sort_by(|a, b| a.0.id.cmp(&b.0.id));
    }
    out.sort_by(|a, b| a[0].0.id.cmp(&b[0].0.id));
    out
}

fn id_rank(id: &str) -> u8 {
    match id.split('-').next().unwrap_or("") {
        "CVE" => 0,
        "GHSA" => 1,
        "PYSEC" => 2,
        "GO" => 3,
        _ => 4,
    }
}

fn build_match(c: &Component, group: &[(&Advisory, Hit)]) -> AdvisoryMatch {
    let mut ids: Vec<String> = group
        .iter()
        .flat_map(|(a, _)| std::iter::once(a.id.clone()).chain(a.aliases.iter().cloned()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    ids.sort_by(|a, b| id_rank(a).cmp(&id_rank(b)).then_with(|| a.cmp(b)));
    let (severity, cvss, severity_source) = group
        .iter()
        .map(|(a, _)| severity_of(a))
        .max_by(|a, b| {
            a.0.cmp(&b.0).then_with(|| {
                let s = |x: &Option<CvssScore>| x.as_ref().map_or(-1.0, |c| c.score);
                s(&a.1).total_cmp(&s(&b.1))
            })
        })
        .unwrap_or((Severity::Medium, None, "no severity in the record".into()));
    let mut fixed: Vec<(Version, String)> =
        group.iter().flat_map(|(_, h)| h.fixed.clone()).collect();
    fixed.sort_by(|a, b| a.0.cmp(&b.0));
    fixed.dedup_by(|a, b| a.0 == b.0);
    let last_affected: Vec<String> = group
        .iter()
        .flat_map(|(_, h)| h.last_affected.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    AdvisoryMatch {
        component: c.clone(),
        ids,
        records: group.iter().map(|(a, _)| a.id.clone()).collect(),
        severity,
        cvss,
        severity_source,
        summary: group
            .iter()
            .map(|(a, _)| a.summary.as_str())
            .find(|s| !s.is_empty())
            .unwrap_or("")
            .to_string(),
        no_fix_known: fixed.is_empty() && last_affected.is_empty(),
        fixed: fixed.into_iter().map(|(_, s)| s).collect(),
        last_affected,
        low_confidence: group.iter().all(|(_, h)| h.low_confidence),
        matched_by: group
            .iter()
            .map(|(a, h)| format!("{} ({})", a.origin, h.how))
            .collect(),
    }
}

/// Highest CVSS base score among the record's vectors (v3 before v4 before v2 on
/// ties), else the database's own rating, else medium and say so.
fn severity_of(a: &Advisory) -> (Severity, Option<CvssScore>, String) {
    let rank = |t: &str| match t {
        "CVSS_V3" => 3,
        "CVSS_V4" => 2,
        "CVSS_V2" => 1,
        _ => 0,
    };
    let best = a
        .severity
        .iter()
        .filter(|s| rank(&s.kind) > 0)
        .filter_map(|s| {
            let parsed: cvss::Cvss = s.score.trim().parse().ok()?;
            Some((parsed.score(), rank(&s.kind), s.score.trim().to_string()))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    if let Some((score, _, vector)) = best {
        return (
            severity_from_score(score),
            Some(CvssScore { vector, score }),
            "CVSS base score".into(),
        );
    }
    if let Some(s) = a.database_severity.as_deref().and_then(database_rating) {
        return (s, None, format!("{} rating of the database", a.id));
    }
    (
        Severity::Medium,
        None,
        format!("no severity in {} (shown as medium)", a.id),
    )
}

/// CVSS qualitative ratings (3.1 and 4.0 share the bands).
pub fn severity_from_score(score: f64) -> Severity {
    if score >= 9.0 {
        Severity::Critical
    } else if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Info
    }
}

fn database_rating(s: &str) -> Option<Severity> {
    match s.to_ascii_uppercase().as_str() {
        "CRITICAL" => Some(Severity::Critical),
        "HIGH" => Some(Severity::High),
        "MODERATE" | "MEDIUM" => Some(Severity::Medium),
        "LOW" => Some(Severity::Low),
        _ => None,
    }
}

fn ecosystem_label(e: Ecosystem) -> &'static str {
    match e {
        Ecosystem::PyPI => "PyPI",
        Ecosystem::Go => "Go module",
        Ecosystem::LlamaCpp => "llama.cpp build",
        Ecosystem::Debian => "Debian package",
        Ecosystem::System => "system",
    }
}

/// The last path segment of a Go module names the product (`ollama`, `LocalAI`).
fn go_product(module: &str) -> &str {
    module.rsplit('/').next().unwrap_or(module)
}

/// The exact command or step that removes the vulnerability.
pub fn remediation(m: &AdvisoryMatch) -> String {
    let c = &m.component;
    // Records of one vulnerability can disagree (GO vs GHSA): the highest fix
    // satisfies them all.
    let Some(target) = m.fixed.last() else {
        let watch = m.ids.first().map(String::as_str).unwrap_or("the advisory");
        return match m.last_affected.last() {
            Some(last) => format!(
                "no fixed version is recorded; {last} is the last version known to be affected and \
                 newer ones may be too: check {watch} before relying on an upgrade, and limit who \
                 can reach {}",
                c.name
            ),
            None => format!(
                "no fixed version is recorded: limit who can reach {} (loopback or an \
                 authenticating proxy) and watch {watch} for a fix",
                c.name
            ),
        };
    };
    match &c.ecosystem {
        Ecosystem::PyPI => format!("pip install '{}>={target}'", c.name),
        Ecosystem::Go => format!(
            "upgrade {} to >= {} (module {})",
            go_product(&c.name),
            target.trim_start_matches('v'),
            c.name
        ),
        Ecosystem::LlamaCpp => format!(
            "rebuild llama.cpp from b≥{}",
            target.trim_start_matches(['b', 'B'])
        ),
        Ecosystem::Debian => format!(
            "apt-get install --only-upgrade {} (to {target} or later)",
            c.name
        ),
        _ => format!("upgrade {} to {target} or later", c.name),
    }
}

/// The finding of one match, about the server (or file) `owner`.
pub fn finding(owner: &Subject, m: &AdvisoryMatch, data: &AdvisoryData) -> Finding {
    let c = &m.component;
    let primary = m.ids.first().cloned().unwrap_or_default();
    let others = m.ids.len().saturating_sub(1);
    let mut summary = m.summary.clone();
    if !summary.is_empty() && !summary.ends_with('.') {
        summary.push('.');
    }
    summary.push_str(&format!(" Ids: {}.", m.ids.join(", ")));
    match (&m.cvss, m.fixed.last(), m.last_affected.last()) {
        (Some(cv), _, _) => summary.push_str(&format!(" {} = {:.1}.", cv.vector, cv.score)),
        (None, _, _) => summary.push_str(&format!(" Severity: {}.", m.severity_source)),
    }
    if let Some(f) = m.fixed.last() {
        summary.push_str(&format!(" Fixed in {f}."));
    } else if let Some(l) = m.last_affected.last() {
        summary.push_str(&format!(" No fix recorded; last known affected {l}."));
    } else {
        summary.push_str(" No fix known.");
    }
    if m.low_confidence {
        summary.push_str(
            " Low confidence: the advisory's bound is not a valid version as written and was \
             read without its suffix.",
        );
    }
    let mut evidence = vec![Evidence::new(
        Source::path(c.path.clone()),
        format!(
            "{} {} {} read here",
            ecosystem_label(c.ecosystem),
            c.name,
            c.version
        ),
    )];
    for how in &m.matched_by {
        evidence.push(Evidence::new(Source::note("advisory"), how.clone()));
    }
    evidence.push(Evidence::new(
        Source::note("advisory data"),
        data_line(data),
    ));
    Finding {
        rule: RULE_VULNERABLE.into(),
        severity: m.severity,
        title: format!(
            "{} {} is affected by {primary}{}",
            c.name,
            c.version,
            if others > 0 {
                format!(" (+{others} ids)")
            } else {
                String::new()
            }
        ),
        subject: Subject {
            product: owner.product.clone(),
            pid: owner.pid,
            listener: owner.listener.clone(),
            path: Some(c.path.clone()),
        },
        summary,
        evidence,
        remediation: remediation(m),
    }
}

fn data_line(data: &AdvisoryData) -> String {
    format!(
        "{}: {} records, newest modified {}{}",
        data.origin,
        data.records,
        data.newest_modified.as_deref().unwrap_or("unknown"),
        data.age_days
            .map(|d| format!(" ({d} days before this collection)"))
            .unwrap_or_default()
    )
}

pub fn not_comparable_finding(owner: &Subject, n: &NotComparable, data: &AdvisoryData) -> Finding {
    let c = &n.component;
    let mut ids = n.advisories.clone();
    ids.sort();
    Finding {
        rule: RULE_NOT_COMPARABLE.into(),
        severity: Severity::Low,
        title: format!(
            "{} version {:?} cannot be compared: {} advisories not checked",
            c.name,
            c.version,
            ids.len()
        ),
        subject: Subject {
            product: owner.product.clone(),
            pid: owner.pid,
            listener: owner.listener.clone(),
            path: Some(c.path.clone()),
        },
        summary: format!(
            "The installed version is unknown to the advisories' ordering ({}), so whether {} \
             apply is unknown, not 'no'.",
            n.why,
            ids.join(", ")
        ),
        evidence: vec![
            Evidence::new(
                Source::path(c.path.clone()),
                format!("{} {} read here", c.name, c.version),
            ),
            Evidence::new(Source::note("advisory data"), data_line(data)),
        ],
        remediation: match c.ecosystem {
            Ecosystem::LlamaCpp => "build llama.cpp from a git checkout (so that it reports its \
                                    build number) or check its commit against these advisories \
                                    by hand"
                .into(),
            _ => format!(
                "check the version of {} against these advisories by hand",
                c.name
            ),
        },
    }
}

/// Days from an RFC 3339 date to another (both UTC); `None` when unreadable.
pub fn days_between(older: &str, newer: &str) -> Option<u64> {
    let t = |s: &str| {
        let day = s.get(..10)?;
        humantime::parse_rfc3339_weak(&format!("{day}T00:00:00Z")).ok()
    };
    let d = t(newer)?.duration_since(t(older)?).ok()?;
    Some(d.as_secs() / 86_400)
}

/// Data older than the configured age is a finding: every "not affected" above
/// rests on it.
pub fn stale_data_finding(data: &AdvisoryData) -> Option<Finding> {
    let age = data.age_days?;
    (age > data.max_age_days).then(|| Finding {
        rule: RULE_STALE_DATA.into(),
        severity: Severity::Medium,
        title: format!("advisory data is {age} days old"),
        subject: Subject {
            product: "advisory data".into(),
            pid: 0,
            listener: None,
            path: Some(data.origin.clone()),
        },
        summary: format!(
            "The newest advisory record is from {}, {age} days before this collection (limit \
             {} days): vulnerabilities published since then are not matched.",
            data.newest_modified.as_deref().unwrap_or("?"),
            data.max_age_days
        ),
        evidence: vec![Evidence::new(
            Source::note("advisory data"),
            data_line(data),
        )],
        remediation: "copy a current osv.dev export (e.g. PyPI/all.zip, Go/all.zip) onto the \
                      host and pass it with `aiposture snapshot --advisories PATH` or \
                      `[advisories] path` in the config"
            .into(),
    })
}

/// Patch status of an inventory: each server's components, and the host's
/// (driver, CUDA, Debian packages) under pid 0.
pub fn analyse_inventory(inv: &Inventory, db: &AdvisoryDb) -> (PatchStatus, Vec<Finding>) {
    let subject = |product: &str, pid: u32| Subject {
        product: product.to_string(),
        pid,
        listener: None,
        path: None,
    };
    let mut owners: Vec<(Subject, &[Component])> = inv
        .servers
        .iter()
        .map(|s| (subject(&s.product, s.pid), s.components.as_slice()))
        .collect();
    owners.push((
        subject("host", 0),
        inv.system_software.components.as_slice(),
    ));
    analyse(&owners, db, &inv.host.collected_at)
}

/// Patch status of a collection: match each owner's components, merge, and add
/// the data-age finding. `owners` pairs a server (or the host, pid 0) with the
/// components read for it.
pub fn analyse(
    owners: &[(Subject, &[Component])],
    db: &AdvisoryDb,
    collected_at: &str,
) -> (PatchStatus, Vec<Finding>) {
    let mut data = db.data.clone();
    data.age_days = data
        .newest_modified
        .as_deref()
        .and_then(|m| days_between(m, collected_at));
    let mut findings = Vec::new();
    let mut matches = Vec::new();
    let mut coverage = Vec::new();
    for (owner, components) in owners {
        let (found, unknown) = match_components(components, db);
        coverage.extend(
            components
                .iter()
                .filter(|c| !c.shadowed)
                .map(|c| ComponentCoverage {
                    pid: owner.pid,
                    product: owner.product.clone(),
                    ecosystem: c.ecosystem,
                    name: c.name.clone(),
                    version: c.version.clone(),
                    coverage: coverage_of(c, &found, &unknown, db),
                }),
        );
        for m in found {
            findings.push(finding(owner, &m, &data));
            matches.push(ServerAdvisoryMatch {
                pid: owner.pid,
                product: owner.product.clone(),
                found: m,
            });
        }
        for n in &unknown {
            findings.push(not_comparable_finding(owner, n, &data));
        }
    }
    findings.extend(stale_data_finding(&data));
    matches.sort_by(|a, b| {
        b.found
            .severity
            .cmp(&a.found.severity)
            .then_with(|| a.pid.cmp(&b.pid))
            .then_with(|| a.found.component.name.cmp(&b.found.component.name))
    });
    (
        PatchStatus {
            data,
            matches,
            coverage,
        },
        findings,
    )
}

/// What the check says of one component, from what matching found: never
/// "no known advisories" for an ecosystem the data has no records of.
fn coverage_of(
    original: &Component,
    found: &[AdvisoryMatch],
    unknown: &[NotComparable],
    db: &AdvisoryDb,
) -> Coverage {
    let Some(c) = effective(original) else {
        return Coverage::NotComparable {
            why: "replaced by a local directory: there is no released version to compare".into(),
        };
    };
    let same =
        |x: &Component| x.name == c.name && x.version == c.version && x.ecosystem == c.ecosystem;
    let count = found.iter().filter(|m| same(&m.component)).count();
    if count > 0 {
        return Coverage::Vulnerable { count };
    }
    if let Some(n) = unknown.iter().find(|n| same(&n.component)) {
        return Coverage::NotComparable {
            why: format!("{} ({} advisories not checked)", n.why, n.advisories.len()),
        };
    }
    let key = db.key_of(&c);
    if !db.covers(&key) {
        return Coverage::NotCovered {
            why: format!(
                "the advisory data in use ({}) has no {} records",
                db.data.origin, key.ecosystem
            ),
        };
    }
    Coverage::NoKnownAdvisories
}

#[cfg(test)]
#[path = "advisories_tests.rs"]
mod tests;
