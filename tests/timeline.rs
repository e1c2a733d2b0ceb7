//! The timeline on real processes and files: a model file replaced under a
//! watched directory is an event within the debounce window; a real server
//! restarted on another address is one rebound and one exposure change, kept
//! across aiposture runs; a writer killed with SIGKILL mid-transaction loses no
//! acknowledged event; an unwritable state directory falls back to memory, said.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

fn config(dir: &Path, extra: &str) -> std::path::PathBuf {
    let cfg = dir.join("config.toml");
    write(
        &cfg,
        format!(
            "[timeline]\ndir = \"{}\"\ndebounce = \"200ms\"\n{extra}",
            dir.join("state").display()
        ),
    );
    cfg
}

/// Lines of a child's stdout or stderr, as they come.
fn lines_of(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line that satisfies `f`, failing with everything seen.
fn wait_line(
    rx: &mpsc::Receiver<String>,
    what: &str,
    t: Duration,
    f: impl Fn(&str) -> bool,
) -> String {
    let start = Instant::now();
    let mut seen = Vec::new();
    while let Some(left) = t.checked_sub(start.elapsed()) {
        match rx.recv_timeout(left) {
            Ok(l) if f(&l) => return l,
            Ok(l) => seen.push(l),
            Err(_) => break,
        }
    }
    panic!("no {what} within {t:?}; got:\n{}", seen.join("\n"));
}

#[test]
fn a_model_file_replaced_under_a_watched_directory_is_an_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("models");
    std::fs::create_dir(&models).expect("mkdir");
    let target = models.join("tiny.gguf");
    put(&target, &tiny_gguf());
    // A long interval: only the watcher can make the change visible in time.
    let cfg = config(
        dir.path(),
        &format!("[models]\nroots = [\"{}\"]\n", models.display()),
    );
    let cfg_text = std::fs::read_to_string(&cfg).expect("config");
    write(&cfg, format!("interval = \"10m\"\n{cfg_text}"));
    let mut child = Command::new(bin())
        .args(["--passive", "--config"])
        .arg(&cfg)
        .args(["watch", "--format", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn watch");
    let out = lines_of(child.stdout.take().expect("stdout"));
    let err = lines_of(child.stderr.take().expect("stderr"));
    let ready = wait_line(&err, "watch start line", Duration::from_secs(60), |l| {
        l.contains("inotify watches")
    });
    assert!(!ready.contains(" 0 inotify watches"), "{ready}");

    // Replace the file the way a download or a swap does: new file, rename over.
    let tmp = models.join(".tiny.gguf.part");
    let mut bytes = std::fs::read(tiny_gguf()).expect("gguf");
    bytes.extend_from_slice(b"appended: other content, same header");
    write(&tmp, &bytes);
    std::fs::rename(&tmp, &target).expect("rename");
    let replaced = Instant::now();

    let path = target.to_string_lossy().into_owned();
    let line = wait_line(&out, "file_changed event", Duration::from_secs(20), |l| {
        serde_json::from_str::<Value>(l)
            .is_ok_and(|e| e["kind"] == "file_changed" && e["subject"]["path"] == path)
    });
    let elapsed = replaced.elapsed();
    let e: Value = serde_json::from_str(&line).expect("event json");
    assert_eq!(e["evidence"][0]["source"]["name"], "inotify", "{e:#}");
    // The same refresh rehashes the file: its content change is an event too.
    wait_line(&out, "model_changed event", Duration::from_secs(30), |l| {
        serde_json::from_str::<Value>(l)
            .is_ok_and(|e| e["kind"] == "model_changed" && e["subject"]["path"] == path)
    });
    let _ = child.kill();
    let _ = child.wait();
    eprintln!("file_changed seen {elapsed:?} after the rename (debounce 200 ms, interval 10 min)");
}

fn server_events(snap: &Value, port: u16, pids: &[u32]) -> Vec<Value> {
    snap["timeline"]["new_events"]
        .as_array()
        .expect("new_events")
        .iter()
        .filter(|e| {
            e["subject"]["product"] == "llama_server"
                && (e.to_string().contains(&format!(":{port}"))
                    || pids.iter().any(|p| e["subject"]["pid"] == *p))
        })
        .cloned()
        .collect()
}

#[test]
fn a_restart_on_another_address_is_remembered_across_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "");
    let net = VethPair::new();
    let port = 8741;
    let snap = |extra: &[&str]| {
        let mut args = vec!["--config", cfg.to_str().expect("utf-8"), "snapshot"];
        args.extend_from_slice(extra);
        let out = run_ok(Command::new(bin()).args(&args));
        serde_json::from_slice::<Value>(&out.stdout).expect("snapshot json")
    };
    let first_pid;
    {
        let p = start_llama(
            net.server.command(llama_server_bin()),
            &["--host", "127.0.0.1", "--port", &port.to_string()],
            &[],
        );
        wait_until("loopback listener", Duration::from_secs(30), || {
            net.server.reaches("127.0.0.1", port)
        });
        first_pid = p.pid();
        let first = snap(&[]);
        assert_eq!(
            first["timeline"]["store"],
            dir.path()
                .join("state/timeline.sqlite3")
                .to_str()
                .expect("utf-8")
        );
        assert!(
            first["timeline"]["memory_only"].is_null(),
            "{:#}",
            first["timeline"]
        );
    }
    let p = start_llama(
        net.server.command(llama_server_bin()),
        &["--host", "0.0.0.0", "--port", &port.to_string()],
        &[],
    );
    wait_until("LAN listener", Duration::from_secs(30), || {
        net.client_reaches(&net.server_addr, port)
    });
    let second = snap(&[]);
    let pids = [first_pid, p.pid()];
    let events = server_events(&second, port, &pids);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    for k in ["server_restarted", "listener_rebound", "exposure_changed"] {
        assert!(kinds.contains(&k), "{k} missing: {events:#?}");
    }
    let rebound = events
        .iter()
        .find(|e| e["kind"] == "listener_rebound")
        .expect("rebound");
    assert!(
        rebound["before"]
            .as_str()
            .is_some_and(|b| b.contains("127.0.0.1")),
        "{rebound:#}"
    );
    assert!(
        rebound["after"]
            .as_str()
            .is_some_and(|a| a.contains("0.0.0.0")),
        "{rebound:#}"
    );
    // The listener's "since" is this binding's first sighting, not the server's.
    let since = second["timeline"]["since"].as_array().expect("since");
    assert!(
        since.iter().any(|s| s["kind"] == "listener"
            && s["key"]
                .as_str()
                .is_some_and(|k| k.ends_with(&format!("0.0.0.0:{port}/tcp")))),
        "{since:#?}"
    );

    // A new aiposture process reads the same history.
    let out = run_ok(
        Command::new(bin())
            .args(["--config", cfg.to_str().expect("utf-8")])
            .args([
                "events",
                "--format",
                "jsonl",
                "--kind",
                "listener_rebound",
                "--kind",
                "exposure_changed",
            ]),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let kept: Vec<Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|e: &Value| e.to_string().contains(&format!(":{port}")))
        .collect();
    let kinds: Vec<&str> = kept.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert!(
        kinds.contains(&"listener_rebound") && kinds.contains(&"exposure_changed"),
        "{text}"
    );
    // A third run with nothing changed adds no event about this server.
    let third = snap(&[]);
    assert!(
        server_events(&third, port, &pids).is_empty(),
        "{:#?}",
        server_events(&third, port, &pids)
    );
}

/// Writes records as fast as it can and prints the sequence number of each
/// one the store acknowledged (committed). Run by the crash test as a child.
#[test]
#[ignore = "a child of sigkill_mid_write_loses_no_acknowledged_event"]
fn store_writer_child() {
    use aiposture::model::events::{Event, EventKind, EventSubject};
    use aiposture::model::{Evidence, Severity};
    use aiposture::timeline::{Retention, Store};
    use std::io::Write;
    let dir = std::env::var("AIPT_STORE_DIR").expect("AIPT_STORE_DIR");
    let round = std::env::var("AIPT_ROUND").expect("AIPT_ROUND");
    let mut store = Store::open(Path::new(&dir), Retention::default()).expect("open");
    let last = "x".repeat(200_000);
    let stdout = std::io::stdout();
    for seq in 0u64.. {
        let events: Vec<Event> = (0..50)
            .map(|i| Event {
                time: "2026-01-01T00:00:00Z".into(),
                kind: EventKind::FileChanged,
                severity: Severity::Info,
                subject: EventSubject {
                    item: Some(format!("{round}:{seq}/{i}")),
                    ..Default::default()
                },
                before: None,
                after: Some("x".repeat(100)),
                evidence: vec![Evidence::new(
                    aiposture::model::Source::note("test"),
                    "writer",
                )],
            })
            .collect();
        let seen: Vec<(String, String)> = (0..50)
            .map(|i| ("listener".to_string(), format!("{seq}/{i}")))
            .collect();
        store
            .record(&aiposture::timeline::store::Record {
                time: "2026-01-01T00:00:00Z",
                events: &events,
                seen: &seen,
                open_findings: seq,
                egress: 0,
                last: &last,
            })
            .expect("record");
        let mut out = stdout.lock();
        let _ = writeln!(out, "{seq}");
        let _ = out.flush();
    }
}

#[test]
fn sigkill_mid_write_loses_no_acknowledged_event() {
    use aiposture::timeline::{Retention, Store};
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acked: Vec<u64> = Vec::new();
    // Several kills at different moments: most land inside a transaction.
    for round in 0..5u64 {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--ignored",
                "--exact",
                "store_writer_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("AIPT_STORE_DIR", dir.path())
            .env("AIPT_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        let lines = lines_of(child.stdout.take().expect("stdout"));
        let mut this_round = 0;
        let start = Instant::now();
        while this_round < 3 + round * 2 && start.elapsed() < Duration::from_secs(60) {
            if let Ok(l) = lines.recv_timeout(Duration::from_secs(5))
                && let Ok(seq) = l.trim().parse::<u64>()
            {
                acked.push(round * 1_000_000 + seq);
                this_round += 1;
            }
        }
        assert!(this_round > 0, "writer acknowledged nothing");
        // SIGKILL: no destructor, no rollback, no flush.
        let _ = child.kill();
        let _ = child.wait();
        // Acknowledgements already in the pipe still count.
        while let Ok(l) = lines.try_recv() {
            if let Ok(seq) = l.trim().parse::<u64>() {
                acked.push(round * 1_000_000 + seq);
            }
        }
        // The next writer opens the same store: it must open.
        let store =
            Store::open(dir.path(), Retention::default()).expect("store opens after SIGKILL");
        let n = store.event_count().expect("count");
        assert!(n >= 50, "{n} events after round {round}");
    }
    let conn = rusqlite_check(dir.path());
    assert_eq!(conn.0, "ok", "integrity_check: {}", conn.0);
    // The last event of every acknowledged record is there.
    let items = conn.1;
    let rounds: Vec<u64> = acked.iter().map(|a| a / 1_000_000).collect();
    for r in 0..5u64 {
        let acked_here = rounds.iter().filter(|x| **x == r).count();
        assert!(acked_here > 0, "round {r} acknowledged nothing");
    }
    for a in &acked {
        let key = format!("{}:{}/49", a / 1_000_000, a % 1_000_000);
        assert!(
            items.iter().any(|i| i == &key),
            "acknowledged record {key} lost"
        );
    }
}

/// (`PRAGMA integrity_check`, every event's subject item), read by a child
/// through the store itself.
fn rusqlite_check(dir: &Path) -> (String, Vec<String>) {
    let out = run_ok(
        Command::new(std::env::current_exe().expect("test binary"))
            .args([
                "--ignored",
                "--exact",
                "store_reader_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("AIPT_STORE_DIR", dir),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // libtest may print "test name ... " on the same line before the output.
    let mut lines = text
        .lines()
        .filter_map(|l| l.find("@@ ").map(|i| l[i + 3..].to_string()));
    let check = lines.next().unwrap_or_default();
    (check, lines.collect())
}

#[test]
#[ignore = "a child of sigkill_mid_write_loses_no_acknowledged_event"]
fn store_reader_child() {
    use aiposture::timeline::{Retention, Store};
    let dir = std::env::var("AIPT_STORE_DIR").expect("AIPT_STORE_DIR");
    let store = Store::open(Path::new(&dir), Retention::default()).expect("open");
    println!("@@ {}", store.integrity_check().expect("integrity_check"));
    for e in store.recent(usize::MAX >> 1).expect("events") {
        if let Some(i) = e.subject.item {
            println!("@@ {i}");
        }
    }
}

#[test]
fn an_unwritable_state_directory_falls_back_to_memory_and_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A file where the state directory should be: not creatable, even as root.
    let blocker = dir.path().join("blocker");
    write(&blocker, "not a directory");
    let cfg = dir.path().join("config.toml");
    write(
        &cfg,
        format!(
            "[timeline]\ndir = \"{}\"\n",
            blocker.join("state").display()
        ),
    );
    let out = run_ok(
        Command::new(bin())
            .args(["--passive", "--config"])
            .arg(&cfg)
            .args(["snapshot", "--no-hash-wait"]),
    );
    let snap: Value = serde_json::from_slice(&out.stdout).expect("json");
    let why = snap["timeline"]["memory_only"].as_str().unwrap_or_default();
    assert!(why.contains("blocker"), "{:#}", snap["timeline"]);
    assert_eq!(snap["timeline"]["store"], "memory");
}

#[test]
fn two_instances_share_one_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(dir.path(), "");
    let run = |n: usize| {
        let cfg = cfg.clone();
        std::thread::spawn(move || {
            for _ in 0..n {
                let out = run_ok(
                    Command::new(bin())
                        .args(["--passive", "--config"])
                        .arg(&cfg)
                        .args(["snapshot", "--no-hash-wait"]),
                );
                let snap: Value = serde_json::from_slice(&out.stdout).expect("json");
                assert!(
                    snap["timeline"]["memory_only"].is_null(),
                    "{:#}",
                    snap["timeline"]
                );
            }
        })
    };
    let (a, b) = (run(8), run(8));
    a.join().expect("first instance");
    b.join().expect("second instance");
    let out = run_ok(
        Command::new(bin())
            .args(["--config"])
            .arg(&cfg)
            .args(["events", "--format", "jsonl"]),
    );
    assert!(out.status.success());
}
