//! New egress peers and telemetry switches turned on or off.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::model::events::{EventKind, EventSubject};
use crate::model::privacy::{Egress, SwitchState};
use crate::model::{Evidence, Protocol};

use super::severity::*;
use super::side::*;

// ---------------------------------------------------------------- privacy

/// Who a privacy row belongs to, across runs: a server's identity, else the actor's.
pub(super) fn privacy_owner(side: &Side, pid: u32, product: &str) -> ServerIdentity {
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

pub(super) type EgressKey = (ServerIdentity, Protocol, IpAddr, u16);

pub(super) fn egress(o: &Side, n: &Side, out: &mut Out) {
    pub(super) fn index<'a>(side: &Side<'a>) -> BTreeMap<EgressKey, (u32, &'a Egress)> {
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

pub(super) fn telemetry(o: &Side, n: &Side, out: &mut Out) {
    type Row<'a> = (
        BTreeSet<SwitchState>,
        u32,
        &'a crate::model::privacy::Switch,
    );
    pub(super) fn index<'a>(side: &Side<'a>) -> BTreeMap<(ServerIdentity, String), Row<'a>> {
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
