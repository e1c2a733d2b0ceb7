//! Each snapshot indexed once into maps keyed by what survives a restart, and
//! the collector of the events found.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use crate::model::events::{Event, EventKind, EventSubject};
use crate::model::{
    Evidence, ListenerExposure, ProbeVerdict, Protocol, Reach, Server, Severity, Snapshot, Socket,
    Source,
};

use super::severity::*;

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

    pub(super) fn label(&self) -> String {
        let uid = self.uid.map(|u| u.to_string()).unwrap_or("?".into());
        format!("{} ({}, uid {uid})", self.product_id, self.program)
    }
}

// ---------------------------------------------------------------- indexing

/// One snapshot, indexed once.
pub(super) struct Side<'a> {
    pub(super) snap: &'a Snapshot,
    /// "old snapshot 2026-01-01T00:00:00Z (host h)": the source of its evidence.
    pub(super) label: String,
    pub(super) exposures: HashMap<usize, &'a ListenerExposure>,
    pub(super) verdicts: HashMap<usize, &'a ProbeVerdict>,
    pub(super) by_pid: HashMap<u32, &'a Server>,
}

impl<'a> Side<'a> {
    pub(super) fn new(snap: &'a Snapshot, which: &str) -> Side<'a> {
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

    pub(super) fn ev(&self, detail: impl Into<String>) -> Evidence {
        Evidence::new(Source::record(self.label.clone()), detail)
    }

    pub(super) fn socket(&self, idx: usize) -> Option<&'a Socket> {
        self.snap.inventory.sockets.get(idx)
    }

    /// Listeners of a server by (protocol, address, port) → socket index.
    pub(super) fn listeners(&self, s: &Server) -> BTreeMap<ListenerKey, usize> {
        let mut out = BTreeMap::new();
        for &i in &s.sockets {
            if let Some(sock) = self.socket(i).filter(|k| k.is_listener()) {
                out.entry((sock.protocol, sock.local.port, sock.local.addr))
                    .or_insert(i);
            }
        }
        out
    }

    pub(super) fn reach(&self, socket: usize) -> Option<Reach> {
        self.exposures.get(&socket).map(|e| e.reach)
    }

    pub(super) fn socket_evidence(&self, idx: usize, s: &Server) -> Evidence {
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

pub(super) type ListenerKey = (Protocol, u16, IpAddr);

pub(super) fn proto(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    }
}

pub(super) fn listener_label(k: &Socket) -> String {
    format!("{}/{}", k.local, proto(k.protocol))
}

pub(super) fn key_label(k: &ListenerKey) -> String {
    let ep = crate::model::Endpoint {
        addr: k.2,
        port: k.1,
        v4_mapped: false,
    };
    format!("{ep}/{}", proto(k.0))
}

pub(super) struct Out {
    pub(super) time: String,
    pub(super) events: Vec<Judged>,
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push(
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
    pub(super) fn push_with(
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

pub(super) fn server_subject(s: &Server) -> EventSubject {
    EventSubject {
        product: Some(s.product_id.clone()),
        pid: Some(s.pid),
        ..Default::default()
    }
}
