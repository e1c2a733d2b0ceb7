//! Does the host firewall let a new connection from another host reach a
//! listener (`judge`, the inbound path), or a container port published through
//! NAT (`judge_forward`, the forward path)? Pure: judged on a `FirewallView`
//! read by `collect::firewall`.
//!
//! The packet is a new inbound connection (conntrack state `new`) from another
//! host (not loopback, arriving on an interface other than `lo`), of the
//! listener's protocol to its port and address; its source address, source
//! port and input interface are unknown. Each inbound base chain is walked in
//! order: within a chain the first terminal verdict of a matching rule wins
//! (jump/goto/return followed); across chains an accept does not stop the next
//! chain, a drop anywhere drops (netfilter semantics). A rule that may or may
//! not match (unknown source, unmodelled match) counts both ways, so:
//! - Blocks: some chain drops the packet on every path;
//! - Allows: every chain accepts it on every path and nothing on the inbound
//!   path went unmodelled;
//! - Unknown: anything else, with the rule that left it open.
//!
//! Assumed of a client that can hold a connection: it passes reverse-path
//! filtering (`fib saddr . iif oif missing`, `-m rpfilter --invert` do not
//! hold), and its packets are unicast to a local address (`meta pkttype host`,
//! `fib daddr type local`, `-m addrtype --dst-type LOCAL`).
//! iptables-nft and iptables-legacy chains come modelled from iptables-save
//! (`collect::firewall`): `-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`
//! does not admit a new connection, `-m multiport --dports` is a port match.
//! Stateful or unmodelled extensions (`-m recent`, `-m limit`, `-m hashlimit`,
//! `-m set`, …) are `Unknown`, and so are iptables extensions left opaque when
//! iptables-nft-save could not be read.

use std::net::IpAddr;

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::Protocol;
use crate::model::firewall::{
    AddrSpec, ChainHook, ChainPolicy, FirewallView, InputChain, IpFamily, Match, Rule, Verdict,
};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum FirewallVerdict {
    Blocks,
    Allows,
    Unknown,
}

/// Jumps nested deeper than this are not followed (the kernel allows 16).
const MAX_DEPTH: usize = 16;

/// Verdict of the host firewall on a new connection from another host to
/// `dst:port` over `protocol`, and the chain/rule that decided it. `dst` may be
/// unspecified (a wildcard bind): `0.0.0.0` is any local IPv4 address, `::` any
/// local address of either family (dual stack).
pub fn judge(
    view: &FirewallView,
    protocol: Protocol,
    port: u16,
    dst: IpAddr,
) -> (FirewallVerdict, String) {
    let (chains, unmodelled) = match view {
        FirewallView::Unreadable { reason } => {
            return (
                FirewallVerdict::Unknown,
                format!("firewall not readable: {reason}"),
            );
        }
        FirewallView::Rules {
            input_chains,
            unmodelled,
            ..
        } => (input_chains, unmodelled),
    };
    let proto = match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    let dst = dst.to_canonical();
    let lo = ["lo".to_string()];
    let packet = |family, dst| Packet {
        family,
        proto,
        port: Some(port),
        shown_port: port,
        dst,
        dst_unknown: "destination address of a wildcard bind",
        dst_local: Some(true),
        out_iface: None,
        internal: &lo,
        internal_nets: &[],
        forwarded: None,
    };
    let judge_one = |p: &Packet| {
        let pairs: Vec<(&InputChain, &Packet)> = chains.iter().map(|c| (c, p)).collect();
        judge_family(&pairs, unmodelled, p, "inbound")
    };
    if dst.is_unspecified() {
        if dst.is_ipv4() {
            return judge_one(&packet(IpFamily::Ipv4, None));
        }
        let v4 = judge_one(&packet(IpFamily::Ipv4, None));
        let v6 = judge_one(&packet(IpFamily::Ipv6, None));
        return if v4 == v6 {
            v4
        } else if v4.0 == v6.0 {
            (v4.0, format!("IPv4: {}; IPv6: {}", v4.1, v6.1))
        } else {
            (
                FirewallVerdict::Unknown,
                format!(
                    "IPv4 and IPv6 differ (IPV6_V6ONLY is not known): IPv4: {}; IPv6: {}",
                    v4.1, v6.1
                ),
            )
        };
    }
    let family = if dst.is_ipv4() {
        IpFamily::Ipv4
    } else {
        IpFamily::Ipv6
    };
    judge_one(&packet(family, Some(dst)))
}

/// Verdict of the host firewall on a new connection from another host, to a
/// port published through NAT: it arrives on some external interface (its name
/// unknown, but never one of `internal_ifaces`, the host's bridges; nor `lo`),
/// is DNAT-ed in prerouting to `dst:port` (the container's address and port)
/// and forwarded out of `out_iface` (the bridge the container sits on).
///
/// Judged like [`judge`], over the filter chains of the forward path: the
/// prerouting chains of the inbound path (before DNAT at priority -100 their
/// destination address and port are the host's, not known here: a match on
/// them may hold; after it, the container's), then every forward base chain
/// (`forward_chains`). Blocks when some chain drops the packet on every path,
/// Allows when every chain accepts it on every path and nothing went
/// unmodelled, Unknown otherwise. Matches on the input interface hold for no
/// name of `internal_ifaces` (nor `lo`) and may hold for any other (`*`, `-i +`:
/// for all); on the output interface they are decided against `out_iface`.
/// The destination is not a local address (`fib daddr type unicast`). Whether
/// the kernel forwards at all (`net.ipv4.ip_forward`) is not judged here.
pub fn judge_forward(
    view: &FirewallView,
    protocol: Protocol,
    port: u16,
    dst: IpAddr,
    out_iface: &str,
    internal_ifaces: &[String],
    internal_nets: &[ipnet::IpNet],
) -> (FirewallVerdict, String) {
    let (input_chains, forward_chains, unmodelled) = match view {
        FirewallView::Unreadable { reason } => {
            return (
                FirewallVerdict::Unknown,
                format!("firewall not readable: {reason}"),
            );
        }
        FirewallView::Rules {
            input_chains,
            forward_chains,
            unmodelled,
            ..
        } => (input_chains, forward_chains, unmodelled),
    };
    let proto = match protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
    };
    let dst = dst.to_canonical();
    let family = if dst.is_ipv4() {
        IpFamily::Ipv4
    } else {
        IpFamily::Ipv6
    };
    let dst = (!dst.is_unspecified()).then_some(dst);
    let mut internal: Vec<String> = internal_ifaces.to_vec();
    if !internal.iter().any(|i| i == "lo") {
        internal.push("lo".into());
    }
    let out = (!out_iface.is_empty()).then_some(out_iface);
    let forwarded = Some(format!(
        " forwarded to {}{}",
        dst.map_or_else(|| "a container".to_string(), |d| d.to_string()),
        out.map(|o| format!(" out of {o}")).unwrap_or_default()
    ));
    // In the forward chains: after DNAT and routing.
    let fwd = Packet {
        family,
        proto,
        port: Some(port),
        shown_port: port,
        dst,
        dst_unknown: "destination address (container address not known)",
        dst_local: Some(false),
        out_iface: out,
        internal: &internal,
        internal_nets,
        forwarded: forwarded.clone(),
    };
    // In prerouting before DNAT: to a local address and port not known here.
    let before_nat = Packet {
        port: None,
        dst: None,
        dst_unknown: "destination address before DNAT",
        dst_local: Some(true),
        out_iface: None,
        forwarded: forwarded.clone(),
        ..fwd
    };
    // In prerouting after DNAT: the container's address, not routed yet.
    let after_nat = Packet {
        out_iface: None,
        forwarded: forwarded.clone(),
        ..fwd
    };
    // At DNAT's own priority: either.
    let at_nat = Packet {
        port: None,
        dst: None,
        dst_unknown: "destination address at DNAT's priority",
        dst_local: None,
        out_iface: None,
        forwarded,
        ..fwd
    };
    let mut pairs: Vec<(&InputChain, &Packet)> = Vec::new();
    for c in input_chains
        .iter()
        .filter(|c| c.hook == ChainHook::Prerouting)
    {
        let p = match c.priority.cmp(&NAT_DSTNAT_PRIORITY) {
            std::cmp::Ordering::Less => &before_nat,
            std::cmp::Ordering::Equal => &at_nat,
            std::cmp::Ordering::Greater => &after_nat,
        };
        pairs.push((c, p));
    }
    pairs.extend(forward_chains.iter().map(|c| (c, &fwd)));
    judge_family(&pairs, unmodelled, &fwd, "forward")
}

/// Priority of nat prerouting chains (`dstnat`): DNAT happens there.
const NAT_DSTNAT_PRIORITY: i32 = -100;

struct Packet<'a> {
    family: IpFamily,
    proto: &'static str,
    /// `None`: not known where the chain sees it (before DNAT).
    port: Option<u16>,
    /// The port named in reasons.
    shown_port: u16,
    /// `None`: not known (why: `dst_unknown`).
    dst: Option<IpAddr>,
    dst_unknown: &'static str,
    /// Is the destination a local address (`None`: not known).
    dst_local: Option<bool>,
    /// `None`: not known (or not chosen yet).
    out_iface: Option<&'a str>,
    /// Interfaces the packet never arrives on.
    internal: &'a [String],
    /// Networks a remote client's address is never in (the host's container bridges).
    internal_nets: &'a [ipnet::IpNet],
    /// For reasons: where a forwarded packet goes.
    forwarded: Option<String>,
}

impl Packet<'_> {
    fn describe(&self) -> String {
        format!(
            "{} dport {}{}",
            self.proto,
            self.shown_port,
            self.forwarded.as_deref().unwrap_or("")
        )
    }
}

/// `path`: `inbound` or `forward`, for reasons.
fn judge_family(
    chains: &[(&InputChain, &Packet)],
    unmodelled: &[String],
    p: &Packet,
    path: &str,
) -> (FirewallVerdict, String) {
    let mut accepted = Vec::new();
    let mut empty_accepting = 0;
    let mut open: Option<String> = None;
    for (c, cp) in chains.iter().filter(|(c, cp)| c.family.sees(cp.family)) {
        let o = chain_outcomes(c, cp);
        let label = c.label();
        match (&o.accept, &o.drop, &o.unknown) {
            (None, Some(d), None) => return (FirewallVerdict::Blocks, format!("{label}: {d}")),
            (Some(_), None, None) if c.rules.is_empty() => empty_accepting += 1,
            (Some(a), None, None) => accepted.push(format!("{label}: {a}")),
            _ => {
                if open.is_none() {
                    open = Some(format!("{label}: {}", o.mixed()));
                }
            }
        }
    }
    if let Some(why) = open {
        return (FirewallVerdict::Unknown, why);
    }
    let allows = if accepted.is_empty() && empty_accepting > 0 {
        format!(
            "no rule filters {} ({empty_accepting} {path} base chains, all empty with policy accept)",
            p.describe()
        )
    } else if accepted.is_empty() {
        format!(
            "no {path} base chain for {}: nothing filters {}",
            match p.family {
                IpFamily::Ipv4 => "IPv4",
                IpFamily::Ipv6 => "IPv6",
            },
            p.describe()
        )
    } else if empty_accepting > 0 {
        format!(
            "{} (and {empty_accepting} empty chains with policy accept)",
            accepted.join("; ")
        )
    } else {
        accepted.join("; ")
    };
    if unmodelled.is_empty() {
        (FirewallVerdict::Allows, allows)
    } else {
        (
            FirewallVerdict::Unknown,
            format!("{allows}; but not modelled: {}", unmodelled.join("; ")),
        )
    }
}

/// The outcomes a chain can reach, each with the first reason seen (a reason
/// reached on every path is preferred).
#[derive(Default)]
struct Outcomes {
    accept: Option<String>,
    drop: Option<String>,
    unknown: Option<String>,
    accept_certain: bool,
    drop_certain: bool,
    unknown_certain: bool,
    /// Some path leaves the chain without a verdict (end of chain, return).
    falls_through: bool,
    fall_certain: bool,
}

fn note(slot: &mut Option<String>, slot_certain: &mut bool, certain: bool, why: String) {
    if slot.is_none() || (certain && !*slot_certain) {
        *slot = Some(why);
        *slot_certain = certain;
    }
}

impl Outcomes {
    fn add_accept(&mut self, certain: bool, why: String) {
        note(&mut self.accept, &mut self.accept_certain, certain, why);
    }
    fn add_drop(&mut self, certain: bool, why: String) {
        note(&mut self.drop, &mut self.drop_certain, certain, why);
    }
    fn add_unknown(&mut self, certain: bool, why: String) {
        note(&mut self.unknown, &mut self.unknown_certain, certain, why);
    }
    fn merge_terminals(&mut self, o: Outcomes) {
        if let Some(a) = o.accept {
            self.add_accept(o.accept_certain, a);
        }
        if let Some(d) = o.drop {
            self.add_drop(o.drop_certain, d);
        }
        if let Some(u) = o.unknown {
            self.add_unknown(o.unknown_certain, u);
        }
    }
    fn mixed(&self) -> String {
        let mut parts = Vec::new();
        if let Some(u) = &self.unknown {
            parts.push(format!("unknown effect: {u}"));
        }
        if let Some(a) = &self.accept {
            parts.push(format!("may accept: {a}"));
        }
        if let Some(d) = &self.drop {
            parts.push(format!("may drop: {d}"));
        }
        parts.join("; ")
    }
}

fn chain_outcomes(c: &InputChain, p: &Packet) -> Outcomes {
    let w = Walker { chain: c, p };
    let mut o = w.walk(None, &c.rules, 0, true, "");
    if o.falls_through {
        let certain = o.fall_certain;
        match c.policy {
            ChainPolicy::Accept => o.add_accept(
                certain,
                format!("policy accept, no rule drops {}", p.describe()),
            ),
            ChainPolicy::Drop => o.add_drop(
                certain,
                format!("policy drop, no rule accepts {}", p.describe()),
            ),
        }
    }
    o
}

struct Walker<'a> {
    chain: &'a InputChain,
    p: &'a Packet<'a>,
}

enum Tri {
    Yes,
    No,
    Maybe(String),
}

impl Walker<'_> {
    /// Walks `rules` (the base chain when `sub` is `None`). `certain`: every
    /// step that led here held on every path.
    /// `via`: how an uncertain jump led here, appended to every reason.
    fn walk(
        &self,
        sub: Option<&str>,
        rules: &[Rule],
        depth: usize,
        certain: bool,
        via: &str,
    ) -> Outcomes {
        let mut certain = certain;
        let mut o = Outcomes::default();
        if depth > MAX_DEPTH {
            o.add_unknown(certain, format!("jumps nested deeper than {MAX_DEPTH}"));
            return o;
        }
        for r in rules {
            let (definite, cond) = match eval_rule(r, self.p) {
                Tri::No => continue,
                Tri::Yes => (true, String::new()),
                Tri::Maybe(why) => (false, format!(" if it matches ({why})")),
            };
            let cond = format!("{cond}{via}");
            // `definite`: every path reaching this rule takes its verdict;
            // `holds`: and the rule is reached on every path.
            let holds = certain && definite;
            let desc = || {
                let at = match (sub, r.handle) {
                    (Some(s), Some(h)) => format!("chain {s} rule {h}"),
                    (Some(s), None) => format!("a rule of chain {s}"),
                    (None, Some(h)) => format!("rule {h}"),
                    (None, None) => "a rule".to_string(),
                };
                format!("{at} `{r}`")
            };
            match &r.verdict {
                Verdict::Continue => {}
                Verdict::Accept => {
                    o.add_accept(
                        holds,
                        format!("{} accepts {}{cond}", desc(), self.p.describe()),
                    );
                    if definite {
                        return o;
                    }
                }
                Verdict::Drop | Verdict::Reject => {
                    o.add_drop(
                        holds,
                        format!("{} drops {}{cond}", desc(), self.p.describe()),
                    );
                    if definite {
                        return o;
                    }
                }
                Verdict::Other { what } => {
                    o.add_unknown(holds, format!("{}: {what} is not modelled{cond}", desc()));
                    if definite {
                        return o;
                    }
                }
                Verdict::Return => {
                    o.falls_through = true;
                    o.fall_certain |= holds;
                    if definite {
                        return o;
                    }
                }
                Verdict::Jump { target } | Verdict::Goto { target } => {
                    let is_goto = matches!(r.verdict, Verdict::Goto { .. });
                    let Some(rules) = self.chain.subchains.get(target) else {
                        o.add_unknown(holds, format!("{}: chain {target} not found{cond}", desc()));
                        if definite {
                            return o;
                        }
                        continue;
                    };
                    let via = if definite {
                        via.to_string()
                    } else {
                        format!(", reached through {}{cond}", desc())
                    };
                    let so = self.walk(Some(target), rules, depth + 1, holds, &via);
                    let (sub_falls, sub_fall_certain) = (so.falls_through, so.fall_certain);
                    o.merge_terminals(so);
                    if sub_falls && is_goto {
                        // After a goto, the end of the target ends this chain too.
                        o.falls_through = true;
                        o.fall_certain |= sub_fall_certain;
                    }
                    if definite && (is_goto || !sub_falls) {
                        return o;
                    }
                    if definite {
                        // Evaluation goes on here only on the paths that return.
                        certain &= sub_fall_certain;
                    }
                }
            }
        }
        o.falls_through = true;
        o.fall_certain |= certain;
        o
    }
}

fn eval_rule(r: &Rule, p: &Packet) -> Tri {
    let mut maybe: Vec<String> = Vec::new();
    for m in &r.matches {
        match eval_match(m, p) {
            Tri::No => return Tri::No,
            Tri::Yes => {}
            Tri::Maybe(why) => {
                if !maybe.contains(&why) {
                    maybe.push(why)
                }
            }
        }
    }
    if maybe.is_empty() {
        Tri::Yes
    } else {
        Tri::Maybe(maybe.join(", "))
    }
}

fn yes_if(b: bool) -> Tri {
    if b { Tri::Yes } else { Tri::No }
}

fn spec_contains(s: &AddrSpec, a: IpAddr) -> bool {
    match s {
        AddrSpec::Net { addr, prefix } => {
            IpNet::new(*addr, *prefix).is_ok_and(|n| n.trunc().contains(&a))
        }
        AddrSpec::Range { first, last } => match (first, last, a) {
            (IpAddr::V4(f), IpAddr::V4(l), IpAddr::V4(x)) => *f <= x && x <= *l,
            (IpAddr::V6(f), IpAddr::V6(l), IpAddr::V6(x)) => *f <= x && x <= *l,
            _ => false,
        },
    }
}

/// `name` (a trailing `*`: any name starting with what precedes it) matches `iface`.
fn iface_matches(name: &str, iface: &str) -> bool {
    match name.strip_suffix('*') {
        Some(stem) => iface.starts_with(stem),
        None => name == iface,
    }
}

/// Only the address `a` itself.
fn only_address(s: &AddrSpec, a: IpAddr) -> bool {
    match s {
        AddrSpec::Net { addr, prefix } => {
            *addr == a && *prefix == if a.is_ipv4() { 32 } else { 128 }
        }
        AddrSpec::Range { first, last } => *first == a && *last == a,
    }
}

/// Is every address of `s` inside one of `nets`?
fn inside(s: &AddrSpec, nets: &[ipnet::IpNet]) -> bool {
    match s {
        AddrSpec::Net { addr, prefix } => {
            ipnet::IpNet::new(*addr, *prefix).is_ok_and(|n| nets.iter().any(|m| m.contains(&n)))
        }
        AddrSpec::Range { first, last } => {
            nets.iter().any(|m| m.contains(first) && m.contains(last))
        }
    }
}

/// Only loopback sources: a packet from another host never has one.
fn only_loopback(s: &AddrSpec) -> bool {
    match s {
        AddrSpec::Net {
            addr: IpAddr::V4(a),
            prefix,
        } => a.is_loopback() && *prefix >= 8,
        AddrSpec::Net {
            addr: IpAddr::V6(a),
            prefix,
        } => a.is_loopback() && *prefix == 128,
        AddrSpec::Range { first, last } => first.is_loopback() && last.is_loopback(),
    }
}

fn eval_match(m: &Match, p: &Packet) -> Tri {
    let flip = |t: Tri, negated: bool| match (t, negated) {
        (Tri::Yes, true) => Tri::No,
        (Tri::No, true) => Tri::Yes,
        (t, _) => t,
    };
    match m {
        Match::L4Proto { negated, protocols } => {
            flip(yes_if(protocols.iter().any(|x| x == p.proto)), *negated)
        }
        Match::NfProto { negated, families } => {
            flip(yes_if(families.contains(&p.family)), *negated)
        }
        Match::DstPort {
            protocol,
            negated,
            ports,
        } => {
            if protocol.as_deref().is_some_and(|x| x != p.proto) {
                return Tri::No;
            }
            let Some(port) = p.port else {
                return Tri::Maybe("destination port before DNAT".into());
            };
            let hit = ports.iter().any(|r| r.first <= port && port <= r.last);
            flip(yes_if(hit), *negated)
        }
        Match::SrcPort { protocol, .. } => {
            if protocol.as_deref().is_some_and(|x| x != p.proto) {
                return Tri::No;
            }
            Tri::Maybe("source port".into())
        }
        Match::SrcAddr {
            family,
            negated,
            addrs,
        } => {
            if *family != p.family {
                return Tri::No;
            }
            if !addrs.is_empty() && addrs.iter().all(only_loopback) {
                return flip(Tri::No, *negated);
            }
            // A remote client is not inside the host's container networks.
            if !addrs.is_empty() && addrs.iter().all(|a| inside(a, p.internal_nets)) {
                return flip(Tri::No, *negated);
            }
            // A client holding a connection to `dst` is not `dst` itself.
            if let Some(d) = p.dst
                && !addrs.is_empty()
                && addrs.iter().all(|s| only_address(s, d))
            {
                return flip(Tri::No, *negated);
            }
            Tri::Maybe("source address".into())
        }
        Match::DstAddr {
            family,
            negated,
            addrs,
        } => {
            if *family != p.family {
                return Tri::No;
            }
            match p.dst {
                Some(d) => flip(yes_if(addrs.iter().any(|s| spec_contains(s, d))), *negated),
                None => Tri::Maybe(p.dst_unknown.into()),
            }
        }
        Match::InIface { negated, names } => {
            // Never the interfaces the packet cannot arrive on (`lo`, bridges).
            if !names.is_empty() && names.iter().all(|n| p.internal.contains(n)) {
                return flip(Tri::No, *negated);
            }
            // `iifname "*"`, iptables' `-i +`: any interface.
            if names.iter().any(|n| n == "*") {
                return flip(Tri::Yes, *negated);
            }
            Tri::Maybe("input interface".into())
        }
        Match::OutIface { negated, names } => match p.out_iface {
            Some(o) => flip(yes_if(names.iter().any(|n| iface_matches(n, o))), *negated),
            None => Tri::Maybe("output interface".into()),
        },
        // TCP and UDP to a listener: unicast to a local address.
        Match::PktType { negated, types } => {
            flip(yes_if(types.iter().any(|t| t == "host")), *negated)
        }
        // Local on the inbound path; a forwarded packet goes to a unicast
        // address of another host (the container).
        Match::DstAddrType { negated, types } => match p.dst_local {
            Some(local) => {
                let want = if local { "local" } else { "unicast" };
                flip(yes_if(types.iter().any(|t| t == want)), *negated)
            }
            None => Tri::Maybe("destination address type at DNAT's priority".into()),
        },
        // A host that can hold a connection with us routes back the way it came.
        Match::RpfMissing { negated } => flip(Tri::No, *negated),
        Match::CtState { negated, states } => {
            flip(yes_if(states.iter().any(|s| s == "new")), *negated)
        }
        // The rule's text shows which match.
        Match::Unknown { .. } => Tri::Maybe("not modelled".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::net::firewall::{
        from_nft_json, from_nft_json_with_save, legacy_chains, legacy_forward_chains,
    };
    use crate::model::firewall::ChainFamily;

    fn view(name: &str) -> FirewallView {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/firewall")
            .join(name);
        let json = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        from_nft_json(&json)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn verdict(v: &FirewallView, proto: Protocol, port: u16, dst: &str) -> FirewallVerdict {
        judge(v, proto, port, ip(dst)).0
    }

    use FirewallVerdict::{Allows, Blocks, Unknown};
    use Protocol::{Tcp, Udp};

    #[test]
    fn host_with_docker_filters_nothing_inbound() {
        let v = view("host.json");
        let (verdict, why) = judge(&v, Tcp, 8080, ip("192.168.1.10"));
        assert_eq!(verdict, Allows, "{why}");
        assert!(why.contains("no inbound base chain"), "{why}");
    }

    #[test]
    fn policy_drop_with_ssh() {
        let v = view("drop-ssh.json");
        let (verdict, why) = judge(&v, Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks);
        assert_eq!(
            why,
            "inet filter input: policy drop, no rule accepts tcp dport 8080"
        );
        let (verdict, why) = judge(&v, Tcp, 22, ip("10.0.0.5"));
        assert_eq!(verdict, Allows, "{why}");
        assert!(why.contains("`tcp dport 22 accept` accepts"), "{why}");
        assert_eq!(verdict_of(&v, Udp, 22, "10.0.0.5"), Blocks);
        // inet covers both families, also for a dual-stack wildcard bind.
        assert_eq!(verdict_of(&v, Tcp, 8080, "fd00::5"), Blocks);
        assert_eq!(verdict_of(&v, Tcp, 8080, "::"), Blocks);
        assert_eq!(verdict_of(&v, Tcp, 22, "0.0.0.0"), Allows);
    }

    fn verdict_of(v: &FirewallView, proto: Protocol, port: u16, dst: &str) -> FirewallVerdict {
        verdict(v, proto, port, dst)
    }

    #[test]
    fn policy_accept_with_drop_8080() {
        let v = view("accept-drop-8080.json");
        let (verdict, why) = judge(&v, Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks);
        assert!(
            why.contains("`tcp dport 8080 drop` drops tcp dport 8080"),
            "{why}"
        );
        let (verdict, why) = judge(&v, Tcp, 8081, ip("10.0.0.5"));
        assert_eq!(verdict, Allows);
        assert_eq!(
            why,
            "inet filter input: policy accept, no rule drops tcp dport 8081"
        );
        assert_eq!(verdict_of(&v, Udp, 8080, "10.0.0.5"), Allows);
    }

    #[test]
    fn loopback_and_established_do_not_admit_a_new_remote_connection() {
        let v = view("lo-established.json");
        let (verdict, why) = judge(&v, Tcp, 11434, ip("192.168.1.10"));
        assert_eq!(verdict, Blocks, "{why}");
        assert!(why.contains("policy drop"), "{why}");
    }

    #[test]
    fn unmodelled_rule_leaves_it_open_only_where_it_could_match() {
        let v = view("unmodelled.json");
        let (verdict, why) = judge(&v, Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("numgen"), "{why}");
        // The rule's port does not match 9090: it cannot decide.
        assert_eq!(verdict_of(&v, Tcp, 9090, "10.0.0.5"), Blocks);
    }

    #[test]
    fn rich_ruleset() {
        let v = view("rich.json");
        // `tcp dport { 22, 80-90 } accept` comes first.
        assert_eq!(verdict_of(&v, Tcp, 85, "10.0.0.5"), Allows);
        // A constant named set, before `ip saddr @blk drop`.
        assert_eq!(verdict_of(&v, Tcp, 8443, "10.0.0.5"), Allows);
        // Verdict map entry: accept, but `ip saddr @blk drop` came before.
        assert_eq!(verdict_of(&v, Tcp, 7000, "10.0.0.5"), Unknown);
        // 7001 is dropped by the map, whatever the source.
        let (verdict, why) = judge(&v, Tcp, 7001, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks, "{why}");
        // To 10.1.2.3 anything but 22 is rejected, even after rules that may match.
        let (verdict, why) = judge(&v, Tcp, 9000, ip("10.1.2.3"));
        assert_eq!(verdict, Blocks, "{why}");
        assert!(why.contains("reject"), "{why}");
        // A wildcard bind: that reject may or may not apply.
        assert_ne!(verdict_of(&v, Tcp, 9000, "0.0.0.0"), Allows);
        // Jump to `sub`, which returns for tcp 5000, then goto `sub` again, whose
        // end ends the input chain: policy drop (after the saddr drop that may match).
        assert_eq!(verdict_of(&v, Tcp, 5000, "10.0.0.5"), Blocks);
        // `udp dport 5000 drop` in `sub`.
        let (verdict, why) = judge(&v, Udp, 5000, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks, "{why}");
        assert!(why.contains("chain sub rule"), "{why}");
    }

    #[test]
    fn vmaps_reverse_path_and_rejects() {
        let v = view("vmap-fib.json");
        // Reverse-path filtering passes for a host that can talk to us; ssh is
        // accepted before anything else could decide.
        assert_eq!(verdict_of(&v, Tcp, 22, "10.0.0.5"), Allows);
        assert_eq!(verdict_of(&v, Tcp, 22, "fd00::5"), Allows);
        // 8080 is accepted from eth0 only (via `jump inbound`), rejected otherwise.
        let (verdict, why) = judge(&v, Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("input interface"), "{why}");
        assert!(why.contains("chain inbound rule"), "{why}");
        // Nothing accepts udp 53: the rate-limited reject may let some through to
        // the final reject, which takes them all.
        let (verdict, why) = judge(&v, Udp, 53, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks, "{why}");
        assert!(why.contains("`reject` drops udp dport 53"), "{why}");
    }

    #[test]
    fn iptables_nft_extensions_are_uncertain() {
        let v = view("iptables-nft.json");
        // `-m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT` is an opaque
        // xt match before the REJECT: it may accept.
        let (verdict, why) = judge(&v, Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("-m conntrack"), "{why}");
        // ip6tables: policy drop, only ICMPv6 accepted.
        let (verdict, why) = judge(&v, Tcp, 8080, ip("fd00::5"));
        assert_eq!(verdict, Blocks, "{why}");
        assert!(why.starts_with("ip6 filter INPUT: policy drop"), "{why}");
        // Dual stack: IPv4 unknown, IPv6 blocked.
        assert_eq!(verdict_of(&v, Tcp, 8080, "::"), Unknown);
    }

    /// `<case>.json` with `<case>.save`/`.save6` as iptables-nft-save's output.
    fn view_with_saves(case: &str) -> FirewallView {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/firewall");
        let json = std::fs::read(dir.join(format!("{case}.json"))).expect("fixture");
        from_nft_json_with_save(&json, |family| {
            let ext = if family == ChainFamily::Ip6 {
                "save6"
            } else {
                "save"
            };
            std::fs::read_to_string(dir.join(format!("{case}.{ext}"))).map_err(|e| e.to_string())
        })
    }

    #[test]
    fn ufw_host() {
        let v = view_with_saves("ufw");
        // `ufw allow 22/tcp`, `80,443/tcp` (multiport) and `8022/tcp`: the
        // conntrack accept for RELATED,ESTABLISHED does not take a new connection.
        for port in [22, 80, 443, 8022] {
            let (verdict, why) = judge(&v, Tcp, port, ip("10.0.0.5"));
            assert_eq!(verdict, Allows, "{port}: {why}");
            assert!(
                why.contains("chain ufw-user-input rule") && why.contains("accepts"),
                "{port}: {why}"
            );
            assert_eq!(verdict_of(&v, Tcp, port, "0.0.0.0"), Allows, "{port}");
            // IPv6: before6.rules drops packets with a type 0 routing header
            // first (`-m rt --rt-type 0 -j DROP`), which is not modelled.
            let (verdict, why) = judge(&v, Tcp, port, ip("fd00::5"));
            assert_eq!(verdict, Unknown, "{port}: {why}");
            assert!(why.contains("-m rt --rt-type 0"), "{why}");
            assert_eq!(verdict_of(&v, Tcp, port, "::"), Unknown, "{port}");
        }
        // Anything else: policy drop, on both families.
        for dst in ["10.0.0.5", "0.0.0.0", "fd00::5", "::"] {
            let (verdict, why) = judge(&v, Tcp, 8080, ip(dst));
            assert_eq!(verdict, Blocks, "{dst}: {why}");
            assert!(why.contains("policy drop"), "{why}");
        }
        let (verdict, why) = judge(&v, Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(
            (verdict, why.as_str()),
            (
                Blocks,
                "ip filter INPUT: policy drop, no rule accepts tcp dport 8080"
            )
        );
        assert_eq!(verdict_of(&v, Udp, 53, "10.0.0.5"), Blocks);
        // after.rules: dropped before the policy, without logging.
        let (verdict, why) = judge(&v, Tcp, 445, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks, "{why}");
        assert!(why.contains("chain ufw-skip-to-policy-input"), "{why}");
        // `ufw allow from 10.0.0.0/8 to any port 9000`: open to some hosts only.
        let (verdict, why) = judge(&v, Tcp, 9000, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("source address"), "{why}");
        // Accepted on `eth+` only.
        let (verdict, why) = judge(&v, Tcp, 11434, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("input interface"), "{why}");
        // The DHCP client rule depends on the source port.
        assert_eq!(verdict_of(&v, Udp, 68, "10.0.0.5"), Unknown);
        // The same ruleset as nft shows it alone: conntrack and multiport are
        // opaque, so nothing is certain.
        let opaque = view("ufw.json");
        let (verdict, why) = judge(&opaque, Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("-m conntrack"), "{why}");
    }

    #[test]
    fn recent_and_hashlimit_stay_unknown() {
        let v = view_with_saves("recent");
        // ufw limit: `-m recent --update … -j ufw-user-limit` may reject.
        let (verdict, why) = judge(&v, Tcp, 22, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("-m recent"), "{why}");
        let (verdict, why) = judge(&v, Tcp, 8050, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("-m hashlimit"), "{why}");
        let (verdict, why) = judge(&v, Tcp, 9000, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("-m string"), "{why}");
        // Ports no rule names: policy drop, whatever those matches do.
        assert_eq!(verdict_of(&v, Tcp, 8200, "10.0.0.5"), Blocks);
        let (verdict, why) = judge(&v, Tcp, 7999, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks, "{why}");
    }

    #[test]
    fn iptables_nft_with_its_save() {
        let v = view_with_saves("iptables-nft");
        // The REJECT comes after the conntrack accept, which takes no new connection.
        let (verdict, why) = judge(&v, Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks, "{why}");
        assert!(why.contains("`tcp dport 8080 reject`"), "{why}");
        // `-m state --state NEW -p tcp --dport 22`, multiport with a range.
        for port in [22, 80, 443, 1000, 1500, 2000] {
            assert_eq!(verdict_of(&v, Tcp, port, "10.0.0.5"), Allows, "{port}");
        }
        // `-m addrtype --dst-type LOCAL -j LOG` goes on to the drop.
        assert_eq!(verdict_of(&v, Tcp, 9090, "10.0.0.5"), Blocks);
        // MYCHAIN returns all but 5000; both end in policy drop.
        assert_eq!(verdict_of(&v, Tcp, 5000, "10.0.0.5"), Blocks);
        assert_eq!(verdict_of(&v, Tcp, 5001, "10.0.0.5"), Blocks);
        // From 10.0.0.0/8 only.
        assert_eq!(verdict_of(&v, Udp, 53, "10.0.0.5"), Unknown);
        // Dual stack: IPv4 allows, IPv6 drops.
        let (verdict, why) = judge(&v, Tcp, 22, ip("::"));
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("IPv4 and IPv6 differ"), "{why}");
    }

    fn internal() -> Vec<String> {
        ["docker0", "cni-podman0", "lo"].map(String::from).to_vec()
    }

    /// Captured on a host with Docker (iptables-nft, `-P FORWARD DROP`) and a
    /// Podman (CNI) container, each published on 0.0.0.0: Docker's DOCKER chain
    /// accepts its published port, CNI accepts only replies and the container's
    /// own traffic, so the Podman port is dropped by the policy (measured: not
    /// reachable from the LAN).
    #[test]
    fn docker_and_podman_forward_path() {
        let v = view_with_saves("forward-docker-podman");
        let (verdict, why) =
            judge_forward(&v, Tcp, 8080, ip("172.17.0.2"), "docker0", &internal(), &[]);
        assert_eq!(verdict, Allows, "{why}");
        assert!(
            why.contains("ip filter FORWARD: chain DOCKER rule ")
                && why.contains("accepts tcp dport 8080 forwarded to 172.17.0.2 out of docker0"),
            "{why}"
        );
        let (verdict, why) = judge_forward(
            &v,
            Tcp,
            8080,
            ip("10.88.0.11"),
            "cni-podman0",
            &internal(),
            &[],
        );
        assert_eq!(verdict, Blocks, "{why}");
        assert_eq!(
            why,
            "ip filter FORWARD: policy drop, no rule accepts tcp dport 8080 forwarded to \
             10.88.0.11 out of cni-podman0"
        );
        // Another Docker port, or udp: not accepted by DOCKER, only by CNI's
        // `-s 10.88.0.11/32 -j ACCEPT` if the client had that address (the
        // bridges' subnets are not known here), else dropped by the policy.
        for (proto, port) in [(Tcp, 8081), (Udp, 8080)] {
            let (verdict, why) = judge_forward(
                &v,
                proto,
                port,
                ip("172.17.0.2"),
                "docker0",
                &internal(),
                &[],
            );
            assert_eq!(verdict, Unknown, "{why}");
            assert!(
                why.contains("may accept: chain CNI-FORWARD rule")
                    && why.contains("source address")
                    && why.contains("may drop: policy drop"),
                "{why}"
            );
        }
        // Not knowing the bridges: `-i docker0` may be the input interface, so
        // the isolation chain may drop, and CNI's `-s` accept may match.
        let (verdict, why) = judge_forward(&v, Tcp, 8080, ip("172.17.0.2"), "docker0", &[], &[]);
        assert_eq!(verdict, Unknown, "{why}");
        // The inbound path does not see any of it: no input chain.
        assert_eq!(judge(&v, Tcp, 18082, ip("0.0.0.0")).0, Allows);
        // nft alone: the conntrack match is opaque, so it may accept.
        let opaque = view("forward-docker-podman.json");
        let (verdict, why) = judge_forward(
            &opaque,
            Tcp,
            8080,
            ip("10.88.0.11"),
            "cni-podman0",
            &internal(),
            &[],
        );
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("-m conntrack"), "{why}");
        // Legacy tables of the same host (empty, policy accept) change nothing.
        let legacy = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/firewall/forward-docker-podman.legacy"),
        )
        .expect("fixture");
        let mut both = v.clone();
        if let FirewallView::Rules {
            input_chains,
            forward_chains,
            ..
        } = &mut both
        {
            input_chains.extend(legacy_chains(&legacy, ChainFamily::Ip));
            forward_chains.extend(legacy_forward_chains(&legacy, ChainFamily::Ip));
        }
        for (dst, out, want) in [
            ("172.17.0.2", "docker0", Allows),
            ("10.88.0.11", "cni-podman0", Blocks),
        ] {
            let (verdict, why) = judge_forward(&both, Tcp, 8080, ip(dst), out, &internal(), &[]);
            assert_eq!(verdict, want, "{dst}: {why}");
        }
    }

    fn fwd_view(input: &str, forward: &str) -> FirewallView {
        FirewallView::Rules {
            source: crate::model::Source::from_v1("test"),
            input_chains: legacy_chains(input, ChainFamily::Ip),
            forward_chains: legacy_forward_chains(forward, ChainFamily::Ip),
            unmodelled: vec![],
        }
    }

    #[test]
    fn forward_path_semantics() {
        let none = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n";
        let j = |v: &FirewallView, port, dst: &str, out: &str| {
            judge_forward(v, Tcp, port, ip(dst), out, &internal(), &[])
        };
        // No forward chain: nothing filters.
        let (verdict, why) = j(&fwd_view(none, none), 80, "10.0.0.2", "br0");
        assert_eq!(verdict, Allows, "{why}");
        assert!(why.contains("no forward base chain for IPv4"), "{why}");
        // Policy accept, empty.
        let accept = "*filter\n:FORWARD ACCEPT [0:0]\nCOMMIT\n";
        let (verdict, why) = j(&fwd_view(none, accept), 80, "10.0.0.2", "br0");
        assert_eq!(verdict, Allows, "{why}");
        assert!(why.contains("1 forward base chains, all empty"), "{why}");
        // The input chain's policy drop does not filter forwarded packets.
        let drop_in = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n";
        assert_eq!(
            j(&fwd_view(drop_in, accept), 80, "10.0.0.2", "br0").0,
            Allows
        );
        // Output interface: decided; wildcards; negation.
        let by_oif = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -o br+ -p tcp -m tcp --dport 80 -j ACCEPT\n\
                      -A FORWARD ! -o docker0 -p tcp -m tcp --dport 81 -j ACCEPT\nCOMMIT\n";
        let v = fwd_view(none, by_oif);
        assert_eq!(j(&v, 80, "10.0.0.2", "br-1234").0, Allows);
        assert_eq!(j(&v, 80, "10.0.0.2", "docker0").0, Blocks);
        assert_eq!(j(&v, 81, "10.0.0.2", "br-1234").0, Allows);
        assert_eq!(j(&v, 81, "10.0.0.2", "docker0").0, Blocks);
        // Input interface: a bridge never, any other name maybe, `+` always.
        let by_iif = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -i docker0 -j ACCEPT\n\
                      -A FORWARD -i eth0 -p tcp -m tcp --dport 80 -j ACCEPT\n\
                      -A FORWARD -i + -p tcp -m tcp --dport 81 -j ACCEPT\nCOMMIT\n";
        let v = fwd_view(none, by_iif);
        let (verdict, why) = j(&v, 80, "10.0.0.2", "docker0");
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("input interface"), "{why}");
        assert_eq!(j(&v, 81, "10.0.0.2", "docker0").0, Allows);
        assert_eq!(j(&v, 82, "10.0.0.2", "docker0").0, Blocks);
        // The destination is not local: `--dst-type LOCAL` does not hold,
        // `UNICAST` does; a source of the container's own address never.
        let types = "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -m addrtype --dst-type LOCAL -j DROP\n\
                     -A FORWARD -s 10.0.0.2/32 -j DROP\n\
                     -A FORWARD -p tcp -m tcp --dport 80 -m addrtype --dst-type UNICAST -j DROP\nCOMMIT\n";
        let v = fwd_view(none, types);
        assert_eq!(j(&v, 81, "10.0.0.2", "br0").0, Allows);
        assert_eq!(j(&v, 80, "10.0.0.2", "br0").0, Blocks);
        assert_eq!(j(&v, 81, "10.0.0.3", "br0").0, Unknown);
        // Prerouting before DNAT: the host's port, not known here, so a port
        // drop may apply; an unconditional drop always does.
        let raw = |rule: &str| format!("*raw\n:PREROUTING ACCEPT [0:0]\n{rule}COMMIT\n");
        let v = fwd_view(
            &raw("-A PREROUTING -p tcp -m tcp --dport 80 -j DROP\n"),
            accept,
        );
        let (verdict, why) = j(&v, 80, "10.0.0.2", "br0");
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("destination port before DNAT"), "{why}");
        let v = fwd_view(&raw("-A PREROUTING -p tcp -j DROP\n"), accept);
        assert_eq!(j(&v, 80, "10.0.0.2", "br0").0, Blocks);
        // Reverse-path filtering passes for a real client.
        let v = fwd_view(&raw("-A PREROUTING -m rpfilter --invert -j DROP\n"), accept);
        assert_eq!(j(&v, 80, "10.0.0.2", "br0").0, Allows);
        // Unmodelled parts of the inbound path: never "allows".
        let mut v = fwd_view(none, accept);
        if let FirewallView::Rules { unmodelled, .. } = &mut v {
            unmodelled.push("netdev t c (ingress hook)".into());
        }
        assert_eq!(j(&v, 80, "10.0.0.2", "br0").0, Unknown);
        // IPv6 containers: ip chains do not see them.
        let drop_all = "*filter\n:FORWARD DROP [0:0]\nCOMMIT\n";
        assert_eq!(j(&fwd_view(none, drop_all), 80, "fd00::2", "br0").0, Allows);
        assert_eq!(
            j(&fwd_view(none, drop_all), 80, "10.0.0.2", "br0").0,
            Blocks
        );
        // Unreadable.
        let u = FirewallView::Unreadable {
            reason: "nft not found".into(),
        };
        assert_eq!(j(&u, 80, "10.0.0.2", "br0").0, Unknown);
    }

    #[test]
    fn nft_forward_chain_with_prerouting_priorities() {
        let json = br#"{"nftables":[
            {"chain":{"family":"inet","table":"t","name":"pre","handle":1,"type":"filter","hook":"prerouting","prio":-50,"policy":"accept"}},
            {"rule":{"family":"inet","table":"t","chain":"pre","handle":2,"expr":[{"match":{"op":"==","left":{"payload":{"protocol":"tcp","field":"dport"}},"right":9000}},{"drop":null}]}},
            {"chain":{"family":"inet","table":"t","name":"fwd","handle":3,"type":"filter","hook":"forward","prio":0,"policy":"drop"}},
            {"rule":{"family":"inet","table":"t","chain":"fwd","handle":4,"expr":[{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"podman0"}},{"match":{"op":"==","left":{"fib":{"result":"type","flags":["daddr"]}},"right":"local"}},{"drop":null}]}},
            {"rule":{"family":"inet","table":"t","chain":"fwd","handle":5,"expr":[{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"podman0"}},{"accept":null}]}}
        ]}"#;
        let v = from_nft_json(json);
        let int = vec!["podman0".to_string()];
        // After DNAT (priority -50), the container's port: 9000 dropped, 8080 not.
        let (verdict, why) = judge_forward(&v, Tcp, 9000, ip("10.89.0.2"), "podman0", &int, &[]);
        assert_eq!(verdict, Blocks, "{why}");
        assert!(why.starts_with("inet t pre: rule 2"), "{why}");
        let (verdict, why) = judge_forward(&v, Tcp, 8080, ip("10.89.0.2"), "podman0", &int, &[]);
        assert_eq!(verdict, Allows, "{why}");
        assert!(why.contains("inet t fwd: rule 5"), "{why}");
        assert_eq!(
            judge_forward(&v, Tcp, 8080, ip("fd00::2"), "podman0", &int, &[]).0,
            Allows
        );
        assert_eq!(
            judge_forward(&v, Tcp, 8080, ip("10.89.0.2"), "eth1", &int, &[]).0,
            Blocks
        );
    }

    #[test]
    fn any_interface_wildcard() {
        let text = "*filter\n:INPUT DROP [0:0]\n-A INPUT -i + -p tcp -m tcp --dport 80 -j ACCEPT\n\
                    -A INPUT ! -i + -j ACCEPT\nCOMMIT\n";
        let v = FirewallView::Rules {
            source: crate::model::Source::from_v1("test"),
            input_chains: legacy_chains(text, ChainFamily::Ip),
            forward_chains: vec![],
            unmodelled: vec![],
        };
        assert_eq!(verdict_of(&v, Tcp, 80, "10.0.0.5"), Allows);
        assert_eq!(verdict_of(&v, Tcp, 81, "10.0.0.5"), Blocks);
    }

    #[test]
    fn legacy_tables() {
        let empty = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\nCOMMIT\n";
        let legacy = |text: &str, unmodelled: Vec<String>| FirewallView::Rules {
            source: crate::model::Source::from_v1("test"),
            input_chains: legacy_chains(text, ChainFamily::Ip),
            forward_chains: vec![],
            unmodelled,
        };
        let (verdict, why) = judge(&legacy(empty, vec![]), Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Allows, "{why}");
        assert!(why.contains("1 inbound base chains, all empty"), "{why}");
        let policy_drop = "*filter\n:INPUT DROP [0:0]\nCOMMIT\n";
        assert_eq!(
            verdict_of(&legacy(policy_drop, vec![]), Tcp, 8080, "10.0.0.5"),
            Blocks
        );
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/firewall/legacy-save.txt");
        let text = std::fs::read_to_string(p).expect("fixture");
        // The rules are modelled: `-p tcp -m tcp --dport 8080 -j DROP` in
        // filter INPUT, `-p udp -m udp --dport 9 -j DROP` in raw PREROUTING.
        let (verdict, why) = judge(&legacy(&text, vec![]), Tcp, 8080, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks, "{why}");
        assert_eq!(
            why,
            "iptables-legacy filter INPUT: rule 1 `tcp dport 8080 drop` drops tcp dport 8080"
        );
        let (verdict, why) = judge(&legacy(&text, vec![]), Udp, 9, ip("10.0.0.5"));
        assert_eq!(verdict, Blocks, "{why}");
        assert!(
            why.starts_with("iptables-legacy raw PREROUTING: rule 1"),
            "{why}"
        );
        assert_eq!(
            verdict_of(&legacy(&text, vec![]), Tcp, 8081, "10.0.0.5"),
            Allows
        );
        // Something on the inbound path not modelled: never "allows".
        let (verdict, why) = judge(
            &legacy(empty, vec!["netdev t c (ingress hook)".into()]),
            Tcp,
            8080,
            ip("10.0.0.5"),
        );
        assert_eq!(verdict, Unknown, "{why}");
        assert!(why.contains("netdev"), "{why}");
    }

    #[test]
    fn unreadable_is_unknown() {
        let v = FirewallView::Unreadable {
            reason: "nft not found".into(),
        };
        let (verdict, why) = judge(&v, Tcp, 80, ip("10.0.0.5"));
        assert_eq!(verdict, Unknown);
        assert!(why.contains("nft not found"));
    }

    #[test]
    fn source_dependent_rules() {
        let nets = |s: &str| {
            let (a, l) = s.split_once('/').expect("prefix");
            vec![AddrSpec::Net {
                addr: ip(a),
                prefix: l.parse().expect("len"),
            }]
        };
        let chain = |rules: Vec<Rule>, policy| FirewallView::Rules {
            source: crate::model::Source::from_v1("test"),
            input_chains: vec![InputChain {
                family: ChainFamily::Inet,
                table: "t".into(),
                name: "in".into(),
                hook: crate::collect::net::firewall::ChainHook::Input,
                priority: 0,
                policy,
                legacy: false,
                rules,
                subchains: Default::default(),
            }],
            forward_chains: vec![],
            unmodelled: vec![],
        };
        let rule = |matches, verdict| Rule {
            handle: Some(1),
            matches,
            verdict,
        };
        // Accepted from one subnet only: open to some hosts, closed to others.
        let v = chain(
            vec![rule(
                vec![Match::SrcAddr {
                    family: IpFamily::Ipv4,
                    negated: false,
                    addrs: nets("192.168.1.0/24"),
                }],
                Verdict::Accept,
            )],
            ChainPolicy::Drop,
        );
        let (verdict, why) = judge(&v, Tcp, 8080, ip("192.168.1.2"));
        assert_eq!(verdict, Unknown);
        assert!(why.contains("source address"), "{why}");
        // Loopback sources never match a packet from another host.
        let v = chain(
            vec![rule(
                vec![Match::SrcAddr {
                    family: IpFamily::Ipv4,
                    negated: false,
                    addrs: nets("127.0.0.0/8"),
                }],
                Verdict::Accept,
            )],
            ChainPolicy::Drop,
        );
        assert_eq!(verdict_of(&v, Tcp, 8080, "192.168.1.2"), Blocks);
        // A drop whatever the source interface, after an interface-specific accept.
        let v = chain(
            vec![
                rule(
                    vec![Match::InIface {
                        negated: false,
                        names: vec!["wg0".into()],
                    }],
                    Verdict::Accept,
                ),
                rule(vec![], Verdict::Drop),
            ],
            ChainPolicy::Accept,
        );
        let (verdict, why) = judge(&v, Tcp, 8080, ip("192.168.1.2"));
        assert_eq!(verdict, Unknown);
        assert!(why.contains("input interface"), "{why}");
        // A missing jump target is unknown, not ignored.
        let v = chain(
            vec![rule(
                vec![],
                Verdict::Jump {
                    target: "gone".into(),
                },
            )],
            ChainPolicy::Drop,
        );
        let (verdict, why) = judge(&v, Tcp, 8080, ip("192.168.1.2"));
        assert_eq!(verdict, Unknown);
        assert!(why.contains("chain gone not found"), "{why}");
    }
}
