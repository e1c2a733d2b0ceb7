//! The joins beyond llama-server: files held open (not mapped) recognised by
//! content whatever their name, worker processes folded into their server, and
//! IPv6, IPv4-mapped and UDP sockets inside a namespace. The process is a
//! stand-in with a llama-cpp-python command line (tests/support/standin_server.py).

mod support;

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

#[test]
fn held_files_workers_and_socket_families_are_joined() {
    let ns = Netns::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let pkg = dir.path().join("pkg/llama_cpp/server");
    std::fs::create_dir_all(&pkg).expect("mkdir");
    std::fs::write(dir.path().join("pkg/llama_cpp/__init__.py"), "").expect("init");
    std::fs::write(pkg.join("__init__.py"), "").expect("init");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/standin_server.py"
        ),
        pkg.join("__main__.py"),
    )
    .expect("copy");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("mkdir");

    let mut cmd = ns.command(python());
    cmd.args(["-m", "llama_cpp.server", "--host", "::", "--port", "9000"])
        .env("PYTHONPATH", dir.path().join("pkg"))
        .env("STANDIN_DIR", &data)
        .env("STANDIN_GGUF", tiny_gguf())
        .stdin(Stdio::null())
        .process_group(0);
    let g = Group(cmd.spawn().expect("spawn stand-in"));
    let pid = g.0.id();
    wait_until("stand-in ready", Duration::from_secs(30), || {
        data.join("ready").exists()
    });
    let worker: u32 = std::fs::read_to_string(data.join("ready"))
        .expect("ready")
        .trim()
        .parse()
        .expect("worker pid");

    let snap = snapshot(&[]);
    let servers = servers_with_pid(&snap, pid);
    assert_eq!(servers.len(), 1, "stand-in not identified: {snap:#}");
    let s = servers[0];
    assert_eq!(s["product_id"], "llama_cpp_python");
    let workers: Vec<u64> = s["workers"]
        .as_array()
        .expect("workers")
        .iter()
        .filter_map(|w| w["pid"].as_u64())
        .collect();
    assert!(
        workers.contains(&u64::from(worker)),
        "worker {worker} not folded: {workers:?}"
    );
    assert!(
        servers_with_pid(&snap, worker).is_empty(),
        "worker counted as a server of its own"
    );

    // Models held open, recognised by content: the GGUF is called renamed.bin.
    let models = s["models"].as_array().expect("models");
    let kind_of = |name: &str| -> Value {
        models
            .iter()
            .find(|m| m["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .map(|m| m["format"]["kind"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(kind_of("weights.npy"), "numpy", "{models:#?}");
    assert_eq!(kind_of("adapter.safetensors"), "safetensors", "{models:#?}");
    assert_eq!(kind_of("model.pt"), "pickle", "{models:#?}");
    assert_eq!(kind_of("renamed.bin"), "gguf", "{models:#?}");
    // Read from their headers: provenance of the GGUF, imports of the pickles.
    let analysis = |name: &str| -> Value {
        models
            .iter()
            .find(|m| m["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .map(|m| m["analysis"].clone())
            .unwrap_or(Value::Null)
    };
    assert_eq!(analysis("renamed.bin")["metadata"]["architecture"], "llama");
    assert_eq!(analysis("model.pt")["pickle"]["verdict"], "safe");
    assert_eq!(analysis("evil.pt")["pickle"]["verdict"], "dangerous");
    let evil = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "models.pickle-code-execution" && f["subject"]["pid"] == pid)
        .cloned()
        .unwrap_or_else(|| panic!("no finding for the dangerous checkpoint"));
    assert_eq!(
        evil["severity"], "critical",
        "loaded by a running server: {evil:#}"
    );
    assert!(evil["evidence"].to_string().contains("system"), "{evil:#}");
    // A GGUF named .bin: the name lies about the content.
    assert!(
        snap["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule"] == "models.extension-mismatch"
                && f["subject"]["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("renamed.bin"))),
        "no finding for the GGUF named .bin"
    );
    assert!(
        models
            .iter()
            .all(|m| m["held_via"] == serde_json::json!(["fd"]))
    );

    // Sockets: [::]:9000 listening, the accepted IPv4-mapped peer, UDP 127.0.0.1:9001.
    let socks: Vec<Value> = s["sockets"]
        .as_array()
        .expect("sockets")
        .iter()
        .map(|i| socket(&snap, i))
        .collect();
    let has = |pred: &dyn Fn(&Value) -> bool| socks.iter().any(pred);
    assert!(
        has(&|x| x["protocol"] == "tcp"
            && x["state"] == "listen"
            && x["local"]["addr"] == "::"
            && x["local"]["port"] == 9000),
        "{socks:#?}"
    );
    assert!(
        has(&|x| x["state"] == "established"
            && x["local"]["addr"] == "127.0.0.1"
            && x["local"]["v4_mapped"] == true),
        "{socks:#?}"
    );
    assert!(
        has(&|x| x["protocol"] == "udp" && x["state"] == "udp_bound" && x["local"]["port"] == 9001),
        "{socks:#?}"
    );
    assert!(socks.iter().all(|x| x["netns"] == s["netns"]));
    assert_ne!(s["netns"], snap["inventory"]["own_netns"]);

    let f = snap["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["subject"]["pid"] == pid && f["rule"] == "exposure.unauthenticated-listener")
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(f["subject"]["listener"], "[::]:9000/tcp", "{f:#}");
}

/// Without CAP_SYS_ADMIN aiposture cannot join another namespace to dump its
/// sockets; it reads the same rows from /proc/PID/net/* of a member process.
/// An unprivileged user's own user+network namespace exercises exactly that.
#[test]
fn unprivileged_namespace_sockets_come_from_proc_tables() {
    let as_nobody = |c: &mut Command| {
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .env("HOME", "/tmp");
    };
    let port = 7000 + (std::process::id() % 1000) as u16;
    let mut inner = Command::new("setpriv");
    as_nobody(&mut inner);
    inner
        .args(["unshare", "-rn", "sh", "-c"])
        .arg(format!(
            // perl-base, not python: /root's pyenv is not readable by nobody.
            "ip link set lo up; exec perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(LocalAddr => \"127.0.0.1:{port}\", Listen => 5) or die; sleep 120'"
        ))
        .stdin(Stdio::null())
        .process_group(0);
    let g = Group(inner.spawn().expect("spawn"));
    let mut found = Value::Null;
    wait_until(
        "the namespaced listener to be seen",
        Duration::from_secs(20),
        || {
            let mut c = Command::new("setpriv");
            as_nobody(&mut c);
            let out = c
                .arg(bin_for_others())
                .arg("snapshot")
                .output()
                .expect("run");
            let snap: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
            if let Some(s) = snap["inventory"]["sockets"].as_array().and_then(|v| {
                v.iter()
                    .find(|s| s["local"]["port"] == port && s["state"] == "listen")
            }) {
                found = serde_json::json!({"socket": s, "own": snap["inventory"]["own_netns"]});
                return true;
            }
            false
        },
    );
    let s = &found["socket"];
    let pid = s["owner"]["pids"][0].as_u64().expect("owner joined");
    assert_eq!(
        support::source_text(&s["source"]),
        format!("/proc/{pid}/net/tcp"),
        "{found:#}"
    );
    assert_ne!(s["netns"], found["own"], "{found:#}");
    assert_eq!(s["uid"], 65534);
    drop(g);
}
