//! Live egress of one process: its connections to peers beyond loopback,
//! grouped per peer, classified (LAN / VPN / public) and named only by what
//! needs no DNS: the hosts file the process sees, or a published address range.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::knowledge::Knowledge;
use crate::knowledge::network::{AddrClass, Network};
use crate::model::privacy::{Connection, Destination, Egress};
use crate::model::{Evidence, Interface, InterfaceKind, Inventory, Protocol, Socket, Source};

/// Socket rows shown as evidence per peer; the rest are counted.
const SOCKETS_SHOWN: usize = 3;

/// Egress of the processes `pids` (a server and its workers, or one actor),
/// one row per (protocol, remote address, port).
pub fn egress_of(inventory: &Inventory, knowledge: &Knowledge, pids: &[u32]) -> Vec<Egress> {
    let network = &knowledge.network;
    let mut groups: BTreeMap<(Protocol, IpAddr, u16), Vec<&Connection>> = BTreeMap::new();
    for c in &inventory.privacy.connections {
        if pids.contains(&c.pid) {
            groups
                .entry((c.protocol, c.remote, c.port))
                .or_default()
                .push(c);
        }
    }
    groups
        .into_iter()
        .filter_map(|((protocol, remote, port), conns)| {
            let (class, class_source) = network.classify(&remote);
            let mut destination = match class {
                AddrClass::Loopback => return None,
                AddrClass::LinkLocal | AddrClass::Private | AddrClass::Reserved => Destination::Lan,
                AddrClass::Cgnat => Destination::Vpn,
                AddrClass::Public => Destination::Public,
            };
            // One row per socket (a socket shared after fork appears once).
            let mut sockets: BTreeMap<usize, (&Socket, u32)> = BTreeMap::new();
            for c in &conns {
                if let Some(s) = inventory.sockets.get(c.socket) {
                    sockets.entry(c.socket).or_insert((s, c.pid));
                }
            }
            let vpn_via: Vec<&str> = sockets
                .values()
                .filter_map(|(s, _)| vpn_interface(&inventory.interfaces, s))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            // A private peer reached through a tunnel is on the far network; a
            // public one through a full tunnel still reaches the internet.
            if destination == Destination::Lan && !vpn_via.is_empty() {
                destination = Destination::Vpn;
            }

            let mut evidence: Vec<Evidence> = sockets
                .values()
                .take(SOCKETS_SHOWN)
                .map(|(s, pid)| socket_evidence(s, *pid))
                .collect();
            if sockets.len() > SOCKETS_SHOWN {
                evidence.push(Evidence::new(
                    Source::note("socket tables"),
                    format!(
                        "… and {} more sockets to this peer",
                        sockets.len() - SOCKETS_SHOWN
                    ),
                ));
            }
            evidence.push(Evidence::new(
                Source::asset("assets/network.toml", None),
                format!("{remote} is {} ({class_source})", class_label(class)),
            ));
            for ifname in &vpn_via {
                evidence.push(Evidence::new(
                    Source::note("interfaces"),
                    format!("the local address is on {ifname}, a VPN or overlay interface"),
                ));
            }

            let mut attribution = Vec::new();
            let files: BTreeSet<&str> = conns
                .iter()
                .filter_map(|c| c.hosts_file.as_deref())
                .collect();
            for file in files {
                for h in inventory
                    .privacy
                    .hosts_names
                    .iter()
                    .filter(|h| h.file == file && h.addr == remote)
                {
                    attribution.push(format!("{} ({file})", h.names.join(", ")));
                    evidence.push(Evidence::new(
                        Source::path(file),
                        format!("{} {}", h.addr, h.names.join(" ")),
                    ));
                }
            }
            if let Some(e) = published(network, &remote) {
                attribution.push(e.0);
                evidence.push(e.1);
            }

            let first_seen = conns
                .iter()
                .map(|c| c.first_seen.as_str())
                .min()
                .unwrap_or_default()
                .to_string();
            Some(Egress {
                protocol,
                remote,
                port,
                destination,
                attribution: (!attribution.is_empty()).then(|| attribution.join("; ")),
                connections: sockets.len(),
                first_seen,
                evidence,
            })
        })
        .collect()
}

/// The VPN or overlay interface holding the socket's local address, in its namespace.
fn vpn_interface<'a>(interfaces: &'a [Interface], s: &Socket) -> Option<&'a str> {
    interfaces
        .iter()
        .find(|i| {
            i.kind == InterfaceKind::Vpn
                && i.netns == s.netns
                && i.addrs.iter().any(|a| a.addr == s.local.addr)
        })
        .map(|i| i.name.as_str())
}

fn published(network: &Network, remote: &IpAddr) -> Option<(String, Evidence)> {
    let (range, net) = network.published_range(remote)?;
    Some((
        format!(
            "{} (published range {net}, source {})",
            range.name, range.source
        ),
        Evidence::new(
            Source::asset(
                "assets/network.toml",
                Some(format!("[[published_ranges]] {}", range.id)),
            ),
            format!("{remote} is in {net}; retrieved {}", range.retrieved),
        ),
    ))
}

fn socket_evidence(s: &Socket, pid: u32) -> Evidence {
    let proto = match s.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp (connected)",
    };
    let remote = s.remote.as_ref().map(|r| r.to_string()).unwrap_or_default();
    Evidence::new(
        s.source.clone(),
        format!(
            "{proto} {} → {remote}, established, held by pid {pid}",
            s.local
        ),
    )
}

fn class_label(c: AddrClass) -> &'static str {
    match c {
        AddrClass::Loopback => "loopback",
        AddrClass::LinkLocal => "link-local",
        AddrClass::Private => "private",
        AddrClass::Cgnat => "shared address space (CGNAT, tailnets)",
        AddrClass::Reserved => "reserved (documentation, benchmarking)",
        AddrClass::Public => "public",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::privacy::HostsName;
    use crate::model::testing::ep;
    use crate::model::{IfAddr, SocketOwner, SocketState, testing};

    fn sock(proto: Protocol, local: &str, remote: &str, pid: u32) -> Socket {
        Socket {
            protocol: proto,
            local: ep(local),
            remote: Some(ep(remote)),
            state: SocketState::Established,
            inode: 1,
            uid: 0,
            netns: Some("net:[1]".into()),
            source: Source::from_v1("sock_diag dump in net:[1] (the rows of /proc/net/tcp)"),
            owner: SocketOwner::Processes {
                pids: vec![pid],
                comm: "x".into(),
            },
        }
    }

    fn conn(socket: usize, s: &Socket, pid: u32, first_seen: &str) -> Connection {
        let r = s.remote.as_ref().expect("remote");
        Connection {
            socket,
            pid,
            protocol: s.protocol,
            remote: r.addr,
            port: r.port,
            first_seen: first_seen.into(),
            hosts_file: Some("/etc/hosts".into()),
        }
    }

    fn inventory(sockets: Vec<(Socket, u32, &str)>) -> Inventory {
        let mut inv = testing::inventory();
        for (i, (s, pid, at)) in sockets.into_iter().enumerate() {
            inv.privacy.connections.push(conn(i, &s, pid, at));
            inv.sockets.push(s);
        }
        inv
    }

    fn k() -> Knowledge {
        Knowledge::embedded().expect("knowledge")
    }

    #[test]
    fn grouped_per_peer_with_count_and_earliest_first_seen() {
        let inv = inventory(vec![
            (
                sock(Protocol::Tcp, "10.0.0.2:40000", "8.8.8.8:443", 100),
                100,
                "2026-01-01T00:05:00Z",
            ),
            (
                sock(Protocol::Tcp, "10.0.0.2:40001", "8.8.8.8:443", 101),
                101,
                "2026-01-01T00:01:00Z",
            ),
            (
                sock(Protocol::Udp, "10.0.0.2:50000", "8.8.8.8:443", 100),
                100,
                "2026-01-01T00:02:00Z",
            ),
            (
                sock(Protocol::Tcp, "10.0.0.2:40002", "9.9.9.9:443", 999),
                999,
                "2026-01-01T00:00:00Z",
            ),
        ]);
        let e = egress_of(&inv, &k(), &[100, 101]);
        assert_eq!(e.len(), 2, "{e:#?}");
        let tcp = &e[0];
        assert_eq!((tcp.protocol, tcp.port), (Protocol::Tcp, 443));
        assert_eq!(tcp.remote, "8.8.8.8".parse::<IpAddr>().expect("ip"));
        assert_eq!(tcp.connections, 2);
        assert_eq!(tcp.first_seen, "2026-01-01T00:01:00Z");
        assert_eq!(tcp.destination, Destination::Public);
        assert_eq!(tcp.attribution, None, "an unnamed address stays an address");
        assert!(
            tcp.evidence[0]
                .source
                .to_string()
                .starts_with("sock_diag dump")
        );
        assert!(
            tcp.evidence
                .iter()
                .any(|ev| ev.detail.contains("held by pid 101"))
        );
        assert_eq!(e[1].protocol, Protocol::Udp);
        assert_eq!(e[1].connections, 1);
        // Another process's connection is not this one's egress.
        assert!(
            egress_of(&inv, &k(), &[100])
                .iter()
                .all(|g| g.connections == 1)
        );
        assert!(egress_of(&inv, &k(), &[5]).is_empty());
    }

    #[test]
    fn classes_lan_vpn_public() {
        let inv = inventory(vec![
            (
                sock(Protocol::Tcp, "10.0.0.2:1", "192.168.1.5:80", 1),
                1,
                "t",
            ),
            (
                sock(Protocol::Tcp, "10.0.0.2:2", "169.254.169.254:80", 1),
                1,
                "t",
            ),
            (
                sock(Protocol::Tcp, "100.70.0.2:3", "100.101.102.103:80", 1),
                1,
                "t",
            ),
            (
                sock(Protocol::Tcp, "10.0.0.2:4", "198.51.100.7:80", 1),
                1,
                "t",
            ),
            (
                sock(Protocol::Tcp, "10.0.0.2:5", "[2a00:1450::1]:443", 1),
                1,
                "t",
            ),
        ]);
        let e = egress_of(&inv, &k(), &[1]);
        let dest = |ip: &str| {
            e.iter()
                .find(|g| g.remote == ip.parse::<IpAddr>().expect("ip"))
                .map(|g| g.destination)
        };
        assert_eq!(dest("192.168.1.5"), Some(Destination::Lan));
        assert_eq!(dest("169.254.169.254"), Some(Destination::Lan));
        assert_eq!(dest("100.101.102.103"), Some(Destination::Vpn));
        assert_eq!(dest("198.51.100.7"), Some(Destination::Lan));
        assert_eq!(dest("2a00:1450::1"), Some(Destination::Public));
    }

    #[test]
    fn a_private_peer_through_a_vpn_interface_is_vpn_a_public_one_stays_public() {
        let mut inv = inventory(vec![
            (
                sock(Protocol::Tcp, "10.8.0.2:1", "10.8.0.1:11434", 1),
                1,
                "t",
            ),
            (sock(Protocol::Tcp, "10.8.0.2:2", "8.8.4.4:443", 1), 1, "t"),
            (
                sock(Protocol::Tcp, "192.168.1.2:3", "192.168.1.1:80", 1),
                1,
                "t",
            ),
        ]);
        inv.interfaces.push(Interface {
            name: "wg0".into(),
            netns: Some("net:[1]".into()),
            kind: InterfaceKind::Vpn,
            addrs: vec![IfAddr {
                addr: "10.8.0.2".parse().expect("ip"),
                prefix: 24,
            }],
        });
        let e = egress_of(&inv, &k(), &[1]);
        let get = |ip: &str| {
            e.iter()
                .find(|g| g.remote == ip.parse::<IpAddr>().expect("ip"))
                .expect("peer")
        };
        assert_eq!(get("10.8.0.1").destination, Destination::Vpn);
        assert!(
            get("10.8.0.1")
                .evidence
                .iter()
                .any(|ev| ev.detail.contains("wg0"))
        );
        assert_eq!(get("8.8.4.4").destination, Destination::Public);
        assert!(
            get("8.8.4.4")
                .evidence
                .iter()
                .any(|ev| ev.detail.contains("wg0"))
        );
        assert_eq!(get("192.168.1.1").destination, Destination::Lan);
    }

    #[test]
    fn named_by_the_hosts_file_the_process_sees_or_a_published_range() {
        let mut inv = inventory(vec![
            (sock(Protocol::Tcp, "10.0.0.2:1", "8.8.8.8:443", 1), 1, "t"),
            (
                sock(Protocol::Tcp, "10.0.0.2:2", "104.16.0.9:443", 1),
                1,
                "t",
            ),
            (sock(Protocol::Tcp, "10.0.0.2:3", "9.9.9.9:443", 1), 1, "t"),
        ]);
        // The process sees its container's file; the host's names do not apply.
        for c in inv.privacy.connections.iter_mut() {
            c.hosts_file = Some("/proc/1/root/etc/hosts".into());
        }
        inv.privacy.hosts_names = vec![
            HostsName {
                addr: "8.8.8.8".parse().expect("ip"),
                names: vec!["telemetry.example".into(), "t2".into()],
                file: "/proc/1/root/etc/hosts".into(),
            },
            HostsName {
                addr: "9.9.9.9".parse().expect("ip"),
                names: vec!["host-only.example".into()],
                file: "/etc/hosts".into(),
            },
        ];
        let e = egress_of(&inv, &k(), &[1]);
        let get = |ip: &str| {
            e.iter()
                .find(|g| g.remote == ip.parse::<IpAddr>().expect("ip"))
                .expect("peer")
        };
        assert_eq!(
            get("8.8.8.8").attribution.as_deref(),
            Some("telemetry.example, t2 (/proc/1/root/etc/hosts)")
        );
        assert!(
            get("8.8.8.8")
                .evidence
                .iter()
                .any(|ev| ev.source.to_string() == "/proc/1/root/etc/hosts")
        );
        let cf = get("104.16.0.9").attribution.clone().expect("named");
        assert!(cf.starts_with("Cloudflare edge (published range 104.16.0.0/13, source https://www.cloudflare.com/ips-v4"), "{cf}");
        assert_eq!(get("9.9.9.9").attribution, None);
    }
}
