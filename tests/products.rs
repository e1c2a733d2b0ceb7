//! The AI stack beyond inference servers, for real: a training dashboard
//! (TensorBoard), experiment trackers (MLflow, Aim), app UIs (Streamlit, marimo),
//! a vector database (Chroma), a cluster/serving framework (Ray), serving
//! frameworks (BentoML, LangServe, KServe) and agent builders (AutoGen Studio, Langflow),
//! each the real program from PyPI (`scripts/test-deps.sh`: venv-products,
//! venv-serving, venv-langflow, venv-kserve), started in a
//! namespace on a LAN of two (a veth pair) with no route beyond it: once as it
//! starts by default and once exposed or hardened (auth on, bound to loopback,
//! telemetry off). What aiposture says of product, listeners (children's
//! included), exposure, auth and telemetry is checked against what a client on
//! the LAN measures.

mod support;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use support::*;

fn venv_bin(name: &str) -> PathBuf {
    bin_of("AIPOSTURE_PRODUCTS_VENV", "venv-products", name)
}

/// The serving frameworks' and agent builder's venv (BentoML, LangServe, AutoGen Studio).
fn serving_bin(name: &str) -> PathBuf {
    bin_of("AIPOSTURE_SERVING_VENV", "venv-serving", name)
}

/// Langflow's venv (langflow-base: about 330 distributions of its own).
fn langflow_bin(name: &str) -> PathBuf {
    bin_of("AIPOSTURE_LANGFLOW_VENV", "venv-langflow", name)
}

fn kserve_bin(name: &str) -> PathBuf {
    bin_of("AIPOSTURE_KSERVE_VENV", "venv-kserve", name)
}

fn bin_of(var: &str, default: &str, name: &str) -> PathBuf {
    let venv = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        let cache = std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cache/aiposture-test"))
            .expect("HOME");
        cache.join(default)
    });
    let p = venv.join("bin").join(name);
    assert!(
        p.exists(),
        "{} missing: run scripts/test-deps.sh (it installs the products' venvs)",
        p.display()
    );
    p
}

/// A product started in its own process group inside `ns` (its workers and
/// daemons die with it), from `dir` (cwd and HOME), with a clean environment.
struct Running {
    _group: Group,
    pid: u32,
    log: PathBuf,
}

impl Running {
    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn start(ns: &Netns, program: &Path, dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Running {
    let log = temp_path("product.log");
    let logf = std::fs::File::create(&log).expect("log file");
    let bin = program
        .parent()
        .expect("bin dir")
        .to_string_lossy()
        .into_owned();
    let mut cmd = ns.command(program);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", format!("{bin}:/usr/bin:/bin"))
        .env("HOME", dir)
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(logf.try_clone().expect("dup"))
        .stderr(logf)
        .process_group(0);
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let pid = child.id();
    Running {
        _group: Group(child),
        pid,
        log,
    }
}

/// The one server that holds `port`, with the snapshot's view of it.
fn server_on(snap: &Value, port: u16) -> &Value {
    let servers = snap["inventory"]["servers"].as_array().expect("servers");
    let on: Vec<&Value> = servers
        .iter()
        .filter(|s| {
            s["sockets"].as_array().into_iter().flatten().any(|i| {
                let sock = socket(snap, i);
                sock["local"]["port"] == port && sock["state"] == "listen"
            })
        })
        .collect();
    assert_eq!(
        on.len(),
        1,
        "servers holding port {port}: {:#}",
        snap["inventory"]["servers"]
    );
    on[0]
}

fn unauth_findings(snap: &Value, port: u16) -> Vec<&Value> {
    snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["rule"] == "exposure.unauthenticated-listener"
                && f["subject"]["listener"]
                    .as_str()
                    .is_some_and(|l| l.ends_with(&format!(":{port}/tcp")))
        })
        .collect()
}

fn switch_state(snap: &Value, pid: u64, id: &str) -> String {
    snap["privacy"]["processes"]
        .as_array()
        .expect("privacy.processes")
        .iter()
        .find(|p| p["pid"] == pid)
        .and_then(|p| {
            p["switches"]
                .as_array()?
                .iter()
                .find(|s| s["id"] == id)
                .map(|s| s["state"].as_str().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| "absent".into())
}

/// What was measured from the LAN, and what the tool must then say.
struct Expect<'a> {
    product: &'a str,
    port: u16,
    /// The LAN client connected.
    lan: bool,
    /// An exposure finding on the port (high when unauthenticated).
    finding: bool,
}

fn check(snap: &Value, e: &Expect<'_>, log: &str) -> u64 {
    let s = server_on(snap, e.port);
    assert_eq!(s["product_id"], e.product, "{s:#}\n{log}");
    let idx = socket_on(snap, s, e.port);
    let reach = exposure_of(snap, &idx)["reach"].clone();
    if e.lan {
        assert_eq!(reach, "lan", "port {}: {s:#}", e.port);
    } else {
        assert_eq!(reach, "loopback_only", "port {}", e.port);
    }
    let f = unauth_findings(snap, e.port);
    if e.finding {
        assert_eq!(f.len(), 1, "{:#}", snap["findings"]);
        assert_eq!(f[0]["severity"], "high", "{:#}", f[0]);
        assert!(
            f[0]["title"]
                .as_str()
                .is_some_and(|t| t.contains("without authentication")),
            "{:#}",
            f[0]
        );
    } else {
        assert!(f.is_empty(), "{f:#?}");
    }
    s["pid"].as_u64().expect("pid")
}

/// `check` of the server on `port`, (reaches the LAN, has a finding).
fn judged(
    snap: &Value,
    product: &str,
    port: u16,
    (lan, finding): (bool, bool),
    r: &Running,
) -> u64 {
    let e = Expect {
        product,
        port,
        lan,
        finding,
    };
    check(snap, &e, &r.log_text())
}

fn lan_status(pair: &VethPair, port: u16, path: &str, header: Option<&str>) -> String {
    http_status(
        &pair.client,
        &format!("http://{}:{port}{path}", pair.server_addr),
        header,
    )
}

/// A LAN client's GET of `path` without credentials answers `want`.
fn assert_lan(pair: &VethPair, port: u16, path: &str, want: &str, r: &Running) {
    assert_eq!(lan_status(pair, port, path, None), want, "{}", r.log_text());
}

/// Seconds a GET of `path` on loopback took (curl's time_total; 99 on failure).
fn answer_secs(pair: &VethPair, port: u16, path: &str) -> f64 {
    let out = pair
        .server
        .command("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{time_total}",
            "--max-time",
            "3",
        ])
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(99.0)
}

fn local_status(pair: &VethPair, port: u16, path: &str) -> String {
    http_status(
        &pair.server,
        &format!("http://127.0.0.1:{port}{path}"),
        None,
    )
}

fn wait_local(pair: &VethPair, what: &str, port: u16, r: &Running) {
    let mut n = 0;
    wait_until(what, Duration::from_secs(120), || {
        n += 1;
        let up = pair.server.reaches("127.0.0.1", port);
        assert!(n < 1000 || up, "{}", r.log_text());
        up
    });
}

/// Two instances of a product without authentication: `quiet` as it binds by
/// default (loopback), `open` on every interface. Measured from the LAN (the
/// first unreachable, the second answering `path` with 200), then judged: no
/// finding for the first, a high one for the second. The snapshot and the open
/// one's server pid come back for product-specific checks.
fn held_and_open(
    pair: &VethPair,
    product: &str,
    (quiet, port): (&Running, u16),
    (open, open_port): (&Running, u16),
    path: &str,
) -> (Value, u64) {
    wait_local(pair, product, port, quiet);
    wait_until(product, Duration::from_secs(120), || {
        pair.client_reaches(&pair.server_addr, open_port)
    });
    assert!(!pair.client_reaches(&pair.server_addr, port));
    assert_eq!(
        lan_status(pair, open_port, path, None),
        "200",
        "{}",
        open.log_text()
    );
    let snap = snapshot(&[]);
    let quiet_expect = Expect {
        product,
        port,
        lan: false,
        finding: false,
    };
    check(&snap, &quiet_expect, &quiet.log_text());
    let open_expect = Expect {
        product,
        port: open_port,
        lan: true,
        finding: true,
    };
    let pid = check(&snap, &open_expect, &open.log_text());
    (snap, pid)
}

#[test]
fn tensorboard_on_loopback_by_default_and_open_with_bind_all() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let logdir = dir.path().join("runs");
    std::fs::create_dir_all(&logdir).expect("mkdir");
    let tb = venv_bin("tensorboard");
    let logdir = logdir.to_str().expect("utf-8");

    let (port, open_port) = (7901, 7902);
    let quiet = start(
        &pair.server,
        &tb,
        dir.path(),
        &["--logdir", logdir, "--port", &port.to_string()],
        &[],
    );
    let open = start(
        &pair.server,
        &tb,
        dir.path(),
        &[
            "--logdir",
            logdir,
            "--port",
            &open_port.to_string(),
            "--bind_all",
        ],
        &[],
    );
    let (snap, pid) = held_and_open(
        &pair,
        "tensorboard",
        (&quiet, port),
        (&open, open_port),
        "/data/environment",
    );
    assert_eq!(pid, u64::from(open.pid));
    let s = server_on(&snap, open_port);
    assert_eq!(s["auth"]["state"], "unsupported", "{:#}", s["auth"]);
    // Its Rust data server child listens too: attributed, with its role.
    let helpers = s["helpers"].as_array().cloned().unwrap_or_default();
    assert!(
        helpers.iter().any(|h| h["role"]
            .as_str()
            .is_some_and(|r| r.starts_with("data server"))
            && !h["sockets"].as_array().is_none_or(Vec::is_empty)),
        "data server child not attributed: {s:#}"
    );
}

#[test]
fn streamlit_listens_everywhere_by_default_and_can_be_held_to_loopback() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    write(
        &dir.path().join("app.py"),
        "import streamlit as st\n\nst.write('hello')\n",
    );
    let st = venv_bin("streamlit");
    let (port, kept) = (7911, 7912);
    let open = start(
        &pair.server,
        &st,
        dir.path(),
        &[
            "run",
            "app.py",
            "--server.port",
            &port.to_string(),
            "--server.headless",
            "true",
        ],
        &[],
    );
    let held = start(
        &pair.server,
        &st,
        dir.path(),
        &[
            "run",
            "app.py",
            "--server.port",
            &kept.to_string(),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
        ],
        &[("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")],
    );
    wait_until("streamlit on the LAN", Duration::from_secs(120), || {
        pair.client_reaches(&pair.server_addr, port)
    });
    wait_local(&pair, "streamlit on loopback", kept, &held);
    assert_eq!(lan_status(&pair, port, "/_stcore/health", None), "200");
    assert!(!pair.client_reaches(&pair.server_addr, kept));

    let snap = snapshot(&[]);
    let p1 = check(
        &snap,
        &Expect {
            product: "streamlit",
            port,
            lan: true,
            finding: true,
        },
        &open.log_text(),
    );
    let p2 = judged(&snap, "streamlit", kept, (false, false), &held);
    assert_eq!(switch_state(&snap, p1, "streamlit-usage-stats"), "on");
    assert_eq!(switch_state(&snap, p2, "streamlit-usage-stats"), "off");
}

const MARIMO_NOTEBOOK: &str = "import marimo\n\napp = marimo.App()\n\n\n@app.cell\ndef _():\n    x = 1\n    return (x,)\n\n\nif __name__ == \"__main__\":\n    app.run()\n";

#[test]
fn marimo_token_on_by_default_and_no_token_is_an_open_editor() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("nb.py"), MARIMO_NOTEBOOK);
    let marimo = venv_bin("marimo");
    let (guarded, open_port) = (7921, 7922);
    let args = |port: u16, extra: &[&'static str]| {
        let mut a: Vec<String> = [
            "edit",
            "nb.py",
            "--headless",
            "--skip-update-check",
            "--host",
            "0.0.0.0",
            "-p",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.push(port.to_string());
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let a1 = args(guarded, &[]);
    let a2 = args(open_port, &["--no-token"]);
    let with_token = start(
        &pair.server,
        &marimo,
        dir.path(),
        &a1.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    );
    let without = start(
        &pair.server,
        &marimo,
        dir.path(),
        &a2.iter().map(String::as_str).collect::<Vec<_>>(),
        &[],
    );
    wait_until("both marimo editors", Duration::from_secs(120), || {
        pair.client_reaches(&pair.server_addr, guarded)
            && pair.client_reaches(&pair.server_addr, open_port)
    });
    // Measured from the LAN: the API refuses a client without the token, and
    // answers one when the token is off.
    assert_lan(&pair, guarded, "/api/status", "401", &with_token);
    assert_lan(&pair, open_port, "/api/status", "200", &without);

    let snap = snapshot(&[]);
    let p1 = judged(&snap, "marimo_edit", guarded, (true, false), &with_token);
    judged(&snap, "marimo_edit", open_port, (true, true), &without);
    assert_eq!(server_on(&snap, guarded)["auth"]["state"], "configured");
    assert_eq!(
        server_on(&snap, open_port)["auth"]["state"],
        "not_configured"
    );
    // Started with --skip-update-check.
    assert_eq!(switch_state(&snap, p1, "marimo-update-check"), "off");

    // The editor printed its token to its output, a file under /tmp that every
    // local user can read (as a `nohup` or a service log often is): for them
    // the token-guarded editor is open.
    let log = with_token.log_text();
    let token = log
        .split("access_token=")
        .nth(1)
        .map(|t| {
            t.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect::<String>()
        })
        .filter(|t| t.len() >= 16)
        .unwrap_or_else(|| panic!("no token printed: {log}"));
    let printed = |snap: &Value| -> Vec<Value> {
        snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| {
                f["rule"] == "exposure.token-in-readable-output"
                    && f["subject"]["pid"] == u64::from(with_token.pid)
            })
            .cloned()
            .collect()
    };
    let f = printed(&snap);
    assert_eq!(f.len(), 1, "{:#}", snap["findings"]);
    assert_eq!(f[0]["severity"], "high");
    let where_ = with_token.log.to_str().expect("utf-8");
    assert_eq!(f[0]["subject"]["path"], where_, "{:#}", f[0]);
    assert!(
        evidence_text(&f[0]).contains(&format!("{where_}:")),
        "{:#}",
        f[0]
    );
    assert!(
        !snap.to_string().contains(&token),
        "the printed token leaked"
    );
    // The editor without a token printed none: nothing to find there.
    assert!(
        snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| {
                f["rule"] != "exposure.token-in-readable-output"
                    || f["subject"]["pid"] != u64::from(without.pid)
            }),
        "{:#}",
        snap["findings"]
    );

    // Only its user may read the file now: the token is its own again.
    std::fs::set_permissions(
        &with_token.log,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    let snap = snapshot(&[]);
    assert!(printed(&snap).is_empty(), "{:#}", snap["findings"]);
}

#[test]
fn chroma_on_localhost_by_default_and_open_on_every_interface() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let chroma = venv_bin("chroma");
    let (port, open_port) = (7931, 7932);
    let p1 = dir.path().join("db1");
    let p2 = dir.path().join("db2");
    let quiet = start(
        &pair.server,
        &chroma,
        dir.path(),
        &[
            "run",
            "--path",
            p1.to_str().expect("utf-8"),
            "--port",
            &port.to_string(),
        ],
        &[],
    );
    let open = start(
        &pair.server,
        &chroma,
        dir.path(),
        &[
            "run",
            "--path",
            p2.to_str().expect("utf-8"),
            "--port",
            &open_port.to_string(),
            "--host",
            "0.0.0.0",
        ],
        &[],
    );
    let (_snap, pid) = held_and_open(
        &pair,
        "chroma",
        (&quiet, port),
        (&open, open_port),
        "/api/v2/heartbeat",
    );
    assert_eq!(pid, u64::from(open.pid));
    assert_eq!(local_status(&pair, port, "/api/v2/heartbeat"), "200");
}

#[test]
fn mlflow_open_by_default_and_basic_auth_demands_credentials() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let mlflow = venv_bin("mlflow");
    let (open_port, auth_port) = (7941, 7942);
    let db = |name: &str| format!("sqlite:///{}", dir.path().join(name).display());
    let (db1, db2) = (db("open.db"), db("auth.db"));
    let auth_db = db("users.db");
    let ini = dir.path().join("basic_auth.ini");
    write(
        &ini,
        format!(
            "[mlflow]\ndefault_permission = READ\ndatabase_uri = {auth_db}\nadmin_username = admin\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        ),
    );
    let secret = canary("mlflow-admin");
    let open = start(
        &pair.server,
        &mlflow,
        dir.path(),
        &[
            "server",
            "--host",
            "0.0.0.0",
            "--port",
            &open_port.to_string(),
            "--workers",
            "1",
            "--backend-store-uri",
            &db1,
        ],
        &[],
    );
    let guarded = start(
        &pair.server,
        &mlflow,
        dir.path(),
        &[
            "server",
            "--host",
            "0.0.0.0",
            "--port",
            &auth_port.to_string(),
            "--workers",
            "1",
            "--backend-store-uri",
            &db2,
            "--app-name",
            "basic-auth",
        ],
        &[
            ("MLFLOW_AUTH_CONFIG_PATH", ini.to_str().expect("utf-8")),
            ("MLFLOW_AUTH_ADMIN_PASSWORD", &secret),
            ("MLFLOW_FLASK_SERVER_SECRET_KEY", &secret),
            ("MLFLOW_DISABLE_TELEMETRY", "true"),
        ],
    );
    wait_until("both MLflow servers", Duration::from_secs(180), || {
        pair.client_reaches(&pair.server_addr, open_port)
            && pair.client_reaches(&pair.server_addr, auth_port)
    });
    let search = "/api/2.0/mlflow/experiments/search?max_results=1";
    let mut open_status = String::new();
    wait_until("MLflow answers", Duration::from_secs(60), || {
        open_status = lan_status(&pair, open_port, search, None);
        open_status != "000"
    });
    assert_eq!(open_status, "200", "{}", open.log_text());
    assert_lan(&pair, auth_port, search, "401", &guarded);

    let snap = snapshot(&[]);
    let p1 = judged(&snap, "mlflow", open_port, (true, true), &open);
    let p2 = judged(&snap, "mlflow", auth_port, (true, false), &guarded);
    // The web server is a uvicorn child of `mlflow server`: folded into it.
    assert_eq!(p1, u64::from(open.pid));
    assert_eq!(p2, u64::from(guarded.pid));
    assert_eq!(server_on(&snap, auth_port)["auth"]["state"], "configured");
    assert_eq!(switch_state(&snap, p1, "mlflow-telemetry"), "on");
    assert_eq!(switch_state(&snap, p2, "mlflow-telemetry"), "off");
    let text = snap.to_string();
    assert!(!text.contains(&secret), "the admin password leaked");
}

#[test]
fn aim_ui_on_loopback_by_default_and_open_on_every_interface() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let aim = venv_bin("aim");
    // One repository each: two `aim up` migrating one database at once race
    // (alembic: "table alembic_version already exists").
    let repo_of = |name: &str| {
        let repo = dir.path().join(name);
        std::fs::create_dir_all(&repo).expect("mkdir");
        let out = std::process::Command::new(&aim)
            .args(["init", "--repo"])
            .arg(&repo)
            .env("HOME", dir.path())
            .output()
            .expect("aim init");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        repo.to_str().expect("utf-8").to_string()
    };
    let (quiet_repo, open_repo) = (repo_of("repo1"), repo_of("repo2"));
    let (port, open_port) = (7951, 7952);
    let quiet = start(
        &pair.server,
        &aim,
        dir.path(),
        &[
            "up",
            "--repo",
            &quiet_repo,
            "-p",
            &port.to_string(),
            "-w",
            "1",
        ],
        &[],
    );
    let open = start(
        &pair.server,
        &aim,
        dir.path(),
        &[
            "up",
            "--repo",
            &open_repo,
            "-p",
            &open_port.to_string(),
            "-w",
            "1",
            "-h",
            "0.0.0.0",
        ],
        &[],
    );
    let (snap, p2) = held_and_open(
        &pair,
        "aim",
        (&quiet, port),
        (&open, open_port),
        "/api/projects/",
    );
    // `aim up` starts uvicorn as a child: one server each, the parent's pid.
    assert_eq!(p2, u64::from(open.pid));
    assert_eq!(server_on(&snap, port)["pid"], u64::from(quiet.pid));
}

#[test]
fn ray_dashboard_open_without_a_token_and_demanding_one_with_it() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let ray = venv_bin("ray");
    let token = canary("ray-token");
    let addr = pair.server_addr.clone();
    let head = |gcs: u16, dash: u16, client: u16, tmp: &str| -> Vec<String> {
        [
            "start",
            "--head",
            "--block",
            "--node-ip-address",
            &addr,
            "--port",
            &gcs.to_string(),
            "--dashboard-host",
            "0.0.0.0",
            "--dashboard-port",
            &dash.to_string(),
            "--ray-client-server-port",
            &client.to_string(),
            "--num-cpus",
            "1",
            "--object-store-memory",
            "80000000",
            "--temp-dir",
            tmp,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let t1 = dir.path().join("r1");
    let a1 = head(7961, 7962, 7963, t1.to_str().expect("utf-8"));
    let open = start(
        &pair.server,
        &ray,
        dir.path(),
        &a1.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("RAY_USAGE_STATS_ENABLED", "1")],
    );
    wait_until("the open Ray dashboard", Duration::from_secs(240), || {
        lan_status(&pair, 7962, "/api/version", None) == "200"
    });
    let snap = snapshot(&[]);
    let p = judged(&snap, "ray_serve", 7962, (true, true), &open);
    assert_eq!(switch_state(&snap, p, "ray-usage-stats"), "on");
    drop(open);

    let t2 = dir.path().join("r2");
    let a2 = head(7971, 7972, 7973, t2.to_str().expect("utf-8"));
    let guarded = start(
        &pair.server,
        &ray,
        dir.path(),
        &a2.iter().map(String::as_str).collect::<Vec<_>>(),
        &[
            ("RAY_AUTH_MODE", "token"),
            ("RAY_AUTH_TOKEN", &token),
            ("RAY_USAGE_STATS_ENABLED", "0"),
        ],
    );
    wait_until(
        "the guarded Ray dashboard",
        Duration::from_secs(240),
        || lan_status(&pair, 7972, "/api/version", None) == "401",
    );
    let auth = format!("Authorization: Bearer {token}");
    assert_eq!(lan_status(&pair, 7972, "/api/version", Some(&auth)), "200");
    let snap = snapshot(&[]);
    let p = judged(&snap, "ray_serve", 7972, (true, false), &guarded);
    assert_eq!(switch_state(&snap, p, "ray-usage-stats"), "off");
    assert!(!snap.to_string().contains(&token), "the Ray token leaked");
}

const BENTO_SERVICE: &str = "import bentoml\n\n\n@bentoml.service\nclass Demo:\n    @bentoml.api\n    def echo(self, text: str) -> str:\n        return text\n";

#[test]
fn bentoml_serves_every_interface_by_default_from_its_worker() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("service.py"), BENTO_SERVICE);
    let bento = serving_bin("bentoml");
    let (open_port, kept) = (7981, 7982);
    let open = start(
        &pair.server,
        &bento,
        dir.path(),
        &["serve", "service:Demo", "--port", &open_port.to_string()],
        &[],
    );
    let held = start(
        &pair.server,
        &bento,
        dir.path(),
        &[
            "serve",
            "service:Demo",
            "--port",
            &kept.to_string(),
            "--host",
            "127.0.0.1",
        ],
        &[("BENTOML_DO_NOT_TRACK", "true")],
    );
    wait_until("bentoml on the LAN", Duration::from_secs(120), || {
        pair.client_reaches(&pair.server_addr, open_port)
    });
    wait_local(&pair, "bentoml on loopback", kept, &held);
    assert_lan(&pair, open_port, "/schema.json", "200", &open);
    assert!(!pair.client_reaches(&pair.server_addr, kept));
    // The worker that answers must be up before the snapshot's probe.
    wait_until("bentoml worker", Duration::from_secs(60), || {
        local_status(&pair, kept, "/schema.json") == "200"
    });

    let snap = snapshot(&[]);
    let p1 = judged(&snap, "bentoml", open_port, (true, true), &open);
    let p2 = judged(&snap, "bentoml", kept, (false, false), &held);
    assert_eq!(p1, u64::from(open.pid));
    let s = server_on(&snap, open_port);
    assert_eq!(s["auth"]["state"], "unsupported", "{:#}", s["auth"]);
    // The port is the arbiter's and its worker's at once: one server, the
    // worker folded into it, not a second server or an unowned socket.
    let workers = s["workers"].as_array().cloned().unwrap_or_default();
    assert!(!workers.is_empty(), "worker not folded in: {s:#}");
    assert_eq!(switch_state(&snap, p1, "bentoml-usage-stats"), "on");
    assert_eq!(switch_state(&snap, p2, "bentoml-usage-stats"), "off");
}

const LANGSERVE_APP: &str = r#"import os
import sys

import uvicorn
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import APIKeyHeader
from langchain_core.runnables import RunnableLambda
from langserve import add_routes

header = APIKeyHeader(name="x-api-key", auto_error=False)


def require_key(key: str | None = Depends(header)):
    if key != os.environ["ECHO_API_KEY"]:
        raise HTTPException(status_code=401, detail="missing or wrong api key")


guarded = [Depends(require_key)] if os.environ.get("ECHO_API_KEY") else []
app = FastAPI(title="echo", dependencies=guarded)
add_routes(app, RunnableLambda(lambda x: x), path="/echo")

if __name__ == "__main__":
    uvicorn.run(app, host=sys.argv[1], port=int(sys.argv[2]))
"#;

/// LangServe has no auth of its own: the app's dependency is its auth, and only
/// the listener's answer can tell. The generic probe reads the OpenAPI document
/// FastAPI serves to anyone: security schemes declared or not.
#[test]
fn langserve_auth_is_what_its_listener_answers() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("app.py"), LANGSERVE_APP);
    let python = serving_bin("python");
    let (open_port, guarded) = (7991, 7992);
    let open = start(
        &pair.server,
        &python,
        dir.path(),
        &["app.py", "0.0.0.0", &open_port.to_string()],
        &[],
    );
    let key = format!("lsk-{}", std::process::id());
    let with_key = start(
        &pair.server,
        &python,
        dir.path(),
        &["app.py", "0.0.0.0", &guarded.to_string()],
        &[("ECHO_API_KEY", &key)],
    );
    wait_until("both LangServe apps", Duration::from_secs(120), || {
        pair.client_reaches(&pair.server_addr, open_port)
            && pair.client_reaches(&pair.server_addr, guarded)
    });
    assert_lan(&pair, open_port, "/echo/input_schema", "200", &open);
    assert_lan(&pair, guarded, "/echo/input_schema", "401", &with_key);

    let snap = snapshot(&[]);
    judged(&snap, "langserve", open_port, (true, true), &open);
    judged(&snap, "langserve", guarded, (true, false), &with_key);
    let verdict = |port: u16| {
        let s = server_on(&snap, port);
        let idx = socket_on(&snap, s, port);
        snap["probe_verdicts"]
            .as_array()
            .expect("probe_verdicts")
            .iter()
            .find(|v| v["socket"] == idx)
            .map(|v| v["auth"].clone())
            .unwrap_or_default()
    };
    assert_eq!(verdict(open_port), "answers_without_credentials");
    assert_eq!(verdict(guarded), "demands_auth");
    assert!(!serde_json::to_string(&snap).expect("json").contains(&key));
}

const AGS_AUTH: &str = "type: github\njwt_secret: ags-test-jwt-secret-not-used\ntoken_expiry_minutes: 60\ngithub:\n  client_id: test-client\n  client_secret: test-secret\n  callback_url: http://127.0.0.1/api/auth/callback\n  scopes: [\"user:email\"]\n";

/// An agent builder's control API: its requests build and run agents whose
/// tools act on the host. Loopback by default; on every interface without an
/// auth config it answers anyone; with one, its API demands a token.
#[test]
fn autogen_studio_is_open_without_an_auth_config_and_demands_a_token_with_one() {
    let pair = VethPair::new();
    let ags = serving_bin("autogenstudio");
    // One home each: the CLI hands its settings to the app through a file there.
    let homes: Vec<tempfile::TempDir> = (0..3)
        .map(|_| tempfile::tempdir().expect("tempdir"))
        .collect();
    write(&homes[2].path().join("auth.yaml"), AGS_AUTH);
    let (quiet_port, open_port, guarded) = (7881, 7882, 7883);
    let app = |i: usize| homes[i].path().join("app").to_string_lossy().into_owned();
    let quiet = start(
        &pair.server,
        &ags,
        homes[0].path(),
        &["ui", "--port", &quiet_port.to_string(), "--appdir", &app(0)],
        &[],
    );
    let open = start(
        &pair.server,
        &ags,
        homes[1].path(),
        &[
            "ui",
            "--host",
            "0.0.0.0",
            "--port",
            &open_port.to_string(),
            "--appdir",
            &app(1),
        ],
        &[],
    );
    let auth_file = homes[2].path().join("auth.yaml");
    let with_auth = start(
        &pair.server,
        &ags,
        homes[2].path(),
        &[
            "ui",
            "--host",
            "0.0.0.0",
            "--port",
            &guarded.to_string(),
            "--appdir",
            &app(2),
            "--auth-config",
            auth_file.to_str().expect("utf-8"),
        ],
        &[],
    );
    let sessions = "/api/sessions/?user_id=guestuser@gmail.com";
    let (snap, pid) = held_and_open(
        &pair,
        "autogenstudio",
        (&quiet, quiet_port),
        (&open, open_port),
        sessions,
    );
    assert_eq!(pid, u64::from(open.pid));
    wait_until("guarded AutoGen Studio", Duration::from_secs(120), || {
        pair.client_reaches(&pair.server_addr, guarded)
    });
    assert_lan(&pair, guarded, sessions, "401", &with_auth);
    let s = server_on(&snap, open_port);
    assert_eq!(s["auth"]["state"], "not_configured", "{:#}", s["auth"]);

    let snap = snapshot(&[]);
    judged(&snap, "autogenstudio", guarded, (true, false), &with_auth);
    assert_eq!(server_on(&snap, guarded)["auth"]["state"], "configured");
}

/// Auth that anyone can grant themselves is no auth. Langflow 1.13, three ways:
/// auto-login with authentication skipped (its public config answers a caller
/// without credentials as signed in), auto-login alone (the API refuses an
/// anonymous caller, yet GET /api/v1/auto_login hands anyone a superuser token)
/// and its default with a superuser password (nothing without credentials).
#[test]
fn langflow_auto_login_is_no_auth_even_where_the_api_refuses() {
    let pair = VethPair::new();
    let langflow = langflow_bin("langflow");
    let homes: Vec<tempfile::TempDir> = (0..3)
        .map(|_| tempfile::tempdir().expect("tempdir"))
        .collect();
    let (skipped, auto, guarded) = (7871, 7872, 7873);
    let password = canary("lfpw");
    let run = |i: usize, port: u16, envs: &[(&str, &str)]| {
        let cfg = homes[i].path().join("cfg");
        // Its database defaults to the package directory, shared by every instance.
        let mut all: Vec<(&str, &str)> = vec![
            ("LANGFLOW_CONFIG_DIR", cfg.to_str().expect("utf-8")),
            ("LANGFLOW_SAVE_DB_IN_CONFIG_DIR", "true"),
        ];
        all.extend_from_slice(envs);
        start(
            &pair.server,
            &langflow,
            homes[i].path(),
            &[
                "run",
                "--host",
                "0.0.0.0",
                "--port",
                &port.to_string(),
                "--no-open-browser",
            ],
            &all,
        )
    };
    let a = run(
        0,
        skipped,
        &[
            ("LANGFLOW_AUTO_LOGIN", "true"),
            ("LANGFLOW_SKIP_AUTH_AUTO_LOGIN", "true"),
        ],
    );
    let b = run(
        1,
        auto,
        &[("LANGFLOW_AUTO_LOGIN", "true"), ("DO_NOT_TRACK", "true")],
    );
    let c = run(
        2,
        guarded,
        &[
            ("LANGFLOW_SUPERUSER", "admin"),
            ("LANGFLOW_SUPERUSER_PASSWORD", &password),
            ("DO_NOT_TRACK", "true"),
        ],
    );
    for (port, r) in [(skipped, &a), (auto, &b), (guarded, &c)] {
        let mut n = 0;
        wait_until("langflow", Duration::from_secs(240), || {
            n += 1;
            let up = lan_status(&pair, port, "/api/v1/version", None) == "200";
            assert!(n < 2000 || up, "{}", r.log_text());
            up
        });
    }
    // Measured from the LAN, without credentials (the superuser the first
    // serves as is created a little after the API answers).
    let projects = "/api/v1/projects/";
    let mut last = String::new();
    wait_until(
        "langflow serving without credentials",
        Duration::from_secs(60),
        || {
            last = lan_status(&pair, skipped, projects, None);
            last == "200"
        },
    );
    assert_eq!(last, "200", "{}", a.log_text());
    let refused = |code: String| code == "401" || code == "403";
    assert!(refused(lan_status(&pair, auto, projects, None)));
    assert_eq!(
        lan_status(&pair, auto, "/api/v1/auto_login", None),
        "200",
        "anyone gets a superuser token: {}",
        b.log_text()
    );
    assert!(refused(lan_status(&pair, guarded, projects, None)));
    assert!(refused(lan_status(
        &pair,
        guarded,
        "/api/v1/auto_login",
        None
    )));

    // The probe allows 500 ms an answer: each path's first answer (imports done
    // lazily) and the three starting at once can take longer, so wait until
    // every instance answers its probe paths quickly, as one at rest does.
    for port in [skipped, auto, guarded] {
        wait_until("langflow at rest", Duration::from_secs(120), || {
            ["/api/v1/config", projects, "/api/v1/version"]
                .iter()
                .all(|p| answer_secs(&pair, port, p) < 0.2)
        });
    }
    let snap = snapshot(&[]);
    let pa = judged(&snap, "langflow", skipped, (true, true), &a);
    let pb = judged(&snap, "langflow", auto, (true, true), &b);
    judged(&snap, "langflow", guarded, (true, false), &c);
    for port in [skipped, auto] {
        let f = unauth_findings(&snap, port);
        assert!(
            f[0]["title"]
                .as_str()
                .is_some_and(|t| t.contains("anyone can let themselves in")),
            "{:#}",
            f[0]
        );
    }
    // The first was told by its own public answer, the second by its setting.
    let s = server_on(&snap, skipped);
    let idx = socket_on(&snap, s, skipped);
    let verdict = snap["probe_verdicts"]
        .as_array()
        .expect("probe_verdicts")
        .iter()
        .find(|v| v["socket"] == idx)
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        verdict["auth"], "answers_without_credentials",
        "{verdict:#}"
    );
    assert!(!verdict["self_grant"].as_array().is_none_or(Vec::is_empty));
    let s = server_on(&snap, auto);
    assert!(
        s["auth"]["self_grant"][0]
            .as_str()
            .is_some_and(|g| g.starts_with("LANGFLOW_AUTO_LOGIN is on")),
        "{:#}",
        s["auth"]
    );
    assert_eq!(switch_state(&snap, pa, "langflow-telemetry"), "on");
    assert_eq!(switch_state(&snap, pb, "langflow-telemetry"), "off");
    assert!(
        !serde_json::to_string(&snap)
            .expect("json")
            .contains(&password)
    );
}

const KSERVE_MODEL: &str = "from kserve import Model, ModelServer\n\n\nclass Echo(Model):\n    def __init__(self):\n        super().__init__(\"echo\")\n        self.ready = True\n\n    def predict(self, payload, headers=None):\n        return payload\n\n\nif __name__ == \"__main__\":\n    ModelServer().start([Echo()])\n";

/// KServe's model server has no bind option and no auth: HTTP and gRPC on every
/// interface, each its own finding; without gRPC one port fewer, never one
/// judged safe.
#[test]
fn kserve_serves_http_and_grpc_on_every_interface() {
    let pair = VethPair::new();
    let dir = tempfile::tempdir().expect("tempdir");
    write(&dir.path().join("model.py"), KSERVE_MODEL);
    let python = kserve_bin("python");
    let (http, grpc) = (7861, 7862);
    let (http_only, unused_grpc) = (7863, 7864);
    let both = start(
        &pair.server,
        &python,
        dir.path(),
        &[
            "model.py",
            "--http_port",
            &http.to_string(),
            "--grpc_port",
            &grpc.to_string(),
        ],
        &[],
    );
    let one = start(
        &pair.server,
        &python,
        dir.path(),
        &[
            "model.py",
            "--http_port",
            &http_only.to_string(),
            "--grpc_port",
            &unused_grpc.to_string(),
            "--enable_grpc",
            "false",
        ],
        &[],
    );
    wait_until("both KServe servers", Duration::from_secs(120), || {
        pair.client_reaches(&pair.server_addr, grpc)
            && pair.client_reaches(&pair.server_addr, http_only)
    });
    assert_lan(&pair, http, "/v1/models", "200", &both);
    assert_lan(&pair, http_only, "/v1/models", "200", &one);
    assert!(!pair.client_reaches(&pair.server_addr, unused_grpc));

    let snap = snapshot(&[]);
    let p1 = judged(&snap, "kserve", http, (true, true), &both);
    let p2 = judged(&snap, "kserve", grpc, (true, true), &both);
    assert_eq!(p1, p2, "one server holds both ports");
    assert_eq!(p1, u64::from(both.pid));
    judged(&snap, "kserve", http_only, (true, true), &one);
    let s = server_on(&snap, http);
    assert_eq!(s["auth"]["state"], "unsupported", "{:#}", s["auth"]);
    let idx = socket_on(&snap, s, http);
    let v = snap["probe_verdicts"]
        .as_array()
        .expect("probe_verdicts")
        .iter()
        .find(|v| v["socket"] == idx)
        .cloned()
        .unwrap_or_default();
    assert_eq!(v["identity"], "confirmed", "{v:#}");
    assert_eq!(v["version"], "0.21.0", "{v:#}");
    assert_eq!(v["auth"], "answers_without_credentials", "{v:#}");
}
