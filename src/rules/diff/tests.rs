use super::*;
use crate::model::components::Component;
use crate::model::events::{Event, EventKind};
use crate::model::metadata::{ChatTemplate, ModelMetadata};
use crate::model::privacy::Egress;
use crate::model::privacy::{
    Destination, PrivacyRole, ProcessPrivacy, Switch, SwitchKind, SwitchState,
};
use crate::model::testing::{inventory, loaded_model, server};
use crate::model::{
    AuthState, Evidence, FileHash, Finding, ListenerExposure, ModelAnalysis, ProbeAuth,
    ProbeVerdict, Protocol, Reach, Server, Severity, Snapshot, Socket, StoreFile,
};
use crate::model::{
    BindScope, Endpoint, HashingNow, Integrity, ModelFormat, ProbeIdentity, SCHEMA_VERSION, Scores,
    SocketOwner, SocketState, StoreKind, Subject, ToolInfo,
};

fn snap(inv: crate::model::Inventory) -> Snapshot {
    Snapshot {
        schema_version: SCHEMA_VERSION,
        tool: ToolInfo {
            name: "aiposture".into(),
            version: "0".into(),
            mode: "passive".into(),
        },
        inventory: inv,
        exposures: vec![],
        probe_verdicts: vec![],
        findings: vec![],
        scores: Scores {
            host: 100,
            servers: vec![],
            coverage: Default::default(),
        },
        patch: Default::default(),
        privacy: Default::default(),
        timeline: None,
        suppressed: vec![],
    }
}

fn listener(addr: &str, port: u16, pid: u32, inode: u64) -> Socket {
    Socket {
        protocol: Protocol::Tcp,
        local: Endpoint {
            addr: addr.parse().expect("test address"),
            port,
            v4_mapped: false,
        },
        remote: None,
        state: SocketState::Listen,
        inode,
        uid: 0,
        netns: None,
        source: crate::model::Source::from_v1("sock_diag"),
        owner: SocketOwner::Processes {
            pids: vec![pid],
            comm: "llama-server".into(),
        },
    }
}

fn exposure(socket: usize, reach: Reach) -> ListenerExposure {
    ListenerExposure {
        socket,
        scope: BindScope::Loopback,
        other_netns: false,
        reach,
        summary: format!("{} (test)", reach.label()),
        chain: vec![],
        published_on: vec![],
    }
}

fn llama(pid: u32) -> Server {
    let mut s = server(pid, "llama_server");
    s.exe = Some("/usr/bin/llama-server".into());
    s
}

/// A llama-server pid `pid` on `addr`:8080 with the given reach (socket index 0).
fn one_server(pid: u32, addr: &str, reach: Reach) -> Snapshot {
    let mut inv = inventory();
    let mut s = llama(pid);
    s.sockets = vec![0];
    inv.servers.push(s);
    inv.sockets
        .push(listener(addr, 8080, pid, 1000 + pid as u64));
    let mut sn = snap(inv);
    sn.exposures.push(exposure(0, reach));
    sn
}

fn kinds(events: &[Event]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind).collect()
}

fn component(key: &str, version: &str) -> Component {
    crate::model::testing::pypi_component(key, version)
}

fn known(h: &str) -> FileHash {
    FileHash::Known { sha256: h.into() }
}

fn with_template(h: &str) -> ModelAnalysis {
    ModelAnalysis {
        metadata: Some(ModelMetadata {
            chat_template: Some(ChatTemplate {
                sha256: h.into(),
                length: 10,
                excerpt: "{{ x }}".into(),
                ssti_markers: vec![],
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn switch(id: &str, state: SwitchState) -> Switch {
    Switch {
        id: id.into(),
        name: id.into(),
        kind: SwitchKind::Telemetry,
        state,
        endpoint: "https://telemetry.example".into(),
        applies_because: "product".into(),
        still_sends: None,
        evidence: vec![Evidence::new(
            crate::model::Source::from_v1("/proc/1/environ"),
            "DO_NOT_TRACK unset",
        )],
        remediation: "set DO_NOT_TRACK=1".into(),
        source: "doc".into(),
    }
}

fn egress_to(remote: &str, first_seen: &str) -> Egress {
    Egress {
        protocol: Protocol::Tcp,
        remote: remote.parse().expect("test address"),
        port: 443,
        destination: Destination::Public,
        attribution: None,
        connections: 1,
        first_seen: first_seen.into(),
        evidence: vec![Evidence::new(
            crate::model::Source::from_v1("/proc/net/tcp"),
            format!("{remote}:443"),
        )],
    }
}

fn privacy_of(pid: u32, switches: Vec<Switch>, egress: Vec<Egress>) -> ProcessPrivacy {
    ProcessPrivacy {
        not_assessed: Vec::new(),
        pid,
        product: "llama.cpp server".into(),
        role: PrivacyRole::Server,
        switches,
        backends: vec![],
        tunnels: vec![],
        egress,
    }
}

fn finding(rule: &str, pid: u32, listener: Option<&str>) -> Finding {
    Finding {
        rule: rule.into(),
        severity: Severity::High,
        title: format!("pid {pid} answers without credentials"),
        subject: Subject {
            product: "llama_server".into(),
            pid,
            listener: listener.map(String::from),
            path: None,
        },
        summary: "s".into(),
        evidence: vec![Evidence::new(
            crate::model::Source::from_v1("/proc/net/tcp"),
            "row",
        )],
        remediation: "r".into(),
    }
}

/// A host with a bit of everything the diff compares.
fn rich(pid: u32) -> Snapshot {
    let mut sn = one_server(pid, "127.0.0.1", Reach::LoopbackOnly);
    let inv = &mut sn.inventory;
    let s = &mut inv.servers[0];
    let mut m = loaded_model("/m/a.gguf", pid);
    m.facts.hash = known("aa");
    m.facts.analysis = with_template("t1");
    s.models.push(m);
    s.components = vec![component("jinja2", "3.1.4"), component("torch", "2.5.1")];
    inv.store_files.push(StoreFile {
        store: StoreKind::Ollama,
        root: "/ollama".into(),
        reference: "registry.ollama.ai/library/llama3:8b".into(),
        path: "/ollama/blobs/sha256-bb".into(),
        size_bytes: Some(10),
        format: Some(ModelFormat::Gguf { version: 3 }),
        expected_sha256: Some("bb".into()),
        integrity: Integrity::Verified,
        problem: None,
        template_layer: None,
        license_layers: Vec::new(),
        config_layer: None,
        facts: crate::model::FileFacts {
            hash: known("bb"),
            access: vec![],
            ..Default::default()
        },
    });
    sn.probe_verdicts.push(ProbeVerdict {
        socket: 0,
        pid,
        identity: ProbeIdentity::Confirmed,
        version: None,
        auth: ProbeAuth::AnswersWithoutCredentials,
        listed: Some(1),
        open_paths: vec![],
        self_grant: vec![],
        evidence: vec![Evidence::new(
            crate::model::Source::from_v1("GET /v1/models"),
            "200",
        )],
    });
    sn.privacy.processes.push(privacy_of(
        pid,
        vec![switch("hf_telemetry", SwitchState::Off)],
        vec![egress_to("203.0.113.7", "2026-01-01T00:00:00Z")],
    ));
    sn.findings
        .push(finding("exposure.x", pid, Some("127.0.0.1:8080/tcp")));
    sn
}

#[test]
fn unchanged_host_gives_no_event_despite_noise() {
    let old = rich(812);
    let mut new = rich(812);
    // Everything that moves on an unchanged host.
    new.inventory.host.collected_at = "2026-01-01T00:00:02Z".into();
    new.inventory.host.collection_ms = 999;
    new.inventory.hashing.files_done = 7;
    new.inventory.hashing.current.push(HashingNow {
        path: "/m/b.gguf".into(),
        done_bytes: 1,
        size_bytes: 2,
    });
    new.privacy.processes[0].egress[0].first_seen = "2026-01-01T00:00:02Z".into();
    new.privacy.processes[0].egress[0].connections = 3;
    new.findings[0].title = "other wording, pid 4711".into();
    new.findings[0].subject.pid = 4711;
    new.probe_verdicts[0].evidence = vec![Evidence::new(
        crate::model::Source::from_v1("GET /v1/models"),
        "200 in 3 ms",
    )];
    // Socket indices reshuffled by another socket listed first, inode renumbered.
    new.inventory
        .sockets
        .insert(0, listener("10.0.0.1", 22, 1, 5));
    new.inventory.sockets[1].inode = 99;
    new.inventory.servers[0].sockets = vec![1];
    new.exposures = vec![exposure(1, Reach::LoopbackOnly)];
    new.probe_verdicts[0].socket = 1;
    // A probe not sent this round and a model being rehashed say nothing new.
    let mut pending = new.clone();
    pending.probe_verdicts[0].auth = ProbeAuth::Unknown;
    pending.inventory.servers[0].models[0].facts.hash = FileHash::Pending {
        why: "queued".into(),
    };
    pending.inventory.servers[0].models[0]
        .facts
        .analysis
        .metadata = None;
    assert_eq!(diff(&old, &new), vec![]);
    assert_eq!(diff(&old, &pending), vec![]);
    assert_eq!(diff(&old, &old), vec![]);
}

#[test]
fn restart_is_one_event_not_start_and_stop() {
    let old = rich(812);
    let new = rich(913);
    let ev = diff(&old, &new);
    assert_eq!(kinds(&ev), vec![EventKind::ServerRestarted], "{ev:#?}");
    assert_eq!(ev[0].before.as_deref(), Some("pid 812"));
    assert_eq!(ev[0].after.as_deref(), Some("pid 913"));
    assert_eq!(ev[0].severity, Severity::Info);
    assert_eq!(ev[0].time, "2026-01-01T00:00:00Z");
    assert_eq!(ev[0].evidence.len(), 2);
    assert!(
        ev[0].evidence[0]
            .source
            .to_string()
            .starts_with("old snapshot")
    );
}

#[test]
fn other_user_or_binary_is_another_server() {
    let old = one_server(812, "127.0.0.1", Reach::LoopbackOnly);
    let mut new = one_server(913, "127.0.0.1", Reach::LoopbackOnly);
    new.inventory.servers[0].uid = Some(1000);
    let ev = diff(&old, &new);
    let mut k = kinds(&ev);
    k.sort();
    assert_eq!(
        k,
        vec![
            EventKind::ServerStarted,
            EventKind::ServerStopped,
            EventKind::ListenerAdded,
            EventKind::ListenerRemoved
        ],
        "{ev:#?}"
    );
}

#[test]
fn rebind_is_one_rebound_plus_the_exposure_it_widened() {
    let old = one_server(812, "127.0.0.1", Reach::LoopbackOnly);
    let new = one_server(812, "0.0.0.0", Reach::Lan);
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![EventKind::ListenerRebound, EventKind::ExposureChanged],
        "{ev:#?}"
    );
    assert_eq!(ev[0].before.as_deref(), Some("127.0.0.1:8080/tcp"));
    assert_eq!(ev[0].after.as_deref(), Some("0.0.0.0:8080/tcp"));
    assert_eq!(ev[0].severity, Severity::Medium);
    assert_eq!(ev[0].subject.listener.as_deref(), Some("0.0.0.0:8080/tcp"));
    assert!(
        ev[0].evidence[0].detail.contains("127.0.0.1:8080/tcp")
            && ev[0].evidence[0].detail.contains("sock_diag"),
        "{:?}",
        ev[0].evidence
    );
    assert_eq!(ev[1].before.as_deref(), Some("loopback-only"));
    assert_eq!(ev[1].after.as_deref(), Some("LAN"));
    assert_eq!(ev[1].severity, Severity::High);
    // And back: narrower, lower.
    let back = diff(&new, &old);
    assert_eq!(back[0].severity, Severity::Info);
    assert_eq!(back[1].severity, Severity::Low);
}

#[test]
fn restart_on_another_address_is_restart_and_rebound() {
    let old = one_server(812, "127.0.0.1", Reach::LoopbackOnly);
    let new = one_server(913, "0.0.0.0", Reach::LoopbackOnly);
    let ev = diff(&old, &new);
    let mut k = kinds(&ev);
    k.sort();
    assert_eq!(
        k,
        vec![EventKind::ServerRestarted, EventKind::ListenerRebound],
        "{ev:#?}"
    );
}

#[test]
fn new_server_starts_with_its_listeners() {
    let old = snap(inventory());
    let new = one_server(812, "0.0.0.0", Reach::Public);
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![EventKind::ServerStarted, EventKind::ListenerAdded],
        "{ev:#?}"
    );
    assert_eq!(ev[0].severity, Severity::Low);
    assert!(
        ev[0]
            .after
            .as_deref()
            .is_some_and(|a| a.contains("0.0.0.0:8080/tcp")),
        "{:?}",
        ev[0].after
    );
    assert_eq!(ev[1].severity, Severity::Medium);
    assert_eq!(ev[1].after.as_deref(), Some("0.0.0.0:8080/tcp (PUBLIC)"));
    let gone = diff(&new, &old);
    assert_eq!(
        kinds(&gone),
        vec![EventKind::ServerStopped, EventKind::ListenerRemoved]
    );
    assert!(gone.iter().all(|e| e.severity == Severity::Info));
}

#[test]
fn listener_added_and_removed_on_other_ports() {
    let old = one_server(812, "127.0.0.1", Reach::LoopbackOnly);
    let mut new = old.clone();
    new.inventory.sockets[0] = listener("127.0.0.1", 9090, 812, 7);
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![EventKind::ListenerAdded, EventKind::ListenerRemoved],
        "{ev:#?}"
    );
    assert_eq!(
        ev[0].subject.listener.as_deref(),
        Some("127.0.0.1:9090/tcp")
    );
    assert_eq!(
        ev[1].subject.listener.as_deref(),
        Some("127.0.0.1:8080/tcp")
    );
    assert_eq!(ev[0].severity, Severity::Info);
}

#[test]
fn two_servers_of_one_identity_pair_by_port() {
    // Two llama-servers of one user on 8080 and 8081; both restarted.
    let two = |p1: u32, p2: u32| {
        let mut inv = inventory();
        let mut a = llama(p1);
        a.sockets = vec![0];
        let mut b = llama(p2);
        b.sockets = vec![1];
        // argv differ in the port only; sort order of old and new pids differ.
        a.cmdline = vec!["llama-server".into(), "--port".into(), "8080".into()];
        b.cmdline = vec!["llama-server".into(), "--port".into(), "8081".into()];
        inv.servers = vec![a, b];
        inv.sockets = vec![
            listener("127.0.0.1", 8080, p1, 1),
            listener("127.0.0.1", 8081, p2, 2),
        ];
        snap(inv)
    };
    let old = two(100, 200);
    let mut new = two(300, 250);
    // The 8081 one now also loaded a model.
    new.inventory.servers[1]
        .models
        .push(loaded_model("/m/b.gguf", 250));
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![
            EventKind::ServerRestarted,
            EventKind::ModelAdded,
            EventKind::ServerRestarted
        ],
        "{ev:#?}"
    );
    assert_eq!(ev[0].subject.pid, Some(250));
    assert_eq!(ev[0].before.as_deref(), Some("pid 200"));
    assert_eq!(ev[2].before.as_deref(), Some("pid 100"));
}

#[test]
fn auth_changes_from_config_and_from_probe() {
    let mut old = rich(812);
    old.inventory.servers[0].auth.state = AuthState::Configured;
    old.probe_verdicts[0].auth = ProbeAuth::DemandsAuth;
    let new = rich(812);
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![EventKind::AuthChanged, EventKind::AuthChanged],
        "{ev:#?}"
    );
    // Server-level (no listener) sorts first.
    assert_eq!(ev[0].subject.listener, None);
    assert_eq!(ev[0].before.as_deref(), Some("configured"));
    assert_eq!(ev[0].after.as_deref(), Some("not configured"));
    assert_eq!(ev[0].severity, Severity::High);
    assert_eq!(
        ev[1].subject.listener.as_deref(),
        Some("127.0.0.1:8080/tcp")
    );
    assert_eq!(ev[1].after.as_deref(), Some("answers without credentials"));
    assert_eq!(ev[1].severity, Severity::High);
    let back = diff(&new, &old);
    assert!(
        back.iter().all(|e| e.severity == Severity::Info),
        "{back:#?}"
    );
}

#[test]
fn model_swapped_and_template_changed() {
    let old = rich(812);
    let mut new = rich(812);
    let m = &mut new.inventory.servers[0].models[0];
    m.facts.hash = known("cc");
    m.facts.analysis = with_template("t2");
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![EventKind::ModelChanged, EventKind::TemplateChanged],
        "{ev:#?}"
    );
    assert_eq!(ev[0].subject.path.as_deref(), Some("/m/a.gguf"));
    assert_eq!(ev[0].before.as_deref(), Some("sha256 aa"));
    assert_eq!(ev[0].after.as_deref(), Some("sha256 cc"));
    assert_eq!(ev[0].severity, Severity::High);
    assert_eq!(ev[1].after.as_deref(), Some("chat template sha256 t2"));
    // Replaced on disk while held: changed, before any rehash.
    let mut replaced = rich(812);
    replaced.inventory.servers[0].models[0].deleted = true;
    replaced.inventory.servers[0].models[0].facts.hash = FileHash::Unknown {
        why: "deleted".into(),
    };
    assert_eq!(kinds(&diff(&old, &replaced)), vec![EventKind::ModelChanged]);
}

#[test]
fn model_loaded_and_unloaded() {
    let old = rich(812);
    let mut new = rich(812);
    new.inventory.servers[0].models[0].path = "/m/other.gguf".into();
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![EventKind::ModelAdded, EventKind::ModelRemoved],
        "{ev:#?}"
    );
    assert_eq!(ev[0].subject.path.as_deref(), Some("/m/other.gguf"));
    assert_eq!(ev[1].subject.path.as_deref(), Some("/m/a.gguf"));
}

#[test]
fn store_file_swapped_added_and_removed() {
    let old = rich(812);
    let mut new = rich(812);
    new.inventory.store_files[0].facts.hash = known("dd");
    let ev = diff(&old, &new);
    assert_eq!(kinds(&ev), vec![EventKind::ModelChanged], "{ev:#?}");
    assert_eq!(ev[0].subject.product, None);
    assert_eq!(
        ev[0].subject.path.as_deref(),
        Some("/ollama/blobs/sha256-bb")
    );
    let mut gone = rich(812);
    gone.inventory.store_files.clear();
    assert_eq!(kinds(&diff(&old, &gone)), vec![EventKind::ModelRemoved]);
    assert_eq!(kinds(&diff(&gone, &old)), vec![EventKind::ModelAdded]);
    // A tokenizer (no model format) is not a model.
    let mut tok = gone.clone();
    let mut t = old.inventory.store_files[0].clone();
    t.format = None;
    t.path = "/ollama/tokenizer.json".into();
    tok.inventory.store_files.push(t);
    assert_eq!(diff(&gone, &tok), vec![]);
}

#[test]
fn version_changed_by_component_key() {
    let old = rich(812);
    let mut new = rich(812);
    new.inventory.servers[0].components[1] = component("torch", "2.6.0");
    // Appearing components are not versions changing.
    new.inventory.servers[0]
        .components
        .push(component("numpy", "2.0"));
    let ev = diff(&old, &new);
    assert_eq!(kinds(&ev), vec![EventKind::VersionChanged], "{ev:#?}");
    assert_eq!(ev[0].subject.item.as_deref(), Some("PyPI torch"));
    assert_eq!(ev[0].before.as_deref(), Some("2.5.1"));
    assert_eq!(ev[0].after.as_deref(), Some("2.6.0"));
    assert!(ev[0].evidence[1].detail.contains("torch-2.6.0.dist-info"));
}

#[test]
fn new_egress_peer_and_telemetry_turned_on() {
    let old = rich(812);
    let mut new = rich(913);
    let p = &mut new.privacy.processes[0];
    p.egress
        .push(egress_to("198.51.100.9", "2026-01-01T00:00:02Z"));
    p.switches[0].state = SwitchState::On;
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![
            EventKind::ServerRestarted,
            EventKind::EgressNew,
            EventKind::TelemetryChanged
        ],
        "{ev:#?}"
    );
    assert_eq!(ev[1].subject.item.as_deref(), Some("198.51.100.9:443/tcp"));
    assert_eq!(ev[1].severity, Severity::Medium);
    assert_eq!(ev[2].before.as_deref(), Some("off"));
    assert_eq!(ev[2].after.as_deref(), Some("on"));
    assert_eq!(ev[2].severity, Severity::Medium);
    // A peer no longer connected is no event.
    let mut quiet = rich(812);
    quiet.privacy.processes[0].egress.clear();
    assert_eq!(diff(&old, &quiet), vec![]);
}

#[test]
fn an_unknown_switch_state_is_never_a_change() {
    let old = rich(812);
    // The environment could not be read this time (the process was exiting).
    let mut new = rich(812);
    new.privacy.processes[0].switches[0].state = SwitchState::Unknown;
    assert_eq!(diff(&old, &new), vec![]);
    // Known and unknown side by side (two servers of one identity): the known
    // part is what is compared.
    let mut both = rich(812);
    let mut sw = both.privacy.processes[0].switches[0].clone();
    sw.state = SwitchState::Unknown;
    both.privacy.processes[0].switches.push(sw);
    assert_eq!(diff(&old, &both), vec![]);
}

#[test]
fn findings_open_and_close_by_rule_and_subject_not_pid() {
    let old = rich(812);
    let mut new = rich(812);
    new.findings = vec![finding("exposure.y", 812, Some("127.0.0.1:8080/tcp"))];
    let ev = diff(&old, &new);
    assert_eq!(
        kinds(&ev),
        vec![EventKind::FindingOpened, EventKind::FindingClosed],
        "{ev:#?}"
    );
    assert_eq!(ev[0].subject.item.as_deref(), Some("exposure.y"));
    assert_eq!(ev[0].severity, Severity::High);
    assert_eq!(ev[1].subject.item.as_deref(), Some("exposure.x"));
    assert_eq!(ev[1].severity, Severity::Info);
}

#[test]
fn output_is_sorted_and_repeatable() {
    let old = rich(812);
    let mut new = one_server(913, "0.0.0.0", Reach::Lan);
    new.inventory.servers.push(server(50, "ollama"));
    let a = diff(&old, &new);
    let b = diff(&old, &new);
    assert_eq!(a, b);
    let keys: Vec<_> = a.iter().map(sort_key).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(
        a.iter().any(|e| e.kind == EventKind::ServerStarted
            && e.subject.product.as_deref() == Some("ollama"))
    );
}

#[test]
fn severity_table_worse_is_never_below_better() {
    for k in EventKind::ALL {
        assert!(
            severity(k, Trend::Worse) >= severity(k, Trend::Better),
            "{k}"
        );
    }
}

#[test]
fn hundred_servers_of_one_identity_restarted_in_any_order_pair_by_port() {
    // One user's 100 llama-servers (one identity), 10 listeners each: the worst
    // case for pairing. All restart; the new snapshot lists them in reverse.
    let host = |base_pid: u32, reverse: bool| {
        let mut inv = inventory();
        for n in 0..100u32 {
            let pid = base_pid + n;
            let mut s = llama(pid);
            for k in 0..10u16 {
                s.sockets.push(inv.sockets.len());
                inv.sockets
                    .push(listener("127.0.0.1", 10000 + (n as u16) * 10 + k, pid, 1));
            }
            inv.servers.push(s);
        }
        if reverse {
            inv.servers.reverse();
        }
        snap(inv)
    };
    let old = host(1000, false);
    let new = host(5000, true);
    let started = std::time::Instant::now();
    let ev = diff(&old, &new);
    let took = started.elapsed();
    assert_eq!(ev.len(), 100, "{:#?}", &ev[..ev.len().min(5)]);
    assert!(ev.iter().all(|e| e.kind == EventKind::ServerRestarted));
    // Each old pid pairs with the new pid holding the same ports (pid + 4000).
    for e in &ev {
        let (b, a) = (e.before.as_deref(), e.after.as_deref());
        let p: u32 = a
            .and_then(|a| a.strip_prefix("pid "))
            .and_then(|a| a.parse().ok())
            .unwrap_or_default();
        assert_eq!(b, Some(format!("pid {}", p - 4000)).as_deref());
    }
    assert_eq!(diff(&new, &new), vec![]);
    // Generous: a refresh every 2 s must be able to afford it even in debug builds.
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
}
