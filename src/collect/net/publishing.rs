//! Which host ports forward into containers, from every source that shows it:
//! docker-proxy and rootlessport processes, the Docker Engine API, and (root,
//! only when a server runs in a container) the NAT rules. Each port once.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::read::Namespaces;
use super::{docker, nat, publish};
use crate::collect::procs::ProcTable;
use crate::model::{BlindSpot, DockerContainer, PortPublish, Socket, Source};

/// The NAT rules (root only), read again only when the last read is older
/// than `ttl`, like the firewall.
pub struct NatReader {
    last: Mutex<Option<(Instant, nat::NatRead)>>,
    ttl: Duration,
}

impl NatReader {
    pub fn new(ttl: Duration) -> NatReader {
        NatReader {
            last: Mutex::new(None),
            ttl,
        }
    }
}

pub struct Publishing {
    pub publishes: Vec<PortPublish>,
    pub containers: Vec<DockerContainer>,
}

/// `containers_seen`: a server runs in a container (only then are NAT rules read).
pub fn read(
    table: &ProcTable,
    sockets: &[Socket],
    ns: &Namespaces,
    containers_seen: bool,
    is_root: bool,
    nat: &NatReader,
    blind: &mut Vec<BlindSpot>,
) -> Publishing {
    let mut publishes = publish::from_processes(table);
    publishes.extend(publish::from_rootlessport(table, sockets, &ns.own, |pid| {
        ns.of_pid.get(&pid).cloned()
    }));
    let containers = from_docker(&mut publishes, blind);
    if containers_seen && is_root {
        // A poisoned lock only means an earlier collection panicked; the cache
        // holds plain values and stays valid.
        let mut cache = nat.last.lock().unwrap_or_else(|p| p.into_inner());
        if cache.as_ref().is_none_or(|(at, _)| at.elapsed() >= nat.ttl) {
            *cache = Some((Instant::now(), nat::read()));
        }
        if let Some((_, read)) = cache.as_ref() {
            for p in &read.publishes {
                add_once(&mut publishes, p.clone());
            }
            for e in &read.errors {
                blind.push(BlindSpot {
                    what: "NAT rules of the host".into(),
                    path: Source::command("iptables-save -t nat"),
                    reason: e.clone(),
                    consequence: "ports published by NAT rules alone (Podman, Docker without its proxy) may be missing".into(),
                });
            }
        }
    } else if containers_seen {
        blind.push(BlindSpot {
            what: "NAT rules of the host".into(),
            path: Source::command("iptables-save -t nat"),
            reason: "reading netfilter tables needs root (CAP_NET_ADMIN)".into(),
            consequence: "ports published by NAT rules alone (Podman, Docker without its proxy) are not mapped to their containers".into(),
        });
    }
    Publishing {
        publishes,
        containers,
    }
}

/// The Engine API's containers; its ports join `publishes` (docker-proxy and the
/// API describe the same ports: each is kept once).
fn from_docker(
    publishes: &mut Vec<PortPublish>,
    blind: &mut Vec<BlindSpot>,
) -> Vec<DockerContainer> {
    match docker::read(std::path::Path::new(docker::SOCKET)) {
        Ok(Some(docker::DockerView {
            containers,
            publishes: api_publishes,
        })) => {
            for p in api_publishes {
                add_once(publishes, p);
            }
            containers
        }
        Ok(None) => Vec::new(),
        Err(reason) => {
            blind.push(BlindSpot {
                what: "the Docker Engine API".into(),
                path: Source::DockerApi {
                    socket: docker::SOCKET.into(),
                    endpoint: "/containers/json".into(),
                    container: None,
                },
                reason,
                consequence: "container names and ports published by NAT rules alone (userland-proxy off) are not visible; ports forwarded by docker-proxy still are. Run as root or in the docker group".into(),
            });
            Vec::new()
        }
    }
}

fn add_once(publishes: &mut Vec<PortPublish>, p: PortPublish) {
    if !publishes
        .iter()
        .any(|q| q.host == p.host && q.target == p.target && q.protocol == p.protocol)
    {
        publishes.push(p);
    }
}
