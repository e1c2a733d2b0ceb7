//! The command line: config handling, schema, exit codes, and the layering rule.
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

#[test]
fn committed_man_page_and_completions_are_generated_from_the_cli() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (args, file) in [
        (vec!["man"], "docs/man/aiposture.1"),
        (
            vec!["completions", "bash"],
            "docs/completions/aiposture.bash",
        ),
        (vec!["completions", "zsh"], "docs/completions/_aiposture"),
        (
            vec!["completions", "fish"],
            "docs/completions/aiposture.fish",
        ),
    ] {
        let out = run_ok(Command::new(bin()).args(&args));
        let committed = std::fs::read_to_string(format!("{root}/{file}")).expect(file);
        assert!(
            String::from_utf8_lossy(&out.stdout) == committed,
            "{file} is stale: run scripts/gen-docs.sh"
        );
    }
    // The man page documents every subcommand.
    let man = std::fs::read_to_string(format!("{root}/docs/man/aiposture.1")).expect("man");
    for sub in ["snapshot", "scan", "diff", "events", "watch", "baseline"] {
        assert!(man.contains(sub), "man page lacks {sub}");
    }
}

#[test]
fn print_keys_is_the_help_overlays_table() {
    let out = run_ok(Command::new(bin()).arg("--print-keys"));
    let text = String::from_utf8_lossy(&out.stdout);
    for b in aiposture::views::tui::keys::BINDINGS {
        assert!(
            text.lines()
                .any(|l| l.starts_with(b.label) && l.ends_with(b.help)),
            "{} missing:\n{text}",
            b.label
        );
    }
}

#[test]
fn committed_json_schema_is_generated_from_the_types() {
    let out = run_ok(Command::new(bin()).arg("schema"));
    let committed = std::fs::read_to_string(format!(
        "{}/docs/snapshot.schema.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("docs/snapshot.schema.json");
    assert!(
        String::from_utf8_lossy(&out.stdout) == committed,
        "docs/snapshot.schema.json is stale: run `aiposture schema > docs/snapshot.schema.json`"
    );
    let snap = snapshot(&[]);
    assert_eq!(snap["schema_version"], 2);
    let schema: serde_json::Value = serde_json::from_str(&committed).expect("schema is JSON");
    for key in schema["required"].as_array().expect("required") {
        assert!(
            snap.get(key.as_str().expect("key")).is_some(),
            "snapshot lacks {key}"
        );
    }
}

#[test]
fn config_unknown_key_is_rejected_with_file_and_line() {
    let cfg = temp_path("bad.toml");
    std::fs::write(&cfg, "theme = \"mono\"\n# comment\nrefresh = \"1s\"\n").expect("write");
    let out = Command::new(bin())
        .arg("--config")
        .arg(&cfg)
        .arg("--print-config")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:3:1", cfg.display())), "{err}");
    assert!(err.contains("refresh"), "{err}");
    let _ = std::fs::remove_file(cfg);
}

#[test]
fn print_config_shows_file_and_flag_overrides() {
    let cfg = temp_path("good.toml");
    std::fs::write(&cfg, "theme = \"mono\"\ninterval = \"5s\"\n").expect("write");
    let out = run_ok(Command::new(bin()).arg("--config").arg(&cfg).args([
        "--interval",
        "750ms",
        "--print-config",
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("theme = \"mono\""), "{text}");
    assert!(text.contains("interval = \"750ms\""), "{text}");
    assert!(text.contains(&cfg.display().to_string()), "{text}");
    // XDG lookup: the same file found without --config.
    let xdg = temp_path("xdg");
    std::fs::create_dir_all(xdg.join("aiposture")).expect("mkdir");
    std::fs::copy(&cfg, xdg.join("aiposture/config.toml")).expect("copy");
    let out = run_ok(
        Command::new(bin())
            .env("XDG_CONFIG_HOME", &xdg)
            .arg("--print-config"),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("interval = \"5s\""));
    let _ = std::fs::remove_file(cfg);
    let _ = std::fs::remove_dir_all(xdg);
}

#[test]
fn dashboard_without_a_terminal_says_what_to_do() {
    let out = Command::new(bin())
        .args(["--config", "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("aiposture snapshot"));
}

/// Views render a snapshot and never look at the system again: besides the
/// module rules of `tests/architecture.rs` (no `collect`), no direct read of /proc.
#[test]
fn views_never_read_proc() {
    let root = format!("{}/src", env!("CARGO_MANIFEST_DIR"));
    let mut offenders = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(&root)];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read src") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let rel = p
                .strip_prefix(&root)
                .expect("rel")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&p).expect("read");
            let in_views = rel.starts_with("views/");
            // Paths of /proc may appear as data (evidence in test fixtures, a
            // filter of SARIF locations); reading one may not.
            let reads_proc = [
                "procfs::",
                "read_to_string(\"/proc",
                "read_dir(\"/proc",
                "File::open(\"/proc",
                "read_link(\"/proc",
                "format!(\"/proc",
            ]
            .iter()
            .any(|p| text.contains(p));
            if in_views && reads_proc {
                offenders.push(format!("{rel} reads /proc"));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}

/// Processes exiting (and sockets closing) mid-collection never fail a snapshot.
#[test]
fn churn_never_fails_a_snapshot() {
    let mut churn = Command::new("bash");
    churn
        .args([
            "-c",
            "while :; do for i in $(seq 30); do /bin/sleep 0.0$((RANDOM % 9)) & done; \
             python3 -c 'import socket,time; s=socket.socket(); s.bind((\"127.0.0.1\",0)); s.listen(); time.sleep(0.02)' & \
             wait; done",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = churn.spawn().expect("churn");
    let pgid = child.id() as i32;
    let start = Instant::now();
    let mut runs = 0;
    let mut failures = Vec::new();
    while runs < 25 || start.elapsed() < Duration::from_secs(3) {
        let out = Command::new(bin()).arg("snapshot").output().expect("run");
        if !out.status.success()
            || serde_json::from_slice::<serde_json::Value>(&out.stdout).is_err()
        {
            failures.push(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        runs += 1;
    }
    // SAFETY: kill(2) on our own process group; no memory is involved.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    let _ = child.wait();
    assert!(
        failures.is_empty(),
        "{} of {runs} snapshots failed: {failures:#?}",
        failures.len()
    );
}
