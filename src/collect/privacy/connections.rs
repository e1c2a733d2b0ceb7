//! Live connections of AI processes (servers, their workers, actors) to peers
//! beyond loopback, read from the socket tables already joined to their owners,
//! and the `/etc/hosts` names of those peers. Nothing is sent: no DNS, no probe.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use super::etc_hosts;
use crate::model::privacy::{Connection, HostsName};
use crate::model::{BlindSpot, Protocol, Server, Socket, SocketState, Source};

/// One peer of one process. The local port is left out: a reconnect to the
/// same peer (a new ephemeral port) keeps its first-seen time.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerKey {
    pub pid: u32,
    pub protocol: Protocol,
    pub remote: IpAddr,
    pub port: u16,
}

/// First-seen time of each peer, kept across collections of one aiposture process.
pub type FirstSeen = HashMap<PeerKey, String>;

/// Sockets to a peer beyond loopback held by a server, one of its workers or an
/// extra pid (actors): `(index into sockets, owning pid)`, one row per owner
/// (a socket shared after fork is listed for each process holding it).
/// Connections accepted by a listener are inbound, not egress, and are left out.
pub fn select(servers: &[Server], sockets: &[Socket], extra_pids: &[u32]) -> Vec<(usize, u32)> {
    let wanted: HashSet<u32> = servers
        .iter()
        .flat_map(|s| std::iter::once(s.pid).chain(s.workers.iter().map(|w| w.pid)))
        .chain(extra_pids.iter().copied())
        .collect();
    let mut out = Vec::new();
    for (i, s) in sockets.iter().enumerate() {
        if s.state != SocketState::Established {
            continue;
        }
        let Some(remote) = &s.remote else { continue };
        if remote.addr.is_loopback() || remote.addr.is_unspecified() || remote.port == 0 {
            continue;
        }
        if accepted(s, sockets) {
            continue;
        }
        for &pid in s.owner_pids().iter().filter(|p| wanted.contains(p)) {
            out.push((i, pid));
        }
    }
    out
}

/// An accepted connection shares its local port with a listener of its
/// namespace (wildcard or the same address); an outgoing one has its own port.
fn accepted(s: &Socket, sockets: &[Socket]) -> bool {
    sockets.iter().any(|l| {
        l.is_listener()
            && l.protocol == s.protocol
            && l.netns == s.netns
            && l.local.port == s.local.port
            && (l.local.addr.is_unspecified() || l.local.addr == s.local.addr)
    })
}

/// Connection rows stamped with their first-seen time; `first_seen` forgets
/// peers no longer connected, so a peer that comes back is new again.
pub fn stamp(
    picked: &[(usize, u32)],
    sockets: &[Socket],
    now: &str,
    first_seen: &mut FirstSeen,
) -> Vec<Connection> {
    let mut seen_now = HashSet::new();
    let mut out = Vec::new();
    for &(i, pid) in picked {
        let Some(remote) = sockets.get(i).and_then(|s| s.remote.as_ref()) else {
            continue;
        };
        let key = PeerKey {
            pid,
            protocol: sockets[i].protocol,
            remote: remote.addr,
            port: remote.port,
        };
        let first = first_seen
            .entry(key.clone())
            .or_insert_with(|| now.to_string())
            .clone();
        seen_now.insert(key);
        out.push(Connection {
            socket: i,
            pid,
            protocol: sockets[i].protocol,
            remote: remote.addr,
            port: remote.port,
            first_seen: first,
            hosts_file: None,
        });
    }
    first_seen.retain(|k, _| seen_now.contains(k));
    out
}

/// Connections of AI processes and the names hosts files give their peers.
/// `extra_pids` are processes beyond the servers (tunnels, agents, MCP servers).
pub fn read(
    servers: &[Server],
    sockets: &[Socket],
    extra_pids: &[u32],
    now: &str,
    first_seen: &mut FirstSeen,
    blind: &mut Vec<BlindSpot>,
) -> (Vec<Connection>, Vec<HostsName>) {
    let picked = select(servers, sockets, extra_pids);
    let mut connections = stamp(&picked, sockets, now, first_seen);

    // One path per file: a server and its workers usually share one.
    let mut pids: Vec<u32> = connections.iter().map(|c| c.pid).collect();
    pids.sort_unstable();
    pids.dedup();
    let mut by_identity: HashMap<(u64, u64), String> = HashMap::new();
    let mut file_of: HashMap<u32, String> = HashMap::new();
    for pid in pids {
        match etc_hosts::file_of(pid) {
            Ok(path) => {
                let path = match etc_hosts::identity(&path) {
                    Some(id) => by_identity.entry(id).or_insert(path).clone(),
                    None => path,
                };
                file_of.insert(pid, path);
            }
            Err(reason) => blind.push(BlindSpot {
                what: format!("hosts file of pid {pid}"),
                path: Source::proc(pid, "root/etc/hosts"),
                reason,
                consequence: "its peers are shown by address only; run as root or as its user"
                    .into(),
            }),
        }
    }
    for c in &mut connections {
        c.hosts_file = file_of.get(&c.pid).cloned();
    }

    let mut wanted: HashMap<&str, BTreeSet<IpAddr>> = HashMap::new();
    for c in &connections {
        if let Some(f) = &c.hosts_file {
            wanted.entry(f.as_str()).or_default().insert(c.remote);
        }
    }
    let mut files: Vec<&str> = wanted.keys().copied().collect();
    files.sort_unstable();
    let mut names = Vec::new();
    for file in files {
        match etc_hosts::names_in(file, &wanted[file]) {
            Ok(found) => names.extend(found),
            Err(reason) => blind.push(BlindSpot {
                what: "a hosts file of AI processes".into(),
                path: Source::path(file.to_string()),
                reason,
                consequence: "names it gives their peers are not shown (addresses only)".into(),
            }),
        }
    }
    (connections, names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing;
    use crate::model::testing::ep;
    use crate::model::{SocketOwner, Worker};

    fn sock(proto: Protocol, local: &str, remote: Option<&str>, pids: &[u32]) -> Socket {
        Socket {
            protocol: proto,
            local: ep(local),
            remote: remote.map(ep),
            state: if remote.is_some() {
                SocketState::Established
            } else if proto == Protocol::Tcp {
                SocketState::Listen
            } else {
                SocketState::UdpBound
            },
            inode: 1,
            uid: 0,
            netns: Some("net:[1]".into()),
            source: Source::from_v1("sock_diag dump in net:[1] (the rows of /proc/net/tcp)"),
            owner: SocketOwner::Processes {
                pids: pids.to_vec(),
                comm: "x".into(),
            },
        }
    }

    #[test]
    fn servers_workers_and_actors_to_peers_beyond_loopback() {
        let mut server = testing::server(100, "vllm");
        server.workers = vec![Worker {
            pid: 101,
            comm: "worker".into(),
        }];
        let sockets = vec![
            // 0: outgoing from the server
            sock(
                Protocol::Tcp,
                "10.0.0.2:40000",
                Some("104.16.1.1:443"),
                &[100],
            ),
            // 1: outgoing from its worker
            sock(Protocol::Tcp, "10.0.0.2:40001", Some("8.8.8.8:443"), &[101]),
            // 2: loopback peer
            sock(
                Protocol::Tcp,
                "127.0.0.1:40002",
                Some("127.0.0.1:11434"),
                &[100],
            ),
            // 3: listener, and 4: a client it accepted (inbound, not egress)
            sock(Protocol::Tcp, "0.0.0.0:8000", None, &[100]),
            sock(
                Protocol::Tcp,
                "10.0.0.2:8000",
                Some("10.0.0.9:51000"),
                &[100],
            ),
            // 5: connected UDP of an actor
            sock(
                Protocol::Udp,
                "10.0.0.2:50000",
                Some("[2606:4700::1]:443"),
                &[300],
            ),
            // 6: a process that is neither
            sock(Protocol::Tcp, "10.0.0.2:40003", Some("9.9.9.9:443"), &[999]),
            // 7: unconnected UDP of the server
            sock(Protocol::Udp, "0.0.0.0:5353", None, &[100]),
        ];
        let got = select(&[server], &sockets, &[300]);
        assert_eq!(got, vec![(0, 100), (1, 101), (5, 300)]);
    }

    #[test]
    fn first_seen_survives_a_reconnect_and_is_forgotten_when_gone() {
        let a = vec![sock(
            Protocol::Tcp,
            "10.0.0.2:40000",
            Some("8.8.8.8:443"),
            &[7],
        )];
        let mut memory = FirstSeen::new();
        let c = stamp(&[(0, 7)], &a, "2026-01-01T00:00:00Z", &mut memory);
        assert_eq!(c[0].first_seen, "2026-01-01T00:00:00Z");
        // Same peer from a new local port: the same egress.
        let b = vec![sock(
            Protocol::Tcp,
            "10.0.0.2:40999",
            Some("8.8.8.8:443"),
            &[7],
        )];
        let c = stamp(&[(0, 7)], &b, "2026-01-01T00:01:00Z", &mut memory);
        assert_eq!(c[0].first_seen, "2026-01-01T00:00:00Z");
        // Gone for one collection: forgotten.
        stamp(&[], &b, "2026-01-01T00:02:00Z", &mut memory);
        assert!(memory.is_empty());
        let c = stamp(&[(0, 7)], &b, "2026-01-01T00:03:00Z", &mut memory);
        assert_eq!(c[0].first_seen, "2026-01-01T00:03:00Z");
    }
}
