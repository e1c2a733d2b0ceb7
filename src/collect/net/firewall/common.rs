//! What every parser of the firewall tools' output shares: their text made
//! fit for a report, and the order of chains.

use crate::model::firewall::*;

/// Printable, bounded copy of a string from a tool's output.
pub(super) fn clean(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_STR)
        .collect();
    if s.chars().count() > MAX_STR {
        out.push('…');
    }
    out.trim().to_string()
}

pub(super) fn sort_chains(chains: &mut [InputChain]) {
    chains.sort_by(|a, b| {
        (a.hook, a.priority, a.legacy, a.family, &a.table, &a.name)
            .cmp(&(b.hook, b.priority, b.legacy, b.family, &b.table, &b.name))
    });
}

/// Longest string kept from the tools' output.
pub(super) const MAX_STR: usize = 200;

/// Targets that do not end a rule's evaluation and do not change what later
/// rules of the inbound path see (logging, marks, QoS): evaluation goes on.
/// NOTRACK and CT are not among them: they change the conntrack state later
/// rules match on.
pub(super) const NON_TERMINAL_TARGETS: &[&str] = &[
    "LOG",
    "NFLOG",
    "ULOG",
    "TRACE",
    "AUDIT",
    "MARK",
    "CONNMARK",
    "CLASSIFY",
    "DSCP",
    "TOS",
    "TTL",
    "HL",
    "ECN",
    "TCPMSS",
    "SECMARK",
    "CONNSECMARK",
    "SET",
    "CHECKSUM",
    "IDLETIMER",
    "LED",
    "RATEEST",
];

/// What else was read for a view, added to its source (`; ip filter read with
/// iptables-nft-save`): the source of a view read here is always a command.
pub(super) fn also_read(source: &mut crate::model::Source, text: &str) {
    if let crate::model::Source::Command { name } = source {
        name.push_str(text);
    }
}
