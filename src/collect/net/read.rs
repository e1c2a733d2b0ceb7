//! One collection's network: the namespaces that matter (those of processes
//! holding sockets, and of servers), their socket tables (sock_diag, else the
//! /proc tables of a member process), their interfaces, and the sockets joined
//! to the processes that hold them.

use std::collections::{BTreeMap, HashSet};

use super::sockets::{self, FdWalk, NsTables, read_tables};
use super::{interfaces, sockdiag};
use crate::collect::host::UserNames;
use crate::collect::procs::{ProcTable, netns_of};
use crate::knowledge::network::Network;
use crate::model::{BlindSpot, Interface, Socket, Source};

/// Network namespaces of the processes that matter.
#[derive(Default)]
pub struct Namespaces {
    /// aiposture's own.
    pub own: Option<String>,
    /// namespace → one member process (to read its tables through).
    pub member: BTreeMap<String, u32>,
    pub of_pid: BTreeMap<u32, String>,
    /// Processes whose namespace could not be read (not the exited ones).
    pub unreadable: Vec<u32>,
}

impl Namespaces {
    /// Namespaces of `pids`, and aiposture's own.
    pub fn of(pids: &HashSet<u32>) -> Namespaces {
        let mut ns = Namespaces {
            own: netns_of(std::process::id()).ok(),
            ..Default::default()
        };
        for &pid in pids {
            match netns_of(pid) {
                Ok(n) => {
                    ns.member.entry(n.clone()).or_insert(pid);
                    ns.of_pid.insert(pid, n);
                }
                Err(reason) if reason != "the process exited" => ns.unreadable.push(pid),
                Err(_) => {}
            }
        }
        ns
    }

    /// Namespaces other than aiposture's own, with a member process.
    fn others(&self) -> impl Iterator<Item = (&String, &u32)> {
        self.member
            .iter()
            .filter(move |(n, _)| Some(*n) != self.own.as_ref())
    }
}

/// What the network side of a collection found.
pub struct NetRead {
    pub namespaces: Namespaces,
    pub interfaces: Vec<Interface>,
    pub sockets: Vec<Socket>,
}

/// Sockets of every namespace in `ns` joined to the processes of `table`;
/// `is_root` only words why a socket's owner is unknown.
pub fn read(
    table: &ProcTable,
    walk: &FdWalk,
    ns: Namespaces,
    network: &Network,
    users: &UserNames,
    is_root: bool,
    blind: &mut Vec<BlindSpot>,
) -> NetRead {
    let tables = socket_tables(&ns);
    table_blind_spots(&tables, blind);
    let interfaces = interfaces_of(&ns, network, blind);
    let sockets = sockets::join(&tables, walk, table, |uid| {
        let who = users
            .name(uid)
            .map(|n| format!("uid {uid} ({n})"))
            .unwrap_or_else(|| format!("uid {uid}"));
        if is_root {
            format!(
                "created by {who}; no process holds an fd to it (kernel socket, or its owner exited during collection)"
            )
        } else {
            format!(
                "created by {who}; the fd tables of other users' processes are not readable without root"
            )
        }
    });
    NetRead {
        namespaces: ns,
        interfaces,
        sockets,
    }
}

/// The socket tables of each namespace: sock_diag where it can be asked
/// (joining another namespace needs CAP_SYS_ADMIN), else the /proc tables of a
/// member process, which show the same rows more slowly.
fn socket_tables(ns: &Namespaces) -> Vec<NsTables> {
    let own_label = |file: &str| Source::SockDiag {
        netns: ns.own.as_deref().unwrap_or("own namespace").into(),
        table: format!("/proc/net/{file}"),
    };
    let mut tables: Vec<NsTables> = vec![match sockdiag::dump_all(&own_label) {
        Ok(rows) => NsTables {
            netns: ns.own.clone(),
            rows,
            errors: Vec::new(),
        },
        Err(_) => read_tables("/proc/net", None, ns.own.clone()),
    }];
    for (n, pid) in ns.others() {
        let label = |file: &str| Source::SockDiag {
            netns: n.clone(),
            table: format!("/proc/{pid}/net/{file}"),
        };
        tables.push(match sockdiag::dump_in_netns_of(*pid, &label) {
            Ok(rows) => NsTables {
                netns: Some(n.clone()),
                rows,
                errors: Vec::new(),
            },
            Err(_) => read_tables(&format!("/proc/{pid}/net"), Some(*pid), Some(n.clone())),
        });
    }
    tables
}

fn table_blind_spots(tables: &[NsTables], blind: &mut Vec<BlindSpot>) {
    for t in tables {
        for (path, reason) in &t.errors {
            blind.push(BlindSpot {
                what: format!(
                    "socket table {path} (namespace {})",
                    t.netns.as_deref().unwrap_or("unknown")
                ),
                path: path.clone(),
                reason: reason.clone(),
                consequence: "sockets of this table are not listed".into(),
            });
        }
    }
}

/// Interfaces and addresses of aiposture's namespace and every other one.
fn interfaces_of(ns: &Namespaces, network: &Network, blind: &mut Vec<BlindSpot>) -> Vec<Interface> {
    let mut out = interfaces::read(network, ns.own.as_deref()).unwrap_or_else(|e| {
        blind.push(BlindSpot {
            what: "interfaces of aiposture's own namespace".into(),
            path: Source::command("getifaddrs(3)"),
            reason: e.to_string(),
            consequence: "what wildcard binds expose cannot be judged".into(),
        });
        Vec::new()
    });
    for (n, pid) in ns.others() {
        match interfaces::read_in_netns_of(network, *pid, n) {
            Ok(found) => out.extend(found),
            Err(e) => blind.push(BlindSpot {
                what: format!("interfaces of namespace {n}"),
                path: Source::proc(*pid, "ns/net"),
                reason: if e.raw_os_error() == Some(libc::EPERM) {
                    "joining another network namespace needs CAP_SYS_ADMIN".into()
                } else {
                    e.to_string()
                },
                consequence: "who can reach listeners in that namespace is unknown; run as root"
                    .into(),
            }),
        }
    }
    out
}
