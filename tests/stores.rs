//! Model stores laid out as Ollama and the Hugging Face hub cache lay them out,
//! holding a real GGUF (written by the gguf package), with one blob corrupted.

mod support;

use aiposture::collect::models::stores::{huggingface, is_model, ollama, sha256_file, verify};
use aiposture::model::{ModelFormat, StoreKind};
use support::write;

#[test]
fn ollama_store_resolves_manifests_and_checks_blobs() {
    let gguf = std::fs::read(support::tiny_gguf()).expect("gguf");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("models");
    let good = sha256_file(&support::tiny_gguf()).expect("hash");
    // A second model whose blob was altered after download: its name no longer matches.
    let mut altered = gguf.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0xff;
    let bad = "0".repeat(64);
    write(&root.join(format!("blobs/sha256-{good}")), &gguf);
    write(&root.join(format!("blobs/sha256-{bad}")), &altered);
    for (model, digest) in [("tiny", &good), ("swapped", &bad)] {
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{{"digest":"sha256:{}","size":2}},"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{digest}","size":{}}},{{"mediaType":"application/vnd.ollama.image.template","digest":"sha256:{}","size":3}}]}}"#,
            "1".repeat(64),
            gguf.len(),
            "2".repeat(64)
        );
        write(
            &root.join(format!(
                "manifests/registry.ollama.ai/library/{model}/latest"
            )),
            manifest.as_bytes(),
        );
    }
    write(
        &root.join("manifests/registry.ollama.ai/library/broken/latest"),
        b"{not json",
    );
    // The template layer Ollama renders prompts with, paired with the model.
    let template = root.join(format!("blobs/sha256-{}", "2".repeat(64)));
    write(&template, b"{{ .System }} {{ .Prompt }}");

    let files = ollama(&root);
    let by = |r: &str| {
        files
            .iter()
            .find(|f| f.reference == r)
            .cloned()
            .unwrap_or_else(|| panic!("{r} missing: {files:#?}"))
    };
    let tiny = by("registry.ollama.ai/library/tiny:latest");
    assert_eq!(tiny.store, StoreKind::Ollama);
    assert!(matches!(tiny.format, Some(ModelFormat::Gguf { .. })));
    assert!(is_model(&tiny));
    assert_eq!(verify(&tiny), Some(Ok(true)));
    assert_eq!(
        tiny.template_layer.as_deref(),
        Some(&*template.to_string_lossy())
    );
    let swapped = by("registry.ollama.ai/library/swapped:latest");
    assert_eq!(
        verify(&swapped),
        Some(Ok(false)),
        "a blob that no longer matches its name"
    );
    assert!(
        by("registry.ollama.ai/library/broken:latest")
            .problem
            .is_some()
    );
    // Only model layers: the template layer is not listed.
    assert_eq!(
        files
            .iter()
            .filter(|f| f.reference.contains("tiny"))
            .count(),
        1
    );
}

#[test]
fn huggingface_cache_snapshots_point_at_checked_blobs() {
    let gguf = std::fs::read(support::tiny_gguf()).expect("gguf");
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = dir.path().join("hub");
    let repo = hub.join("models--aiposture--tiny-llama");
    let digest = sha256_file(&support::tiny_gguf()).expect("hash");
    write(&repo.join(format!("blobs/{digest}")), &gguf);
    write(
        &repo.join("blobs/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"),
        br#"{"architectures":["LlamaForCausalLM"]}"#,
    );
    let rev = "3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8091a2";
    let snap = repo.join(format!("snapshots/{rev}"));
    std::fs::create_dir_all(&snap).expect("mkdir");
    std::os::unix::fs::symlink(format!("../../blobs/{digest}"), snap.join("model.gguf"))
        .expect("link");
    std::os::unix::fs::symlink(
        "../../blobs/0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
        snap.join("config.json"),
    )
    .expect("link");
    write(&repo.join("refs/main"), rev.as_bytes());

    let files = huggingface(&hub);
    let model = files
        .iter()
        .find(|f| f.reference == "aiposture/tiny-llama@3f2a9c1d0e5b/model.gguf")
        .unwrap_or_else(|| panic!("{files:#?}"));
    assert_eq!(model.store, StoreKind::HuggingFace);
    assert_eq!(model.expected_sha256.as_deref(), Some(digest.as_str()));
    assert_eq!(verify(model), Some(Ok(true)));
    let config = files
        .iter()
        .find(|f| f.reference.ends_with("config.json"))
        .expect("config listed");
    assert!(!is_model(config), "a JSON config is not a model");
    assert_eq!(
        verify(config),
        None,
        "git blobs carry a sha1 name: nothing to check"
    );

    // The blob swapped on disk: same path, other content.
    let mut altered = gguf;
    altered[100] ^= 0x01;
    std::fs::write(repo.join(format!("blobs/{digest}")), altered).expect("swap");
    let files = huggingface(&hub);
    let model = files
        .iter()
        .find(|f| f.reference.ends_with("model.gguf"))
        .expect("model");
    assert_eq!(verify(model), Some(Ok(false)));
}

/// The snapshot finds stores under the home of the user running it, checks the
/// blobs, and reports a swapped one as a finding with both digests.
#[test]
fn snapshot_lists_store_files_and_flags_a_swapped_blob() {
    let gguf = std::fs::read(support::tiny_gguf()).expect("gguf");
    let home = tempfile::tempdir().expect("tempdir");
    let root = home.path().join(".ollama/models");
    let good = sha256_file(&support::tiny_gguf()).expect("hash");
    let bad = "f".repeat(64);
    write(&root.join(format!("blobs/sha256-{good}")), &gguf);
    write(&root.join(format!("blobs/sha256-{bad}")), &gguf);
    for (model, digest) in [("kept", &good), ("swapped", &bad)] {
        let manifest = format!(
            r#"{{"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{digest}","size":1}}]}}"#
        );
        write(
            &root.join(format!(
                "manifests/registry.ollama.ai/library/{model}/latest"
            )),
            manifest.as_bytes(),
        );
    }
    let out = support::run_ok(
        std::process::Command::new(support::bin())
            .env("HOME", home.path())
            .args(["--passive", "snapshot"]),
    );
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let files = snap["inventory"]["store_files"]
        .as_array()
        .expect("store_files")
        .clone();
    let state = |r: &str| {
        files
            .iter()
            .find(|f| f["reference"] == r)
            .map(|f| f["integrity"]["state"].clone())
            .unwrap_or_else(|| panic!("{r} not listed: {files:#?}"))
    };
    assert_eq!(state("registry.ollama.ai/library/kept:latest"), "verified");
    assert_eq!(
        state("registry.ollama.ai/library/swapped:latest"),
        "mismatch"
    );
    let f = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "models.digest-mismatch")
        .cloned()
        .unwrap_or_else(|| panic!("no digest finding"));
    assert!(
        f["evidence"].to_string().contains(&good),
        "actual digest not cited: {f:#}"
    );
    assert!(
        f["evidence"].to_string().contains(&bad),
        "expected digest not cited: {f:#}"
    );
    assert!(snap["scores"]["host"].as_u64().is_some_and(|s| s < 100));
}

/// Hashes persist across runs in the state directory; a blob rewritten in place
/// with its old size and mtime still misses the cache (ctime is in the key).
#[test]
fn hash_cache_persists_and_is_not_fooled_by_a_restored_mtime() {
    let gguf = std::fs::read(support::tiny_gguf()).expect("gguf");
    let home = tempfile::tempdir().expect("tempdir");
    let state = home.path().join("state");
    let root = home.path().join(".ollama/models");
    let good = sha256_file(&support::tiny_gguf()).expect("hash");
    let blob = root.join(format!("blobs/sha256-{good}"));
    write(&blob, &gguf);
    let manifest = format!(
        r#"{{"layers":[{{"mediaType":"application/vnd.ollama.image.model","digest":"sha256:{good}"}}]}}"#
    );
    write(
        &root.join("manifests/registry.ollama.ai/library/m/latest"),
        manifest.as_bytes(),
    );
    let run = || -> serde_json::Value {
        let out = support::run_ok(
            std::process::Command::new(support::bin())
                .env("HOME", home.path())
                .env("XDG_STATE_HOME", &state)
                .args(["--passive", "snapshot"]),
        );
        serde_json::from_slice(&out.stdout).expect("json")
    };
    let state_of = |snap: &serde_json::Value| {
        snap["inventory"]["store_files"]
            .as_array()
            .and_then(|v| {
                v.iter()
                    .find(|f| f["reference"] == "registry.ollama.ai/library/m:latest")
            })
            .map(|f| f["integrity"]["state"].clone())
            .unwrap_or_default()
    };
    assert_eq!(state_of(&run()), "verified");
    let cache =
        std::fs::read_to_string(state.join("aiposture/hashes.json")).expect("cache written");
    assert!(cache.contains(&good), "{cache}");

    // Same size, old mtime put back: only ctime tells.
    let mtime = std::fs::metadata(&blob)
        .expect("meta")
        .modified()
        .expect("mtime");
    let mut altered = gguf;
    altered[200] ^= 0x01;
    std::fs::write(&blob, &altered).expect("rewrite");
    std::fs::File::options()
        .write(true)
        .open(&blob)
        .and_then(|f| f.set_modified(mtime))
        .expect("restore mtime");
    let second = run();
    assert_eq!(
        state_of(&second),
        "mismatch",
        "the cache hid a rewritten blob"
    );
    // The path history saw the old hash: the rewrite is also drift.
    let blob_path = blob.to_string_lossy();
    assert!(
        second["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| {
                f["rule"] == "models.content-changed" && f["subject"]["path"] == *blob_path
            }),
        "{:#}",
        second["findings"]
    );
}
