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

mod findings;
mod models;
mod privacy;
mod servers;
mod severity;
mod side;

use crate::model::Snapshot;
use crate::model::events::{Event, EventKind};

use findings::findings;
use models::{host_versions, store_files};
use privacy::{egress, telemetry};
use servers::servers;
pub use severity::{Judged, Trend, severity};
pub use side::ServerIdentity;
use side::{Out, Side};

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

#[cfg(test)]
mod tests;
