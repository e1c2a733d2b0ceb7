//! Privacy verdicts on real processes: a real Gradio app (PyPI) with analytics at
//! their default and switched off, run in a namespace with only `lo` so whatever
//! it tries to send cannot leave; tunnel and MCP processes among the actors.

mod support;

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

/// A Gradio app started from `dir` (its cwd) inside `ns`, up once it listens.
fn start_gradio(ns: &Netns, dir: &Path, port: u16, envs: &[(&str, &str)]) -> Proc {
    let log = temp_path("gradio.log");
    let logf = std::fs::File::create(&log).expect("log file");
    let mut cmd = ns.command(gradio_python());
    cmd.arg("gradio_app.py")
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", dir)
        .env("APP_PORT", port.to_string())
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("dup"))
        .stderr(logf);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let p = Proc { child, log };
    wait_until("Gradio to listen", Duration::from_secs(120), || {
        ns.reaches("127.0.0.1", port)
    });
    p
}

fn app_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gradio_app.py");
    std::fs::copy(src, dir.path().join("gradio_app.py")).expect("copy app");
    dir
}

fn process(snap: &Value, pid: u32) -> &Value {
    snap["privacy"]["processes"]
        .as_array()
        .expect("privacy.processes")
        .iter()
        .find(|p| p["pid"] == pid)
        .unwrap_or_else(|| panic!("no privacy row for pid {pid}: {:#}", snap["privacy"]))
}

fn switch<'a>(row: &'a Value, id: &str) -> &'a Value {
    row["switches"]
        .as_array()
        .expect("switches")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no switch {id}: {row:#}"))
}

fn findings_of<'a>(snap: &'a Value, pid: u32, rule: &str) -> Vec<&'a Value> {
    snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["subject"]["pid"] == pid && f["rule"] == rule)
        .collect()
}

#[test]
fn gradio_analytics_on_by_default_off_when_switched_off() {
    let ns = Netns::new();
    let (d1, d2) = (app_dir(), app_dir());
    let default = start_gradio(&ns, d1.path(), 7861, &[]);
    let off = start_gradio(
        &ns,
        d2.path(),
        7862,
        &[("GRADIO_ANALYTICS_ENABLED", "False")],
    );
    let snap = snapshot(&[]);

    for (p, want) in [(&default, "on"), (&off, "off")] {
        let servers = servers_with_pid(&snap, p.pid());
        assert_eq!(
            servers.len(),
            1,
            "Gradio app pid {} not recognised",
            p.pid()
        );
        assert_eq!(servers[0]["product_id"], "gradio");
        assert!(
            servers[0]["identification"]["reason"]
                .as_str()
                .is_some_and(|r| r.contains("imports gradio")),
            "{:#}",
            servers[0]["identification"]
        );
        let row = process(&snap, p.pid());
        let analytics = switch(row, "gradio-analytics");
        assert_eq!(analytics["state"], want, "{analytics:#}");
        // Gradio sets HF_HUB_DISABLE_TELEMETRY in-process when analytics are off.
        assert_eq!(switch(row, "hf-hub-telemetry")["state"], want);
        let telemetry = findings_of(&snap, p.pid(), "privacy.telemetry-on");
        assert_eq!(telemetry.is_empty(), want == "off", "{telemetry:#?}");
    }
    let off_row = process(&snap, off.pid());
    assert!(
        switch(off_row, "gradio-analytics")["evidence"]
            .to_string()
            .contains(r#"GRADIO_ANALYTICS_ENABLED=\"False\""#),
        "{off_row:#}"
    );
    let default_row = process(&snap, default.pid());
    assert!(
        switch(default_row, "gradio-analytics")["evidence"]
            .to_string()
            .contains("GRADIO_ANALYTICS_ENABLED not set")
    );
    // The host is not air-gap ready, and the default app is why.
    let gap = &snap["privacy"]["air_gap"];
    assert_eq!(gap["state"], "not_ready", "{gap:#}");
    let reasons: Vec<&Value> = gap["reach_outs"]
        .as_array()
        .expect("reach_outs")
        .iter()
        .filter(|r| r["state"] == "on")
        .collect();
    assert!(reasons.iter().any(|r| r["pid"] == default.pid()));
    assert!(
        !reasons.iter().any(|r| r["pid"] == off.pid()),
        "{reasons:#?}"
    );
}

#[test]
fn share_tunnel_child_and_mcp_server_are_in_the_inventory() {
    let ns = Netns::new();
    let dir = app_dir();
    // Gradio's share client is frpc_<os>_<arch>_v0.3 started by the app: a stand-in
    // with that name (a copy of sleep) started by a real Gradio app.
    let frpc = dir.path().join("frpc_linux_amd64_v0.3");
    std::fs::copy("/bin/sleep", &frpc).expect("copy sleep");
    let app = start_gradio(
        &ns,
        dir.path(),
        7863,
        &[
            ("GRADIO_ANALYTICS_ENABLED", "False"),
            ("APP_CHILD", frpc.to_str().expect("utf-8 path")),
        ],
    );
    let mut mcp = Command::new("sleep");
    mcp.arg0("mcp-server-fetch").arg("3600");
    let mcp = Proc {
        child: mcp.spawn().expect("spawn mcp stand-in"),
        log: temp_path("mcp.log"),
    };
    let tunnel_pid = || {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .find(|pid| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                    s.split(") ").nth(1).and_then(|r| r.split(' ').nth(1))
                        == Some(&app.pid().to_string())
                }) && std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == frpc)
            })
    };
    wait_until(
        "the tunnel stand-in to start",
        Duration::from_secs(20),
        || tunnel_pid().is_some(),
    );
    let tunnel = tunnel_pid().expect("tunnel pid");
    let _reap = KillOnDrop(tunnel);
    let snap = snapshot(&[]);

    let actors = snap["inventory"]["privacy"]["actors"]
        .as_array()
        .expect("actors");
    let a = actors
        .iter()
        .find(|a| a["pid"] == tunnel)
        .unwrap_or_else(|| panic!("tunnel not among actors: {actors:#?}"));
    assert_eq!(a["kind"], "tunnel");
    assert_eq!(a["id"], "frpc");
    assert_eq!(a["parent_server"], app.pid());
    let m = actors
        .iter()
        .find(|a| a["pid"] == mcp.pid())
        .unwrap_or_else(|| panic!("MCP server not among actors: {actors:#?}"));
    assert_eq!(m["kind"], "mcp_server");

    // One high finding, on the app that owns the tunnel.
    let tunnels: Vec<&Value> = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] == "privacy.public-tunnel")
        .filter(|f| f["subject"]["pid"] == app.pid() || f["subject"]["pid"] == tunnel)
        .collect();
    assert_eq!(tunnels.len(), 1, "{tunnels:#?}");
    assert_eq!(tunnels[0]["subject"]["pid"], app.pid());
    assert_eq!(tunnels[0]["severity"], "high");
    assert_eq!(findings_of(&snap, mcp.pid(), "privacy.ai-agent").len(), 1);
    assert_eq!(snap["privacy"]["air_gap"]["state"], "not_ready");
}

/// The tunnel stand-in outlives its killed parent: end it too, even on failure.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.0.to_string()).status();
    }
}
