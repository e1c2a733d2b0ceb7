//! Servers started, stopped and restarted; their listeners added, removed and
//! rebound; exposure and auth changed.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::model::events::{EventKind, EventSubject};
use crate::model::{AuthState, ProbeAuth, ProbeVerdict, Protocol, Reach, Server};

use super::models::*;
use super::severity::*;
use super::side::*;

// ---------------------------------------------------------------- servers

/// Pair the servers of both sides: same identity, then the same pid, then a
/// shared port, then in command-line order (several servers may share one
/// identity: two llama-servers of one user on two ports).
pub(super) fn pair_servers<'a>(
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
pub(super) enum Pass {
    SamePid,
    SharedPort,
    InOrder,
}

pub(super) fn servers(o: &Side, n: &Side, out: &mut Out) {
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

pub(super) fn started_summary(s: &Server, listening: &[String]) -> String {
    let mut t = format!("pid {} {}", s.pid, ServerIdentity::of(s).program);
    if !listening.is_empty() {
        t.push_str(&format!(" listening on {}", listening.join(", ")));
    }
    t
}

pub(super) fn beyond_loopback(r: Option<Reach>) -> bool {
    !matches!(r, Some(Reach::LoopbackOnly) | None)
}

pub(super) fn reach_label(r: Option<Reach>) -> &'static str {
    r.map(Reach::label).unwrap_or("not judged")
}

/// Listener changes of one server (either side may be absent: started/stopped).
pub(super) fn listeners(o: &Side, n: &Side, a: Option<&Server>, b: Option<&Server>, out: &mut Out) {
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

pub(super) fn rebound(
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
pub(super) fn bind_width(a: &IpAddr) -> u8 {
    if a.is_loopback() {
        0
    } else if a.is_unspecified() {
        2
    } else {
        1
    }
}

/// Exposure and probe-auth changes of one listener present on both sides.
pub(super) fn listener_state(
    o: &Side,
    n: &Side,
    a: &Server,
    b: &Server,
    i: usize,
    j: usize,
    out: &mut Out,
) {
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

pub(super) fn probe_auth(a: ProbeAuth) -> &'static str {
    match a {
        ProbeAuth::AnswersWithoutCredentials => "answers without credentials",
        ProbeAuth::DemandsAuth => "demands auth (401/403)",
        ProbeAuth::Unknown => "unknown",
    }
}

pub(super) fn auth_state(a: AuthState) -> &'static str {
    match a {
        AuthState::Configured => "configured",
        AuthState::NotConfigured => "not configured",
        AuthState::Unsupported => "unsupported",
        AuthState::Unknown => "unknown",
    }
}

/// The server's own auth configuration (flags, variables).
pub(super) fn auth(o: &Side, n: &Side, a: &Server, b: &Server, out: &mut Out) {
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
