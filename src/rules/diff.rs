//! Two snapshots → the events between them ("since when has 11434 been on
//! 0.0.0.0?", "who swapped this model file?").
//!
//! Everything is keyed by what survives a restart, never by pid: a server is
//! its [`ServerIdentity`] (product, executable, user), a listener is (server,
//! protocol, address, port), a model is (server or store, path), a finding is
//! (rule, product, listener, path). Values that move on their own between two
//! observations of an unchanged host (timings, hashing progress, probe rounds,
//! first-seen times, pids) are never compared, so an unchanged host diffs to
//! nothing. Unknown states (a hash not computed yet, a probe not sent, metadata
//! not read) are never compared to known ones: "not known now" is no change.
//!
//! Severity of each kind, by how the change moved the posture ([`Trend`]):
//!
//! | kind              | worse  | neutral | better | worse means                          |
//! |-------------------|--------|---------|--------|--------------------------------------|
//! | server_started    | low    | info    | —      | it listens beyond loopback           |
//! | server_stopped    | —      | info    | —      |                                      |
//! | server_restarted  | —      | info    | —      |                                      |
//! | listener_added    | medium | info    | —      | reachable beyond loopback            |
//! | listener_removed  | —      | info    | —      |                                      |
//! | listener_rebound  | medium | low     | info   | bound wider (loopback → 0.0.0.0)     |
//! | exposure_changed  | high   | medium  | low    | reach widened; neutral: to/from unknown |
//! | auth_changed      | high   | medium  | info   | auth weakened (configured → not, 401 → 200) |
//! | model_added       | —      | low     | —      |                                      |
//! | model_removed     | —      | info    | —      |                                      |
//! | model_changed     | high   | —       | —      | same path, other content             |
//! | template_changed  | high   | —       | —      | same path, other chat template       |
//! | version_changed   | —      | low     | —      |                                      |
//! | egress_new        | medium | low     | —      | the peer is a public address         |
//! | telemetry_changed | medium | low     | info   | a switch turned on; neutral: unknown |
//! | finding_opened    | the finding's own severity                                  |
//! | finding_closed    | info                                                        |
//!
//! Cost: every side is indexed once into maps, so a diff is O(n log n) in the
//! number of servers, sockets, models and findings (cheap enough for every refresh).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use crate::model::components::Component;
use crate::model::events::{Event, EventKind, EventSubject};
use crate::model::privacy::{Egress, SwitchState};
use crate::model::{
    AuthState, Evidence, FileHash, Finding, ListenerExposure, LoadedModel, ModelAnalysis,
    ProbeAuth, ProbeVerdict, Protocol, Reach, Server, Severity, Snapshot, Socket, StoreFile,
};

/// How a change moved the posture, where that can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trend {
    Worse,
    Neutral,
    Better,
}

/// The severity table of the module documentation.
pub fn severity(kind: EventKind, trend: Trend) -> Severity {
    use EventKind as K;
    use Severity as S;
    use Trend as T;
    match (kind, trend) {
        (K::ServerStarted, T::Worse) => S::Low,
        (K::ListenerAdded, T::Worse) => S::Medium,
        (K::ListenerRebound, T::Worse) => S::Medium,
        (K::ListenerRebound, T::Neutral) => S::Low,
        (K::ExposureChanged, T::Worse) => S::High,
        (K::ExposureChanged, T::Neutral) => S::Medium,
        (K::ExposureChanged, T::Better) => S::Low,
        (K::AuthChanged, T::Worse) => S::High,
        (K::AuthChanged, T::Neutral) => S::Medium,
        (K::ModelAdded, _) => S::Low,
        (K::ModelChanged | K::TemplateChanged, _) => S::High,
        (K::VersionChanged, _) => S::Low,
        (K::EgressNew, T::Worse) => S::Medium,
        (K::EgressNew, _) => S::Low,
        (K::TelemetryChanged, T::Worse) => S::Medium,
        (K::TelemetryChanged, T::Neutral) => S::Low,
        (K::FileChanged, _) => S::Low,
        _ => S::Info,
    }
}

/// A server across runs: product, program (exe, else argv[0]) and user. Not the
/// pid, which a restart changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerIdentity {
    pub product_id: String,
    pub program: String,
    pub uid: Option<u32>,
}

impl ServerIdentity {
    pub fn of(s: &Server) -> ServerIdentity {
        // An upgraded binary reads "/usr/bin/ollama (deleted)" until restart.
        let program = match &s.exe {
            Some(e) => e.strip_suffix(" (deleted)").unwrap_or(e).to_string(),
            None => s.cmdline.first().cloned().unwrap_or_default(),
        };
        ServerIdentity {
            product_id: s.product_id.clone(),
            program,
            uid: s.uid,
        }
    }

    fn label(&self) -> String {
        let uid = self.uid.map(|u| u.to_string()).unwrap_or("?".into());
        format!("{} ({}, uid {uid})", self.product_id, self.program)
    }
}

/// One event with the trend it was judged by (the drift findings need it).
#[derive(Debug, Clone)]
pub struct Judged {
    pub event: Event,
    pub trend: Trend,
}

/// The events that lead from `old` to `new`, sorted; empty for an unchanged host.
pub fn diff(old: &Snapshot, new: &Snapshot) -> Vec<Event> {
    diff_judged(old, new).into_iter().map(|j| j.event).collect()
}

/// As [`diff`], each event with its trend.
pub fn diff_judged(old: &Snapshot, new: &Snapshot) -> Vec<Judged> {
    let o = Side::new(old, "old");
    let n = Side::new(new, "new");
    let mut out = Out {
        time: new.inventory.host.collected_at.clone(),
        events: Vec::new(),
    };
    servers(&o, &n, &mut out);
    store_files(&o, &n, &mut out);
    host_versions(&o, &n, &mut out);
    egress(&o, &n, &mut out);
    telemetry(&o, &n, &mut out);
    findings(&o, &n, &mut out);
    let mut events = out.events;
    events.sort_by(|a, b| sort_key(&a.event).cmp(&sort_key(&b.event)));
    events
}

type SortKey<'a> = (
    &'a Option<String>,
    Option<u32>,
    EventKind,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
);

fn sort_key(e: &Event) -> SortKey<'_> {
    let s = &e.subject;
    (
        &s.product,
        s.pid,
        e.kind,
        &s.listener,
        &s.path,
        &s.item,
        &e.before,
        &e.after,
    )
}

// ---------------------------------------------------------------- indexing

/// One snapshot, indexed once.
struct Side<'a> {
    snap: &'a Snapshot,
    /// "old snapshot 2026-01-01T00:00:00Z (host h)": the source of its evidence.
    label: String,
    exposures: HashMap<usize, &'a ListenerExposure>,
    verdicts: HashMap<usize, &'a ProbeVerdict>,
    by_pid: HashMap<u32, &'a Server>,
}

impl<'a> Side<'a> {
    fn new(snap: &'a Snapshot, which: &str) -> Side<'a> {
        let host = &snap.inventory.host;
        let mut by_pid = HashMap::new();
        for s in &snap.inventory.servers {
            by_pid.insert(s.pid, s);
            for w in &s.workers {
                by_pid.entry(w.pid).or_insert(s);
            }
        }
        Side {
            snap,
            label: format!(
                "{which} snapshot {} (host {})",
                host.collected_at, host.hostname
            ),
            exposures: snap.exposures.iter().map(|e| (e.socket, e)).collect(),
            verdicts: snap.probe_verdicts.iter().map(|v| (v.socket, v)).collect(),
            by_pid,
        }
    }

    fn ev(&self, detail: impl Into<String>) -> Evidence {
        Evidence::new(self.label.clone(), detail)
    }

    fn socket(&self, idx: usize) -> Option<&'a Socket> {
        self.snap.inventory.sockets.get(idx)
    }

    /// Listeners of a server by (protocol, address, port) → socket index.
    fn listeners(&self, s: &Server) -> BTreeMap<ListenerKey, usize> {
        let mut out = BTreeMap::new();
        for &i in &s.sockets {
            if let Some(sock) = self.socket(i).filter(|k| k.is_listener()) {
                out.entry((sock.protocol, sock.local.port, sock.local.addr))
                    .or_insert(i);
            }
        }
        out
    }

    fn reach(&self, socket: usize) -> Option<Reach> {
        self.exposures.get(&socket).map(|e| e.reach)
    }

    fn socket_evidence(&self, idx: usize, s: &Server) -> Evidence {
        let detail = match self.socket(idx) {
            Some(k) => {
                let mut d = format!(
                    "{} of pid {} ({}), {}",
                    listener_label(k),
                    s.pid,
                    s.product,
                    k.source
                );
                if let Some(e) = self.exposures.get(&idx) {
                    d.push_str(&format!("; reach {}", e.summary));
                }
                d
            }
            None => format!("socket #{idx} of pid {} (not in the snapshot)", s.pid),
        };
        self.ev(detail)
    }
}

type ListenerKey = (Protocol, u16, IpAddr);

fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

fn listener_label(k: &Socket) -> String {
    format!("{}/{}", k.local, proto(k.protocol))
}

fn key_label(k: &ListenerKey) -> String {
    let ep = crate::model::Endpoint {
        addr: k.2,
        port: k.1,
        v4_mapped: false,
    };
    format!("{ep}/{}", proto(k.0))
}

struct Out {
    time: String,
    events: Vec<Judged>,
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        kind: EventKind,
        trend: Trend,
        subject: EventSubject,
        before: Option<String>,
        after: Option<String>,
        evidence: Vec<Evidence>,
    ) {
        self.push_with(
            kind,
            trend,
            severity(kind, trend),
            subject,
            before,
            after,
            evidence,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn push_with(
        &mut self,
        kind: EventKind,
        trend: Trend,
        severity: Severity,
        subject: EventSubject,
        before: Option<String>,
        after: Option<String>,
        evidence: Vec<Evidence>,
    ) {
        self.events.push(Judged {
            event: Event {
                time: self.time.clone(),
                kind,
                severity,
                subject,
                before,
                after,
                evidence,
            },
            trend,
        });
    }
}

fn server_subject(s: &Server) -> EventSubject {
    EventSubject {
        product: Some(s.product_id.clone()),
        pid: Some(s.pid),
        ..Default::default()
    }
}

// ---------------------------------------------------------------- servers

/// Pair the servers of both sides: same identity, then the same pid, then a
/// shared port, then in command-line order (several servers may share one
/// identity: two llama-servers of one user on two ports).
fn pair_servers<'a>(
    old: &'a [Server],
    new: &'a [Server],
    o: &Side<'a>,
    n: &Side<'a>,
) -> Vec<(Option<&'a Server>, Option<&'a Server>)> {
    let mut groups: BTreeMap<ServerIdentity, (Vec<&Server>, Vec<&Server>)> = BTreeMap::new();
    for s in old {
        groups.entry(ServerIdentity::of(s)).or_default().0.push(s);
    }
    for s in new {
        groups.entry(ServerIdentity::of(s)).or_default().1.push(s);
    }
    let mut out = Vec::new();
    for (_, (os, ns)) in groups {
        let ports = |side: &Side, v: Vec<&'a Server>| {
            let mut v: Vec<(&'a Server, BTreeSet<(Protocol, u16)>)> = v
                .into_iter()
                .map(|s| (s, side.listeners(s).keys().map(|k| (k.0, k.1)).collect()))
                .collect();
            v.sort_by(|a, b| (&a.0.cmdline, a.0.pid).cmp(&(&b.0.cmdline, b.0.pid)));
            v
        };
        let (mut os, mut ns) = (ports(o, os), ports(n, ns));
        for pass in [Pass::SamePid, Pass::SharedPort, Pass::InOrder] {
            let mut i = 0;
            while i < os.len() {
                let (a, pa) = &os[i];
                let found = ns.iter().position(|(b, pb)| match pass {
                    Pass::SamePid => a.pid == b.pid,
                    Pass::SharedPort => !pa.is_disjoint(pb),
                    Pass::InOrder => true,
                });
                match found {
                    Some(j) => out.push((Some(os.remove(i).0), Some(ns.remove(j).0))),
                    None => i += 1,
                }
            }
        }
        out.extend(os.into_iter().map(|s| (Some(s.0), None)));
        out.extend(ns.into_iter().map(|s| (None, Some(s.0))));
    }
    out
}

#[derive(Clone, Copy)]
enum Pass {
    SamePid,
    SharedPort,
    InOrder,
}

fn servers(o: &Side, n: &Side, out: &mut Out) {
    let pairs = pair_servers(&o.snap.inventory.servers, &n.snap.inventory.servers, o, n);
    for pair in pairs {
        match pair {
            (Some(a), Some(b)) => {
                if a.pid != b.pid {
                    out.push(
                        EventKind::ServerRestarted,
                        Trend::Neutral,
                        server_subject(b),
                        Some(format!("pid {}", a.pid)),
                        Some(format!("pid {}", b.pid)),
                        vec![
                            o.ev(format!("pid {} {}", a.pid, ServerIdentity::of(a).label())),
                            n.ev(format!("pid {} {}", b.pid, ServerIdentity::of(b).label())),
                        ],
                    );
                }
                listeners(o, n, Some(a), Some(b), out);
                auth(o, n, a, b, out);
                loaded_models(o, n, Some(a), Some(b), out);
                versions(o, n, &a.components, &b.components, server_subject(b), out);
            }
            (None, Some(b)) => {
                let wide = n
                    .listeners(b)
                    .values()
                    .any(|&i| beyond_loopback(n.reach(i)));
                let listening: Vec<String> = n.listeners(b).keys().map(key_label).collect();
                out.push(
                    EventKind::ServerStarted,
                    if wide { Trend::Worse } else { Trend::Neutral },
                    server_subject(b),
                    None,
                    Some(started_summary(b, &listening)),
                    vec![n.ev(format!(
                        "pid {} {}: {}",
                        b.pid,
                        ServerIdentity::of(b).label(),
                        b.identification.reason
                    ))],
                );
                listeners(o, n, None, Some(b), out);
                loaded_models(o, n, None, Some(b), out);
            }
            (Some(a), None) => {
                let listening: Vec<String> = o.listeners(a).keys().map(key_label).collect();
                out.push(
                    EventKind::ServerStopped,
                    Trend::Neutral,
                    server_subject(a),
                    Some(started_summary(a, &listening)),
                    None,
                    vec![o.ev(format!("pid {} {}", a.pid, ServerIdentity::of(a).label()))],
                );
                listeners(o, n, Some(a), None, out);
                loaded_models(o, n, Some(a), None, out);
            }
            (None, None) => {}
        }
    }
}

fn started_summary(s: &Server, listening: &[String]) -> String {
    let mut t = format!("pid {} {}", s.pid, ServerIdentity::of(s).program);
    if !listening.is_empty() {
        t.push_str(&format!(" listening on {}", listening.join(", ")));
    }
    t
}

fn beyond_loopback(r: Option<Reach>) -> bool {
    !matches!(r, Some(Reach::LoopbackOnly) | None)
}

fn reach_label(r: Option<Reach>) -> &'static str {
    r.map(Reach::label).unwrap_or("not judged")
}

/// Listener changes of one server (either side may be absent: started/stopped).
fn listeners(o: &Side, n: &Side, a: Option<&Server>, b: Option<&Server>, out: &mut Out) {
    let la = a.map(|s| o.listeners(s)).unwrap_or_default();
    let lb = b.map(|s| n.listeners(s)).unwrap_or_default();
    let mut gone: BTreeMap<(Protocol, u16), Vec<(&ListenerKey, usize)>> = BTreeMap::new();
    let mut came: BTreeMap<(Protocol, u16), Vec<(&ListenerKey, usize)>> = BTreeMap::new();
    for (k, &i) in &la {
        match lb.get(k) {
            Some(&j) => {
                if let (Some(a), Some(b)) = (a, b) {
                    listener_state(o, n, a, b, i, j, out);
                }
            }
            None => gone.entry((k.0, k.1)).or_default().push((k, i)),
        }
    }
    for (k, &j) in &lb {
        if !la.contains_key(k) {
            came.entry((k.0, k.1)).or_default().push((k, j));
        }
    }
    for (port, mut news) in came {
        let mut olds = gone.remove(&port).unwrap_or_default();
        // Same port, other address: a rebind, preferably within one address family.
        if let (Some(a), Some(b)) = (a, b) {
            for same_family in [true, false] {
                let mut x = 0;
                while x < olds.len() {
                    let fam = olds[x].0.2.is_ipv4();
                    match news
                        .iter()
                        .position(|nk| !same_family || nk.0.2.is_ipv4() == fam)
                    {
                        Some(y) => {
                            let (ok, i) = olds.remove(x);
                            let (nk, j) = news.remove(y);
                            rebound(o, n, a, b, (ok, i), (nk, j), out);
                        }
                        None => x += 1,
                    }
                }
            }
        }
        for (k, j) in news {
            if let Some(b) = b {
                let r = n.reach(j);
                out.push(
                    EventKind::ListenerAdded,
                    if beyond_loopback(r) {
                        Trend::Worse
                    } else {
                        Trend::Neutral
                    },
                    EventSubject {
                        listener: Some(key_label(k)),
                        ..server_subject(b)
                    },
                    None,
                    Some(format!("{} ({})", key_label(k), reach_label(r))),
                    vec![n.socket_evidence(j, b)],
                );
            }
        }
        if !olds.is_empty() {
            gone.insert(port, olds);
        }
    }
    for (k, i) in gone.into_values().flatten() {
        if let Some(a) = a {
            out.push(
                EventKind::ListenerRemoved,
                Trend::Neutral,
                EventSubject {
                    listener: Some(key_label(k)),
                    ..server_subject(b.unwrap_or(a))
                },
                Some(format!("{} ({})", key_label(k), reach_label(o.reach(i)))),
                None,
                vec![o.socket_evidence(i, a)],
            );
        }
    }
}

fn rebound(
    o: &Side,
    n: &Side,
    a: &Server,
    b: &Server,
    (ok, i): (&ListenerKey, usize),
    (nk, j): (&ListenerKey, usize),
    out: &mut Out,
) {
    let wider = bind_width(&ok.2) < bind_width(&nk.2);
    let narrower = bind_width(&ok.2) > bind_width(&nk.2);
    out.push(
        EventKind::ListenerRebound,
        if wider {
            Trend::Worse
        } else if narrower {
            Trend::Better
        } else {
            Trend::Neutral
        },
        EventSubject {
            listener: Some(key_label(nk)),
            ..server_subject(b)
        },
        Some(key_label(ok)),
        Some(key_label(nk)),
        vec![o.socket_evidence(i, a), n.socket_evidence(j, b)],
    );
    listener_state(o, n, a, b, i, j, out);
}

/// 0 loopback, 1 one address, 2 every address.
fn bind_width(a: &IpAddr) -> u8 {
    if a.is_loopback() {
        0
    } else if a.is_unspecified() {
        2
    } else {
        1
    }
}

/// Exposure and probe-auth changes of one listener present on both sides.
fn listener_state(o: &Side, n: &Side, a: &Server, b: &Server, i: usize, j: usize, out: &mut Out) {
    let Some(sock) = n.socket(j) else { return };
    let subject = EventSubject {
        listener: Some(listener_label(sock)),
        ..server_subject(b)
    };
    if let (Some(ra), Some(rb)) = (o.exposures.get(&i), n.exposures.get(&j))
        && ra.reach != rb.reach
    {
        let trend = match (ra.reach, rb.reach) {
            (Reach::Unknown, _) | (_, Reach::Unknown) => Trend::Neutral,
            (x, y) if y > x => Trend::Worse,
            _ => Trend::Better,
        };
        out.push(
            EventKind::ExposureChanged,
            trend,
            subject.clone(),
            Some(ra.reach.label().into()),
            Some(rb.reach.label().into()),
            vec![o.socket_evidence(i, a), n.socket_evidence(j, b)],
        );
    }
    // A probe not sent (passive, skipped, reused round) says nothing: compare known verdicts only.
    if let (Some(va), Some(vb)) = (o.verdicts.get(&i), n.verdicts.get(&j))
        && va.auth != vb.auth
        && va.auth != ProbeAuth::Unknown
        && vb.auth != ProbeAuth::Unknown
    {
        let trend = if vb.auth == ProbeAuth::AnswersWithoutCredentials {
            Trend::Worse
        } else {
            Trend::Better
        };
        let ev = |side: &Side, v: &ProbeVerdict| {
            let first = v
                .evidence
                .first()
                .map(|e| format!(" ({}: {})", e.source, e.detail))
                .unwrap_or_default();
            side.ev(format!(
                "probe of pid {}: {}{first}",
                v.pid,
                probe_auth(v.auth)
            ))
        };
        out.push(
            EventKind::AuthChanged,
            trend,
            subject,
            Some(probe_auth(va.auth).into()),
            Some(probe_auth(vb.auth).into()),
            vec![ev(o, va), ev(n, vb)],
        );
    }
}

fn probe_auth(a: ProbeAuth) -> &'static str {
    match a {
        ProbeAuth::AnswersWithoutCredentials => "answers without credentials",
        ProbeAuth::DemandsAuth => "demands auth (401/403)",
        ProbeAuth::Unknown => "unknown",
    }
}

fn auth_state(a: AuthState) -> &'static str {
    match a {
        AuthState::Configured => "configured",
        AuthState::NotConfigured => "not configured",
        AuthState::Unsupported => "unsupported",
        AuthState::Unknown => "unknown",
    }
}

/// The server's own auth configuration (flags, variables).
fn auth(o: &Side, n: &Side, a: &Server, b: &Server, out: &mut Out) {
    let (x, y) = (a.auth.state, b.auth.state);
    if x == y {
        return;
    }
    let trend = match (x, y) {
        (AuthState::Unknown, _) | (_, AuthState::Unknown) => Trend::Neutral,
        (AuthState::Configured, _) => Trend::Worse,
        (_, AuthState::Configured) => Trend::Better,
        _ => Trend::Neutral,
    };
    let ev = |side: &Side, s: &Server| {
        let how: Vec<String> = s
            .auth
            .evidence
            .iter()
            .take(3)
            .map(|e| format!("{}: {}", e.source, e.detail))
            .collect();
        side.ev(format!(
            "auth of pid {} {}: {}",
            s.pid,
            auth_state(s.auth.state),
            how.join("; ")
        ))
    };
    out.push(
        EventKind::AuthChanged,
        trend,
        server_subject(b),
        Some(auth_state(x).into()),
        Some(auth_state(y).into()),
        vec![ev(o, a), ev(n, b)],
    );
}

// ---------------------------------------------------------------- models

/// What a model file is compared by.
struct ModelView<'a> {
    path: &'a str,
    hash: &'a FileHash,
    analysis: &'a ModelAnalysis,
    /// Replaced or deleted on disk while a process holds it.
    deleted: bool,
    what: String,
}

impl<'a> ModelView<'a> {
    fn loaded(m: &'a LoadedModel) -> ModelView<'a> {
        ModelView {
            path: &m.path,
            hash: &m.hash,
            analysis: &m.analysis,
            deleted: m.deleted,
            what: format!("{} held by pid {}", m.format.label(), m.pid),
        }
    }

    fn stored(f: &'a StoreFile) -> ModelView<'a> {
        ModelView {
            path: &f.path,
            hash: &f.hash,
            analysis: &f.analysis,
            deleted: false,
            what: format!("{} {}", f.store.label(), f.reference),
        }
    }

    fn hash_text(&self) -> String {
        match self.hash {
            FileHash::Known { sha256 } => format!("sha256 {sha256}"),
            FileHash::Pending { why } | FileHash::Unknown { why } => format!("not hashed: {why}"),
        }
    }

    fn template(&self) -> Option<Option<&'a str>> {
        self.analysis
            .metadata
            .as_ref()
            .map(|m| m.chat_template.as_ref().map(|t| t.sha256.as_str()))
    }
}

fn loaded_models(o: &Side, n: &Side, a: Option<&Server>, b: Option<&Server>, out: &mut Out) {
    fn index(s: Option<&Server>) -> BTreeMap<&str, &LoadedModel> {
        let mut m = BTreeMap::new();
        for lm in s.map(|s| s.models.as_slice()).unwrap_or_default() {
            m.entry(lm.path.as_str()).or_insert(lm);
        }
        m
    }
    let (ma, mb) = (index(a), index(b));
    let subject = |s: &Server, path: &str| EventSubject {
        path: Some(path.to_string()),
        ..server_subject(s)
    };
    let Some(s) = b.or(a) else { return };
    for (path, x) in &ma {
        match mb.get(path) {
            Some(y) => model_pair(
                o,
                n,
                &ModelView::loaded(x),
                &ModelView::loaded(y),
                subject(s, path),
                out,
            ),
            None => {
                let v = ModelView::loaded(x);
                out.push(
                    EventKind::ModelRemoved,
                    Trend::Neutral,
                    subject(s, path),
                    Some(v.hash_text()),
                    None,
                    vec![o.ev(format!("{path}: {}", v.what))],
                );
            }
        }
    }
    for (path, y) in &mb {
        if !ma.contains_key(path)
            && let Some(s) = b
        {
            let v = ModelView::loaded(y);
            out.push(
                EventKind::ModelAdded,
                Trend::Neutral,
                subject(s, path),
                None,
                Some(v.hash_text()),
                vec![n.ev(format!("{path}: {}", v.what))],
            );
        }
    }
}

fn store_files(o: &Side, n: &Side, out: &mut Out) {
    // Tokenizers and configs are not models: only files recognised by content.
    fn index<'a>(side: &Side<'a>) -> BTreeMap<String, ModelView<'a>> {
        side.snap
            .inventory
            .store_files
            .iter()
            .filter(|f| f.format.is_some())
            .map(|f| (f.path.clone(), ModelView::stored(f)))
            .collect()
    }
    let (ma, mb) = (index(o), index(n));
    for (path, x) in &ma {
        let subject = EventSubject {
            path: Some(path.clone()),
            item: Some(x.what.clone()),
            ..Default::default()
        };
        match mb.get(path) {
            Some(y) => model_pair(o, n, x, y, subject, out),
            None => out.push(
                EventKind::ModelRemoved,
                Trend::Neutral,
                subject,
                Some(x.hash_text()),
                None,
                vec![o.ev(format!("{path}: {}", x.what))],
            ),
        }
    }
    for (path, y) in &mb {
        if !ma.contains_key(path) {
            out.push(
                EventKind::ModelAdded,
                Trend::Neutral,
                EventSubject {
                    path: Some(path.clone()),
                    item: Some(y.what.clone()),
                    ..Default::default()
                },
                None,
                Some(y.hash_text()),
                vec![n.ev(format!("{path}: {}", y.what))],
            );
        }
    }
}

/// Content and chat-template changes of one path present on both sides.
fn model_pair(
    o: &Side,
    n: &Side,
    x: &ModelView,
    y: &ModelView,
    subject: EventSubject,
    out: &mut Out,
) {
    let content = match (x.hash, y.hash) {
        (FileHash::Known { sha256: a }, FileHash::Known { sha256: b }) if a != b => {
            Some((format!("sha256 {a}"), format!("sha256 {b}")))
        }
        _ if !x.deleted && y.deleted => Some((
            x.hash_text(),
            format!("{} (deleted or replaced on disk while held)", y.hash_text()),
        )),
        _ => None,
    };
    if let Some((before, after)) = content {
        out.push(
            EventKind::ModelChanged,
            Trend::Worse,
            subject.clone(),
            Some(before),
            Some(after),
            vec![
                o.ev(format!("{}: {}, {}", x.path, x.what, x.hash_text())),
                n.ev(format!("{}: {}, {}", y.path, y.what, y.hash_text())),
            ],
        );
    }
    // Metadata not read on one side (error, cap) is not a template change.
    if let (Some(ta), Some(tb)) = (x.template(), y.template())
        && ta != tb
    {
        let text = |t: Option<&str>| match t {
            Some(h) => format!("chat template sha256 {h}"),
            None => "no chat template".to_string(),
        };
        out.push(
            EventKind::TemplateChanged,
            Trend::Worse,
            subject,
            Some(text(ta)),
            Some(text(tb)),
            vec![
                o.ev(format!("{}: header of {}, {}", x.path, x.what, text(ta))),
                n.ev(format!("{}: header of {}, {}", y.path, y.what, text(tb))),
            ],
        );
    }
}

// ---------------------------------------------------------------- versions

/// Versions by (ecosystem, key): several distributions of one name may be on a path.
fn version_index(cs: &[Component]) -> BTreeMap<(String, &str), (BTreeSet<&str>, &Component)> {
    let mut m: BTreeMap<(String, &str), (BTreeSet<&str>, &Component)> = BTreeMap::new();
    for c in cs.iter().filter(|c| !c.shadowed) {
        let eco = serde_json::to_value(c.ecosystem)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        m.entry((eco, c.key.as_str()))
            .or_insert_with(|| (BTreeSet::new(), c))
            .0
            .insert(c.version.as_str());
    }
    m
}

/// Versions present on both sides that differ. A component that appears or goes
/// is not reported: a partly read environment would flood the diff.
fn versions(
    o: &Side,
    n: &Side,
    a: &[Component],
    b: &[Component],
    subject: EventSubject,
    out: &mut Out,
) {
    let (va, vb) = (version_index(a), version_index(b));
    for (key, (x, ca)) in &va {
        if let Some((y, cb)) = vb.get(key)
            && x != y
        {
            let join = |s: &BTreeSet<&str>| s.iter().copied().collect::<Vec<_>>().join(", ");
            out.push(
                EventKind::VersionChanged,
                Trend::Neutral,
                EventSubject {
                    item: Some(format!("{} {}", key.0, cb.name)),
                    ..subject.clone()
                },
                Some(join(x)),
                Some(join(y)),
                vec![
                    o.ev(format!("{} {} from {}", ca.name, join(x), ca.path)),
                    n.ev(format!("{} {} from {}", cb.name, join(y), cb.path)),
                ],
            );
        }
    }
}

fn host_versions(o: &Side, n: &Side, out: &mut Out) {
    versions(
        o,
        n,
        &o.snap.inventory.system_software.components,
        &n.snap.inventory.system_software.components,
        EventSubject {
            product: Some("host".into()),
            ..Default::default()
        },
        out,
    );
}

// ---------------------------------------------------------------- privacy

/// Who a privacy row belongs to, across runs: a server's identity, else the actor's.
fn privacy_owner(side: &Side, pid: u32, product: &str) -> ServerIdentity {
    if let Some(s) = side.by_pid.get(&pid) {
        return ServerIdentity::of(s);
    }
    match side
        .snap
        .inventory
        .privacy
        .actors
        .iter()
        .find(|a| a.pid == pid)
    {
        Some(a) => ServerIdentity {
            product_id: a.id.clone(),
            program: a.cmdline.first().cloned().unwrap_or_default(),
            uid: a.uid,
        },
        None => ServerIdentity {
            product_id: product.to_string(),
            program: String::new(),
            uid: None,
        },
    }
}

type EgressKey = (ServerIdentity, Protocol, IpAddr, u16);

fn egress(o: &Side, n: &Side, out: &mut Out) {
    fn index<'a>(side: &Side<'a>) -> BTreeMap<EgressKey, (u32, &'a Egress)> {
        let mut m: BTreeMap<EgressKey, (u32, &Egress)> = BTreeMap::new();
        for p in &side.snap.privacy.processes {
            let who = privacy_owner(side, p.pid, &p.product);
            for e in &p.egress {
                m.entry((who.clone(), e.protocol, e.remote, e.port))
                    .or_insert((p.pid, e));
            }
        }
        m
    }
    let (ea, eb) = (index(o), index(n));
    for (key, (pid, e)) in &eb {
        if ea.contains_key(key) {
            continue;
        }
        let peer = match e.remote {
            IpAddr::V4(a) => format!("{a}:{}/{}", e.port, proto(e.protocol)),
            IpAddr::V6(a) => format!("[{a}]:{}/{}", e.port, proto(e.protocol)),
        };
        let mut evidence: Vec<Evidence> = e
            .evidence
            .iter()
            .take(3)
            .map(|x| n.ev(format!("{}: {}", x.source, x.detail)))
            .collect();
        if evidence.is_empty() {
            evidence.push(n.ev(format!("{} connection(s) of pid {pid}", e.connections)));
        }
        let attribution = e
            .attribution
            .as_ref()
            .map(|a| format!(" ({a})"))
            .unwrap_or_default();
        out.push(
            EventKind::EgressNew,
            if e.destination == crate::model::privacy::Destination::Public {
                Trend::Worse
            } else {
                Trend::Neutral
            },
            EventSubject {
                product: Some(key.0.product_id.clone()),
                pid: Some(*pid),
                item: Some(peer.clone()),
                ..Default::default()
            },
            None,
            Some(format!("{peer} {}{attribution}", e.destination.as_str())),
            evidence,
        );
    }
}

fn telemetry(o: &Side, n: &Side, out: &mut Out) {
    type Row<'a> = (
        BTreeSet<SwitchState>,
        u32,
        &'a crate::model::privacy::Switch,
    );
    fn index<'a>(side: &Side<'a>) -> BTreeMap<(ServerIdentity, String), Row<'a>> {
        let mut m: BTreeMap<(ServerIdentity, String), Row<'_>> = BTreeMap::new();
        for p in &side.snap.privacy.processes {
            let who = privacy_owner(side, p.pid, &p.product);
            for s in &p.switches {
                m.entry((who.clone(), s.id.clone()))
                    .or_insert_with(|| (BTreeSet::new(), p.pid, s))
                    .0
                    .insert(s.state);
            }
        }
        m
    }
    let (ta, tb) = (index(o), index(n));
    let text =
        |s: &BTreeSet<SwitchState>| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join("/");
    let ev = |side: &Side, pid: u32, s: &crate::model::privacy::Switch, states: &str| {
        let how = s
            .evidence
            .first()
            .map(|e| format!(": {}: {}", e.source, e.detail))
            .unwrap_or_default();
        side.ev(format!("{} of pid {pid} {states}{how}", s.name))
    };
    // Unknown is never compared: a server of the same identity whose environment
    // could not be read this time (it was exiting) changes nothing.
    let known = |s: &BTreeSet<SwitchState>| -> BTreeSet<SwitchState> {
        s.iter()
            .copied()
            .filter(|x| *x != SwitchState::Unknown)
            .collect()
    };
    for (key, (y, pid, sw)) in &tb {
        let before = ta.get(key);
        let x = before.map(|b| &b.0);
        let ky = known(y);
        if ky.is_empty() || x.map(known).as_ref() == Some(&ky) {
            continue;
        }
        let on_before = x.is_some_and(|x| x.contains(&SwitchState::On));
        let on_after = y.contains(&SwitchState::On);
        // A switch that newly applies matters only when it is on.
        if x.is_none() && !on_after {
            continue;
        }
        let trend = match (on_before, on_after) {
            (false, true) => Trend::Worse,
            (true, false) if !y.contains(&SwitchState::Unknown) => Trend::Better,
            _ => Trend::Neutral,
        };
        let mut evidence = Vec::new();
        if let Some((xs, opid, osw)) = before {
            evidence.push(ev(o, *opid, osw, &text(xs)));
        }
        evidence.push(ev(n, *pid, sw, &text(y)));
        out.push(
            EventKind::TelemetryChanged,
            trend,
            EventSubject {
                product: Some(key.0.product_id.clone()),
                pid: Some(*pid),
                item: Some(key.1.clone()),
                ..Default::default()
            },
            x.map(text),
            Some(text(y)),
            evidence,
        );
    }
}

// ---------------------------------------------------------------- findings

type FindingKey<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>);

fn finding_key(f: &Finding) -> FindingKey<'_> {
    (
        &f.rule,
        &f.subject.product,
        f.subject.listener.as_deref(),
        f.subject.path.as_deref(),
    )
}

fn findings(o: &Side, n: &Side, out: &mut Out) {
    fn index<'a>(side: &Side<'a>) -> BTreeMap<FindingKey<'a>, &'a Finding> {
        let mut m: BTreeMap<FindingKey<'_>, &Finding> = BTreeMap::new();
        for f in &side.snap.findings {
            m.entry(finding_key(f)).or_insert(f);
        }
        m
    }
    let (fa, fb) = (index(o), index(n));
    let evidence = |side: &Side, f: &Finding| {
        let mut v = vec![side.ev(format!("{} {}: {}", f.severity, f.rule, f.title))];
        v.extend(
            f.evidence
                .iter()
                .take(3)
                .map(|e| side.ev(format!("{}: {}", e.source, e.detail))),
        );
        v
    };
    let subject = |f: &Finding| EventSubject {
        product: Some(f.subject.product.clone()),
        pid: Some(f.subject.pid),
        listener: f.subject.listener.clone(),
        path: f.subject.path.clone(),
        item: Some(f.rule.clone()),
    };
    for (k, f) in &fb {
        if !fa.contains_key(k) {
            out.push_with(
                EventKind::FindingOpened,
                Trend::Worse,
                f.severity,
                subject(f),
                None,
                Some(f.title.clone()),
                evidence(n, f),
            );
        }
    }
    for (k, f) in &fa {
        if !fb.contains_key(k) {
            out.push_with(
                EventKind::FindingClosed,
                Trend::Better,
                Severity::Info,
                subject(f),
                Some(f.title.clone()),
                None,
                evidence(o, f),
            );
        }
    }
}

#[cfg(test)]
#[path = "diff_tests.rs"]
mod tests;
