//! The same host seen as root and as an unprivileged user (`nobody`): a table
//! of what each sees, and every difference named as a blind spot in the
//! unprivileged snapshot — never a silent gap. The table is printed (run with
//! `--nocapture`) and documented in docs/privileges.md.

mod support;

use serde_json::Value;
use support::*;

struct Row {
    what: &'static str,
    root: String,
    nobody: String,
    /// A blind spot of the unprivileged run must contain this.
    named_by: String,
}

fn server(snap: &Value, pid: u32) -> &Value {
    servers_with_pid(snap, pid)
        .first()
        .copied()
        .unwrap_or_else(|| panic!("pid {pid} not recognised"))
}

fn len(v: &Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

#[test]
fn what_root_sees_and_nobody_does_not_is_named() {
    let ns = Netns::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("server.log");
    let p = start_llama(
        ns.command(llama_server_bin()),
        &[
            "--host",
            "127.0.0.1",
            "--port",
            "8080",
            "--log-file",
            log.to_str().expect("utf-8"),
        ],
        &[("OPENAI_API_KEY", "matrix-not-a-secret")],
    );
    let pid = p.pid();
    let root = snapshot(&["--passive", "--no-history", "--no-hash-wait"]);
    let nobody = snapshot_as_nobody();
    let (r, n) = (server(&root, pid), server(&nobody, pid));
    let privacy = |s: &Value| {
        s["privacy"]["processes"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["pid"] == pid).cloned())
            .unwrap_or(Value::Null)
    };
    let switch_states = |s: &Value| {
        privacy(s)["switches"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x["state"].as_str().unwrap_or("?").to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default()
    };
    let rows = vec![
        Row {
            what: "server recognised (command line)",
            root: "yes".into(),
            nobody: "yes".into(),
            named_by: String::new(),
        },
        Row {
            what: "listening sockets joined to the server",
            root: len(&r["sockets"]).to_string(),
            nobody: len(&n["sockets"]).to_string(),
            named_by: format!("/proc/{pid}/fd"),
        },
        Row {
            what: "environment (auth, bind, secrets by name)",
            root: format!(
                "auth {}, {} secret name(s)",
                r["auth"]["state"],
                len(&r["secret_env_names"])
            ),
            nobody: format!(
                "auth {}, {} secret name(s)",
                n["auth"]["state"],
                len(&n["secret_env_names"])
            ),
            named_by: format!("/proc/{pid}/environ"),
        },
        Row {
            what: "telemetry switches",
            root: switch_states(&root),
            nobody: switch_states(&nobody),
            named_by: format!("/proc/{pid}/environ"),
        },
        Row {
            what: "cloud back-ends",
            root: len(&privacy(&root)["backends"]).to_string(),
            nobody: len(&privacy(&nobody)["backends"]).to_string(),
            named_by: format!("/proc/{pid}/environ"),
        },
        Row {
            what: "loaded model files",
            root: len(&r["models"]).to_string(),
            nobody: len(&n["models"]).to_string(),
            named_by: format!("/proc/{pid}/maps"),
        },
        Row {
            what: "executable (llama.cpp build)",
            root: r["exe"].as_str().map_or("-", |_| "read").into(),
            nobody: n["exe"].as_str().map_or("-", |_| "read").into(),
            named_by: format!("/proc/{pid}/exe"),
        },
        Row {
            what: "network namespace of the server",
            root: r["netns"].as_str().map_or("-", |_| "read").into(),
            nobody: n["netns"].as_str().map_or("-", |_| "read").into(),
            named_by: format!("/proc/{pid}/ns/net"),
        },
    ];
    let mut table =
        String::from("| what | root | nobody | unprivileged blind spot |\n|---|---|---|---|\n");
    let blind = support::blind_spots_text(&nobody);
    for row in &rows {
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            row.what,
            row.root,
            row.nobody,
            if row.root == row.nobody {
                "-"
            } else {
                row.named_by.as_str()
            }
        ));
        if row.root != row.nobody {
            assert!(
                blind.contains(&row.named_by),
                "{}: root sees {:?}, nobody {:?}, and no blind spot names {}:\n{blind}",
                row.what,
                row.root,
                row.nobody,
                row.named_by
            );
        }
    }
    eprintln!("{table}");
    // The differences are real, not a table of equal rows.
    assert!(
        rows.iter().filter(|r| r.root != r.nobody).count() >= 4,
        "{table}"
    );
    // Root's view of the same facts is complete: no blind spot about this pid.
    let root_blind = support::blind_spots_text(&root);
    assert!(
        !root_blind.contains(&format!("/proc/{pid}/")),
        "{root_blind}"
    );
}
