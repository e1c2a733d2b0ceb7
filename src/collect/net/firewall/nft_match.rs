//! nft match expressions (payload, meta, ct, fib, sets, ranges) → the simplified
//! matches `rules::firewall` judges; anything else is `Unknown`.

use std::collections::HashMap;
use std::net::IpAddr;

use nftables::expr as nx;
use nftables::stmt as st;

use super::common::*;
use crate::model::firewall::*;

/// The comparison of a match. nftables 0.6's `Operator::LT` is serialised as
/// `">"` and `GT` as `"<"` (names swapped, wire format right): mapped by wire
/// format here.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Cmp {
    Eq,
    Ne,
    Greater,
    Less,
    GreaterEq,
    LessEq,
}

pub(super) fn convert_match(ctx: &RuleCtx, m: &st::Match) -> Vec<Match> {
    let cmp = match m.op {
        st::Operator::EQ | st::Operator::IN => Cmp::Eq,
        st::Operator::NEQ => Cmp::Ne,
        st::Operator::LT => Cmp::Greater, // ">"
        st::Operator::GT => Cmp::Less,    // "<"
        st::Operator::GEQ => Cmp::GreaterEq,
        st::Operator::LEQ => Cmp::LessEq,
        _ => return vec![unknown("match with a bitwise operator")],
    };
    convert_cmp(ctx, &m.left, cmp, &m.right)
}

pub(super) const PORT_PROTOS: &[&str] = &["tcp", "udp", "udplite", "sctp", "dccp"];
pub(super) const L4_HEADERS: &[(&str, &str)] = &[
    ("tcp", "tcp"),
    ("udp", "udp"),
    ("udplite", "udplite"),
    ("sctp", "sctp"),
    ("dccp", "dccp"),
    ("icmp", "icmp"),
    ("icmpv6", "ipv6-icmp"),
    ("igmp", "igmp"),
    ("esp", "esp"),
    ("ah", "ah"),
    ("comp", "comp"),
    ("gre", "gre"),
];

pub(super) fn convert_cmp(
    ctx: &RuleCtx,
    left: &nx::Expression,
    cmp: Cmp,
    right: &nx::Expression,
) -> Vec<Match> {
    let nx::Expression::Named(left) = left else {
        return vec![unknown("match on a computed value")];
    };
    let atoms = match atoms(ctx, right) {
        Ok(a) => a,
        Err(why) => return vec![unknown(format!("{}: {why}", describe_left(left)))],
    };
    let negated = cmp == Cmp::Ne;
    let eq_only = matches!(cmp, Cmp::Eq | Cmp::Ne);
    let got = match left {
        nx::NamedExpression::Meta(meta) if eq_only => meta_cmp(meta, negated, &atoms),
        nx::NamedExpression::Fib(fib) if eq_only => fib_cmp(fib, negated, &atoms),
        nx::NamedExpression::CT(ct) if ct.key == "state" && eq_only => strings(&atoms)
            .map(|states| vec![Match::CtState { negated, states }])
            .ok_or(NOT_UNDERSTOOD),
        nx::NamedExpression::Payload(nx::Payload::PayloadField(p)) => payload_cmp(p, cmp, &atoms),
        _ => Err(NOT_MODELLED),
    };
    got.unwrap_or_else(|what| vec![unknown(format!("{} {what}", describe_left(left)))])
}

const NOT_UNDERSTOOD: &str = "value not understood";
const NOT_MODELLED: &str = "not modelled";

/// `meta l4proto/nfproto/iifname/oifname/pkttype == …`.
fn meta_cmp(
    meta: &nx::Meta,
    negated: bool,
    atoms: &[&nx::Expression],
) -> Result<Vec<Match>, &'static str> {
    let m = match meta.key {
        nx::MetaKey::L4proto => {
            protos(atoms).map(|protocols| Match::L4Proto { negated, protocols })
        }
        nx::MetaKey::Nfproto | nx::MetaKey::Protocol => {
            families(atoms).map(|families| Match::NfProto { negated, families })
        }
        nx::MetaKey::Iifname | nx::MetaKey::Iif => {
            strings(atoms).map(|names| Match::InIface { negated, names })
        }
        nx::MetaKey::Oifname | nx::MetaKey::Oif => {
            strings(atoms).map(|names| Match::OutIface { negated, names })
        }
        nx::MetaKey::Pkttype => strings(atoms).map(|types| Match::PktType { negated, types }),
        _ => return Err(NOT_MODELLED),
    };
    m.map(|m| vec![m]).ok_or(NOT_UNDERSTOOD)
}

/// `fib daddr type …` (the destination's address type) and `fib saddr . iif
/// oif missing/exists` (reverse-path filtering).
fn fib_cmp(
    fib: &nx::Fib,
    negated: bool,
    atoms: &[&nx::Expression],
) -> Result<Vec<Match>, &'static str> {
    use nx::FibFlag as F;
    let flags = &fib.flags;
    let only = |allowed: &[F]| flags.iter().all(|f| allowed.contains(f));
    match fib.result {
        nx::FibResult::Type if only(&[F::Daddr]) && flags.contains(&F::Daddr) => strings(atoms)
            .map(|types| vec![Match::DstAddrType { negated, types }])
            .ok_or(NOT_UNDERSTOOD),
        nx::FibResult::Oif
            if only(&[F::Saddr, F::Iif, F::Mark])
                && flags.contains(&F::Saddr)
                && flags.contains(&F::Iif) =>
        {
            match atoms {
                // `missing` is `== false`, `exists` is `== true`.
                [nx::Expression::Boolean(exists)] => Ok(vec![Match::RpfMissing {
                    negated: negated ^ exists,
                }]),
                _ => Err(NOT_UNDERSTOOD),
            }
        }
        _ => Err(NOT_MODELLED),
    }
}

/// A header field: ports (any comparison), other transport fields (the
/// protocol they imply), IPv4/IPv6 addresses and protocols.
fn payload_cmp(
    p: &nx::PayloadField,
    cmp: Cmp,
    atoms: &[&nx::Expression],
) -> Result<Vec<Match>, &'static str> {
    let negated = cmp == Cmp::Ne;
    let eq_only = matches!(cmp, Cmp::Eq | Cmp::Ne);
    let proto = p.protocol.as_ref();
    let field = p.field.as_ref();
    let port_field = field == "dport" || field == "sport";
    if port_field && (proto == "th" || PORT_PROTOS.contains(&proto)) {
        let protocol = (proto != "th").then(|| proto.to_string());
        let ports = port_ranges(atoms, cmp).ok_or(NOT_UNDERSTOOD)?;
        let negated = negated && eq_only;
        return Ok(vec![Match::port(
            field == "dport",
            protocol,
            negated,
            ports,
        )]);
    }
    if let Some((_, l4)) = L4_HEADERS.iter().find(|(h, _)| *h == proto) {
        // Any other field of a transport header implies that protocol.
        return Ok(vec![
            Match::L4Proto {
                negated: false,
                protocols: vec![l4.to_string()],
            },
            unknown(format!("{proto} {field}")),
        ]);
    }
    let fam = match proto {
        "ip" => IpFamily::Ipv4,
        "ip6" => IpFamily::Ipv6,
        _ => return Err(NOT_MODELLED),
    };
    let implied = Match::NfProto {
        negated: false,
        families: vec![fam],
    };
    match field {
        "saddr" | "daddr" if eq_only => {
            let addrs = addr_specs(atoms).ok_or(NOT_UNDERSTOOD)?;
            Ok(vec![Match::addr(field == "saddr", fam, negated, addrs)])
        }
        "protocol" | "nexthdr" if eq_only => protos(atoms)
            .map(|protocols| vec![implied, Match::L4Proto { negated, protocols }])
            .ok_or(NOT_UNDERSTOOD),
        _ => Ok(vec![implied, unknown(format!("{proto} {field}"))]),
    }
}

pub(super) fn describe_left(left: &nx::NamedExpression) -> String {
    match left {
        nx::NamedExpression::Meta(m) => format!("meta {:?}", m.key).to_lowercase(),
        nx::NamedExpression::CT(c) => format!("ct {}", c.key),
        nx::NamedExpression::Payload(nx::Payload::PayloadField(p)) => {
            format!("{} {}", p.protocol, p.field)
        }
        nx::NamedExpression::Payload(nx::Payload::PayloadRaw(_)) => "raw payload".into(),
        nx::NamedExpression::Fib(_) => "fib lookup".into(),
        nx::NamedExpression::RT(_) => "rt".into(),
        nx::NamedExpression::Socket(_) => "socket".into(),
        nx::NamedExpression::Osf(_) => "osf".into(),
        nx::NamedExpression::Exthdr(_) => "exthdr".into(),
        nx::NamedExpression::TcpOption(_) => "tcp option".into(),
        nx::NamedExpression::Numgen(_) => "numgen".into(),
        nx::NamedExpression::JHash(_) | nx::NamedExpression::SymHash(_) => "hash".into(),
        _ => "expression".into(),
    }
}

/// The right-hand side as a flat list of values: anonymous sets, lists and
/// constant named sets are expanded.
pub(super) fn atoms<'e, 'a>(
    ctx: &'e RuleCtx,
    right: &'e nx::Expression<'a>,
) -> Result<Vec<&'e nx::Expression<'a>>, String> {
    let mut out = Vec::new();
    let mut todo = vec![right];
    while let Some(e) = todo.pop() {
        if out.len() > 100_000 {
            return Err("set too large".into());
        }
        match e {
            nx::Expression::String(s) if s.starts_with('@') => {
                let name = &s[1..];
                let key = (ctx.family, ctx.table.to_string(), clean(name));
                match ctx.tables.sets.get(&key) {
                    Some(SetInfo { elems: Some(el) }) => todo.extend(el.iter().rev()),
                    Some(SetInfo { elems: None }) => {
                        return Err(format!("set @{} is updated at run time", clean(name)));
                    }
                    None => return Err(format!("set @{} not found", clean(name))),
                }
            }
            nx::Expression::List(items) => todo.extend(items.iter().rev()),
            nx::Expression::Named(nx::NamedExpression::Set(items)) => {
                for i in items.iter().rev() {
                    match i {
                        nx::SetItem::Element(x) => todo.push(x),
                        _ => return Err("map where a set was expected".into()),
                    }
                }
            }
            nx::Expression::Named(nx::NamedExpression::Elem(el)) => todo.push(&el.val),
            other => out.push(other),
        }
    }
    Ok(out)
}

pub(super) fn strings(atoms: &[&nx::Expression]) -> Option<Vec<String>> {
    atoms
        .iter()
        .map(|a| match a {
            nx::Expression::String(s) => Some(clean(s)),
            _ => None,
        })
        .collect()
}

pub(super) fn proto_name(n: u32) -> String {
    match n {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "ipv6-icmp".into(),
        n => n.to_string(),
    }
}

pub(super) fn protos(atoms: &[&nx::Expression]) -> Option<Vec<String>> {
    atoms
        .iter()
        .map(|a| match a {
            nx::Expression::String(s) => Some(match s.parse::<u32>() {
                Ok(n) => proto_name(n),
                Err(_) => clean(s),
            }),
            nx::Expression::Number(n) => Some(proto_name(*n)),
            _ => None,
        })
        .collect()
}

/// `ipv4`/`ip` and `ipv6`/`ip6`; other families (arp, …) never match an IP
/// packet and are left out.
pub(super) fn families(atoms: &[&nx::Expression]) -> Option<Vec<IpFamily>> {
    let mut out = Vec::new();
    for a in atoms {
        match a {
            nx::Expression::String(s) => match s.as_ref() {
                "ipv4" | "ip" => out.push(IpFamily::Ipv4),
                "ipv6" | "ip6" => out.push(IpFamily::Ipv6),
                _ => {}
            },
            nx::Expression::Number(2) => out.push(IpFamily::Ipv4),
            nx::Expression::Number(10) => out.push(IpFamily::Ipv6),
            nx::Expression::Number(_) => {}
            _ => return None,
        }
    }
    Some(out)
}

pub(super) fn port_of(e: &nx::Expression) -> Option<u16> {
    match e {
        nx::Expression::Number(n) => u16::try_from(*n).ok(),
        nx::Expression::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(super) fn port_ranges(atoms: &[&nx::Expression], cmp: Cmp) -> Option<Vec<PortRange>> {
    if !matches!(cmp, Cmp::Eq | Cmp::Ne) {
        let [one] = atoms else { return None };
        let p = port_of(one)?;
        let r = match cmp {
            Cmp::Greater => PortRange {
                first: p.checked_add(1)?,
                last: u16::MAX,
            },
            Cmp::GreaterEq => PortRange {
                first: p,
                last: u16::MAX,
            },
            Cmp::Less => PortRange {
                first: 0,
                last: p.checked_sub(1)?,
            },
            Cmp::LessEq => PortRange { first: 0, last: p },
            Cmp::Eq | Cmp::Ne => return None,
        };
        return Some(vec![r]);
    }
    atoms
        .iter()
        .map(|a| match a {
            nx::Expression::Range(r) => {
                let (first, last) = (port_of(&r.range[0])?, port_of(&r.range[1])?);
                (first <= last).then_some(PortRange { first, last })
            }
            other => port_of(other).map(|p| PortRange { first: p, last: p }),
        })
        .collect()
}

pub(super) fn addr_of(e: &nx::Expression) -> Option<IpAddr> {
    match e {
        nx::Expression::String(s) => s.parse().ok(),
        _ => None,
    }
}

pub(super) fn addr_specs(atoms: &[&nx::Expression]) -> Option<Vec<AddrSpec>> {
    atoms
        .iter()
        .map(|a| match a {
            nx::Expression::Named(nx::NamedExpression::Prefix(p)) => {
                let addr = addr_of(&p.addr)?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let prefix = u8::try_from(p.len).ok().filter(|l| *l <= max)?;
                Some(AddrSpec::Net { addr, prefix })
            }
            nx::Expression::Range(r) => {
                let (first, last) = (addr_of(&r.range[0])?, addr_of(&r.range[1])?);
                (first.is_ipv4() == last.is_ipv4()).then_some(AddrSpec::Range { first, last })
            }
            other => {
                let addr = addr_of(other)?;
                let prefix = if addr.is_ipv4() { 32 } else { 128 };
                Some(AddrSpec::Net { addr, prefix })
            }
        })
        .collect()
}

/// A named set of a table, as far as its elements are usable.
pub(super) struct SetInfo {
    /// `None`: updated from the packet path (dynamic/timeout) or not readable.
    pub(super) elems: Option<Vec<nx::Expression<'static>>>,
}

pub(super) struct RuleCtx<'a> {
    pub(super) tables: &'a Tables,
    pub(super) family: ChainFamily,
    pub(super) table: &'a str,
}

pub(super) fn unknown(what: impl Into<String>) -> Match {
    Match::Unknown {
        what: clean(&what.into()),
    }
}

pub(super) type ChainKey = (ChainFamily, String, String);

#[derive(Default)]
pub(super) struct Tables {
    /// (family, table, set name) → set.
    pub(super) sets: HashMap<ChainKey, SetInfo>,
}
