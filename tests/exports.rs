//! Exports read by their real consumers: `promtool check metrics` (the
//! Prometheus project's own linter) on the textfile of a real run with a real
//! llama-server, its values against the JSON of the same run; JSON lines that
//! parse and count what the snapshot holds with no secret in them; the Markdown
//! report; and exports killed at random moments that leave each target old or
//! new, never cut.
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use support::*;

const ALL: &str = "json,jsonl,markdown,prometheus";
const FILES: [&str; 4] = [
    "aiposture.json",
    "aiposture.jsonl",
    "aiposture.md",
    "aiposture.prom",
];

fn promtool() -> PathBuf {
    let p = PathBuf::from("/usr/bin/promtool");
    assert!(
        p.exists(),
        "promtool not found: run `bash scripts/test-deps.sh` (Debian package prometheus)"
    );
    p
}

/// One export of every format while a llama-server runs with secrets in its
/// environment and argv, and a `[[suppress]]` entry accepting its findings.
struct Run {
    dir: PathBuf,
    pid: u32,
    canaries: Vec<String>,
    snap: Value,
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        // An observation before the server starts: the export's timeline then
        // holds its start as events.
        let state = temp_path("exports-state");
        run_ok(Command::new(bin()).env("XDG_STATE_HOME", &state).args([
            "--config",
            "/dev/null",
            "snapshot",
            "--no-hash-wait",
            "-o",
            "/dev/null",
        ]));
        let env_secret = canary("sk-exportcanary");
        let argv_secret = canary("argvexportcanary");
        let port = free_port();
        let server = start_llama(
            Command::new(llama_server_bin()),
            &[
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--api-key",
                &argv_secret,
            ],
            &[("OPENAI_API_KEY", &env_secret)],
        );
        let dir = temp_path("exports-out");
        let cfg = temp_path("exports.toml");
        write(
            &cfg,
            "[[suppress]]\nrule = \"*\"\nproduct = \"llama_server\"\n\
             reason = \"test server\"\nowner = \"ci | `tests`\"\nexpires = \"2099-12-31\"\n",
        );
        run_ok(
            Command::new(bin())
                .env("XDG_STATE_HOME", &state)
                .arg("--config")
                .arg(&cfg)
                .args([
                    "snapshot",
                    "--no-hash-wait",
                    "--format",
                    ALL,
                    "--output-dir",
                ])
                .arg(&dir),
        );
        let pid = server.pid();
        drop(server);
        let snap: Value =
            serde_json::from_str(&read(&dir.join("aiposture.json"))).expect("JSON export");
        Run {
            dir,
            pid,
            canaries: vec![env_secret, argv_secret],
            snap,
        }
    })
}

/// `name{labels}` → value of every sample of a textfile.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.rsplit_once(' ').expect("sample line");
            (k.to_string(), v.parse::<f64>().expect("sample value"))
        })
        .collect()
}

fn count_by(items: &Value, sev: &str, pointer: &str) -> f64 {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f.pointer(pointer).and_then(Value::as_str) == Some(sev))
                .count()
        })
        .unwrap_or(0) as f64
}

fn epoch(rfc3339: &str) -> f64 {
    humantime::parse_rfc3339_weak(rfc3339)
        .expect("rfc3339")
        .duration_since(UNIX_EPOCH)
        .expect("after epoch")
        .as_secs_f64()
}

#[test]
fn prometheus_textfile_passes_promtool_and_matches_the_json_of_the_same_run() {
    let r = run();
    let path = r.dir.join("aiposture.prom");
    let text = read(&path);
    let out = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&path).expect("open"))
        .output()
        .expect("promtool");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "node_exporter runs as its own user");

    let m = samples(&text);
    let snap = &r.snap;
    for sev in ["info", "low", "medium", "high", "critical"] {
        assert_eq!(
            m[&format!("aiposture_findings{{severity=\"{sev}\"}}")],
            count_by(&snap["findings"], sev, "/severity"),
            "{sev}"
        );
        assert_eq!(
            m[&format!("aiposture_suppressed_findings{{severity=\"{sev}\"}}")],
            count_by(&snap["suppressed"], sev, "/finding/severity"),
            "{sev}"
        );
    }
    let suppressed = snap["suppressed"].as_array().map_or(0, Vec::len);
    assert!(suppressed > 0, "the llama-server's findings are suppressed");

    let llamas = snap["inventory"]["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .filter(|s| s["product_id"] == "llama_server")
        .count() as f64;
    assert!(
        snap["inventory"]["servers"]
            .as_array()
            .is_some_and(|a| a.iter().any(|s| s["pid"] == r.pid)),
        "llama-server {} missing from the snapshot",
        r.pid
    );
    let prom_llamas: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("aiposture_servers{product=\"llama_server\""))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(prom_llamas, llamas);
    assert!(
        m.contains_key("aiposture_servers{product=\"llama_server\",reach=\"loopback_only\"}"),
        "{text}"
    );

    let collected = epoch(
        snap["inventory"]["host"]["collected_at"]
            .as_str()
            .expect("time"),
    );
    assert_eq!(m["aiposture_last_collection_timestamp_seconds"], collected);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("now")
        .as_secs_f64();
    assert!((now - collected).abs() < 600.0, "{collected} vs {now}");
    assert_eq!(
        m["aiposture_collection_duration_seconds"],
        snap["inventory"]["host"]["collection_ms"]
            .as_f64()
            .expect("ms")
            / 1000.0
    );
    if let Some(newest) = snap["patch"]["data"]["newest_modified"].as_str() {
        assert_eq!(
            m["aiposture_advisory_data_age_seconds"],
            (collected - epoch(newest)).floor()
        );
    }
    assert_eq!(
        m["aiposture_blind_spots"],
        snap["inventory"]["blind_spots"]
            .as_array()
            .map_or(0, Vec::len) as f64
    );
    assert_eq!(
        m["aiposture_posture_score"],
        snap["scores"]["host"].as_f64().expect("score")
    );
    let events = snap["timeline"]["new_events"]
        .as_array()
        .map_or(0, Vec::len) as f64;
    let prom_events: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("aiposture_timeline_new_events{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(prom_events, events);
    let gap: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("aiposture_air_gap{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(gap, 1.0, "exactly one air-gap verdict");
}

#[test]
fn json_lines_parse_count_the_snapshot_and_hold_no_secret() {
    let r = run();
    let text = read(&r.dir.join("aiposture.jsonl"));
    assert!(text.ends_with('\n'));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let n = |p: &str| {
        r.snap
            .pointer(p)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    let findings = n("/findings");
    let suppressed = n("/suppressed");
    let events = n("/timeline/new_events");
    assert!(
        events > 0,
        "the first observation of a store records events"
    );
    assert_eq!(lines.len(), findings + suppressed + events);
    let kind = |k: &str| lines.iter().filter(|l| l["event"]["kind"] == k).count();
    assert_eq!(kind("alert"), findings + suppressed);
    assert_eq!(kind("event"), events);
    let marked = lines
        .iter()
        .filter(|l| l["aiposture"]["suppressed"] == true)
        .count();
    assert_eq!(marked, suppressed);
    let host = r.snap["inventory"]["host"]["hostname"].clone();
    for l in &lines {
        assert_eq!(l["host"]["name"], host);
        assert!(
            l["@timestamp"].is_string() && l["message"].is_string(),
            "{l}"
        );
        let sev = l["event"]["severity"].as_u64().expect("numeric severity");
        assert!((1..=5).contains(&sev), "{l}");
        assert!(l["log"]["level"].is_string());
    }
    for f in r.snap["findings"].as_array().expect("findings") {
        assert!(
            lines
                .iter()
                .any(|l| l["rule"]["id"] == f["rule"] && l["rule"]["name"] == f["title"]),
            "{f}"
        );
    }
    let s = &lines.iter().find(|l| l["aiposture"]["suppressed"] == true);
    assert_eq!(
        s.map(|l| l["aiposture"]["suppression"]["owner"].clone()),
        Some(Value::from("ci | `tests`"))
    );
    for file in FILES {
        let t = read(&r.dir.join(file));
        assert!(!t.is_empty(), "{file} empty");
        for c in &r.canaries {
            assert!(!t.contains(c.as_str()), "secret {c} in {file}");
        }
    }
    assert!(
        text.contains("OPENAI_API_KEY")
            || read(&r.dir.join("aiposture.json")).contains("OPENAI_API_KEY"),
        "the secret's name is reported"
    );
}

#[test]
fn markdown_report_holds_every_finding_its_remediation_and_the_arithmetic() {
    use aiposture::views::export::markdown::escape;
    let r = run();
    let md = read(&r.dir.join("aiposture.md"));
    let host = r.snap["inventory"]["host"]["hostname"]
        .as_str()
        .expect("host");
    assert!(md.starts_with(&format!("# aiposture audit report: {}\n", escape(host))));
    let at = r.snap["inventory"]["host"]["collected_at"]
        .as_str()
        .expect("t");
    assert!(md.contains(&format!("| Collected (UTC) | {at} |")), "{md}");
    assert!(md.contains(&format!(
        "aiposture {}",
        r.snap["tool"]["version"].as_str().expect("v")
    )));
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let all = r.snap["findings"].as_array().into_iter().flatten().chain(
        r.snap["suppressed"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|x| &x["finding"]),
    );
    for f in all {
        assert!(md.contains(&escape(&s(&f["title"]))), "title of {f}");
        assert!(
            md.contains(&escape(&s(&f["remediation"]))),
            "remediation of {f}"
        );
    }
    for f in r.snap["findings"].as_array().into_iter().flatten() {
        for e in f["evidence"].as_array().into_iter().flatten() {
            assert!(
                md.contains(&format!(
                    "| {} | {} |",
                    escape(&support::source_text(&e["source"])),
                    escape(&s(&e["detail"]))
                )),
                "evidence {e}"
            );
        }
    }
    // The arithmetic, rebuilt from the JSON's terms.
    let scores = r.snap["scores"]["servers"].as_array().expect("scores");
    assert!(!scores.is_empty());
    for sc in scores {
        let mut a = sc["start"].to_string();
        for t in sc["terms"].as_array().into_iter().flatten() {
            if t["weight"].as_u64() > Some(0) {
                a.push_str(&format!(
                    " − {} ({} {})",
                    t["weight"],
                    s(&t["severity"]),
                    s(&t["rule"])
                ));
            }
        }
        a.push_str(&format!(" = {}", sc["score"]));
        assert!(md.contains(&escape(&a)), "arithmetic {a:?} missing:\n{md}");
    }
    // The suppression's owner holds `|` and backticks: escaped, the table keeps its columns.
    assert!(md.contains("ci \\| \\`tests\\`"), "{md}");
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("test server"))
    {
        let cells = line.replace("\\|", "").matches('|').count();
        assert_eq!(cells, 10, "9 columns: {line}");
    }
    assert!(md.contains("## Privacy: air-gap readiness"));
    assert!(md.contains("## Models: provenance and policy decisions"));
    let server = r.snap["inventory"]["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|x| x["pid"] == r.pid)
        .expect("server");
    assert!(
        md.contains(&escape(&format!(
            "loaded by {} pid {}",
            s(&server["product"]),
            r.pid
        ))),
        "model of the server missing:\n{md}"
    );
    for m in server["models"].as_array().into_iter().flatten() {
        assert!(md.contains(&escape(&s(&m["path"]))), "{m}");
    }
}

/// A whole export of `file`: what a reader must never see cut.
fn complete(file: &str, text: &str) -> Result<(), String> {
    if !text.ends_with('\n') {
        return Err("no final newline".into());
    }
    match file {
        "aiposture.json" => serde_json::from_str::<Value>(text)
            .map_err(|e| e.to_string())
            .and_then(|v| {
                v["schema_version"]
                    .as_u64()
                    .map(|_| ())
                    .ok_or("no schema_version".into())
            }),
        "aiposture.jsonl" => text.lines().try_for_each(|l| {
            serde_json::from_str::<Value>(l)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }),
        "aiposture.md" => (text.starts_with("# aiposture audit report")
            && text.contains("## Models: provenance and policy decisions"))
        .then_some(())
        .ok_or("report cut".into()),
        "aiposture.prom" => (text.starts_with("# HELP aiposture_info")
            && text.contains("\naiposture_blind_spots "))
        .then_some(())
        .ok_or("textfile cut".into()),
        _ => Err(format!("unexpected {file}")),
    }
}

fn stray_temps(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("ls")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !FILES.contains(&n.as_str()))
        .collect()
}

/// Name, inode, size and mtime of every entry: any write shows here.
fn dir_state(dir: &Path) -> Vec<(String, u64, u64, Option<SystemTime>)> {
    use std::os::unix::fs::MetadataExt;
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("ls")
        .flatten()
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            Some((
                e.file_name().to_string_lossy().into_owned(),
                m.ino(),
                m.len(),
                m.modified().ok(),
            ))
        })
        .collect();
    v.sort();
    v
}

#[test]
fn killing_the_export_leaves_the_old_file_or_the_new_one() {
    let dir = temp_path("exports-kill");
    let state = temp_path("exports-kill-state");
    let export = || {
        let mut c = Command::new(bin());
        c.env("XDG_STATE_HOME", &state)
            .args(["--config", "/dev/null", "--no-history", "--passive"])
            .args([
                "snapshot",
                "--no-hash-wait",
                "--format",
                ALL,
                "--output-dir",
            ])
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    let t0 = Instant::now();
    assert!(export().status().expect("first export").success());
    let full = t0.elapsed();
    let check = |when: &str| {
        for f in FILES {
            let p = dir.join(f);
            // Absent or whole; after the first export it is never absent again.
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{when}: {f}: {e}"));
            if let Err(e) = complete(f, &text) {
                panic!("{when}: {f} is not whole ({e}):\n{text}");
            }
        }
        for n in stray_temps(&dir) {
            assert!(
                n.starts_with(".aiposture-") && n.ends_with(".tmp"),
                "{when}: unexpected file {n}"
            );
        }
    };
    check("after the first export");

    let mut seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(1)
        | 1;
    eprintln!("seed {seed}, one export takes {full:?}");
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut mid_write, mut killed) = (0, 0);
    for i in 0..40 {
        let mut child = export().spawn().expect("spawn");
        if i % 2 == 0 {
            // At a random moment of the whole run.
            let at = Duration::from_micros(next() % (full.as_micros() as u64 * 5 / 4 + 1));
            std::thread::sleep(at);
        } else {
            // As soon as the directory shows the write phase has begun (a temp
            // file, a target replaced or truncated), plus up to 1 ms.
            let start = Instant::now();
            let before = dir_state(&dir);
            while start.elapsed() < full * 4 {
                if dir_state(&dir) != before {
                    mid_write += 1;
                    break;
                }
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
            }
            std::thread::sleep(Duration::from_micros(next() % 1000));
        }
        // SAFETY: kill(2) on our own child's pid, not yet reaped.
        let r = unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        let status = child.wait().expect("wait");
        if r == 0 && !status.success() {
            killed += 1;
        }
        check(&format!("kill #{i}"));
    }
    eprintln!("{killed} of 40 killed before they finished, {mid_write} while writing");
    assert!(killed >= 10, "too few runs were cut: {killed}");
    assert!(mid_write >= 1, "no kill landed in the write phase");

    // Left-over temp files go with the next export once old (a write in
    // progress is never that old).
    let strays = stray_temps(&dir);
    for n in &strays {
        run_ok(
            Command::new("touch")
                .args(["-d", "1 hour ago"])
                .arg(dir.join(n)),
        );
    }
    assert!(export().status().expect("export").success());
    assert_eq!(stray_temps(&dir), Vec::<String>::new(), "had {strays:?}");
    check("after a clean export");
}

#[test]
fn stdout_takes_one_format_and_the_config_names_the_default_set() {
    let out = Command::new(bin())
        .args(["--config", "/dev/null", "--passive", "--no-history"])
        .args([
            "snapshot",
            "--no-hash-wait",
            "--format",
            "json,markdown",
            "-o",
            "-",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--output-dir"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run_ok(
        Command::new(bin())
            .args(["--config", "/dev/null", "--passive", "--no-history"])
            .args([
                "snapshot",
                "--no-hash-wait",
                "--format",
                "prometheus",
                "-o",
                "-",
            ]),
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# HELP aiposture_info "));

    let cfg = temp_path("exports-cfg.toml");
    write(&cfg, "[export]\nformats = [\"prometheus\", \"jsonl\"]\n");
    let dir = temp_path("exports-cfg-out");
    run_ok(
        Command::new(bin())
            .arg("--config")
            .arg(&cfg)
            .args([
                "--passive",
                "--no-history",
                "snapshot",
                "--no-hash-wait",
                "--output-dir",
            ])
            .arg(&dir),
    );
    let mut names = stray_temps(&dir);
    names.extend(
        ["aiposture.prom", "aiposture.jsonl", "aiposture.json"]
            .iter()
            .filter(|f| dir.join(f).exists())
            .map(|f| f.to_string()),
    );
    assert_eq!(names, ["aiposture.prom", "aiposture.jsonl"]);

    write(&cfg, "[export]\nformats = [\"xml\"]\n");
    let out = Command::new(bin())
        .arg("--config")
        .arg(&cfg)
        .args(["snapshot"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"xml\""));
}

#[test]
fn systemd_units_pass_systemd_analyze_verify() {
    let analyze = PathBuf::from("/usr/bin/systemd-analyze");
    assert!(
        analyze.exists(),
        "systemd-analyze not found: run `bash scripts/test-deps.sh` (Debian package systemd)"
    );
    // The units name the installed binary; verify checks that it is executable.
    let dir = temp_path("exports-units");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/systemd");
    for unit in ["aiposture-snapshot.service", "aiposture-snapshot.timer"] {
        let text = read(&root.join(unit)).replace("/usr/local/bin/aiposture", bin());
        assert!(!text.is_empty(), "{unit}");
        write(&dir.join(unit), text);
    }
    let out = Command::new(&analyze)
        .arg("verify")
        .arg(dir.join("aiposture-snapshot.service"))
        .arg(dir.join("aiposture-snapshot.timer"))
        .output()
        .expect("systemd-analyze");
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The export directory the unit writes is the one it may write.
    let service = read(&root.join("aiposture-snapshot.service"));
    assert!(service.contains("--output-dir /var/lib/aiposture/exports"));
    assert!(service.contains("ReadWritePaths=/var/lib/aiposture\n"));
}
