//! Advisory matching at the scale of issue 5: a large venv (300 distributions)
//! against 10,000 advisories. `match_300_indexed` is what a collection does;
//! `match_300_linear_scan` is the same evaluation over every record, to show
//! what the (ecosystem, name) index saves. Figures: BENCHMARKS.md.

use aiposture::knowledge::advisories::{AdvisoryDb, OsvRecord, PackageKey, normalise_name};
use aiposture::model::advisory::component;
use aiposture::model::components::{Component, Ecosystem};
use aiposture::rules::advisories::{Verdict, evaluate, match_components};

fn main() {
    divan::main();
}

const ADVISORIES: usize = 10_000;
/// Packages that have advisories (about 5 records each, like a real PyPI export).
const PACKAGES: usize = 2_000;
const COMPONENTS: usize = 300;

fn records() -> Vec<OsvRecord> {
    (0..ADVISORIES)
        .map(|i| {
            let pkg = i % PACKAGES;
            let minor = i % 20;
            serde_json::from_value(serde_json::json!({
                "id": format!("GHSA-bench-{i:05}"),
                "modified": "2026-11-01T00:00:00Z",
                "aliases": [format!("CVE-2026-{i:05}")],
                "summary": "generated",
                "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                "affected": [{
                    "package": {"ecosystem": "PyPI", "name": format!("Package_{pkg}")},
                    "ranges": [
                        {"type": "GIT", "repo": "https://example.invalid/r", "events": [{"introduced": "0"}, {"fixed": "abc"}]},
                        {"type": "ECOSYSTEM", "events": [{"introduced": format!("1.{minor}.0")}, {"fixed": format!("1.{}.3", minor + 1)}]}
                    ],
                    "versions": [format!("1.{minor}.0"), format!("1.{minor}.1")]
                }]
            }))
            .expect("record")
        })
        .collect()
}

/// Installed: every 7th package has advisories, the rest do not (as in a venv
/// where most dependencies are clean).
fn components() -> Vec<Component> {
    (0..COMPONENTS)
        .map(|i| {
            let name = if i % 7 == 0 {
                format!("package-{}", i * 5 % PACKAGES)
            } else {
                format!("clean-dependency-{i}")
            };
            component(Ecosystem::PyPI, &name, "1.5.2+cu124", "/venv/METADATA")
        })
        .collect()
}

#[divan::bench(sample_count = 20)]
fn load_embedded_set() -> AdvisoryDb {
    AdvisoryDb::embedded().expect("embedded")
}

#[divan::bench(sample_count = 10)]
fn load_10k_records(b: divan::Bencher) {
    b.with_inputs(records)
        .bench_values(|r| AdvisoryDb::from_records("bench", r).expect("db"));
}

#[divan::bench]
fn match_300_indexed(b: divan::Bencher) {
    let db = AdvisoryDb::from_records("bench", records()).expect("db");
    let comps = components();
    assert!(!match_components(&comps, &db).0.is_empty());
    b.bench(|| match_components(divan::black_box(&comps), &db));
}

#[divan::bench(sample_count = 10)]
fn match_300_linear_scan(b: divan::Bencher) {
    let recs = records();
    // Names normalised once, as an index would; only the lookup differs.
    let named: Vec<(String, &aiposture::knowledge::advisories::OsvAffected)> = recs
        .iter()
        .flat_map(|r| &r.affected)
        .filter_map(|a| Some((normalise_name("PyPI", &a.package.as_ref()?.name), a)))
        .collect();
    let comps = components();
    b.bench(|| {
        let mut affected = 0usize;
        for c in &comps {
            let key = PackageKey {
                ecosystem: "PyPI".into(),
                name: normalise_name("PyPI", &c.name),
            };
            for (name, a) in &named {
                if *name == key.name
                    && matches!(evaluate(&c.version, &key, a), Verdict::Affected(_))
                {
                    affected += 1;
                }
            }
        }
        affected
    });
}
