//! Fresh advisory data without network: an osv.dev-style `all.zip` written here,
//! a directory of OSV JSON, and the age of the data, through the real binary.
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use aiposture::knowledge::advisories::AdvisoryDb;
use aiposture::model::advisory::component;
use aiposture::model::components::{Component, Ecosystem};
use aiposture::rules::advisories::match_components;
use serde_json::{Value, json};
use support::*;

const NEW_ID: &str = "GHSA-test-aipo-0001";

fn rfc3339_days_ago(days: u64) -> String {
    let t = SystemTime::now() - Duration::from_secs(days * 86_400);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// An `all.zip` as osv.dev exports it: flat `<ID>.json` members.
fn write_zip(path: &Path, members: &[(&str, Vec<u8>)]) {
    let f = std::fs::File::create(path).expect("create zip");
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in members {
        z.start_file(*name, opts).expect("member");
        z.write_all(bytes).expect("write member");
    }
    z.finish().expect("finish zip");
}

fn vllm_record(modified: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schema_version": "1.7.0",
        "id": NEW_ID,
        "modified": modified,
        "published": modified,
        "aliases": ["CVE-2099-0001"],
        "summary": "a vLLM advisory newer than the embedded set",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": "vllm", "purl": "pkg:pypi/vllm"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0.9.0"}, {"fixed": "0.9.3"}]}],
            "versions": ["0.9.0", "0.9.1", "0.9.2"],
            "database_specific": {"source": "written by tests/advisories.rs"}
        }],
        "database_specific": {"severity": "CRITICAL", "github_reviewed": true}
    }))
    .expect("json")
}

fn withdrawn_record() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "GHSA-test-aipo-0002",
        "modified": "2026-01-01T00:00:00Z",
        "withdrawn": "2026-01-02T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": "vllm"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]
    }))
    .expect("json")
}

fn snapshot_with(args: &[&str]) -> Value {
    let out = run_ok(Command::new(bin()).arg("snapshot").args(args));
    serde_json::from_slice(&out.stdout).expect("snapshot is JSON")
}

fn vllm(version: &str) -> Component {
    component(
        Ecosystem::PyPI,
        "vllm",
        version,
        "/venv/vllm.dist-info/METADATA",
    )
}

#[test]
fn all_zip_replaces_the_embedded_set_and_its_age_is_reported() {
    let zip_path = temp_path("PyPI-all.zip");
    let modified = rfc3339_days_ago(3);
    write_zip(
        &zip_path,
        &[
            (&format!("{NEW_ID}.json"), vllm_record(&modified)),
            ("GHSA-test-aipo-0002.json", withdrawn_record()),
            ("broken.json", b"{\"id\": 12".to_vec()),
            ("README.txt", b"not a record".to_vec()),
        ],
    );

    // The library: the export's record matches, the embedded set lacks it.
    let db = AdvisoryDb::from_path(&zip_path).expect("zip loads");
    let (m, _) = match_components(&[vllm("0.9.2")], &db);
    assert_eq!(m.len(), 1, "{m:#?}");
    assert_eq!(m[0].ids, ["CVE-2099-0001", NEW_ID]);
    assert_eq!(m[0].fixed, ["0.9.3"]);
    assert!(m[0].matched_by[0].starts_with(&format!("{}:{NEW_ID}.json", zip_path.display())));
    let embedded = AdvisoryDb::embedded().expect("embedded");
    let (m, _) = match_components(&[vllm("0.9.2")], &embedded);
    assert!(!m.iter().any(|m| m.ids.iter().any(|i| i == NEW_ID)));

    // The binary: the snapshot names the data, counts it, and dates it.
    let snap = snapshot_with(&["--advisories", zip_path.to_str().expect("utf-8")]);
    let data = &snap["patch"]["data"];
    assert_eq!(data["origin"], zip_path.display().to_string());
    assert_eq!(data["records"], 1);
    assert_eq!(data["withdrawn"], 1);
    assert_eq!(data["unreadable"], 1, "{data:#}");
    assert!(
        data["errors"][0]
            .as_str()
            .is_some_and(|e| e.contains("broken.json")),
        "{data:#}"
    );
    assert_eq!(data["newest_modified"], modified.as_str());
    assert_eq!(data["age_days"], 3);
    assert_eq!(data["max_age_days"], 90);
    // A PyPI-only export checks no host package: they are "not covered",
    // never "no known advisories".
    assert_eq!(data["ecosystems"]["PyPI"], 1, "{data:#}");
    let debian: Vec<&Value> = snap["patch"]["coverage"]
        .as_array()
        .expect("coverage")
        .iter()
        .filter(|c| c["ecosystem"] == "debian" || c["ecosystem"] == "Debian")
        .collect();
    if Path::new("/var/lib/dpkg/status").exists() {
        assert!(!debian.is_empty(), "{:#}", snap["patch"]["coverage"]);
    }
    for c in &debian {
        assert_eq!(c["state"], "not_covered", "{c:#}");
        assert!(
            c["why"]
                .as_str()
                .is_some_and(|w| w.contains("PyPI-all.zip")),
            "{c:#}"
        );
    }
    let findings = snap["findings"].as_array().expect("findings");
    assert!(
        !findings
            .iter()
            .any(|f| f["rule"] == "patch.advisory-data-stale"),
        "fresh data flagged"
    );
    let _ = std::fs::remove_file(zip_path);
}

#[test]
fn old_data_is_a_finding_unless_the_config_allows_its_age() {
    let zip_path = temp_path("old-all.zip");
    write_zip(
        &zip_path,
        &[(
            &format!("{NEW_ID}.json"),
            vllm_record(&rfc3339_days_ago(400)),
        )],
    );
    let arg = zip_path.to_str().expect("utf-8");
    let snap = snapshot_with(&["--advisories", arg]);
    let stale: Vec<&Value> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "patch.advisory-data-stale")
        .collect();
    assert_eq!(stale.len(), 1, "{:#}", snap["findings"]);
    assert_eq!(stale[0]["title"], "advisory data is 400 days old");
    assert_eq!(stale[0]["subject"]["path"], arg);

    let cfg = temp_path("advisories.toml");
    std::fs::write(&cfg, "[advisories]\nmax_age_days = 500\n").expect("config");
    let snap = snapshot_with(&[
        "--config",
        cfg.to_str().expect("utf-8"),
        "--advisories",
        arg,
    ]);
    assert_eq!(snap["patch"]["data"]["max_age_days"], 500);
    assert!(
        !snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule"] == "patch.advisory-data-stale")
    );
    let _ = std::fs::remove_file(zip_path);
    let _ = std::fs::remove_file(cfg);
}

#[test]
fn a_directory_of_osv_json_loads_like_the_embedded_set() {
    // The embedded set is itself a directory of OSV files in the export layout.
    let dir = format!("{}/assets/advisories", env!("CARGO_MANIFEST_DIR"));
    let snap = snapshot_with(&["--advisories", &dir]);
    let data = &snap["patch"]["data"];
    let embedded = AdvisoryDb::embedded().expect("embedded").data;
    assert_eq!(data["origin"], dir.as_str());
    assert_eq!(data["records"], embedded.records);
    assert_eq!(data["withdrawn"], embedded.withdrawn);
    assert_eq!(data["unreadable"], 0);
    // Without --advisories the embedded set is used and said to be.
    let snap = snapshot_with(&[]);
    assert_eq!(snap["patch"]["data"]["origin"], "embedded");
    assert_eq!(snap["patch"]["data"]["records"], embedded.records);
}

#[test]
fn unusable_advisory_data_is_an_error_naming_it() {
    let missing = temp_path("no-such-export.zip");
    let out = Command::new(bin())
        .args(["snapshot", "--advisories"])
        .arg(&missing)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-export.zip"), "{err}");

    let not_zip = temp_path("not-a.zip");
    std::fs::write(&not_zip, b"PK but not really").expect("write");
    let out = Command::new(bin())
        .args(["snapshot", "--advisories"])
        .arg(&not_zip)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a readable zip"), "{err}");
    let _ = std::fs::remove_file(not_zip);
}

/// A stand-in server whose process group is killed on drop.
struct Standin(std::process::Child);

impl Drop for Standin {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this test created.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

fn venv_with(dir: &Path, pkgs: &[&str]) {
    run_ok(Command::new("python3").arg("-m").arg("venv").arg(dir));
    run_ok(
        Command::new(dir.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
            ])
            .args(pkgs),
    );
}

/// The model holder copied to a real server's script path, run by the venv's python.
fn start_from(venv: &Path, script: &Path) -> Standin {
    use std::os::unix::process::CommandExt;
    std::fs::create_dir_all(script.parent().expect("parent")).expect("mkdir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/model_holder.py"),
        script,
    )
    .expect("copy holder");
    let ready = temp_path("advisories-ready");
    let child = Command::new(venv.join("bin/python"))
        .arg(script)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("READY_FILE", &ready)
        .stdin(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn stand-in");
    let s = Standin(child);
    wait_until("the stand-in to start", Duration::from_secs(20), || {
        ready.exists()
    });
    let _ = std::fs::remove_file(&ready);
    s
}

/// Record ids matched per component name of one server, from the snapshot.
fn matched_records(snap: &Value, pid: u32) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for m in snap["patch"]["matches"].as_array().expect("matches") {
        if m["pid"] != pid {
            continue;
        }
        let name = m["component"]["name"].as_str().expect("name").to_string();
        let e = out.entry(name).or_default();
        for r in m["records"].as_array().expect("records") {
            e.push(r.as_str().expect("id").to_string());
        }
        e.sort();
    }
    out
}

/// What the independent evaluator (OSV algorithm + PyPA `packaging`) says for
/// each PyPI component of the server.
fn oracle(snap: &Value, pid: u32) -> std::collections::BTreeMap<String, Vec<String>> {
    let server = servers_with_pid(snap, pid)
        .first()
        .map(|s| (*s).clone())
        .unwrap_or_else(|| panic!("pid {pid} not recognised"));
    let pairs: Vec<(String, String)> = server["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["ecosystem"] == "PyPI" && c["shadowed"] != true)
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["version"].as_str().expect("version").to_string(),
            )
        })
        .collect();
    assert!(pairs.len() >= 2, "{pairs:?}");
    let out = run_ok(
        Command::new(python())
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/advisories/osv_oracle.py"
            ))
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/advisories"))
            .arg(serde_json::to_string(&pairs).expect("json")),
    );
    let by_pair: std::collections::BTreeMap<String, Vec<String>> =
        serde_json::from_slice(&out.stdout).expect("oracle JSON");
    pairs
        .iter()
        .filter_map(|(n, v)| {
            let ids = by_pair.get(&format!("{n} {v}"))?.clone();
            (!ids.is_empty()).then(|| (n.clone(), ids))
        })
        .collect()
}

/// Real venvs with pip-installed packages at vulnerable and fixed versions, a real
/// process running from each, the whole pipeline (version readers → matcher), and
/// an independent evaluator that must agree record for record.
#[test]
fn running_python_servers_get_the_advisories_of_what_their_venv_holds() {
    let t = tempfile::tempdir().expect("tempdir");
    let old = t.path().join("venv-old");
    let new = t.path().join("venv-new");
    // keras 3.7.0: many advisories; text-generation: TGI server advisories filed
    // against the client package (every version matches); ollama: only withdrawn ones.
    venv_with(
        &old,
        &["keras==3.7.0", "text-generation==0.6.0", "ollama==0.3.3"],
    );
    // keras 3.14.0: past every keras fix in the set.
    venv_with(&new, &["keras==3.14.0", "ollama==0.3.3"]);
    let a = start_from(&old, &t.path().join("ComfyUI/main.py"));
    let b = start_from(&new, &t.path().join("text-generation-webui/server.py"));
    let snap = snapshot_with(&["--passive"]);

    let (pa, pb) = (a.0.id(), b.0.id());
    let got_a = matched_records(&snap, pa);
    assert_eq!(got_a, oracle(&snap, pa), "old venv: matcher vs oracle");
    let keras = &got_a["keras"];
    for id in [
        "PYSEC-2025-121",
        "PYSEC-2025-122",
        "PYSEC-2026-2546",
        "PYSEC-2026-73",
    ] {
        assert!(keras.iter().any(|k| k == id), "{id} not in {keras:?}");
    }
    assert!(
        !keras.iter().any(|k| k == "PYSEC-2026-368"),
        "introduced 3.11.0"
    );
    assert!(
        got_a["text-generation"]
            .iter()
            .any(|k| k == "PYSEC-2026-1966")
    );
    assert!(!got_a.contains_key("ollama"), "withdrawn records matched");

    let got_b = matched_records(&snap, pb);
    assert_eq!(got_b, oracle(&snap, pb), "new venv: matcher vs oracle");
    assert!(got_b.is_empty(), "{got_b:?}");

    // The findings name the server, the METADATA the version came from, and the fix.
    let f = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["rule"] == "patch.vulnerable-component"
                && f["subject"]["pid"] == pa
                && f["summary"]
                    .as_str()
                    .is_some_and(|s| s.contains("PYSEC-2025-122"))
        })
        .expect("keras finding");
    let path = f["subject"]["path"].as_str().expect("path");
    assert!(
        path.starts_with(old.to_str().expect("utf-8"))
            && path.ends_with("keras-3.7.0.dist-info/METADATA"),
        "{path}"
    );
    assert!(
        f["remediation"]
            .as_str()
            .is_some_and(|r| r.starts_with("pip install 'keras>=")),
        "{f:#}"
    );
}
