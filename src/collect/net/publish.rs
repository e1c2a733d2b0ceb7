//! Container port publishing, read from the processes that do it.
//!
//! Docker's userland proxy runs one `docker-proxy` per published (host address,
//! port, protocol), with the mapping in its argv (docs/research/docker-publishing.md):
//!   docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 18090 -container-ip 172.17.0.2 -container-port 8080
//! argv is readable by any user, so this works unprivileged. Unknown flags
//! (newer releases add `-use-listen-fd`) are ignored.

use std::net::IpAddr;

use crate::collect::procs::ProcTable;
use crate::model::{Endpoint, PortPublish, Protocol, Source};

fn flag<'a>(argv: &'a [String], name: &str) -> Option<&'a str> {
    argv.iter()
        .position(|a| a == name || a.strip_prefix('-') == Some(name))
        .and_then(|i| argv.get(i + 1))
        .map(String::as_str)
}

fn endpoint(addr: &str, port: &str) -> Option<Endpoint> {
    Some(Endpoint {
        addr: addr.trim_matches(['[', ']']).parse::<IpAddr>().ok()?,
        port: port.parse().ok()?,
        v4_mapped: false,
    })
}

/// Parse one docker-proxy command line.
pub fn parse_docker_proxy(pid: u32, argv: &[String]) -> Option<PortPublish> {
    let protocol = match flag(argv, "-proto")? {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        _ => return None,
    };
    Some(PortPublish {
        protocol,
        host: endpoint(flag(argv, "-host-ip")?, flag(argv, "-host-port")?)?,
        target: endpoint(flag(argv, "-container-ip")?, flag(argv, "-container-port")?)?,
        via: Source::Proc {
            pid,
            file: "cmdline".into(),
            process: Some("docker-proxy".into()),
        },
        proxy_pid: Some(pid),
        target_netns: None,
    })
}

pub fn from_processes(table: &ProcTable) -> Vec<PortPublish> {
    let mut out: Vec<PortPublish> = table
        .procs
        .values()
        .filter(|p| p.comm == "docker-proxy" || p.exe.as_deref() == Some("docker-proxy"))
        .filter_map(|p| parse_docker_proxy(p.pid, &p.argv))
        .collect();
    out.sort_by_key(|p| (p.host.port, p.proxy_pid));
    out
}

/// Rootless Podman: `rootlessport` opens the published port in the host namespace,
/// then moves into the container's network namespace to forward connections. Its
/// port map arrives over a pipe, so the container port is not visible: the
/// publish points at the namespace, with port 0 for "not known".
pub fn from_rootlessport(
    table: &ProcTable,
    sockets: &[crate::model::Socket],
    own_netns: &Option<String>,
    netns_of: impl Fn(u32) -> Option<String>,
) -> Vec<PortPublish> {
    let mut out = Vec::new();
    for p in table.procs.values().filter(|p| p.comm == "rootlessport") {
        let Some(inner) = netns_of(p.pid).filter(|ns| Some(ns) != own_netns.as_ref()) else {
            continue;
        };
        for s in sockets
            .iter()
            .filter(|s| s.is_listener() && s.netns == *own_netns && s.owner_pids().contains(&p.pid))
        {
            out.push(PortPublish {
                protocol: s.protocol,
                host: s.local.clone(),
                target: Endpoint {
                    addr: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                    port: 0,
                    v4_mapped: false,
                },
                via: Source::note(format!(
                    "rootlessport pid {} (rootless Podman) listens on {} in the host namespace and forwards into {inner}; the container port is not visible",
                    p.pid, s.local
                )),
                proxy_pid: Some(p.pid),
                target_netns: Some(inner.clone()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn docker_proxy_argv_as_seen_on_a_real_host() {
        let p = parse_docker_proxy(
            7,
            &argv("/usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 18090 -container-ip 172.17.0.2 -container-port 8080 -use-listen-fd"),
        )
        .expect("parsed");
        assert_eq!(p.host.to_string(), "127.0.0.1:18090");
        assert_eq!(p.target.to_string(), "172.17.0.2:8080");
        assert_eq!(p.protocol, Protocol::Tcp);
        let v6 = parse_docker_proxy(8, &argv("docker-proxy -proto udp -host-ip :: -host-port 53 -container-ip fd00::2 -container-port 53"))
            .expect("v6");
        assert_eq!(v6.host.to_string(), "[::]:53");
        assert!(
            parse_docker_proxy(9, &argv("docker-proxy -proto sctp -host-ip 1.2.3.4")).is_none()
        );
        assert!(parse_docker_proxy(9, &argv("docker-proxy -proto tcp -host-ip x -host-port 1 -container-ip 1.1.1.1 -container-port 2")).is_none());
    }
}
