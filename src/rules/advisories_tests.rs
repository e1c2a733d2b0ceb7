//! The reference vectors of the research notes (vulns.md §5: advisory, package,
//! version → affected or not), reproduced on the embedded set, and the range edge
//! cases on records written here.

use super::*;
use crate::knowledge::advisories::OsvRecord;

fn db() -> &'static AdvisoryDb {
    static DB: std::sync::OnceLock<AdvisoryDb> = std::sync::OnceLock::new();
    DB.get_or_init(|| AdvisoryDb::embedded().expect("embedded advisories"))
}

fn component(eco: &str, name: &str, version: &str) -> Component {
    let e = match eco {
        "PyPI" => Ecosystem::PyPI,
        "Go" => Ecosystem::Go,
        "llama.cpp" => Ecosystem::LlamaCpp,
        "Debian" => Ecosystem::Debian,
        other => panic!("no reader gives {other} components"),
    };
    crate::model::advisory::component(e, name, version, "/test/METADATA")
}

/// The verdict of one record (all its affected entries for this package).
fn verdict_of(db: &AdvisoryDb, id: &str, c: &Component) -> Verdict {
    verdict_at(db, id, &db.key_of(c), &c.version)
}

/// Triton has no version reader yet (its NGC `YY.MM` release is not in any file
/// read today), so its records are checked at the key level.
fn triton_key() -> PackageKey {
    PackageKey {
        ecosystem: "Triton".into(),
        name: "tritonserver".into(),
    }
}

fn verdict_at(db: &AdvisoryDb, id: &str, key: &PackageKey, version: &str) -> Verdict {
    let key = key.clone();
    let entries: Vec<_> = db.lookup(&key).filter(|(a, _)| a.id == id).collect();
    assert!(!entries.is_empty(), "{id} not indexed under {key:?}");
    let mut out = Verdict::NotAffected;
    for (_, aff) in entries {
        match evaluate(version, &key, aff) {
            Verdict::Affected(h) => return Verdict::Affected(h),
            Verdict::Unknown(w) => out = Verdict::Unknown(w),
            Verdict::NotAffected => {}
        }
    }
    out
}

/// (advisory, ecosystem, package, [(version, affected, low-confidence)])
type Vector = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, bool, bool)],
);

const A: bool = true;
const N: bool = false;

const VECTORS: &[Vector] = &[
    (
        "PYSEC-2025-222",
        "PyPI",
        "vllm",
        &[("0.5.5", A, N), ("0.6.0", A, N), ("0.6.1", N, N)],
    ),
    (
        "PYSEC-2025-42",
        "PyPI",
        "vllm",
        &[
            ("0.6.4", N, N),
            ("0.6.5", A, N),
            ("0.8.4", A, N),
            ("0.8.5rc1", A, N),
            ("0.8.5", N, N),
            ("0.8.5.post1", N, N),
        ],
    ),
    (
        "PYSEC-2026-2014",
        "PyPI",
        "vllm",
        &[
            ("0.9.2", N, N),
            ("0.10.0", A, N),
            ("0.10.1", A, N),
            ("0.10.1+cu126", A, N),
            ("0.10.1.1", N, N),
        ],
    ),
    (
        "PYSEC-2026-2017",
        "PyPI",
        "vllm",
        &[
            ("0.5.1", N, N),
            ("0.5.2", A, N),
            ("0.9.2", A, N),
            ("0.10.0", N, N),
        ],
    ),
    (
        "PYSEC-2026-565",
        "PyPI",
        "vllm",
        &[
            ("0.8.2", N, N),
            ("0.8.3", A, N),
            ("0.14.0", A, N),
            ("0.14.1", N, N),
        ],
    ),
    (
        "PYSEC-2025-191",
        "PyPI",
        "torch",
        &[
            ("2.6.0", A, N),
            ("2.6.0+cu124", A, N),
            ("2.6.0+cu126", A, N),
            ("2.7.0", N, N),
        ],
    ),
    (
        "PYSEC-2025-194",
        "PyPI",
        "torch",
        &[
            ("2.6.0", A, A),
            ("2.6.0+cu124", A, A),
            ("2.7.0", N, A),
            ("2.12.0", N, A),
        ],
    ),
    (
        "PYSEC-2025-41",
        "PyPI",
        "torch",
        &[
            ("2.5.1", A, N),
            ("2.5.1+cu121", A, N),
            ("2.6.0rc1", A, N),
            ("2.6.0", N, N),
            ("2.6.0+cu124", N, N),
        ],
    ),
    (
        "PYSEC-2026-2286",
        "PyPI",
        "torch",
        &[
            ("2.9.1+cu128", A, N),
            ("2.10.0", N, N),
            ("2.10.0+cpu", N, N),
        ],
    ),
    (
        "PYSEC-2025-217",
        "PyPI",
        "transformers",
        &[("4.57.1", A, N), ("5.0.0rc0", A, N), ("5.0.0", N, N)],
    ),
    (
        "PYSEC-2026-2289",
        "PyPI",
        "transformers",
        &[("4.57.1", A, N), ("5.2.0", A, N), ("5.3.0", N, N)],
    ),
    (
        "PYSEC-2024-215",
        "PyPI",
        "gradio",
        &[("4.44.1", A, N), ("5.0.0b9", A, N), ("5.0.0", N, N)],
    ),
    (
        "PYSEC-2026-1421",
        "PyPI",
        "gradio",
        &[
            ("4.37.2", N, N),
            ("4.38.0", A, N),
            ("5.0.0b2", A, N),
            ("5.0.0b3", N, N),
        ],
    ),
    (
        "PYSEC-2026-1729",
        "PyPI",
        "open-webui",
        &[("0.6.34", A, N), ("0.6.35", N, N)],
    ),
    (
        "PYSEC-2026-1549",
        "PyPI",
        "litellm",
        &[
            ("1.53.0", A, N),
            ("1.53.1.dev0", A, N),
            ("1.53.1.dev1", N, N),
            ("1.53.1", N, N),
        ],
    ),
    (
        "PYSEC-2026-517",
        "PyPI",
        "ray",
        &[("2.9.3", A, N), ("2.49.2", A, N), ("2.50.0", N, N)],
    ),
    (
        "PYSEC-2023-29",
        "PyPI",
        "mlflow",
        &[("2.2.0", A, N), ("2.2.1", N, N)],
    ),
    (
        "PYSEC-2026-93",
        "PyPI",
        "mlflow",
        &[
            ("3.10.1", A, N),
            ("3.11.0.dev0", A, N),
            ("3.11.0rc0", N, N),
            ("3.11.0", N, N),
        ],
    ),
    (
        "PYSEC-2025-32",
        "PyPI",
        "bentoml",
        &[
            ("0.13.1", N, N),
            ("1.0.0", A, N),
            ("1.4.7", A, N),
            ("1.4.8", N, N),
        ],
    ),
    (
        "PYSEC-2026-535",
        "PyPI",
        "sglang",
        &[
            ("0.4.1.post6", N, N),
            ("0.4.1.post7", A, N),
            ("0.5.12", A, N),
            ("0.5.13", N, N),
        ],
    ),
    (
        "PYSEC-2025-122",
        "PyPI",
        "keras",
        &[
            ("2.15.0", N, N),
            ("3.0.0", A, N),
            ("3.7.0", A, N),
            ("3.8.0", N, N),
        ],
    ),
    (
        "PYSEC-2026-2546",
        "PyPI",
        "keras",
        &[
            ("2.15.0", N, N),
            ("3.12.0", A, N),
            ("3.12.1", N, N),
            ("3.13.0", A, N),
            ("3.13.1", A, N),
            ("3.13.2", N, N),
        ],
    ),
    (
        "PYSEC-2026-392",
        "PyPI",
        "llama_cpp_python",
        &[
            ("0.2.29", N, N),
            ("0.2.30", A, N),
            ("0.2.71", A, N),
            ("0.2.72", N, N),
        ],
    ),
    (
        "PYSEC-2026-1578",
        "PyPI",
        "lmdeploy",
        &[("0.11.0", A, N), ("0.11.1", N, N)],
    ),
    (
        "PYSEC-2026-554",
        "PyPI",
        "torchserve",
        &[("0.10.0", A, N), ("0.11.0", N, N)],
    ),
    (
        "PYSEC-2021-300",
        "PyPI",
        "tensorflow",
        &[
            ("2.2.0", N, N),
            ("2.3.3", A, N),
            ("2.3.4", N, N),
            ("2.4.2", A, N),
            ("2.5.0", N, N),
        ],
    ),
    (
        "GO-2024-2717",
        "Go",
        "github.com/go-skynet/LocalAI",
        &[("2.9.0", A, N), ("2.16.0", A, N)],
    ),
    (
        "GO-2024-2901",
        "Go",
        "github.com/ollama/ollama",
        &[
            ("0.1.33", A, N),
            ("v0.1.33", A, N),
            ("0.1.34-rc1", A, N),
            ("0.1.34", N, N),
        ],
    ),
    (
        "GO-2024-3104",
        "Go",
        "github.com/ollama/ollama",
        &[("0.1.46", A, N), ("0.1.47", N, N)],
    ),
    (
        "GO-2025-3548",
        "Go",
        "github.com/ollama/ollama",
        &[
            ("0.3.14", A, N),
            ("0.4.0-ci0", A, N),
            ("0.4.0-rc1", N, N),
            ("0.4.0", N, N),
        ],
    ),
    (
        "GO-2025-4251",
        "Go",
        "github.com/ollama/ollama",
        &[("0.13.5", A, N), ("0.30.0", A, N)],
    ),
    (
        "GO-2026-5748",
        "Go",
        "github.com/ollama/ollama",
        &[("0.17.0", A, N), ("0.17.1-rc2", A, N), ("0.17.1", N, N)],
    ),
    (
        "CVE-2024-32878",
        "llama.cpp",
        "llama.cpp",
        &[("b2715", A, N), ("b2740", N, N)],
    ),
    (
        "CVE-2024-42479",
        "llama.cpp",
        "llama.cpp",
        &[("b3560", A, N), ("b3561", N, N), ("b10000", N, N)],
    ),
    (
        "CVE-2025-49847",
        "llama.cpp",
        "llama.cpp",
        &[("b5661", A, N), ("b5662", N, N)],
    ),
    (
        "CVE-2026-34159",
        "llama.cpp",
        "llama.cpp",
        &[("b8491", A, N), ("b8492", N, N)],
    ),
    (
        "CVE-2026-39909",
        "llama.cpp",
        "llama.cpp",
        &[("b8584", A, N), ("b8585", N, N)],
    ),
    (
        "CVE-2024-39721",
        "Go",
        "github.com/ollama/ollama",
        &[("0.1.33", A, N), ("0.1.34", N, N)],
    ),
    (
        "CVE-2024-0087",
        "Triton",
        "tritonserver",
        &[
            ("22.08", N, N),
            ("22.09", A, N),
            ("24.03", A, N),
            ("24.04", N, N),
        ],
    ),
    (
        "CVE-2025-23319",
        "Triton",
        "tritonserver",
        &[("24.12", A, N), ("25.06", A, N), ("25.07", N, N)],
    ),
];

#[test]
fn research_vectors_hold_on_the_embedded_set() {
    assert_eq!(VECTORS.len(), 40);
    let mut checked = 0;
    for (id, eco, pkg, cases) in VECTORS {
        for (version, affected, low) in *cases {
            if *eco == "Triton" {
                let v = verdict_at(db(), id, &triton_key(), version);
                assert_eq!(
                    matches!(v, Verdict::Affected(_)),
                    *affected,
                    "{id} {version}: {v:?}"
                );
                checked += 1;
                continue;
            }
            let c = component(eco, pkg, version);
            match verdict_of(db(), id, &c) {
                Verdict::Affected(h) => {
                    assert!(
                        affected,
                        "{id} {pkg} {version}: affected, expected not ({h:?})"
                    );
                    assert_eq!(h.low_confidence, *low, "{id} {pkg} {version}: confidence");
                }
                Verdict::NotAffected => {
                    assert!(
                        !affected,
                        "{id} {pkg} {version}: not affected, expected affected"
                    )
                }
                Verdict::Unknown(w) => panic!("{id} {pkg} {version}: unknown: {w}"),
            }
            // The whole pipeline agrees: the record is among the matched ones or not.
            let (matches, _) = match_components(std::slice::from_ref(&c), db());
            let found = matches.iter().any(|m| m.records.iter().any(|r| r == id));
            assert_eq!(found, *affected, "{id} {pkg} {version}: match_components");
            checked += 1;
        }
    }
    assert_eq!(checked, 134, "versions checked");
}

#[test]
fn withdrawn_records_never_match() {
    // PyPA withdrew the Ollama server CVEs filed against the PyPI client `ollama`.
    let c = component("PyPI", "ollama", "0.1.0");
    let (matches, unknown) = match_components(&[c], db());
    assert!(matches.is_empty(), "{matches:#?}");
    assert!(unknown.is_empty());
    assert_eq!(db().data.withdrawn, 12);
}

#[test]
fn aliases_merge_into_one_match_and_ids_list_all() {
    // Old Ollama: many records, each vulnerability once; GO-2024-2901 carries
    // CVE-2024-37032 and GHSA-8hqg-whrw-pv92.
    let c = component("Go", "github.com/ollama/ollama", "v0.1.33");
    let (matches, _) = match_components(std::slice::from_ref(&c), db());
    let m = matches
        .iter()
        .find(|m| m.records.contains(&"GO-2024-2901".to_string()))
        .expect("GO-2024-2901 matched");
    assert_eq!(m.ids[0], "CVE-2024-37032", "CVE first: {:?}", m.ids);
    assert!(m.ids.contains(&"GHSA-8hqg-whrw-pv92".to_string()));
    assert_eq!(m.fixed, vec!["0.1.34".to_string()]);
    let mut all_ids: Vec<&String> = matches.iter().flat_map(|m| &m.ids).collect();
    let n = all_ids.len();
    all_ids.sort();
    all_ids.dedup();
    assert_eq!(all_ids.len(), n, "an id in two matches: not merged");
    assert_eq!(
        remediation(m),
        "upgrade ollama to >= 0.1.34 (module github.com/ollama/ollama)"
    );
}

#[test]
fn renamed_module_matches_under_both_paths() {
    for name in ["github.com/jmorganca/ollama", "github.com/ollama/ollama"] {
        let c = component("Go", name, "v0.1.28");
        assert!(
            matches!(verdict_of(db(), "GO-2024-2699", &c), Verdict::Affected(_)),
            "{name}"
        );
    }
}

#[test]
fn findings_carry_ids_severity_fix_source_and_command() {
    let c = crate::model::advisory::component(
        Ecosystem::PyPI,
        "vllm",
        "0.8.4",
        "/srv/venv/lib/python3.12/site-packages/vllm-0.8.4.dist-info/METADATA",
    );
    let owner = Subject {
        product: "vLLM".into(),
        pid: 812,
        listener: None,
        path: None,
    };
    let (status, findings) = analyse(
        &[(owner, std::slice::from_ref(&c))],
        db(),
        "2026-09-01T00:00:00Z",
    );
    let f = findings
        .iter()
        .find(|f| f.title.contains("CVE-2025-32444"))
        .expect("PYSEC-2025-42 finding");
    assert_eq!(f.rule, RULE_VULNERABLE);
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.subject.pid, 812);
    assert_eq!(f.subject.path.as_deref(), Some(c.path.as_str()));
    assert_eq!(f.evidence[0].source.to_string(), c.path);
    assert!(
        f.summary
            .contains("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H = 9.8"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("Fixed in 0.8.5"), "{}", f.summary);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.detail.contains("embedded:PyPI/PYSEC-2025-42.json"))
    );
    assert_eq!(f.remediation, "pip install 'vllm>=0.8.5'");
    // Every finding of this component is in the status, and the data is named.
    assert_eq!(
        status.matches.len(),
        findings
            .iter()
            .filter(|f| f.rule == RULE_VULNERABLE)
            .count()
    );
    assert_eq!(status.data.origin, "embedded");
    assert_eq!(status.data.age_days, Some(7));
    assert!(!findings.iter().any(|f| f.rule == RULE_STALE_DATA));
}

#[test]
fn llama_cpp_remediation_and_unknown_build() {
    let c = component("llama.cpp", "llama.cpp", "b3560");
    let (matches, _) = match_components(std::slice::from_ref(&c), db());
    let m = matches
        .iter()
        .find(|m| m.records == ["CVE-2024-42479"])
        .expect("CVE-2024-42479");
    assert_eq!(m.severity, Severity::Critical);
    // Several fixes across records: the highest one clears them all.
    assert_eq!(remediation(m), "rebuild llama.cpp from b≥3561");

    // Build 1 (the llama-server built from a vendored copy) is unknown, not "older
    // than everything".
    let c = component("llama.cpp", "llama.cpp", "b1");
    let (matches, unknown) = match_components(std::slice::from_ref(&c), db());
    assert!(matches.is_empty(), "{matches:#?}");
    assert_eq!(unknown.len(), 1);
    assert!(
        unknown[0]
            .advisories
            .contains(&"CVE-2024-42479".to_string())
    );
    let f = not_comparable_finding(
        &Subject {
            product: "llama.cpp server".into(),
            pid: 1,
            listener: None,
            path: None,
        },
        &unknown[0],
        &db().data,
    );
    assert_eq!(f.rule, RULE_NOT_COMPARABLE);
}

#[test]
fn open_ended_records_say_no_fix_known() {
    let c = component("Go", "github.com/ollama/ollama", "0.13.5");
    let (matches, _) = match_components(std::slice::from_ref(&c), db());
    let m = matches
        .iter()
        .find(|m| m.records.contains(&"GO-2025-4251".to_string()))
        .expect("GO-2025-4251");
    assert!(m.no_fix_known && m.fixed.is_empty());
    assert!(
        remediation(m).starts_with("no fixed version is recorded"),
        "{}",
        remediation(m)
    );
}

#[test]
fn stale_data_is_a_finding() {
    let (status, findings) = analyse(&[], db(), "2027-06-01T00:00:00Z");
    let age = status.data.age_days.expect("age");
    assert!(age > 90, "{age}");
    let f = findings
        .iter()
        .find(|f| f.rule == RULE_STALE_DATA)
        .expect("stale finding");
    assert!(f.title.contains(&format!("{age} days")));
}

// ---- edge cases on records written here ----

fn record(json: serde_json::Value) -> OsvRecord {
    serde_json::from_value(json).expect("record")
}

fn pypi(id: &str, name: &str, ranges: serde_json::Value) -> OsvRecord {
    record(serde_json::json!({
        "id": id, "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": name}, "ranges": ranges}]
    }))
}

fn affected_ids(db: &AdvisoryDb, name: &str, version: &str) -> Vec<String> {
    let (m, _) = match_components(&[component("PyPI", name, version)], db);
    m.into_iter().flat_map(|m| m.records).collect()
}

#[test]
fn range_edge_cases() {
    let db = AdvisoryDb::from_records(
        "test",
        [
            // introduced 0 + last_affected: the ceiling itself is affected.
            pypi("T-1", "pkg", serde_json::json!([{"type": "ECOSYSTEM",
                "events": [{"introduced": "0"}, {"last_affected": "1.2.0"}]}])),
            // limit: versions at or above it are outside the range.
            pypi("T-2", "limited", serde_json::json!([{"type": "ECOSYSTEM",
                "events": [{"introduced": "1.0"}, {"limit": "2.0"}]}])),
            // Two segments in one events list, written out of order.
            pypi("T-3", "segments", serde_json::json!([{"type": "ECOSYSTEM",
                "events": [{"fixed": "3.2.5"}, {"introduced": "1.0.0"}, {"introduced": "3.0.0"}, {"fixed": "1.0.2"}]}])),
            // A GIT range first must not stop evaluation of the ECOSYSTEM one.
            pypi("T-4", "gitfirst", serde_json::json!([
                {"type": "GIT", "repo": "https://example.invalid/r", "events": [{"introduced": "0"}, {"fixed": "abc123"}]},
                {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0"}]}])),
            // Pre-release fixed bound.
            pypi("T-5", "pre", serde_json::json!([{"type": "ECOSYSTEM",
                "events": [{"introduced": "0"}, {"fixed": "2.0.0rc1"}]}])),
            // An unreadable bound: unknown, not a match, not a silent "no".
            pypi("T-6", "junk", serde_json::json!([{"type": "ECOSYSTEM",
                "events": [{"introduced": "0"}, {"fixed": "soon"}]}])),
            // No ranges and no versions: matches nothing (spec).
            record(serde_json::json!({"id": "T-7", "modified": "2026-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "empty"}}]})),
            // Withdrawn.
            record(serde_json::json!({"id": "T-8", "modified": "2026-01-01T00:00:00Z",
                "withdrawn": "2026-02-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "pkg"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]})),
            // Exact versions[] list, a local build of a listed version included.
            record(serde_json::json!({"id": "T-9", "modified": "2026-01-01T00:00:00Z",
                "affected": [{"package": {"ecosystem": "PyPI", "name": "listed"},
                  "versions": ["0.10.0", "0.9.2"]}]})),
        ],
    )
    .expect("db");
    assert_eq!(db.data.withdrawn, 1);
    assert_eq!(affected_ids(&db, "pkg", "1.2.0"), ["T-1"]);
    assert_eq!(affected_ids(&db, "pkg", "1.2.0+local"), ["T-1"]);
    assert!(affected_ids(&db, "pkg", "1.2.1").is_empty());
    assert!(
        affected_ids(&db, "pkg", "1.2.1a1").is_empty(),
        "1.2.1a1 > 1.2.0"
    );
    assert_eq!(affected_ids(&db, "limited", "1.9"), ["T-2"]);
    assert!(affected_ids(&db, "limited", "2.0").is_empty());
    assert!(affected_ids(&db, "limited", "0.9").is_empty());
    assert_eq!(affected_ids(&db, "segments", "1.0.1"), ["T-3"]);
    assert!(affected_ids(&db, "segments", "1.0.2").is_empty());
    assert!(affected_ids(&db, "segments", "2.0.0").is_empty());
    assert_eq!(affected_ids(&db, "segments", "3.1.0"), ["T-3"]);
    assert!(affected_ids(&db, "segments", "3.2.5").is_empty());
    assert_eq!(affected_ids(&db, "gitfirst", "0.9"), ["T-4"]);
    assert_eq!(affected_ids(&db, "pre", "2.0.0b1"), ["T-5"]);
    assert_eq!(affected_ids(&db, "pre", "2.0.0.dev1"), ["T-5"]);
    assert!(affected_ids(&db, "pre", "2.0.0rc1").is_empty());
    assert!(affected_ids(&db, "pre", "2.0.0rc2").is_empty());
    let (m, unknown) = match_components(&[component("PyPI", "junk", "1.0")], &db);
    assert!(m.is_empty());
    assert_eq!(unknown.len(), 1);
    assert!(unknown[0].why.contains("soon"), "{}", unknown[0].why);
    assert!(affected_ids(&db, "empty", "1.0").is_empty());
    assert_eq!(affected_ids(&db, "listed", "0.10.0"), ["T-9"]);
    assert_eq!(affected_ids(&db, "listed", "0.10.0+cu124"), ["T-9"]);
    assert_eq!(
        affected_ids(&db, "listed", "0.10"),
        ["T-9"],
        "0.10 == 0.10.0"
    );
    assert!(affected_ids(&db, "listed", "0.10.1").is_empty());
    // The index: a package without records costs one lookup and finds nothing.
    assert!(affected_ids(&db, "unrelated", "1.0").is_empty());
}

#[test]
fn ghsa_and_pysec_twins_merge_and_the_highest_fix_wins() {
    let ghsa = record(serde_json::json!({
        "id": "GHSA-aaaa-bbbb-cccc", "modified": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-2099-1"],
        "database_specific": {"severity": "HIGH"},
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Twin_Pkg"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.5"}]}]}]}));
    let pysec = record(serde_json::json!({
        "id": "PYSEC-2099-1", "modified": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-2099-1", "GHSA-aaaa-bbbb-cccc"],
        "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:X/R:X/V:X/RE:X/U:X"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "twin-pkg"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.4"}]}]}]}));
    let db = AdvisoryDb::from_records("test", [ghsa, pysec]).expect("db");
    let (m, _) = match_components(&[component("PyPI", "twin.pkg", "1.3")], &db);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(
        m[0].ids,
        ["CVE-2099-1", "GHSA-aaaa-bbbb-cccc", "PYSEC-2099-1"]
    );
    assert_eq!(m[0].fixed, ["1.4", "1.5"]);
    assert_eq!(remediation(&m[0]), "pip install 'twin.pkg>=1.5'");
    // CVSS 4.0 vector with every optional metric "X" is scored.
    let cvss = m[0].cvss.as_ref().expect("cvss");
    assert!(cvss.score >= 9.0, "{cvss:?}");
    assert_eq!(m[0].severity, Severity::Critical);
    // Between the two fixes only the GHSA record still applies.
    let (m, _) = match_components(&[component("PyPI", "twin-pkg", "1.4")], &db);
    assert_eq!(m[0].records, ["GHSA-aaaa-bbbb-cccc"]);
    assert_eq!(
        m[0].severity,
        Severity::High,
        "database rating without a vector"
    );
}

#[test]
fn embedded_cvss_scores_agree_with_the_research_computation() {
    // The research notes computed v3 base scores; the cvss crate must agree.
    for (id, eco, pkg, version, score) in [
        ("PYSEC-2025-222", "PyPI", "vllm", "0.6.0", 9.8),
        ("CVE-2024-42479", "llama.cpp", "llama.cpp", "b1500", 10.0),
    ] {
        let (m, _) = match_components(&[component(eco, pkg, version)], db());
        let hit = m
            .iter()
            .find(|m| m.records.iter().any(|r| r == id))
            .unwrap_or_else(|| panic!("{id}"));
        assert_eq!(hit.cvss.as_ref().map(|c| c.score), Some(score), "{id}");
    }
}

#[test]
fn debian_packages_match_by_source_package_in_dpkg_order() {
    let dsa = record(serde_json::json!({
        "id": "DEBIAN-CVE-2099-2", "modified": "2026-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u15"}]}]}]}));
    let db = AdvisoryDb::from_records("test", [dsa]).expect("db");
    let mut libc = component("Debian", "libc6", "2.36-9+deb12u14");
    libc.source_package = Some("glibc".into());
    let (m, _) = match_components(std::slice::from_ref(&libc), &db);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(
        remediation(&m[0]),
        "apt-get install --only-upgrade libc6 (to 2.36-9+deb12u15 or later)"
    );
    libc.version = "2.36-9+deb12u15".into();
    assert!(
        match_components(std::slice::from_ref(&libc), &db)
            .0
            .is_empty()
    );
    libc.version = "2.36-9+deb12u15~bpo1".into();
    assert_eq!(match_components(&[libc], &db).0.len(), 1, "~ sorts before");
}

#[test]
fn every_component_gets_a_coverage_state_and_none_known_only_where_covered() {
    let host = Subject {
        product: "host".into(),
        pid: 0,
        listener: None,
        path: None,
    };
    let components = [
        // GO-2025-4251 applies (open-ended).
        component("Go", "github.com/ollama/ollama", "0.13.5"),
        // PyPI is covered; no record names this package.
        component("PyPI", "aiposture-test-package-with-no-records", "1.0"),
        // The llama-server built from a vendored copy: build 1 cannot be ordered.
        component("llama.cpp", "llama.cpp", "b1"),
        // The embedded data has no Debian records: nothing was checked.
        component("Debian", "openssl", "3.0.17-1~deb12u2"),
    ];
    let (status, _) = analyse(&[(host, &components[..])], db(), "2026-12-08T00:00:00Z");
    let state = |name: &str| {
        status
            .coverage
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.coverage.clone())
            .unwrap_or_else(|| panic!("{name}: no coverage in {:#?}", status.coverage))
    };
    assert!(
        matches!(state("github.com/ollama/ollama"), Coverage::Vulnerable { count } if count >= 1)
    );
    assert_eq!(
        state("aiposture-test-package-with-no-records"),
        Coverage::NoKnownAdvisories
    );
    assert!(
        matches!(state("llama.cpp"), Coverage::NotComparable { why } if why.contains("not checked"))
    );
    let debian = state("openssl");
    assert!(
        matches!(&debian, Coverage::NotCovered { why } if why.contains("no Debian records")),
        "{debian:?} — ecosystems in the data: {:?}",
        db().data.ecosystems
    );
    assert_eq!(debian.label(), "not covered");
    assert!(db().data.ecosystems.get("PyPI").is_some_and(|n| *n > 0));
}
