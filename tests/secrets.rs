//! Canary: secrets given to a server through its environment and its command line
//! never appear in the JSON, the log file or the dashboard — their names do.

mod support;

use std::process::Command;
use std::time::Duration;

use support::*;

#[test]
fn canaries_never_leave_names_do() {
    let env_secret = canary("sk-envcanary");
    let argv_secret = canary("argvcanary");
    let url_secret = canary("urlcanary");
    let token_secret = canary("hftokencanary");
    // An allowlisted variable (its value is read) carrying URL credentials.
    let env_url_secret = canary("envurlcanary");
    // A cloud back-end's base URL: only its host may be shown.
    let base_user = canary("baseusercanary");
    let base_secret = canary("basepwcanary");
    let base_query = canary("basequerycanary");
    let base_url =
        format!("https://{base_user}:{base_secret}@api.openai.com/v1?api_key={base_query}");
    let ollama_host = format!("http://alice:{env_url_secret}@127.0.0.1:11434");
    let port = free_port();
    let p = start_llama(
        Command::new(llama_server_bin()),
        &[
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--api-key",
            &argv_secret,
            // Not a llama.cpp flag it needs, but a URL with userinfo in argv must
            // lose its credentials too.
            "--alias",
            &format!("http://bob:{url_secret}@10.0.0.1/x"),
        ],
        &[
            ("OPENAI_API_KEY", &env_secret),
            ("HF_TOKEN", &token_secret),
            ("OLLAMA_HOST", &ollama_host),
            ("OPENAI_BASE_URL", &base_url),
        ],
    );
    let secrets = [
        &env_secret,
        &argv_secret,
        &url_secret,
        &token_secret,
        &env_url_secret,
        &base_user,
        &base_secret,
        &base_query,
    ];

    let json_path = temp_path("secrets.json");
    let log_path = temp_path("secrets.log");
    run_ok(
        Command::new(bin())
            .arg("--log-file")
            .arg(&log_path)
            .args(["--config", "/dev/null", "snapshot", "-o"])
            .arg(&json_path),
    );
    let json = read(&json_path);
    let log = read(&log_path);
    assert!(
        json.contains(&format!("\"pid\": {}", p.pid())),
        "server missing from JSON"
    );
    assert!(!log.is_empty(), "log file is empty");
    for s in secrets {
        assert!(!json.contains(s.as_str()), "secret {s} in JSON");
        assert!(!log.contains(s.as_str()), "secret {s} in log");
    }
    // The key on the command line is itself a finding, naming the flag only.
    let snap: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert!(
        snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule"] == "config.secret-on-command-line"
                && f["subject"]["pid"] == p.pid()
                && f["evidence"].to_string().contains("--api-key")),
        "no finding for the key on the command line"
    );
    // The allowlisted value is kept, without its credentials.
    assert!(
        json.contains("127.0.0.1:11434"),
        "OLLAMA_HOST value missing"
    );
    // Privacy names the key and the back-end's host, nothing more.
    let row = snap["privacy"]["processes"]
        .as_array()
        .expect("privacy rows")
        .iter()
        .find(|r| r["pid"] == p.pid())
        .expect("privacy row of the server");
    let backends = row["backends"].as_array().expect("backends");
    assert!(
        backends
            .iter()
            .any(|b| b["setting"] == "OPENAI_API_KEY" && b["kind"] == "api_key"),
        "{backends:#?}"
    );
    assert!(
        backends
            .iter()
            .any(|b| b["setting"] == "OPENAI_BASE_URL" && b["host"] == "api.openai.com"),
        "{backends:#?}"
    );
    for name in ["OPENAI_API_KEY", "HF_TOKEN", "--api-key"] {
        assert!(json.contains(name), "{name} not named in JSON");
        assert!(log.contains(name), "{name} not named in log");
    }

    // The dashboard: filter to this server, open its detail, read the screen.
    let tui_log = temp_path("secrets-tui.log");
    let t = Tmux::start(
        160,
        50,
        &format!(
            "{} --config /dev/null --log-file {} --interval 500ms",
            bin(),
            tui_log.display()
        ),
    );
    t.wait_for("AI servers", Duration::from_secs(20));
    t.keys(&["/"]);
    t.keys(&[&p.pid().to_string()]);
    t.keys(&["Enter"]);
    t.wait_for("OPENAI_API_KEY", Duration::from_secs(10));
    let pane = t.capture();
    t.keys(&["Enter"]);
    let full = t.wait_for("cmdline", Duration::from_secs(10));
    // The Privacy pane's detail of the same process: back-ends by name and host.
    t.keys(&["Escape"]);
    for _ in 0..5 {
        t.keys(&["Tab"]);
    }
    t.keys(&["/"]);
    t.keys(&[&p.pid().to_string()]);
    t.keys(&["Enter"]);
    t.keys(&["Enter"]);
    let privacy = t.wait_for("api.openai.com", Duration::from_secs(10));
    t.keys(&["q"]);
    wait_until("dashboard to exit", Duration::from_secs(10), || {
        t.pane_dead()
    });
    let tlog = read(&tui_log);
    assert!(privacy.contains("OPENAI_API_KEY"), "{privacy}");
    for screen in [&pane, &full, &privacy, &tlog] {
        for s in secrets {
            assert!(!screen.contains(s.as_str()), "secret {s} shown:\n{screen}");
        }
    }
    assert!(
        full.contains("<redacted>"),
        "redaction not visible:\n{full}"
    );
    assert!(full.contains("--api-key"), "flag name not shown:\n{full}");
    for f in [json_path, log_path, tui_log] {
        let _ = std::fs::remove_file(f);
    }
}

/// Parser-aware: an SGLang server parses its command line with argparse, which
/// takes any unambiguous prefix of a long option, so `--api-k KEY` is its
/// `--api-key`. A Python process with SGLang's server command line (the real
/// interpreter, holding the arguments as its own argv) keeps its key out of every
/// output, and the abbreviated flag is named as a secret on the command line.
#[test]
fn an_abbreviated_secret_flag_of_an_argparse_product_is_redacted() {
    let secret = canary("abbrevcanary");
    let mut child = Command::new(python())
        .args([
            "-c",
            "import time; time.sleep(60)",
            "-m",
            "sglang.launch_server",
            "--model-path",
            "/srv/none",
            "--api-k",
            &secret,
        ])
        .spawn()
        .expect("python");
    let pid = child.id();
    std::thread::sleep(Duration::from_millis(300));
    let snap = snapshot(&[]);
    let _ = child.kill();
    let _ = child.wait();
    let s = servers_with_pid(&snap, pid);
    assert_eq!(s.len(), 1, "{:#}", snap["inventory"]["servers"]);
    assert_eq!(s[0]["product_id"], "sglang");
    assert_eq!(
        s[0]["secret_flags"],
        serde_json::json!(["--api-k"]),
        "{:#}",
        s[0]
    );
    assert!(
        !snap.to_string().contains(&secret),
        "the abbreviated key leaked"
    );
}
