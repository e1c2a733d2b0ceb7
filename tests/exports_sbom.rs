//! CycloneDX and SARIF exports of a real snapshot, checked by real consumers:
//! cyclonedx-python-lib's strict 1.6 JSON validator and check-jsonschema with
//! the OASIS SARIF 2.1.0 schema kept in assets/schemas/.
//!
//! The host: a real llama-server serving a GGUF from a configured model root
//! (world-writable, a finding about a file), a second GGUF nobody loads, and a
//! Python process running from the test venv as ComfyUI, whose Jinja2 an OSV
//! record written here declares vulnerable.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use aiposture::model::Snapshot;
use aiposture::views::export::{cyclonedx, sarif};
use serde_json::{Value, json};
use support::*;

const ADVISORY: &str = "GHSA-test-sbom-0001";
const ALIAS: &str = "CVE-2099-0101";
const REASON: &str = "lab box, the server needs root for its GPU reset hook";

/// The venv's interpreter running `model_holder.py` as `ComfyUI/main.py`.
fn start_comfyui(dir: &Path) -> Group {
    let script = dir.join("ComfyUI/main.py");
    std::fs::create_dir_all(script.parent().expect("parent")).expect("mkdir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/model_holder.py"),
        &script,
    )
    .expect("copy holder");
    let ready = dir.join("ready");
    let child = Command::new(python())
        .arg(&script)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("READY_FILE", &ready)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn stand-in");
    let g = Group(child);
    wait_until("the stand-in to start", Duration::from_secs(20), || {
        ready.exists()
    });
    g
}

/// The version of `name` (PyPI) that the server with `pid` runs, per the snapshot.
fn pypi_version(snap: &Value, pid: u32, name: &str) -> String {
    let srv = servers_with_pid(snap, pid)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("pid {pid} not recognised"));
    srv["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["ecosystem"] == "PyPI" && c["key"] == name)
        .and_then(|c| c["version"].as_str())
        .unwrap_or_else(|| panic!("{name} not among the components of pid {pid}"))
        .to_string()
}

/// An OSV record (the osv.dev export format) saying every Jinja2 below 99 is affected.
fn write_advisories(dir: &Path) {
    let rec = json!({
        "schema_version": "1.7.0",
        "id": ADVISORY,
        "modified": "2026-11-01T00:00:00Z",
        "published": "2026-11-01T00:00:00Z",
        "aliases": [ALIAS],
        "summary": "a Jinja2 advisory written by tests/exports_sbom.rs",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": "jinja2", "purl": "pkg:pypi/jinja2"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0.0"}]}],
        }],
        "database_specific": {"severity": "CRITICAL"}
    });
    write(
        &dir.join(format!("PyPI/{ADVISORY}.json")),
        serde_json::to_vec_pretty(&rec).expect("json"),
    );
}

fn snapshot_to(cfg: &Path, osv: &Path, out: &Path) -> (Value, Snapshot) {
    run_ok(
        Command::new(bin())
            .args(["snapshot", "--passive", "--no-history"])
            .args([
                "--config".as_ref(),
                cfg.as_os_str(),
                "--advisories".as_ref(),
                osv.as_os_str(),
                "-o".as_ref(),
                out.as_os_str(),
            ]),
    );
    let bytes = std::fs::read(out).expect("snapshot file");
    (
        serde_json::from_slice(&bytes).expect("snapshot JSON"),
        serde_json::from_slice(&bytes).expect("snapshot JSON as the crate's type"),
    )
}

fn python_run(code: &str, args: &[&Path]) -> Output {
    Command::new(python())
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("run python")
}

const CDX_VALIDATE: &str = r#"
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(open(sys.argv[1]).read())
if err is not None:
    print(err, file=sys.stderr)
    sys.exit(1)
"#;

fn cyclonedx_valid(path: &Path) -> Result<(), String> {
    let out = python_run(CDX_VALIDATE, &[path]);
    out.status
        .success()
        .then_some(())
        .ok_or_else(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

fn sarif_schema() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/schemas/sarif-schema-2.1.0.json")
}

fn sarif_valid(path: &Path) -> Result<(), String> {
    let checker = python().with_file_name("check-jsonschema");
    let out = Command::new(&checker)
        .arg("--schemafile")
        .arg(sarif_schema())
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", checker.display()));
    out.status
        .success()
        .then_some(())
        .ok_or_else(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn components_by_ref(bom: &Value) -> std::collections::BTreeMap<String, Value> {
    let mut m = std::collections::BTreeMap::new();
    for c in bom["components"].as_array().expect("components") {
        let r = c["bom-ref"].as_str().expect("bom-ref").to_string();
        assert!(
            m.insert(r.clone(), c.clone()).is_none(),
            "bom-ref {r} twice"
        );
    }
    m
}

fn prop<'a>(c: &'a Value, name: &str) -> Option<&'a str> {
    c["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == format!("aiposture:{name}").as_str())?["value"]
        .as_str()
}

fn depends_on<'a>(bom: &'a Value, r: &str) -> Vec<&'a str> {
    bom["dependencies"]
        .as_array()
        .expect("dependencies")
        .iter()
        .find(|d| d["ref"] == r)
        .unwrap_or_else(|| panic!("no dependency entry for {r}"))["dependsOn"]
        .as_array()
        .expect("dependsOn")
        .iter()
        .map(|v| v.as_str().expect("ref"))
        .collect()
}

#[test]
fn cyclonedx_and_sarif_of_a_real_host_pass_their_validators() {
    let t = tempfile::tempdir().expect("tempdir");
    let models = t.path().join("models");
    // A space and a `#`: the SARIF URI must encode them.
    let served = models.join("tiny llama#1.gguf");
    let spare = models.join("spare.gguf");
    put(&served, &tiny_gguf());
    put(&spare, &tiny_gguf());
    std::fs::set_permissions(&served, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let osv = t.path().join("osv");
    write_advisories(&osv);
    let cfg = t.path().join("config.toml");
    write(
        &cfg,
        format!(
            "[models]\nroots = [\"{}\"]\n\n\
             [[suppress]]\nrule = \"pivot.runs-as-root\"\nproduct = \"llama_server\"\n\
             reason = \"{REASON}\"\nowner = \"alice\"\nexpires = \"2999-12-31\"\n",
            models.display()
        ),
    );

    let port = free_port().to_string();
    let llama = start_llama_with(
        Command::new(llama_server_bin()),
        &served,
        &["--host", "127.0.0.1", "--port", &port],
        &[],
    );
    let comfy = start_comfyui(t.path());
    let (json_snap, snap) = snapshot_to(&cfg, &osv, &t.path().join("snapshot.json"));
    let served_s = served.to_str().expect("utf-8");

    // --- CycloneDX ---------------------------------------------------------------
    let serial = cyclonedx::new_serial().expect("serial");
    let cdx_text = cyclonedx::to_json(&snap, &serial).expect("cyclonedx");
    let cdx_path = t.path().join("bom.cdx.json");
    write(&cdx_path, &cdx_text);
    if let Err(e) = cyclonedx_valid(&cdx_path) {
        panic!("CycloneDX 1.6 strict validation failed:\n{e}\n{cdx_text}");
    }
    // The validator does reject: the same BOM without its bomFormat.
    let mut broken: Value = serde_json::from_str(&cdx_text).expect("json");
    broken.as_object_mut().expect("object").remove("bomFormat");
    let broken_path = t.path().join("broken.cdx.json");
    write(&broken_path, broken.to_string());
    assert!(cyclonedx_valid(&broken_path).is_err());

    let bom: Value = serde_json::from_str(&cdx_text).expect("json");
    assert_eq!(bom["specVersion"], "1.6");
    assert_eq!(bom["serialNumber"], serial.as_str());
    let comps = components_by_ref(&bom);

    // Models: the served file and the spare one, each with the sha256 the snapshot has.
    let llama_srv = servers_with_pid(&json_snap, llama.pid())[0].clone();
    let loaded = llama_srv["models"]
        .as_array()
        .expect("models")
        .iter()
        .find(|m| m["path"] == served_s)
        .expect("served model in the snapshot");
    let sha = loaded["hash"]["sha256"].as_str().expect("hashed");
    let model_of = |path: &str| {
        comps
            .values()
            .find(|c| c["type"] == "machine-learning-model" && prop(c, "path") == Some(path))
            .unwrap_or_else(|| panic!("no model component for {path}"))
            .clone()
    };
    let served_c = model_of(served_s);
    let spare_c = model_of(spare.to_str().expect("utf-8"));
    assert_eq!(
        served_c["hashes"],
        json!([{"alg": "SHA-256", "content": sha}])
    );
    assert_eq!(
        spare_c["hashes"][0]["content"], sha,
        "same bytes, same digest"
    );
    assert_ne!(served_c["bom-ref"], spare_c["bom-ref"]);
    assert_eq!(prop(&served_c, "format"), Some("GGUF v3"));
    // The tiny GGUF claims its publisher in general.organization.
    assert_eq!(served_c["publisher"], "aiposture tests");

    // Libraries: Jinja2 as the stand-in's venv really has it, with its purl.
    let jinja = pypi_version(&json_snap, comfy.0.id(), "jinja2");
    let purl = format!("pkg:pypi/jinja2@{jinja}");
    // Selected by the pid the test started: other servers of the same product
    // (or another venv with the same Jinja2) may run on this host.
    let server_ref = |pid: u32| {
        comps
            .values()
            .find(|c| {
                c["type"] == "application" && prop(c, "pid") == Some(pid.to_string().as_str())
            })
            .and_then(|c| c["bom-ref"].as_str())
            .unwrap_or_else(|| panic!("no application component of pid {pid}"))
            .to_string()
    };
    let comfy_deps = depends_on(&bom, &server_ref(comfy.0.id()));
    let jinja_c = comps
        .values()
        .find(|c| {
            c["purl"] == purl.as_str()
                && c["bom-ref"]
                    .as_str()
                    .is_some_and(|r| comfy_deps.contains(&r))
        })
        .unwrap_or_else(|| panic!("the stand-in depends on no component with purl {purl}"));
    assert_eq!(jinja_c["type"], "library");
    let jinja_ref = jinja_c["bom-ref"].as_str().expect("ref");

    // Servers depend on what they run and what they load.
    let llama_deps = depends_on(&bom, &server_ref(llama.pid()));
    assert!(llama_deps.contains(&served_c["bom-ref"].as_str().expect("ref")));
    for d in bom["dependencies"].as_array().expect("deps") {
        for r in d["dependsOn"].as_array().expect("dependsOn") {
            assert!(comps.contains_key(r.as_str().expect("ref")), "dangling {r}");
        }
    }

    // The advisory: its id, its alias as a reference, and Jinja2 as what it affects.
    let vuln = bom["vulnerabilities"]
        .as_array()
        .expect("vulnerabilities")
        .iter()
        .find(|v| v["id"] == ALIAS || v["id"] == ADVISORY)
        .unwrap_or_else(|| panic!("no vulnerability {ADVISORY}: {}", bom["vulnerabilities"]));
    let affects: Vec<&str> = vuln["affects"]
        .as_array()
        .expect("affects")
        .iter()
        .map(|a| a["ref"].as_str().expect("ref"))
        .collect();
    assert!(affects.contains(&jinja_ref), "{affects:?}");
    assert_eq!(vuln["ratings"][0]["method"], "CVSSv31");
    assert_eq!(vuln["ratings"][0]["score"], 9.8);
    let refs = vuln["references"].to_string();
    assert!(refs.contains(ALIAS) || refs.contains(ADVISORY), "{refs}");
    assert!(
        vuln["recommendation"]
            .as_str()
            .is_some_and(|r| r.contains("99.0.0"))
    );

    // --- SARIF -------------------------------------------------------------------
    let sarif_text = sarif::to_sarif(&snap).expect("sarif");
    let sarif_path = t.path().join("findings.sarif");
    write(&sarif_path, &sarif_text);
    if let Err(e) = sarif_valid(&sarif_path) {
        panic!("SARIF 2.1.0 schema validation failed:\n{e}\n{sarif_text}");
    }
    let mut broken: Value = serde_json::from_str(&sarif_text).expect("json");
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    write(&broken_path, broken.to_string());
    assert!(
        sarif_valid(&broken_path).is_err(),
        "the schema check rejects"
    );

    let doc: Value = serde_json::from_str(&sarif_text).expect("json");
    let run = &doc["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("id"))
        .collect();
    let results = run["results"].as_array().expect("results");
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        let i = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules.get(i), Some(&id), "ruleIndex of {id}");
    }
    // The world-writable model file is a result located at that file.
    let uri = sarif::file_uri(served_s);
    assert!(uri.ends_with("/models/tiny%20llama%231.gguf"), "{uri}");
    let on_model = results
        .iter()
        .find(|r| {
            r["ruleId"] == "weights.writable-by-others"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == uri.as_str()
        })
        .unwrap_or_else(|| panic!("no weights.writable-by-others result at {uri}"));
    let sev = json_snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "weights.writable-by-others" && f["subject"]["path"] == served_s)
        .map(|f| f["severity"].clone())
        .expect("the finding in the snapshot");
    let level = match sev.as_str() {
        Some("critical" | "high") => "error",
        Some("medium") => "warning",
        _ => "note",
    };
    assert_eq!(on_model["level"], level);
    // The vulnerable package is a result too, at the METADATA it was read from.
    assert!(results.iter().any(|r| {
        r["ruleId"]
            .as_str()
            .is_some_and(|id| id.starts_with("patch."))
            && r["message"]["text"]
                .as_str()
                .is_some_and(|m| m.contains("Jinja2") || m.contains("jinja2"))
    }));
    // The suppressed finding is there, accepted, with the reason from the config.
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "{suppressed:?}");
    assert_eq!(suppressed[0]["ruleId"], "pivot.runs-as-root");
    assert_eq!(suppressed[0]["suppressions"][0]["justification"], REASON);

    // --- Restarted server, same fingerprints --------------------------------------
    let before: Vec<(String, String)> = fingerprints(&doc, |r| {
        r["ruleId"] == "weights.writable-by-others" || r.get("suppressions").is_some()
    });
    let old_pid = llama.pid();
    drop(llama);
    let llama = start_llama_with(
        Command::new(llama_server_bin()),
        &served,
        &["--host", "127.0.0.1", "--port", &port],
        &[],
    );
    assert_ne!(llama.pid(), old_pid);
    let (_, snap2) = snapshot_to(&cfg, &osv, &t.path().join("snapshot2.json"));
    let doc2: Value = serde_json::from_str(&sarif::to_sarif(&snap2).expect("sarif")).expect("json");
    let after = fingerprints(&doc2, |r| {
        r["ruleId"] == "weights.writable-by-others" || r.get("suppressions").is_some()
    });
    assert!(!before.is_empty());
    assert_eq!(before, after, "fingerprints changed with the pid");
    drop(comfy);
}

fn fingerprints(doc: &Value, keep: impl Fn(&Value) -> bool) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = doc["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| keep(r))
        .map(|r| {
            (
                r["ruleId"].as_str().expect("id").to_string(),
                r["partialFingerprints"]["aiposture/v1"]
                    .as_str()
                    .expect("fingerprint")
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}
