//! The LiteLLM proxy for real (PyPI `litellm[proxy]` 1.108.5 with prisma, the
//! release the recorded fixtures are of), on a LAN of two (a veth pair) with no
//! route beyond it (its model cost map is read from the package:
//! `LITELLM_LOCAL_MODEL_COST_MAP=True`). Three ways it runs: no master key (it
//! refuses to start unless told it may, and then lists its models to anyone), a
//! master key in its environment, and a master key in its config file. Each is
//! judged as a LAN client measures it, and no key reaches any output.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::*;

fn litellm_bin() -> PathBuf {
    let venv = std::env::var_os("AIPOSTURE_LITELLM_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/aiposture-test/venv-litellm")
        });
    let bin = venv.join("bin/litellm");
    assert!(
        bin.exists(),
        "{} missing: run scripts/test-deps.sh",
        bin.display()
    );
    bin
}

fn config(dir: &Path, master_key: Option<&str>) -> PathBuf {
    let mut text = String::from(
        "model_list:\n  - model_name: tiny\n    litellm_params:\n      model: openai/tiny\n      api_base: http://127.0.0.1:9/v1\n      api_key: none\n",
    );
    if let Some(k) = master_key {
        text.push_str(&format!("general_settings:\n  master_key: {k}\n"));
    }
    let p = dir.join("config.yaml");
    write(&p, text);
    p
}

fn start(pair: &VethPair, dir: &Path, port: u16, envs: &[(&str, &str)]) -> Proc {
    let mut all = vec![("LITELLM_LOCAL_MODEL_COST_MAP", "True")];
    all.extend_from_slice(envs);
    start_script(
        &pair.server,
        &litellm_bin(),
        dir,
        &[
            "--config",
            "config.yaml",
            "--host",
            "0.0.0.0",
            "--port",
            &port.to_string(),
        ],
        &all,
    )
}

fn models_status(pair: &VethPair, port: u16) -> String {
    http_status(
        &pair.client,
        &format!("http://{}:{port}/v1/models", pair.server_addr),
        None,
    )
}

fn wait_answer(pair: &VethPair, port: u16, p: &Proc) -> String {
    let mut status = String::new();
    wait_until("the LiteLLM proxy", Duration::from_secs(240), || {
        status = models_status(pair, port);
        assert!(
            p.log_text().len() < 4 << 20,
            "runaway log: {}",
            p.log_text()
        );
        status != "000"
    });
    status
}

fn unauth(snap: &Value, pid: u32, port: u16) -> Vec<&Value> {
    findings_about(snap, "exposure.unauthenticated-listener", pid)
        .into_iter()
        .filter(|f| f["subject"]["listener"] == format!("0.0.0.0:{port}/tcp"))
        .collect()
}

#[test]
fn litellm_without_a_key_is_open_and_with_one_demands_it() {
    let pair = VethPair::new();
    let open_dir = tempfile::tempdir().expect("tempdir");
    let env_dir = tempfile::tempdir().expect("tempdir");
    let file_dir = tempfile::tempdir().expect("tempdir");
    let (open_port, env_port, file_port) = (7981, 7982, 7983);
    let env_key = canary("sk-envkey");
    let file_key = canary("sk-filekey");
    config(open_dir.path(), None);
    config(env_dir.path(), None);
    config(file_dir.path(), Some(&file_key));

    let open = start(
        &pair,
        open_dir.path(),
        open_port,
        &[(
            "LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY",
            "true",
        )],
    );
    let by_env = start(
        &pair,
        env_dir.path(),
        env_port,
        &[("LITELLM_MASTER_KEY", &env_key)],
    );
    let by_file = start(&pair, file_dir.path(), file_port, &[]);
    // Measured from the LAN.
    assert_eq!(
        wait_answer(&pair, open_port, &open),
        "200",
        "{}",
        open.log_text()
    );
    assert_eq!(
        wait_answer(&pair, env_port, &by_env),
        "401",
        "{}",
        by_env.log_text()
    );
    assert_eq!(
        wait_answer(&pair, file_port, &by_file),
        "401",
        "{}",
        by_file.log_text()
    );

    let snap = snapshot(&[]);
    let server = |p: &Proc| {
        let s = servers_with_pid(&snap, p.pid());
        assert_eq!(s.len(), 1, "{:#}", snap["inventory"]["servers"]);
        assert_eq!(s[0]["product_id"], "litellm", "{:#}", s[0]);
        s[0].clone()
    };
    let (s_open, s_env, s_file) = (server(&open), server(&by_env), server(&by_file));
    for (s, port) in [
        (&s_open, open_port),
        (&s_env, env_port),
        (&s_file, file_port),
    ] {
        let idx = socket_on(&snap, s, port);
        assert_eq!(exposure_of(&snap, &idx)["reach"], "lan", "{port}");
    }
    // No key: the fingerprint confirms the product and says it answers; a high finding.
    let v = verdicts_on(&snap, &socket_on(&snap, &s_open, open_port));
    assert_eq!(v.len(), 1, "{:#}", snap["probe_verdicts"]);
    assert_eq!(v[0]["auth"], "answers_without_credentials", "{:#}", v[0]);
    let f = unauth(&snap, open.pid(), open_port);
    assert_eq!(f.len(), 1, "{:#}", snap["findings"]);
    assert_eq!(f[0]["severity"], "high");
    assert_eq!(
        s_open["auth"]["state"], "not_configured",
        "{:#}",
        s_open["auth"]
    );
    // A key by environment (its name) or in the config file --config names
    // (read for the key's presence): configured, and the probe agrees.
    assert_eq!(s_env["auth"]["state"], "configured", "{:#}", s_env["auth"]);
    assert_eq!(
        s_file["auth"]["state"], "configured",
        "{:#}",
        s_file["auth"]
    );
    assert!(
        s_file["auth"]["evidence"]
            .as_array()
            .expect("evidence")
            .iter()
            .any(|e| e["source"]["key"] == "general_settings.master_key"
                && e["detail"] == "set (value not kept)"),
        "{:#}",
        s_file["auth"]
    );
    for (s, p, port) in [(&s_env, &by_env, env_port), (&s_file, &by_file, file_port)] {
        let v = verdicts_on(&snap, &socket_on(&snap, s, port));
        assert_eq!(v[0]["auth"], "demands_auth", "{:#}", v[0]);
        assert!(
            unauth(&snap, p.pid(), port).is_empty(),
            "{:#}",
            snap["findings"]
        );
    }
    let text = snap.to_string();
    assert!(
        !text.contains(&env_key) && !text.contains(&file_key),
        "a master key leaked"
    );
}
