//! Effective exposure: from a listener's bind address and namespace to who can
//! reach it, with every step of the reasoning kept as evidence.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::knowledge::network::{AddrClass, Network};
use crate::model::{
    BindScope, Evidence, Interface, InterfaceKind, Inventory, ListenerExposure, Reach, Socket,
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
    let ifaces: Vec<&Interface> = inv
        .interfaces
        .iter()
        .filter(|i| s.netns.is_some() && i.netns == s.netns)
        .collect();

    let (reach, summary) = if scope == BindScope::Loopback {
        (Reach::LoopbackOnly, format!("loopback of {ns_name}"))
    } else if ifaces.is_empty() {
        chain.push(Evidence::new(
            "getifaddrs(3)",
            format!("interfaces of {ns_name} were not readable (see blind spots)"),
        ));
        (
            Reach::Unknown,
            format!("unknown: interfaces of {ns_name} not readable"),
        )
    } else {
        let v4_only = matches!(s.local.addr, IpAddr::V4(_)) && !s.local.v4_mapped;
        let mut covered: Vec<(Reach, String)> = Vec::new();
        for iface in &ifaces {
            for a in &iface.addrs {
                let hit = match scope {
                    // IPV6_V6ONLY is not in the socket tables; Linux defaults to dual stack.
                    BindScope::Wildcard => !(v4_only && a.addr.is_ipv6()),
                    _ => a.addr == s.local.addr,
                };
                if hit {
                    covered.push(reach_of(inv, network, !other_netns, iface, &a.addr));
                }
            }
        }
        match covered.iter().max_by_key(|(r, _)| *r) {
            None => {
                chain.push(Evidence::new(
                    "getifaddrs(3)",
                    format!("{} is on no interface of {ns_name}", s.local.addr),
                ));
                (
                    Reach::Unknown,
                    format!("unknown: {} on no interface", s.local.addr),
                )
            }
            Some((widest, why)) => {
                for (_, step) in &covered {
                    chain.push(Evidence::new(
                        format!("interfaces of {ns_name}"),
                        step.clone(),
                    ));
                }
                (*widest, format!("{}: {why}", widest.label()))
            }
        }
    };
    if matches!(reach, Reach::Lan | Reach::Vpn | Reach::Public) {
        chain.push(Evidence::new(
            "host firewall",
            "not read: reachable unless a firewall blocks it",
        ));
    }
    ListenerExposure {
        socket: idx,
        scope,
        other_netns,
        reach,
        summary,
        chain,
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
