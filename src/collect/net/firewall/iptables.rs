//! iptables-save text (iptables-nft and iptables-legacy) → chains: the common
//! matches and targets modelled, everything else `Unknown` / `Verdict::Other`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;

use super::common::*;
use super::nft::*;
use super::nft_match::*;
use crate::model::firewall::*;

// ---- iptables-save ----------------------------------------------------------------

/// One table of iptables-save output.
pub(super) struct SaveTable {
    pub(super) name: String,
    /// Chains in declaration order with their policy word (`-` for user chains).
    pub(super) chains: Vec<(String, String)>,
    /// Rules per chain, in order; `handle` is the position (1-based).
    pub(super) rules: HashMap<String, Vec<Rule>>,
}

impl SaveTable {
    pub(super) fn policy(&self, chain: &str) -> Option<&str> {
        self.chains
            .iter()
            .find(|(n, _)| n == chain)
            .map(|(_, p)| p.as_str())
    }

    /// The rules of `chain` and the user chains reachable from it by jump/goto.
    pub(super) fn chain_and_subchains(
        &self,
        chain: &str,
    ) -> (Vec<Rule>, BTreeMap<String, Vec<Rule>>) {
        let rules = self.rules.get(chain).cloned().unwrap_or_default();
        let mut subchains = BTreeMap::new();
        let mut todo = targets(&rules);
        while let Some(t) = todo.pop() {
            if subchains.contains_key(&t) || t == chain {
                continue;
            }
            let r = self.rules.get(&t).cloned().unwrap_or_default();
            todo.extend(targets(&r));
            subchains.insert(t, r);
        }
        (rules, subchains)
    }
}

/// The tables of iptables-save / ip6tables-save output (legacy or nft): chains
/// with their policies and rules modelled as far as their matches are known.
/// A table without its `COMMIT` (cut short) is left out.
pub(super) fn parse_save(save: &str, family: ChainFamily) -> Vec<SaveTable> {
    let mut out = Vec::new();
    // The table being read: name, declared chains, rule lines.
    type Reading<'a> = (String, Vec<(String, String)>, Vec<&'a str>);
    let mut cur: Option<Reading> = None;
    for line in save.lines().take(1_000_000) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(t) = line.strip_prefix('*') {
            cur = Some((clean(t), Vec::new(), Vec::new()));
            continue;
        }
        let Some((_, chains, lines)) = cur.as_mut() else {
            continue;
        };
        if line == "COMMIT" {
            if let Some((name, chains, lines)) = cur.take() {
                out.push(build_table(name, chains, &lines, family));
            }
        } else if let Some(rest) = line.strip_prefix(':') {
            let mut parts = rest.split_whitespace();
            if let (Some(name), Some(policy)) = (parts.next(), parts.next()) {
                chains.push((clean(name), clean(policy)));
            }
        } else {
            // `iptables-save -c` puts the rule's counters first: `[12:3456] -A …`.
            let line = match line.strip_prefix('[') {
                Some(r) => r.split_once(']').map_or(line, |(_, r)| r.trim_start()),
                None => line,
            };
            if let Some(rest) = line.strip_prefix("-A ") {
                lines.push(rest);
            }
        }
    }
    out
}

pub(super) fn build_table(
    name: String,
    chains: Vec<(String, String)>,
    lines: &[&str],
    family: ChainFamily,
) -> SaveTable {
    let declared: HashSet<&str> = chains.iter().map(|(n, _)| n.as_str()).collect();
    let mut rules: HashMap<String, Vec<Rule>> = HashMap::new();
    for line in lines {
        let (chain, matches, verdict) = match save_words(line) {
            Some(words) if !words.is_empty() => {
                let (m, v) = parse_rule(&words[1..], family, &declared);
                (clean(&words[0].text), m, v)
            }
            _ => (
                clean(line.split_whitespace().next().unwrap_or("")),
                vec![unknown(format!("iptables rule not understood: -A {line}"))],
                Verdict::Other {
                    what: "an iptables rule that was not understood".into(),
                },
            ),
        };
        let list = rules.entry(chain).or_default();
        list.push(Rule {
            handle: Some(list.len() as u64 + 1),
            matches,
            verdict,
        });
    }
    SaveTable {
        name,
        chains,
        rules,
    }
}

/// A word of an iptables-save line; `quoted` words are values, never options.
pub(super) struct Word {
    pub(super) text: String,
    pub(super) quoted: bool,
}

/// Splits a line as iptables-save quotes it: words on blanks, `"…"` around
/// values with other characters than `[A-Za-z0-9_-]`, `\` escaping `"`, `\`
/// and `'` inside quotes. `None` for an unterminated quote.
pub(super) fn save_words(line: &str) -> Option<Vec<Word>> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Some(words);
        }
        let mut text = String::new();
        let mut quoted = false;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c != '"' {
                text.push(c);
                continue;
            }
            quoted = true;
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => text.push(chars.next()?),
                    c => text.push(c),
                }
            }
        }
        words.push(Word { text, quoted });
    }
}

/// Top-level options of an iptables rule: they end a match module's options.
pub(super) const TOP_OPTIONS: &[&str] = &["-p", "-s", "-d", "-i", "-o", "-f", "-m", "-j", "-g"];

pub(super) fn is_top_option(w: &Word) -> bool {
    !w.quoted
        && (TOP_OPTIONS.contains(&w.text.as_str())
            || matches!(w.text.as_str(), "--match" | "--jump" | "--goto"))
}

pub(super) fn joined(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| {
            if w.quoted {
                format!("\"{}\"", w.text)
            } else {
                w.text.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The matches and verdict of one rule, words after the chain name. What is
/// not modelled becomes `Unknown` (or `Verdict::Other`), never a guess.
pub(super) fn parse_rule(
    words: &[Word],
    family: ChainFamily,
    chains: &HashSet<&str>,
) -> (Vec<Match>, Verdict) {
    let fam = match family {
        ChainFamily::Ip6 => IpFamily::Ipv6,
        _ => IpFamily::Ipv4,
    };
    let mut matches = Vec::new();
    let mut verdict = Verdict::Continue;
    // The rule's `-p` protocol, when not negated (multiport reads it).
    let mut proto: Option<String> = None;
    let mut negated = false;
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        let opt = if w.quoted { "" } else { w.text.as_str() };
        let value = words.get(i + 1).map(|v| v.text.as_str());
        match (opt, value) {
            ("!", _) if !negated => {
                negated = true;
                i += 1;
                continue;
            }
            ("-p" | "--protocol", Some(v)) => {
                let (m, p) = protocol_match(v, negated);
                matches.extend(m);
                proto = p.or(proto);
                i += 2;
            }
            ("-s" | "--source" | "--src" | "-d" | "--destination" | "--dst", Some(v)) => {
                matches.push(addr_match(opt, v, negated, fam));
                i += 2;
            }
            ("-i" | "--in-interface" | "-o" | "--out-interface", Some(v)) => {
                matches.push(iface_match(opt, v, negated));
                i += 2;
            }
            ("-m" | "--match", Some(name)) if !negated => {
                let end = module_end(words, i + 2);
                matches.extend(module(name, &words[i + 2..end], fam, proto.as_deref()));
                i = end;
            }
            ("-j" | "--jump", Some(t)) if !negated => {
                verdict = target(t, &words[i + 2..], chains);
                i = words.len();
            }
            ("-g" | "--goto", Some(t)) if !negated => {
                verdict = if chains.contains(t) {
                    Verdict::Goto { target: clean(t) }
                } else {
                    Verdict::Other {
                        what: format!("iptables goto {}", clean(t)),
                    }
                };
                i += 2;
            }
            _ => {
                // `-f`, anything else: the option and its values.
                let mut end = i + 1;
                while end < words.len()
                    && (words[end].quoted
                        || !(words[end].text.starts_with('-') || words[end].text == "!"))
                {
                    end += 1;
                }
                matches.push(unknown(format!(
                    "iptables {}{}",
                    neg_word(negated),
                    joined(&words[i..end])
                )));
                i = end;
            }
        }
        negated = false;
    }
    (tidy(matches), verdict)
}

/// `-p tcp -m tcp --dport 22`: the port match implies the protocol, which is
/// dropped; `-p icmp -m icmp`: the protocol once. A match twice is the match once.
fn tidy(mut matches: Vec<Match>) -> Vec<Match> {
    let port_protos: Vec<String> = matches
        .iter()
        .filter_map(|m| match m {
            Match::DstPort {
                protocol: Some(p), ..
            }
            | Match::SrcPort {
                protocol: Some(p), ..
            } => Some(p.clone()),
            _ => None,
        })
        .collect();
    matches.retain(|m| {
        !matches!(m, Match::L4Proto { negated: false, protocols }
            if protocols.len() == 1 && port_protos.contains(&protocols[0]))
    });
    let mut unique: Vec<Match> = Vec::with_capacity(matches.len());
    for m in matches {
        if !unique.contains(&m) {
            unique.push(m);
        }
    }
    unique
}

/// `-p PROTO`: its match (none for `-p all`, nothing matches `! -p all`) and,
/// when not negated, the protocol that `-m multiport` reads.
fn protocol_match(v: &str, negated: bool) -> (Option<Match>, Option<String>) {
    match protocol(v) {
        Some(p) if p == "all" => (
            negated.then(|| Match::L4Proto {
                negated: false,
                protocols: Vec::new(),
            }),
            None,
        ),
        Some(p) => (
            Some(Match::L4Proto {
                negated,
                protocols: vec![p.clone()],
            }),
            (!negated).then_some(p),
        ),
        None => (
            Some(unknown(format!("iptables {}-p {v}", neg_word(negated)))),
            None,
        ),
    }
}

/// `-s/-d ADDR[/MASK]` of the table's family.
fn addr_match(opt: &str, v: &str, negated: bool, fam: IpFamily) -> Match {
    let src = matches!(opt, "-s" | "--source" | "--src");
    match addr_spec(v, fam) {
        Some(a) => Match::addr(src, fam, negated, vec![a]),
        None => unknown(format!("iptables {}{opt} {v}", neg_word(negated))),
    }
}

/// `-i/-o NAME`; `eth+` is any name starting with `eth`: the model's `eth*`.
fn iface_match(opt: &str, v: &str, negated: bool) -> Match {
    let name = match v.strip_suffix('+') {
        Some(stem) => format!("{}*", clean(stem)),
        None => clean(v),
    };
    let names = vec![name];
    if matches!(opt, "-i" | "--in-interface") {
        Match::InIface { negated, names }
    } else {
        Match::OutIface { negated, names }
    }
}

/// Where the arguments of a `-m` module that start at `start` end: at the next
/// top-level option (or `!` before one).
fn module_end(words: &[Word], start: usize) -> usize {
    let mut end = start;
    while end < words.len()
        && !is_top_option(&words[end])
        && !(words[end].text == "!"
            && !words[end].quoted
            && words.get(end + 1).is_some_and(is_top_option))
    {
        end += 1;
    }
    end
}

pub(super) fn neg_word(negated: bool) -> &'static str {
    if negated { "! " } else { "" }
}

/// `-p` as nft prints protocols: `tcp`, `ipv6-icmp`, numbers for the rest;
/// `all` for any.
pub(super) fn protocol(v: &str) -> Option<String> {
    let v = v.to_ascii_lowercase();
    Some(match v.as_str() {
        "all" | "0" => "all".into(),
        "icmpv6" | "ipv6-icmp" => "ipv6-icmp".into(),
        _ => match v.parse::<u32>() {
            Ok(n) => proto_name(n),
            Err(_) if v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => clean(&v),
            Err(_) => return None,
        },
    })
}

/// `10.0.0.0/8`, `192.168.1.5/32`, `10.0.0.0/255.0.0.0`, `fe80::/10`, of the
/// chain's family.
pub(super) fn addr_spec(v: &str, fam: IpFamily) -> Option<AddrSpec> {
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a.parse::<IpAddr>().ok()?, Some(l)),
        None => (v.parse::<IpAddr>().ok()?, None),
    };
    if addr.is_ipv4() != (fam == IpFamily::Ipv4) {
        return None;
    }
    let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match len {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(p) if p <= max => p,
            Ok(_) => return None,
            Err(_) => {
                // A dotted mask: only a contiguous one is a prefix.
                let mask: IpAddr = l.parse().ok()?;
                let bits: u128 = match mask {
                    IpAddr::V4(m) if addr.is_ipv4() => u128::from(u32::from(m)) << 96,
                    IpAddr::V6(m) if addr.is_ipv6() => u128::from(m),
                    _ => return None,
                };
                let ones = bits.leading_ones();
                if bits.checked_shl(ones).unwrap_or(0) != 0 {
                    return None;
                }
                u8::try_from(ones).ok().filter(|p| *p <= max)?
            }
        },
    };
    Some(AddrSpec::Net { addr, prefix })
}

/// `22`, `1000:2000`, `:1024`, `1024:`; with `list`, comma-separated (multiport).
pub(super) fn save_ports(v: &str, list: bool) -> Option<Vec<PortRange>> {
    let items: Vec<&str> = if list {
        v.split(',').collect()
    } else {
        vec![v]
    };
    items
        .into_iter()
        .map(|item| match item.split_once(':') {
            Some((a, b)) => {
                let first = if a.is_empty() { 0 } else { a.parse().ok()? };
                let last = if b.is_empty() {
                    u16::MAX
                } else {
                    b.parse().ok()?
                };
                (first <= last).then_some(PortRange { first, last })
            }
            None => {
                let p = item.parse().ok()?;
                Some(PortRange { first: p, last: p })
            }
        })
        .collect()
}

pub(super) fn lower_list(v: &str) -> Vec<String> {
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| clean(&s.to_ascii_lowercase()))
        .collect()
}

pub(super) const PORT_MODULES: &[&str] = &["tcp", "udp", "udplite", "sctp", "dccp"];

/// The matches of `-m name args…`.
pub(super) fn module(name: &str, args: &[Word], fam: IpFamily, proto: Option<&str>) -> Vec<Match> {
    let rest = |from: usize| {
        let text = joined(&args[from..]);
        if text.is_empty() {
            unknown(format!("iptables -m {name}"))
        } else {
            unknown(format!("iptables -m {name} {text}"))
        }
    };
    if name == "rpfilter" {
        return rpfilter(args).unwrap_or_else(|| vec![rest(0)]);
    }
    let port_module = PORT_MODULES.contains(&name);
    let mut out = Vec::new();
    // What is left from `from` on is not modelled; `-m tcp --syn`,
    // `--tcp-flags` still imply tcp.
    let give_up = |out: &mut Vec<Match>, from: usize| {
        if port_module {
            out.push(Match::L4Proto {
                negated: false,
                protocols: vec![name.to_string()],
            });
        }
        out.push(rest(from));
    };
    if args.is_empty() {
        if name != "comment" {
            give_up(&mut out, 0);
        }
        return out;
    }
    let mut i = 0;
    while i < args.len() {
        let start = i;
        let negated = !args[i].quoted && args[i].text == "!";
        if negated {
            i += 1;
        }
        let (Some(opt), Some(v)) = (args.get(i), args.get(i + 1)) else {
            give_up(&mut out, start);
            break;
        };
        let (opt, v) = (
            if opt.quoted { "" } else { opt.text.as_str() },
            v.text.as_str(),
        );
        let got = module_option(name, opt, v, negated, fam, proto);
        match got {
            Some(ms) => {
                out.extend(ms);
                i += 2;
            }
            None => {
                give_up(&mut out, start);
                break;
            }
        }
    }
    out
}

/// `-m rpfilter`: holds when the reverse path is valid, `--invert` when it is
/// not; `--loose`, `--accept-local` and `--validmark` only widen what passes.
/// `None`: another option, not modelled.
fn rpfilter(args: &[Word]) -> Option<Vec<Match>> {
    let flags: Option<Vec<&str>> = args
        .iter()
        .map(|w| {
            (!w.quoted
                && matches!(
                    w.text.as_str(),
                    "--invert" | "--loose" | "--accept-local" | "--validmark"
                ))
            .then_some(w.text.as_str())
        })
        .collect();
    flags.map(|f| {
        vec![Match::RpfMissing {
            negated: !f.contains(&"--invert"),
        }]
    })
}

/// The matches of one `OPT VALUE` of `-m name`; `None`: not modelled.
fn module_option(
    name: &str,
    opt: &str,
    v: &str,
    negated: bool,
    fam: IpFamily,
    proto: Option<&str>,
) -> Option<Vec<Match>> {
    let port_module = PORT_MODULES.contains(&name);
    match (name, opt) {
        (_, "--dport" | "--destination-port" | "--sport" | "--source-port") if port_module => {
            let dst = matches!(opt, "--dport" | "--destination-port");
            save_ports(v, false)
                .map(|ports| vec![Match::port(dst, Some(name.to_string()), negated, ports)])
        }
        ("multiport", "--dports" | "--destination-ports" | "--sports" | "--source-ports") => {
            multiport(opt, v, negated, proto)
        }
        ("conntrack", "--ctstate") | ("state", "--state") => {
            let states = lower_list(v);
            // SNAT/DNAT are states of translated connections: not modelled.
            let known = ["new", "established", "related", "invalid", "untracked"];
            (!states.is_empty() && states.iter().all(|s| known.contains(&s.as_str())))
                .then(|| vec![Match::CtState { negated, states }])
        }
        ("addrtype", "--dst-type") => {
            let types = lower_list(v);
            (!types.is_empty()).then(|| vec![Match::DstAddrType { negated, types }])
        }
        ("comment", "--comment") => Some(Vec::new()),
        ("pkttype", "--pkt-type") => pkttype(v, negated),
        ("iprange", "--src-range" | "--dst-range") => iprange(opt, v, negated, fam),
        // The type is not modelled; the protocol it implies is.
        ("icmp", "--icmp-type") | ("icmp6", "--icmpv6-type") => Some(vec![
            Match::L4Proto {
                negated: false,
                protocols: vec![if name == "icmp" { "icmp" } else { "ipv6-icmp" }.into()],
            },
            unknown(format!(
                "iptables -m {name} {}{opt} {}",
                neg_word(negated),
                clean(v)
            )),
        ]),
        _ => None,
    }
}

/// `-m multiport --dports/--sports`: the kernel takes it only with a `-p` of a
/// port protocol.
fn multiport(opt: &str, v: &str, negated: bool, proto: Option<&str>) -> Option<Vec<Match>> {
    let protocol = proto.filter(|p| PORT_MODULES.contains(p));
    match (protocol, save_ports(v, true)) {
        (Some(p), Some(ports)) => {
            let protocol = Some(p.to_string());
            let dst = matches!(opt, "--dports" | "--destination-ports");
            Some(vec![Match::port(dst, protocol, negated, ports)])
        }
        _ => None,
    }
}

/// `-m pkttype --pkt-type`, in nft's names.
fn pkttype(v: &str, negated: bool) -> Option<Vec<Match>> {
    let t = match v.to_ascii_lowercase().as_str() {
        "unicast" | "host" => Some("host"),
        "broadcast" => Some("broadcast"),
        "multicast" => Some("multicast"),
        "otherhost" => Some("other"),
        _ => None,
    };
    t.map(|t| {
        vec![Match::PktType {
            negated,
            types: vec![t.to_string()],
        }]
    })
}

/// `-m iprange --src-range/--dst-range FIRST-LAST` of the table's family.
fn iprange(opt: &str, v: &str, negated: bool, fam: IpFamily) -> Option<Vec<Match>> {
    v.split_once('-').and_then(|(a, b)| {
        let (first, last) = (a.parse::<IpAddr>().ok()?, b.parse::<IpAddr>().ok()?);
        let ok = first.is_ipv4() == last.is_ipv4() && first.is_ipv4() == (fam == IpFamily::Ipv4);
        let addrs = vec![AddrSpec::Range { first, last }];
        ok.then(|| vec![Match::addr(opt == "--src-range", fam, negated, addrs)])
    })
}

/// The verdict of `-j name args…`: a declared chain is a jump.
pub(super) fn target(name: &str, args: &[Word], chains: &HashSet<&str>) -> Verdict {
    match name {
        "ACCEPT" => Verdict::Accept,
        "DROP" => Verdict::Drop,
        "REJECT" => Verdict::Reject,
        "RETURN" => Verdict::Return,
        n if chains.contains(n) => Verdict::Jump { target: clean(n) },
        n if NON_TERMINAL_TARGETS.contains(&n) => Verdict::Continue,
        n => {
            let text = joined(args);
            Verdict::Other {
                what: clean(&format!("iptables target {n} {text}")),
            }
        }
    }
}

/// Where a built-in chain of an iptables table sits on the inbound path.
pub(super) fn place(table: &str, chain: &str) -> Option<(ChainHook, i32)> {
    match (table, chain) {
        ("raw", "PREROUTING") => Some((ChainHook::Prerouting, -300)),
        ("mangle", "PREROUTING") => Some((ChainHook::Prerouting, -150)),
        ("mangle", "INPUT") => Some((ChainHook::Input, -150)),
        ("filter", "INPUT") => Some((ChainHook::Input, 0)),
        ("security", "INPUT") => Some((ChainHook::Input, 50)),
        _ => None,
    }
}

/// Where a built-in chain of an iptables table sits on the forward path.
pub(super) fn place_forward(table: &str, chain: &str) -> Option<(ChainHook, i32)> {
    match (table, chain) {
        ("mangle", "FORWARD") => Some((ChainHook::Forward, -150)),
        ("filter", "FORWARD") => Some((ChainHook::Forward, 0)),
        ("security", "FORWARD") => Some((ChainHook::Forward, 50)),
        _ => None,
    }
}

/// A chain's policy: `None` for anything but ACCEPT and DROP (no built-in
/// chain has another).
pub(super) fn save_policy(word: &str) -> Option<ChainPolicy> {
    match word {
        "ACCEPT" => Some(ChainPolicy::Accept),
        "DROP" => Some(ChainPolicy::Drop),
        _ => None,
    }
}

// ---- iptables-legacy ----------------------------------------------------------------

/// The inbound chains of `iptables-legacy-save` output: each table's PREROUTING
/// and INPUT with their policy, rules and the user chains they reach. NAT tables
/// translate and are skipped.
pub fn legacy_chains(save: &str, family: ChainFamily) -> Vec<InputChain> {
    save_base_chains(save, family, place)
}

/// The forward chains of `iptables-legacy-save` output: the `FORWARD` chain of
/// each table that filters (filter, mangle, security) with its policy, rules
/// and the user chains it reaches.
pub fn legacy_forward_chains(save: &str, family: ChainFamily) -> Vec<InputChain> {
    save_base_chains(save, family, place_forward)
}

pub(super) fn save_base_chains(
    save: &str,
    family: ChainFamily,
    place: fn(&str, &str) -> Option<(ChainHook, i32)>,
) -> Vec<InputChain> {
    let mut chains = Vec::new();
    for t in parse_save(save, family) {
        if t.name == "nat" {
            continue;
        }
        for (name, policy_word) in &t.chains {
            let Some((hook, priority)) = place(&t.name, name) else {
                continue;
            };
            let (mut rules, subchains) = t.chain_and_subchains(name);
            let policy = save_policy(policy_word).unwrap_or_else(|| {
                // Not a policy the kernel has: whatever reaches the end is unknown.
                rules.push(Rule {
                    handle: None,
                    matches: Vec::new(),
                    verdict: Verdict::Other {
                        what: format!("policy {policy_word} not understood"),
                    },
                });
                ChainPolicy::Accept
            });
            chains.push(InputChain {
                family,
                table: t.name.clone(),
                name: name.clone(),
                hook,
                priority,
                policy,
                legacy: true,
                rules,
                subchains,
            });
        }
    }
    chains
}
