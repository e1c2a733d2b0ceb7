//! Socket tables of every network namespace seen, joined to owning processes
//! through the fd → socket-inode walk (what `ss -p` does).

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};

use procfs::net::{TcpNetEntry, TcpState, UdpNetEntry, UdpState};
use procfs::process::Process;

use crate::collect::procs::{
    ProcTable, describe, describe_io, is_gone, is_gone_io, open_fds, socket_inode,
};
use crate::model::{Endpoint, Protocol, Socket, SocketOwner, SocketState, Source};

/// Result of walking every readable fd table.
pub struct FdWalk {
    /// socket inode → pids holding it
    pub sockets: HashMap<u64, Vec<u32>>,
    /// pids whose fd table could not be read, with the reason
    pub unreadable: Vec<(u32, String)>,
}

pub fn walk_fds(table: &ProcTable) -> FdWalk {
    let mut sockets: HashMap<u64, Vec<u32>> = HashMap::new();
    let mut unreadable = Vec::new();
    for &pid in table.procs.keys() {
        let fds = match open_fds(pid) {
            Ok(fds) => fds,
            Err(e) if is_gone_io(&e) => continue,
            Err(e) => {
                unreadable.push((pid, describe_io(&e)));
                continue;
            }
        };
        for (_, target) in fds {
            if let Some(inode) = socket_inode(&target) {
                let holders = sockets.entry(inode).or_default();
                if !holders.contains(&pid) {
                    holders.push(pid);
                }
            }
        }
    }
    for holders in sockets.values_mut() {
        holders.sort_unstable();
    }
    unreadable.sort_unstable();
    FdWalk {
        sockets,
        unreadable,
    }
}

/// One namespace's tables, read through a member process (or our own /proc/net).
pub struct NsTables {
    pub netns: Option<String>,
    pub rows: Vec<Row>,
    /// Tables that could not be read: (path, reason).
    pub errors: Vec<(Source, String)>,
}

pub struct Row {
    pub protocol: Protocol,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: SocketState,
    pub inode: u64,
    pub uid: u32,
    pub source: Source,
}

/// Read tcp, tcp6, udp, udp6 under `base` (`/proc/net` or `/proc/PID/net`).
pub fn read_tables(base: &str, pid: Option<u32>, netns: Option<String>) -> NsTables {
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let proc_ = pid.map(|p| Process::new(p as i32));
    for (name, proto) in [
        ("tcp", Protocol::Tcp),
        ("tcp6", Protocol::Tcp),
        ("udp", Protocol::Udp),
        ("udp6", Protocol::Udp),
    ] {
        let source = Source::path(format!("{base}/{name}"));
        let result: Result<Vec<Row>, procfs::ProcError> = match (&proc_, proto) {
            (Some(Err(e)), _) => Err(procfs::ProcError::Other(e.to_string())),
            (Some(Ok(p)), Protocol::Tcp) => {
                if name == "tcp" { p.tcp() } else { p.tcp6() }.map(|v| tcp_rows(v, &source))
            }
            (Some(Ok(p)), Protocol::Udp) => {
                if name == "udp" { p.udp() } else { p.udp6() }.map(|v| udp_rows(v, &source))
            }
            (None, Protocol::Tcp) => if name == "tcp" {
                procfs::net::tcp()
            } else {
                procfs::net::tcp6()
            }
            .map(|v| tcp_rows(v, &source)),
            (None, Protocol::Udp) => if name == "udp" {
                procfs::net::udp()
            } else {
                procfs::net::udp6()
            }
            .map(|v| udp_rows(v, &source)),
        };
        match result {
            Ok(r) => rows.extend(r),
            // A host without IPv6 has no tcp6/udp6: nothing to see, not a blind spot.
            Err(e) if is_gone(&e) && name.ends_with('6') => {}
            Err(e) => errors.push((source, describe(&e))),
        }
    }
    NsTables {
        netns,
        rows,
        errors,
    }
}

fn tcp_rows(entries: Vec<TcpNetEntry>, source: &Source) -> Vec<Row> {
    entries
        .into_iter()
        .filter_map(|e| {
            let state = match e.state {
                TcpState::Listen => SocketState::Listen,
                TcpState::Established => SocketState::Established,
                _ => return None,
            };
            Some(Row {
                protocol: Protocol::Tcp,
                local: e.local_address,
                remote: e.remote_address,
                state,
                inode: e.inode,
                uid: e.uid,
                source: source.clone(),
            })
        })
        .collect()
}

fn udp_rows(entries: Vec<UdpNetEntry>, source: &Source) -> Vec<Row> {
    entries
        .into_iter()
        .map(|e| Row {
            protocol: Protocol::Udp,
            local: e.local_address,
            remote: e.remote_address,
            state: match e.state {
                UdpState::Established => SocketState::Established,
                _ => SocketState::UdpBound,
            },
            inode: e.inode,
            uid: e.uid,
            source: source.clone(),
        })
        .collect()
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) is the IPv4 address it carries.
pub fn endpoint(addr: SocketAddr) -> Endpoint {
    match addr.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Endpoint {
                addr: IpAddr::V4(v4),
                port: addr.port(),
                v4_mapped: true,
            },
            None => Endpoint {
                addr: IpAddr::V6(v6),
                port: addr.port(),
                v4_mapped: false,
            },
        },
        v4 => Endpoint {
            addr: v4,
            port: addr.port(),
            v4_mapped: false,
        },
    }
}

/// Join rows of every namespace to their owners.
pub fn join(
    tables: &[NsTables],
    walk: &FdWalk,
    procs: &ProcTable,
    owner_unknown_reason: impl Fn(u32) -> String,
) -> Vec<Socket> {
    // Inodes are unique host-wide: a socket seen through two paths is one socket.
    let mut seen: HashSet<(u64, Protocol)> = HashSet::new();
    let mut out = Vec::new();
    for t in tables {
        for r in &t.rows {
            if r.inode != 0 && !seen.insert((r.inode, r.protocol)) {
                continue;
            }
            let owner = match walk.sockets.get(&r.inode) {
                Some(pids) if r.inode != 0 => SocketOwner::Processes {
                    pids: pids.clone(),
                    comm: pids
                        .first()
                        .and_then(|p| procs.get(*p))
                        .map(|p| p.comm.clone())
                        .unwrap_or_default(),
                },
                _ => SocketOwner::Unknown {
                    reason: owner_unknown_reason(r.uid),
                },
            };
            let remote = (r.state == SocketState::Established).then(|| endpoint(r.remote));
            out.push(Socket {
                protocol: r.protocol,
                local: endpoint(r.local),
                remote,
                state: r.state,
                inode: r.inode,
                uid: r.uid,
                netns: t.netns.clone(),
                source: r.source.clone(),
                owner,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_mapped_is_shown_as_v4() {
        let e = endpoint("[::ffff:127.0.0.1]:8080".parse().expect("addr"));
        assert_eq!(e.addr, "127.0.0.1".parse::<IpAddr>().expect("ip"));
        assert!(e.v4_mapped);
        let e = endpoint("[::1]:8080".parse().expect("addr"));
        assert!(!e.v4_mapped);
    }
}
