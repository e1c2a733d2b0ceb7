//! What the next diff reads of an observation: the snapshot without the sockets
//! nothing points at, indices renumbered. On a busy host those are thousands of
//! established connections of unrelated processes; writing them to the store and
//! parsing them back on every headless run was a third of a snapshot's
//! instructions at 10,000 sockets. Listeners are all kept, and every socket a
//! server, probe, actor, connection, verdict or exposure names.

use crate::model::Snapshot;

pub fn diff_basis(snap: &mut Snapshot) -> Snapshot {
    let sockets = std::mem::take(&mut snap.inventory.sockets);
    let mut basis = snap.clone();
    snap.inventory.sockets = sockets;
    let all = &snap.inventory.sockets;

    let mut keep: Vec<bool> = all.iter().map(|s| s.is_listener()).collect();
    for_each_index(&mut basis, |i| {
        if let Some(k) = keep.get_mut(*i) {
            *k = true;
        }
    });
    let mut renumbered = vec![usize::MAX; all.len()];
    let kept = keep.iter().enumerate().filter(|(_, k)| **k);
    for (next, (i, _)) in kept.enumerate() {
        renumbered[i] = next;
    }
    basis.inventory.sockets = all
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(s, _)| s.clone())
        .collect();
    // An index past the end stays past the end (the diff finds nothing there).
    for_each_index(&mut basis, |i| {
        *i = renumbered.get(*i).copied().unwrap_or(usize::MAX)
    });
    basis
}

/// Every index into `Inventory::sockets` a snapshot holds.
fn for_each_index(s: &mut Snapshot, mut f: impl FnMut(&mut usize)) {
    let inv = &mut s.inventory;
    inv.servers
        .iter_mut()
        .flat_map(|v| v.sockets.iter_mut())
        .for_each(&mut f);
    inv.probes.iter_mut().for_each(|p| f(&mut p.socket));
    inv.privacy
        .actors
        .iter_mut()
        .flat_map(|a| a.sockets.iter_mut())
        .for_each(&mut f);
    inv.privacy
        .connections
        .iter_mut()
        .for_each(|c| f(&mut c.socket));
    s.probe_verdicts.iter_mut().for_each(|v| f(&mut v.socket));
    s.exposures.iter_mut().for_each(|e| f(&mut e.socket));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::privacy::Connection;
    use crate::model::{Socket, SocketState};

    /// A real snapshot (tests/fixtures), with established sockets added around
    /// its listeners: two nobody points at, one a server's egress connection.
    fn busy_snapshot() -> Snapshot {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/snapshot-root.json"
        );
        let text = std::fs::read_to_string(path).expect("fixture");
        let mut snap: Snapshot = serde_json::from_str(&text).expect("a snapshot");
        let established = |inode: u64| Socket {
            state: SocketState::Established,
            inode,
            ..snap.inventory.sockets[0].clone()
        };
        let (a, b, c) = (established(9001), established(9002), established(9003));
        snap.inventory.sockets.insert(0, a);
        snap.inventory.sockets.insert(2, b);
        snap.inventory.sockets.push(c);
        let shift = |i: &mut usize| *i += if *i >= 1 { 2 } else { 1 };
        for_each_index(&mut snap, shift);
        let pid = snap.inventory.servers[0].pid;
        let at = snap.inventory.sockets.len() - 1;
        snap.inventory.servers[0].sockets.push(at);
        snap.inventory.privacy.connections.push(Connection {
            socket: at,
            pid,
            protocol: snap.inventory.sockets[at].protocol,
            remote: "192.0.2.7".parse().expect("address"),
            port: 443,
            first_seen: snap.inventory.host.collected_at.clone(),
            hosts_file: None,
        });
        snap
    }

    fn named(s: &mut Snapshot) -> Vec<Option<u64>> {
        let sockets = s.inventory.sockets.clone();
        let mut out = Vec::new();
        for_each_index(s, |i| out.push(sockets.get(*i).map(|k| k.inode)));
        out
    }

    #[test]
    fn unreferenced_connections_go_and_every_index_names_the_same_socket() {
        let mut snap = busy_snapshot();
        let before = named(&mut snap);
        let mut basis = diff_basis(&mut snap);
        let inodes: Vec<u64> = basis.inventory.sockets.iter().map(|s| s.inode).collect();
        assert!(
            !inodes.contains(&9001) && !inodes.contains(&9002),
            "{inodes:?}"
        );
        assert!(inodes.contains(&9003), "the server's connection is kept");
        assert_eq!(
            basis.inventory.sockets.len(),
            snap.inventory.sockets.len() - 2
        );
        assert_eq!(named(&mut basis), before);
        assert!(before.iter().all(Option::is_some));
    }

    #[test]
    fn the_basis_diffs_like_the_whole_snapshot() {
        let mut old = busy_snapshot();
        let basis = diff_basis(&mut old);
        let mut new = old.clone();
        assert!(crate::rules::diff::diff(&basis, &new).is_empty());
        // A server's listener goes and another server leaves.
        new.inventory.servers[0]
            .sockets
            .retain(|&i| !new.inventory.sockets[i].is_listener());
        new.inventory.servers.pop();
        let whole = crate::rules::diff::diff(&old, &new);
        assert!(!whole.is_empty());
        assert_eq!(crate::rules::diff::diff(&basis, &new), whole);
    }
}
