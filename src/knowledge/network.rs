//! Address and interface classes (`assets/network.toml`).

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;

use crate::error::Error;
use crate::model::InterfaceKind;

const EMBEDDED: &str = include_str!("../../assets/network.toml");

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AddrClass {
    Loopback,
    LinkLocal,
    Private,
    Cgnat,
    Reserved,
    Public,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema_version: u32,
    address_classes: Vec<RawClass>,
    interfaces: RawInterfaces,
    #[serde(default)]
    published_ranges: Vec<PublishedRange>,
}

/// Address ranges an operator publishes for its endpoints (Cloudflare's edge,
/// an API): they name a connection's peer without any DNS query.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishedRange {
    pub id: String,
    pub name: String,
    pub cidrs: Vec<IpNet>,
    /// Where the list is published.
    pub source: String,
    /// When it was read, and how far to trust it now.
    pub retrieved: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClass {
    class: AddrClass,
    cidrs: Vec<IpNet>,
    source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInterfaces {
    vpn_prefixes: Vec<String>,
    vpn_source: String,
    bridge_prefixes: Vec<String>,
    bridge_source: String,
    usermode_nets: Vec<IpNet>,
    usermode_source: String,
}

pub struct Network {
    classes: Vec<(AddrClass, Vec<IpNet>, String)>,
    usermode_nets: Vec<IpNet>,
    pub usermode_source: String,
    vpn_prefixes: Vec<String>,
    bridge_prefixes: Vec<String>,
    published_ranges: Vec<PublishedRange>,
}

impl Network {
    pub fn embedded() -> Result<Self, Error> {
        let f: File = toml::from_str(EMBEDDED).map_err(|e| Error::Asset {
            path: "assets/network.toml".into(),
            message: e.to_string(),
        })?;
        if f.schema_version != 1
            || f.interfaces.vpn_source.is_empty()
            || f.interfaces.bridge_source.is_empty()
            || f.published_ranges
                .iter()
                .any(|r| r.source.is_empty() || r.retrieved.is_empty() || r.cidrs.is_empty())
        {
            return Err(Error::Asset {
                path: "assets/network.toml".into(),
                message: "unsupported schema_version or missing sources".into(),
            });
        }
        Ok(Network {
            classes: f
                .address_classes
                .into_iter()
                .map(|c| (c.class, c.cidrs, c.source))
                .collect(),
            usermode_nets: f.interfaces.usermode_nets,
            usermode_source: f.interfaces.usermode_source,
            vpn_prefixes: f.interfaces.vpn_prefixes,
            bridge_prefixes: f.interfaces.bridge_prefixes,
            published_ranges: f.published_ranges,
        })
    }

    /// The class of an address and the document that defines it.
    pub fn classify(&self, addr: &IpAddr) -> (AddrClass, &str) {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(*addr),
            v4 => *v4,
        };
        self.classes
            .iter()
            .find(|(_, nets, _)| nets.iter().any(|n| n.contains(&addr)))
            .map(|(c, _, src)| (*c, src.as_str()))
            .unwrap_or((AddrClass::Public, "not in any reserved range"))
    }

    /// The published range holding `addr`, and the narrowest of its CIDRs that does.
    pub fn published_range(&self, addr: &IpAddr) -> Option<(&PublishedRange, IpNet)> {
        let addr = match addr {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(*addr),
            v4 => *v4,
        };
        self.published_ranges.iter().find_map(|r| {
            r.cidrs
                .iter()
                .filter(|n| n.contains(&addr))
                .max_by_key(|n| n.prefix_len())
                .map(|n| (r, *n))
        })
    }

    /// Is `addr` in a rootless container's user-mode network (slirp4netns)?
    pub fn is_usermode(&self, addr: &IpAddr) -> bool {
        self.usermode_nets.iter().any(|n| n.contains(addr))
    }

    pub fn interface_kind(
        &self,
        name: &str,
        loopback: bool,
        point_to_point: bool,
    ) -> InterfaceKind {
        if loopback {
            InterfaceKind::Loopback
        } else if point_to_point
            || self
                .vpn_prefixes
                .iter()
                .any(|p| name.starts_with(p.as_str()))
        {
            InterfaceKind::Vpn
        } else if self
            .bridge_prefixes
            .iter()
            .any(|p| name.starts_with(p.as_str()))
        {
            InterfaceKind::Bridge
        } else {
            InterfaceKind::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_follow_the_rfcs() {
        let n = Network::embedded().expect("network asset");
        let c = |s: &str| n.classify(&s.parse().expect("ip")).0;
        assert_eq!(c("127.0.0.53"), AddrClass::Loopback);
        assert_eq!(c("::1"), AddrClass::Loopback);
        assert_eq!(c("10.1.2.3"), AddrClass::Private);
        assert_eq!(c("172.31.255.1"), AddrClass::Private);
        assert_eq!(c("172.32.0.1"), AddrClass::Public);
        assert_eq!(c("fd12::1"), AddrClass::Private);
        assert_eq!(c("100.101.102.103"), AddrClass::Cgnat);
        assert_eq!(c("169.254.1.1"), AddrClass::LinkLocal);
        assert_eq!(c("::ffff:192.168.1.1"), AddrClass::Private);
        assert_eq!(c("8.8.8.8"), AddrClass::Public);
        assert_eq!(c("2a00:1450::1"), AddrClass::Public);
    }

    #[test]
    fn published_ranges_name_their_operator_and_source() {
        let n = Network::embedded().expect("network asset");
        let (r, net) = n
            .published_range(&"104.16.5.6".parse().expect("ip"))
            .expect("in Cloudflare's list");
        assert_eq!(r.id, "cloudflare");
        assert_eq!(net.to_string(), "104.16.0.0/13");
        assert!(r.source.contains("cloudflare.com/ips-v4"));
        let (r, _) = n
            .published_range(&"2607:6bc0::10".parse().expect("ip"))
            .expect("in Anthropic's list");
        assert_eq!(r.id, "anthropic");
        // The resolver is not part of the published edge list.
        assert!(n.published_range(&"1.1.1.1".parse().expect("ip")).is_none());
        assert!(n.published_range(&"8.8.8.8".parse().expect("ip")).is_none());
        // Every listed range is public: a private range would name LAN peers.
        for r in &n.published_ranges {
            for c in &r.cidrs {
                assert_eq!(n.classify(&c.addr()).0, AddrClass::Public, "{} {c}", r.id);
            }
        }
    }

    #[test]
    fn interface_kinds() {
        let n = Network::embedded().expect("network asset");
        assert_eq!(n.interface_kind("wg0", false, false), InterfaceKind::Vpn);
        assert_eq!(
            n.interface_kind("tailscale0", false, false),
            InterfaceKind::Vpn
        );
        assert_eq!(
            n.interface_kind("docker0", false, false),
            InterfaceKind::Bridge
        );
        assert_eq!(
            n.interface_kind("br-3f2a", false, false),
            InterfaceKind::Bridge
        );
        assert_eq!(n.interface_kind("eth0", false, false), InterfaceKind::Other);
        assert_eq!(n.interface_kind("ppp0", false, true), InterfaceKind::Vpn);
        assert_eq!(n.interface_kind("lo", true, false), InterfaceKind::Loopback);
    }
}
