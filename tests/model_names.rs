//! A model file whose extension claims another format than its content, found
//! in a model directory the operator configured (no server holds it).

mod support;

use std::process::Command;

#[test]
fn a_pickle_named_safetensors_in_a_model_dir_is_a_finding() {
    let home = tempfile::tempdir().expect("tempdir");
    let models = home.path().join("models");
    std::fs::create_dir_all(&models).expect("mkdir");
    let liar = models.join("weights.safetensors");
    std::fs::copy("tests/fixtures/pickle/plain_p4.pkl", &liar).expect("copy");
    let honest = models.join("real.safetensors");
    std::fs::copy("tests/fixtures/models/tiny.safetensors", &honest).expect("copy");
    let cfg = home.path().join("config/aiposture/config.toml");
    std::fs::create_dir_all(cfg.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &cfg,
        format!("[models]\nroots = [\"{}\"]\n", models.display()),
    )
    .expect("cfg");
    let out = support::run_ok(
        Command::new(support::bin())
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_STATE_HOME", home.path().join("state"))
            .args(["--passive", "snapshot"]),
    );
    let snap: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let about = |p: &std::path::Path| -> Vec<serde_json::Value> {
        snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule"] == "models.extension-mismatch")
            .filter(|f| f["subject"]["path"] == p.to_string_lossy().as_ref())
            .cloned()
            .collect()
    };
    let found = about(&liar);
    assert_eq!(found.len(), 1, "{:#}", snap["findings"]);
    assert!(
        found[0]["title"]
            .as_str()
            .is_some_and(|t| t.contains("pickle (protocol 4)"))
    );
    assert!(about(&honest).is_empty());
}
