//! Interfaces and their addresses, per network namespace: what a wildcard bind
//! exposes, and what class of network each address belongs to.

use std::collections::BTreeMap;
use std::io;
use std::net::IpAddr;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;
use nix::sys::socket::SockaddrStorage;

use crate::knowledge::network::Network;
use crate::model::{IfAddr, Interface};

fn ip_of(s: &SockaddrStorage) -> Option<IpAddr> {
    if let Some(v4) = s.as_sockaddr_in() {
        return Some(IpAddr::V4(v4.ip()));
    }
    s.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
}

fn prefix_of(mask: Option<&SockaddrStorage>) -> u8 {
    match mask.and_then(ip_of) {
        Some(IpAddr::V4(m)) => u32::from(m).count_ones() as u8,
        Some(IpAddr::V6(m)) => u128::from(m).count_ones() as u8,
        None => 0,
    }
}

/// Interfaces of the calling thread's namespace.
pub fn read(network: &Network, netns: Option<&str>) -> io::Result<Vec<Interface>> {
    let mut by_name: BTreeMap<String, Interface> = BTreeMap::new();
    for ifa in getifaddrs().map_err(io::Error::from)? {
        let flags = ifa.flags;
        let entry = by_name
            .entry(ifa.interface_name.clone())
            .or_insert_with(|| Interface {
                kind: network.interface_kind(
                    &ifa.interface_name,
                    flags.contains(InterfaceFlags::IFF_LOOPBACK),
                    flags.contains(InterfaceFlags::IFF_POINTOPOINT),
                ),
                name: ifa.interface_name.clone(),
                netns: netns.map(String::from),
                addrs: Vec::new(),
            });
        if let Some(addr) = ifa.address.as_ref().and_then(ip_of) {
            let a = IfAddr {
                addr,
                prefix: prefix_of(ifa.netmask.as_ref()),
            };
            if !entry.addrs.contains(&a) {
                entry.addrs.push(a);
            }
        }
    }
    Ok(by_name.into_values().collect())
}

/// Interfaces of the namespace of `pid` (root only).
pub fn read_in_netns_of(network: &Network, pid: u32, netns: &str) -> io::Result<Vec<Interface>> {
    crate::collect::net::netns::run_in_netns_of(pid, || read(network, Some(netns)))
}
