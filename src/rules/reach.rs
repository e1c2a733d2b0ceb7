//! Effective exposure: from a listener's bind address and namespace to who can
//! reach it, with every step of the reasoning kept as evidence.

use std::net::IpAddr;

use ipnet::IpNet;

use super::firewall::{self, FirewallVerdict};
use crate::knowledge::network::{AddrClass, Network};
use crate::model::firewall::FirewallView;
use crate::model::{
    BindScope, Endpoint, Evidence, Interface, InterfaceKind, Inventory, ListenerExposure,
    PortPublish, Reach, Socket, Source,
};

pub fn bind_scope(addr: &IpAddr) -> BindScope {
    if addr.is_loopback() {
        BindScope::Loopback
    } else if addr.is_unspecified() {
        BindScope::Wildcard
    } else {
        BindScope::Address
    }
}

fn net_of(a: &crate::model::IfAddr) -> Option<IpNet> {
    IpNet::new(a.addr, a.prefix).ok().map(|n| n.trunc())
}

/// Reach of one local address on one interface of namespace `ns`.
fn reach_of(
    inv: &Inventory,
    network: &Network,
    ns_is_host: bool,
    iface: &Interface,
    addr: &IpAddr,
) -> (Reach, String) {
    let (class, source) = network.classify(addr);
    let on = format!("{addr} on {}", iface.name);
    if class == AddrClass::Loopback || iface.kind == InterfaceKind::Loopback {
        return (Reach::LoopbackOnly, format!("{on}: loopback"));
    }
    if !ns_is_host && network.is_usermode(addr) {
        return (
            Reach::HostOnly,
            format!(
                "{on}: user-mode network of a rootless container ({})",
                network.usermode_source
            ),
        );
    }
    if iface.kind == InterfaceKind::Vpn || class == AddrClass::Cgnat {
        return (
            Reach::Vpn,
            format!("{on}: VPN/overlay interface or CGNAT range ({source})"),
        );
    }
    if iface.kind == InterfaceKind::Bridge {
        return (
            Reach::HostOnly,
            format!("{on}: bridge to the host's containers/VMs"),
        );
    }
    if !ns_is_host {
        // A container's eth0: its subnet sits on a bridge of the host namespace.
        let bridge = inv.interfaces.iter().find(|h| {
            h.netns == inv.own_netns
                && h.kind == InterfaceKind::Bridge
                && h.addrs.iter().filter_map(net_of).any(|n| n.contains(addr))
        });
        if let Some(b) = bridge {
            return (
                Reach::HostOnly,
                format!(
                    "{on}: inside the container network of host bridge {}",
                    b.name
                ),
            );
        }
    }
    match class {
        AddrClass::Public => (Reach::Public, format!("{on}: public address")),
        AddrClass::LinkLocal => (Reach::Lan, format!("{on}: link-local address ({source})")),
        _ => (
            Reach::Lan,
            format!("{on}: private or reserved address ({source})"),
        ),
    }
}

/// Reach of a bind address in a namespace: the widest class among the local
/// addresses it covers. Returns the verdict, a one-line summary and the steps.
fn judge_bind(
    inv: &Inventory,
    network: &Network,
    local: &Endpoint,
    netns: &Option<String>,
) -> (Reach, String, Vec<Evidence>) {
    let scope = bind_scope(&local.addr);
    let ns_is_host = netns.is_none() || *netns == inv.own_netns;
    let ns_name = netns
        .clone()
        .unwrap_or_else(|| "an unknown namespace".into());
    let mut chain = Vec::new();
    if scope == BindScope::Loopback {
        return (Reach::LoopbackOnly, format!("loopback of {ns_name}"), chain);
    }
    let ifaces: Vec<&Interface> = inv
        .interfaces
        .iter()
        .filter(|i| netns.is_some() && i.netns == *netns)
        .collect();
    if ifaces.is_empty() {
        chain.push(Evidence::new(
            Source::command("getifaddrs(3)"),
            format!("interfaces of {ns_name} were not readable (see blind spots)"),
        ));
        return (
            Reach::Unknown,
            format!("unknown: interfaces of {ns_name} not readable"),
            chain,
        );
    }
    let v4_only = matches!(local.addr, IpAddr::V4(_)) && !local.v4_mapped;
    let mut covered: Vec<(Reach, String)> = Vec::new();
    for iface in &ifaces {
        for a in &iface.addrs {
            let hit = match scope {
                // IPV6_V6ONLY is not in the socket tables; Linux defaults to dual stack.
                BindScope::Wildcard => !(v4_only && a.addr.is_ipv6()),
                _ => a.addr == local.addr,
            };
            if hit {
                covered.push(reach_of(inv, network, ns_is_host, iface, &a.addr));
            }
        }
    }
    match covered.iter().max_by_key(|(r, _)| *r) {
        None => {
            chain.push(Evidence::new(
                Source::command("getifaddrs(3)"),
                format!("{} is on no interface of {ns_name}", local.addr),
            ));
            (
                Reach::Unknown,
                format!("unknown: {} on no interface", local.addr),
                chain,
            )
        }
        Some((widest, why)) => {
            for (_, step) in &covered {
                chain.push(Evidence::new(
                    Source::note(format!("interfaces of {ns_name}")),
                    step.clone(),
                ));
            }
            (*widest, format!("{}: {why}", widest.label()), chain)
        }
    }
}

/// A port published by NAT alone (no proxy process) reaches its container through
/// the host's FORWARD hook: judge that path for a new connection from another
/// host. `Some((blocked, evidence))` when a firewall view of the host exists.
fn forwarded(inv: &Inventory, p: &PortPublish, host_reach: Reach) -> Option<(bool, Evidence)> {
    if p.proxy_pid.is_some() || !matches!(host_reach, Reach::Lan | Reach::Vpn | Reach::Public) {
        return None;
    }
    let view = &inv
        .firewalls
        .iter()
        .find(|f| f.netns == inv.own_netns)?
        .view;
    let host_ifaces: Vec<&Interface> = inv
        .interfaces
        .iter()
        .filter(|i| i.netns == inv.own_netns)
        .collect();
    let out_iface = host_ifaces
        .iter()
        .find(|i| {
            i.addrs
                .iter()
                .filter_map(net_of)
                .any(|n| n.contains(&p.target.addr))
        })
        .map(|i| i.name.clone())
        .unwrap_or_default();
    let internal: Vec<String> = host_ifaces
        .iter()
        .filter(|i| matches!(i.kind, InterfaceKind::Bridge | InterfaceKind::Loopback))
        .map(|i| i.name.clone())
        .collect();
    let internal_nets: Vec<IpNet> = host_ifaces
        .iter()
        .filter(|i| i.kind == InterfaceKind::Bridge)
        .flat_map(|i| i.addrs.iter().filter_map(net_of))
        .collect();
    let (verdict, why) = firewall::judge_forward(
        view,
        p.protocol,
        p.target.port,
        p.target.addr,
        &out_iface,
        &internal,
        &internal_nets,
    );
    let step = |what: &str| {
        Evidence::new(
            Source::note("host firewall, FORWARD hook"),
            format!(
                "{what} new connections to {} via {out_iface}: {why}",
                p.target
            ),
        )
    };
    Some(match verdict {
        FirewallVerdict::Blocks => (true, step("drops")),
        FirewallVerdict::Allows => (false, step("forwards")),
        FirewallVerdict::Unknown => (false, step("could not judge whether it forwards")),
    })
}

/// Is `target` (a published port's destination) this listener?
fn publishes_to(inv: &Inventory, s: &Socket, p: &PortPublish) -> bool {
    if p.protocol != s.protocol {
        return false;
    }
    // Rootless Podman: the namespace is known, the container port may not be.
    if let Some(ns) = &p.target_netns {
        return s.netns.as_ref() == Some(ns)
            && (p.target.port == 0 || p.target.port == s.local.port);
    }
    p.target.port == s.local.port
        && (s.local.addr.is_unspecified() || s.local.addr == p.target.addr)
        && inv
            .interfaces
            .iter()
            .filter(|i| s.netns.is_some() && i.netns == s.netns)
            .any(|i| i.addrs.iter().any(|a| a.addr == p.target.addr))
}

pub fn listener_exposure(
    inv: &Inventory,
    network: &Network,
    idx: usize,
    s: &Socket,
) -> ListenerExposure {
    let scope = bind_scope(&s.local.addr);
    let other_netns = s.netns.is_some() && s.netns != inv.own_netns;
    let ns_name = s
        .netns
        .clone()
        .unwrap_or_else(|| "an unknown namespace".into());
    let mut chain = vec![Evidence::new(
        s.source.clone(),
        format!(
            "bound to {} ({}) in {}{}",
            s.local,
            scope.label(),
            ns_name,
            if other_netns {
                ", not aiposture's namespace"
            } else {
                " (the host namespace)"
            }
        ),
    )];
    let (mut reach, mut summary, steps) = judge_bind(inv, network, &s.local, &s.netns);
    chain.extend(steps);

    let mut published_on = Vec::new();
    for p in inv.publishes.iter().filter(|p| publishes_to(inv, s, p)) {
        let (host_reach, host_summary, host_steps) =
            judge_bind(inv, network, &p.host, &inv.own_netns);
        chain.push(Evidence::new(
            p.via.clone(),
            format!("published on the host as {} → {}", p.host, p.target),
        ));
        chain.extend(host_steps);
        published_on.push(p.host.clone());
        let (host_reach, host_summary) = match forwarded(inv, p, host_reach) {
            Some((blocked, step)) => {
                chain.push(step);
                if blocked {
                    (
                        Reach::HostOnly,
                        format!(
                            "the host's FORWARD path drops it from other hosts ({})",
                            p.host
                        ),
                    )
                } else {
                    (host_reach, host_summary)
                }
            }
            None => (host_reach, host_summary),
        };
        if host_reach > reach || reach == Reach::Unknown {
            reach = host_reach;
            summary = format!(
                "{} (published on {}): {host_summary}",
                host_reach.label(),
                p.host
            );
        }
    }
    if matches!(reach, Reach::Lan | Reach::Vpn | Reach::Public) {
        // The firewall that decides: the host's for a published port, else the
        // listener's own namespace.
        let (fw_ns, fw_port, fw_addr) = match published_on.last() {
            Some(host) if summary.contains("published on") => {
                (inv.own_netns.clone(), host.port, host.addr)
            }
            _ => (s.netns.clone(), s.local.port, s.local.addr),
        };
        let fw = inv.firewalls.iter().find(|f| f.netns == fw_ns);
        match fw.map(|f| &f.view) {
            None => chain.push(Evidence::new(
                Source::note("host firewall"),
                "not read for this namespace: reachable unless a firewall blocks it",
            )),
            Some(FirewallView::Unreadable { reason }) => chain.push(Evidence::new(
                Source::note("host firewall"),
                format!("not readable ({reason}): reachable unless a firewall blocks it"),
            )),
            Some(view) => {
                let (verdict, why) = firewall::judge(view, s.protocol, fw_port, fw_addr);
                let source = match view {
                    FirewallView::Rules { source, .. } => source.clone(),
                    FirewallView::Unreadable { .. } => Source::note("host firewall"),
                };
                match verdict {
                    FirewallVerdict::Blocks => {
                        chain.push(Evidence::new(
                            source,
                            format!("blocks new inbound connections: {why}"),
                        ));
                        summary = format!(
                            "host-only: the firewall blocks port {fw_port} from other hosts ({why})"
                        );
                        reach = Reach::HostOnly;
                    }
                    FirewallVerdict::Allows => chain.push(Evidence::new(
                        source,
                        format!("lets new inbound connections through: {why}"),
                    )),
                    FirewallVerdict::Unknown => chain.push(Evidence::new(
                        source,
                        format!("could not be judged ({why}): reachable unless it blocks them"),
                    )),
                }
            }
        }
    }
    ListenerExposure {
        socket: idx,
        scope,
        other_netns,
        reach,
        summary,
        chain,
        published_on,
    }
}

pub fn listener_exposures(inv: &Inventory, network: &Network) -> Vec<ListenerExposure> {
    inv.sockets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_listener())
        .map(|(i, s)| listener_exposure(inv, network, i, s))
        .collect()
}
