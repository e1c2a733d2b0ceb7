//! Ports published by NAT rules: `-j DNAT --to-destination` in the nat table, as
//! Docker (userland-proxy off) and Podman (CNI/netavark) install them. nftables'
//! JSON shows iptables-nft targets only as opaque `xt` entries, so the rules are
//! read in iptables-save syntax.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::collect::net::firewall::{
    IP6T_LEGACY_SAVE, IP6T_NFT_SAVE, IPT_LEGACY_SAVE, IPT_NFT_SAVE,
};
use crate::model::{Endpoint, PortPublish, Protocol, Source};

/// Split an iptables-save rule line into words, honouring double quotes
/// (`-m comment --comment "dnat name: \"podman\""`).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn addr(s: &str) -> Option<IpAddr> {
    s.split('/').next()?.trim_matches(['[', ']']).parse().ok()
}

/// `10.88.0.7:8080`, `[fd00::2]:80`, `10.0.0.5` (port unchanged).
fn destination(s: &str, v6: bool) -> Option<(IpAddr, Option<u16>)> {
    if v6 {
        if let Some(rest) = s.strip_prefix('[') {
            let (a, p) = rest.split_once(']')?;
            let port = p
                .strip_prefix(':')
                .and_then(|p| p.split('-').next()?.parse().ok());
            return Some((a.parse().ok()?, port));
        }
        return Some((s.parse().ok()?, None));
    }
    match s.split_once(':') {
        Some((a, p)) => Some((a.parse().ok()?, p.split('-').next()?.parse().ok())),
        None => Some((s.parse().ok()?, None)),
    }
}

/// Publishes from the nat table of an `iptables-save` dump. `v6` for ip6tables.
/// Rules with negated, ranged or listed destination ports map each listed port;
/// a rule without a destination port maps nothing (it cannot be tied to a listener).
pub fn from_iptables_save(text: &str, v6: bool, via: &str) -> Vec<PortPublish> {
    let mut out = Vec::new();
    let mut in_nat = false;
    for line in text.lines() {
        if let Some(t) = line.strip_prefix('*') {
            in_nat = t.trim() == "nat";
            continue;
        }
        if !in_nat || !line.starts_with("-A ") {
            continue;
        }
        let w = words(line);
        let chain = w.get(1).cloned().unwrap_or_default();
        let mut proto = None;
        let mut daddr = None;
        let mut ports: Vec<u16> = Vec::new();
        let mut to = None;
        let mut is_dnat = false;
        let mut i = 2;
        while i < w.len() {
            let negated = w[i] == "!";
            if negated {
                i += 1;
            }
            let (Some(key), val) = (w.get(i), w.get(i + 1)) else {
                break;
            };
            match key.as_str() {
                "-p" | "--protocol" if !negated => proto = val.cloned(),
                "-d" | "--destination" if !negated => daddr = val.and_then(|v| addr(v)),
                "--dport" | "--destination-port" | "--dports" if !negated => {
                    ports = val
                        .map(|v| {
                            v.split(',')
                                .filter_map(|p| {
                                    // a:b ranges publish too many ports to be one listener
                                    (!p.contains(':')).then(|| p.parse().ok()).flatten()
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                }
                "-j" => is_dnat = val.is_some_and(|v| v == "DNAT"),
                "--to-destination" => to = val.and_then(|v| destination(v, v6)),
                _ => {}
            }
            i += if key.starts_with('-') && val.is_some_and(|v| !v.starts_with('-') || v == "-") {
                2
            } else {
                1
            };
        }
        let (Some(proto), true, Some((target, target_port))) = (proto, is_dnat, to) else {
            continue;
        };
        let protocol = match proto.as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            _ => continue,
        };
        let any = if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        for p in &ports {
            out.push(PortPublish {
                protocol,
                host: Endpoint {
                    addr: daddr.unwrap_or(any),
                    port: *p,
                    v4_mapped: false,
                },
                target: Endpoint {
                    addr: target,
                    port: target_port.unwrap_or(*p),
                    v4_mapped: false,
                },
                via: Source::note(format!("NAT rule in chain {chain} ({via})")),
                proxy_pid: None,
                target_netns: None,
            });
        }
    }
    out
}

/// What the nat tables showed, and the tools that failed (with their reason).
#[derive(Clone, Default)]
pub struct NatRead {
    pub publishes: Vec<PortPublish>,
    pub errors: Vec<String>,
}

/// Publishes from every nat table of the calling thread's namespace (root only;
/// the same hardened runner as the firewall reader). Errors are reasons for a
/// blind spot; an absent tool is not an error.
pub fn read() -> NatRead {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (paths, v6, name) in [
        (IPT_NFT_SAVE, false, "iptables-nft-save"),
        (IP6T_NFT_SAVE, true, "ip6tables-nft-save"),
        (IPT_LEGACY_SAVE, false, "iptables-legacy-save"),
        (IP6T_LEGACY_SAVE, true, "ip6tables-legacy-save"),
    ] {
        let Some(tool) = crate::collect::net::firewall::find(paths) else {
            continue;
        };
        match crate::collect::net::firewall::run_tool(&tool, &["-t", "nat"]) {
            Ok(bytes) => out.extend(from_iptables_save(
                &String::from_utf8_lossy(&bytes),
                v6,
                name,
            )),
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    }
    NatRead {
        publishes: out,
        errors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_and_podman_rules_from_a_real_host() {
        let text = include_str!("../../../tests/fixtures/nat/iptables-nft-save-nat.txt");
        let p = from_iptables_save(text, false, "iptables-nft-save");
        let got: Vec<String> = p
            .iter()
            .map(|x| format!("{:?} {} -> {}", x.protocol, x.host, x.target))
            .collect();
        for want in [
            "Tcp 127.0.0.1:18777 -> 10.88.0.7:8080",
            "Tcp 0.0.0.0:18778 -> 10.88.0.7:8080",
            "Udp 127.0.0.1:18093 -> 172.17.0.2:9000",
            "Tcp 0.0.0.0:18092 -> 172.17.0.2:8080",
            "Tcp 127.0.0.1:18091 -> 172.17.0.2:8080",
        ] {
            assert!(
                got.contains(&want.to_string()),
                "{want} missing from {got:#?}"
            );
        }
        // Jumps into DNAT chains (multiport --dports … -j CNI-DN-…) are not publishes.
        assert_eq!(got.len(), 5, "{got:#?}");
        assert!(
            p.iter()
                .all(|x| x.via.to_string().contains("iptables-nft-save"))
        );
    }

    #[test]
    fn odd_rules_map_nothing_rather_than_guess() {
        let text = "*nat\n-A X -p tcp --dport 1000:2000 -j DNAT --to-destination 10.0.0.2\n-A X -p tcp -j DNAT --to-destination 10.0.0.2:80\n-A X -p tcp ! --dport 22 -j DNAT --to-destination 10.0.0.2:80\n-A X -p sctp --dport 5 -j DNAT --to-destination 10.0.0.2:5\n*filter\n-A INPUT -p tcp --dport 9 -j DNAT --to-destination 10.0.0.2:9\n";
        assert!(from_iptables_save(text, false, "t").is_empty());
        let v6 = from_iptables_save(
            "*nat\n-A D -d ::1/128 -p tcp --dport 80 -j DNAT --to-destination [fd00::2]:8080\n",
            true,
            "t",
        );
        assert_eq!(v6[0].host.to_string(), "[::1]:80");
        assert_eq!(v6[0].target.to_string(), "[fd00::2]:8080");
    }
}
