//! The host firewall as aiposture understands it: the inbound and forward base
//! chains of a namespace, simplified into matches and verdicts (read by
//! collect::firewall, judged by rules::firewall).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What was learnt about the inbound filtering of one network namespace.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FirewallView {
    /// The ruleset could not be read (not root, nft absent, …): a blind spot.
    Unreadable { reason: String },
    Rules {
        /// What was read, e.g. `nft -j list ruleset (nftables v1.0.6)`.
        #[serde(deserialize_with = "super::source::v1_or_v2")]
        source: super::Source,
        /// Base chains on the inbound path: every chain hooked on `input` (families
        /// ip, ip6, inet) and every filter-type chain hooked on `prerouting` (which
        /// can drop before `input`), in evaluation order (hook, then priority).
        input_chains: Vec<InputChain>,
        /// Base chains on the forward path (what a DNAT-ed published container
        /// port crosses after prerouting): every filter-type chain hooked on
        /// `forward` (families ip, ip6, inet; iptables' `FORWARD` of filter,
        /// mangle and security), in evaluation order (priority). Absent from
        /// snapshots older than this field: read as none.
        #[serde(default)]
        forward_chains: Vec<InputChain>,
        /// Parts of the inbound path seen but not modelled (netdev ingress, bridge
        /// chains, unreadable legacy tables, unparsable chains): each keeps an
        /// "allows" judgement from being certain.
        unmodelled: Vec<String>,
    },
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum ChainFamily {
    Ip,
    Ip6,
    Inet,
}

impl ChainFamily {
    pub fn label(self) -> &'static str {
        match self {
            ChainFamily::Ip => "ip",
            ChainFamily::Ip6 => "ip6",
            ChainFamily::Inet => "inet",
        }
    }

    /// Does a chain of this family see packets of `f`?
    pub fn sees(self, f: IpFamily) -> bool {
        matches!(
            (self, f),
            (ChainFamily::Inet, _)
                | (ChainFamily::Ip, IpFamily::Ipv4)
                | (ChainFamily::Ip6, IpFamily::Ipv6)
        )
    }
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum ChainHook {
    Prerouting,
    Input,
    Forward,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ChainPolicy {
    Accept,
    Drop,
}

/// One base chain on the inbound (or forward) path.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct InputChain {
    pub family: ChainFamily,
    pub table: String,
    pub name: String,
    pub hook: ChainHook,
    pub priority: i32,
    pub policy: ChainPolicy,
    /// An iptables-legacy chain (read from `iptables-legacy-save`), not nftables.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legacy: bool,
    /// The chain's rules in order.
    pub rules: Vec<Rule>,
    /// Regular chains of the same table reachable by jump/goto, by name.
    #[serde(default)]
    pub subchains: BTreeMap<String, Vec<Rule>>,
}

impl InputChain {
    /// `inet filter input`, `iptables-legacy filter INPUT`.
    pub fn label(&self) -> String {
        let fam = if self.legacy {
            match self.family {
                ChainFamily::Ip6 => "ip6tables-legacy",
                _ => "iptables-legacy",
            }
        } else {
            self.family.label()
        };
        format!("{fam} {} {}", self.table, self.name)
    }
}

/// A rule: all matches must hold for the verdict to apply.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Rule {
    /// nft's rule handle (or the position in an iptables-legacy chain).
    pub handle: Option<u64>,
    pub matches: Vec<Match>,
    pub verdict: Verdict,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum IpFamily {
    Ipv4,
    Ipv6,
}

/// Inclusive port range; a single port has `first == last`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AddrSpec {
    /// An address prefix; a single address has the full length.
    Net { addr: IpAddr, prefix: u8 },
    /// An inclusive address range.
    Range { first: IpAddr, last: IpAddr },
}

/// One simplified match. A negated match holds when the positive one does not
/// (but the implied protocol/family dependency, e.g. tcp for `tcp dport != 22`,
/// must still hold).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Match {
    /// Layer 4 protocol (`meta l4proto`, `ip protocol`, `ip6 nexthdr`), names
    /// as nft prints them (`tcp`, `udp`, `ipv6-icmp`, or a number).
    L4Proto {
        negated: bool,
        protocols: Vec<String>,
    },
    /// Network family (`meta nfproto`, `meta protocol`, implied by `ip …`/`ip6 …`).
    NfProto {
        negated: bool,
        families: Vec<IpFamily>,
    },
    /// Destination port; `protocol` is the header it is read from (`tcp`, `udp`,
    /// …) and implies that protocol, `None` is `th` (any transport header).
    DstPort {
        protocol: Option<String>,
        negated: bool,
        ports: Vec<PortRange>,
    },
    SrcPort {
        protocol: Option<String>,
        negated: bool,
        ports: Vec<PortRange>,
    },
    SrcAddr {
        family: IpFamily,
        negated: bool,
        addrs: Vec<AddrSpec>,
    },
    DstAddr {
        family: IpFamily,
        negated: bool,
        addrs: Vec<AddrSpec>,
    },
    /// Input interface (`iifname`, `iif`); a trailing `*` is a wildcard.
    InIface { negated: bool, names: Vec<String> },
    /// Output interface (`oifname`, `oif`, iptables' `-o`); a trailing `*` is a
    /// wildcard (iptables' `+`).
    OutIface { negated: bool, names: Vec<String> },
    /// Conntrack state (`new`, `established`, `related`, `invalid`, `untracked`).
    CtState { negated: bool, states: Vec<String> },
    /// `meta pkttype` (`host`, `broadcast`, `multicast`, `other`).
    PktType { negated: bool, types: Vec<String> },
    /// `fib daddr type …` (`local`, `broadcast`, `multicast`, …).
    DstAddrType { negated: bool, types: Vec<String> },
    /// `fib saddr . iif oif missing` (with or without `. mark`): reverse-path
    /// filtering fails; negated is `… oif exists`.
    RpfMissing { negated: bool },
    /// Anything not modelled: it may or may not hold.
    Unknown { what: String },
}

impl Match {
    /// A port match on the destination side (`dst`) or the source side.
    pub fn port(
        dst: bool,
        protocol: Option<String>,
        negated: bool,
        ports: Vec<PortRange>,
    ) -> Match {
        if dst {
            Match::DstPort {
                protocol,
                negated,
                ports,
            }
        } else {
            Match::SrcPort {
                protocol,
                negated,
                ports,
            }
        }
    }

    /// An address match on the source side (`src`) or the destination side.
    pub fn addr(src: bool, family: IpFamily, negated: bool, addrs: Vec<AddrSpec>) -> Match {
        if src {
            Match::SrcAddr {
                family,
                negated,
                addrs,
            }
        } else {
            Match::DstAddr {
                family,
                negated,
                addrs,
            }
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    Accept,
    Drop,
    Reject,
    Jump {
        target: String,
    },
    Goto {
        target: String,
    },
    Return,
    /// No verdict (counter, log, …): evaluation goes on with the next rule.
    Continue,
    /// A verdict or statement not modelled (queue, a verdict map, an iptables
    /// target): its effect on the packet is unknown.
    Other {
        what: String,
    },
}

// ---- display ----------------------------------------------------------------------

fn neg(n: bool) -> &'static str {
    if n { "!= " } else { "" }
}

fn list(items: &[String]) -> String {
    if items.len() == 1 {
        items[0].clone()
    } else {
        format!("{{ {} }}", items.join(", "))
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

impl fmt::Display for AddrSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrSpec::Net { addr, prefix } => {
                let full = if addr.is_ipv4() { 32 } else { 128 };
                if *prefix == full {
                    write!(f, "{addr}")
                } else {
                    write!(f, "{addr}/{prefix}")
                }
            }
            AddrSpec::Range { first, last } => write!(f, "{first}-{last}"),
        }
    }
}

fn ip_kw(f: IpFamily) -> &'static str {
    match f {
        IpFamily::Ipv4 => "ip",
        IpFamily::Ipv6 => "ip6",
    }
}

fn strs<T: ToString>(v: &[T]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::L4Proto { negated, protocols } => {
                write!(f, "meta l4proto {}{}", neg(*negated), list(protocols))
            }
            Match::NfProto { negated, families } => {
                let names: Vec<String> = families
                    .iter()
                    .map(|x| match x {
                        IpFamily::Ipv4 => "ipv4".to_string(),
                        IpFamily::Ipv6 => "ipv6".to_string(),
                    })
                    .collect();
                write!(f, "meta nfproto {}{}", neg(*negated), list(&names))
            }
            Match::DstPort {
                protocol,
                negated,
                ports,
            } => write!(
                f,
                "{} dport {}{}",
                protocol.as_deref().unwrap_or("th"),
                neg(*negated),
                list(&strs(ports))
            ),
            Match::SrcPort {
                protocol,
                negated,
                ports,
            } => write!(
                f,
                "{} sport {}{}",
                protocol.as_deref().unwrap_or("th"),
                neg(*negated),
                list(&strs(ports))
            ),
            Match::SrcAddr {
                family,
                negated,
                addrs,
            } => write!(
                f,
                "{} saddr {}{}",
                ip_kw(*family),
                neg(*negated),
                list(&strs(addrs))
            ),
            Match::DstAddr {
                family,
                negated,
                addrs,
            } => write!(
                f,
                "{} daddr {}{}",
                ip_kw(*family),
                neg(*negated),
                list(&strs(addrs))
            ),
            Match::InIface { negated, names } => {
                let q: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                write!(f, "iifname {}{}", neg(*negated), list(&q))
            }
            Match::OutIface { negated, names } => {
                let q: Vec<String> = names.iter().map(|n| format!("\"{n}\"")).collect();
                write!(f, "oifname {}{}", neg(*negated), list(&q))
            }
            Match::CtState { negated, states } => {
                write!(f, "ct state {}{}", neg(*negated), states.join(","))
            }
            Match::PktType { negated, types } => {
                write!(f, "meta pkttype {}{}", neg(*negated), list(types))
            }
            Match::DstAddrType { negated, types } => {
                write!(f, "fib daddr type {}{}", neg(*negated), list(types))
            }
            Match::RpfMissing { negated } => write!(
                f,
                "fib saddr . iif oif {}",
                if *negated { "exists" } else { "missing" }
            ),
            Match::Unknown { what } => write!(f, "<{what}>"),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accept => write!(f, "accept"),
            Verdict::Drop => write!(f, "drop"),
            Verdict::Reject => write!(f, "reject"),
            Verdict::Jump { target } => write!(f, "jump {target}"),
            Verdict::Goto { target } => write!(f, "goto {target}"),
            Verdict::Return => write!(f, "return"),
            Verdict::Continue => write!(f, "continue"),
            Verdict::Other { what } => write!(f, "<{what}>"),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.matches {
            write!(f, "{m} ")?;
        }
        write!(f, "{}", self.verdict)
    }
}

/// The firewall of one network namespace, as read for this collection.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct NamespaceFirewall {
    pub netns: Option<String>,
    pub view: FirewallView,
}
