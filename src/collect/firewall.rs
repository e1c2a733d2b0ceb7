//! The host firewall, read-only: the base chains on the inbound path of the
//! calling thread's network namespace, simplified into rules `rules::firewall`
//! can judge.
//!
//! How it is read, and why:
//! - `nft -j list ruleset`, run read-only, with its JSON deserialised by the
//!   `nftables` crate (MIT/Apache-2.0, maintained, a typed serde + schemars model of
//!   libnftables-json(5)). nft already turns the kernel's bytecode back into
//!   "tcp dport 22", so nothing here decodes netlink attributes by hand.
//! - Not netlink: `rustables` (the maintained pure-Rust netlink crate) is
//!   GPL-3.0-or-later and yields raw expressions (payload base/offset/length,
//!   register compares) that would need a hand-written decoder; `nftnl`/`mnl` wrap
//!   the C libraries libnftnl/libmnl for the same raw view. Both need CAP_NET_ADMIN,
//!   as nft does.
//! - iptables-nft rules (Docker's among them) are nftables rules and show up in
//!   nft's output; their iptables extensions (`-m conntrack`, `-m multiport`, …)
//!   appear only as opaque `xt` statements and become `Unknown` matches.
//!   iptables-legacy tables are not nftables: when the kernel lists some
//!   (`/proc/thread-self/net/ip_tables_names`), `iptables-legacy-save` is read
//!   too; their chains are kept with their policy, their rules as `Unknown`.
//!
//! Chains of type nat are left out: they translate addresses, they do not filter
//! (published ports are judged from their own evidence). netdev/bridge chains on
//! the inbound path are listed as `unmodelled`.
//!
//! Commands are found at fixed absolute paths, run with an empty environment
//! (`LC_ALL=C` only), no stdin, a deadline and capped output, and their output is
//! treated as hostile: parse failures become `Unknown` entries or an explicit
//! `Unreadable`, never a guess.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nftables::expr as nx;
use nftables::schema as ns;
use nftables::stmt as st;
use nftables::types as nt;
use serde_json::Value;

pub use crate::model::firewall::*;

// ---- reading ----------------------------------------------------------------------

/// nft's usual places; `$PATH` is not consulted.
const NFT_PATHS: &[&str] = &["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"];
const IPT_LEGACY_SAVE: &[&str] = &[
    "/usr/sbin/iptables-legacy-save",
    "/sbin/iptables-legacy-save",
    "/usr/bin/iptables-legacy-save",
    "/bin/iptables-legacy-save",
];
const IP6T_LEGACY_SAVE: &[&str] = &[
    "/usr/sbin/ip6tables-legacy-save",
    "/sbin/ip6tables-legacy-save",
    "/usr/bin/ip6tables-legacy-save",
    "/bin/ip6tables-legacy-save",
];
const TOOL_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_STDOUT: u64 = 64 << 20;
const MAX_STDERR: u64 = 64 << 10;
/// Longest string kept from the tools' output.
const MAX_STR: usize = 200;

/// Reads the firewall of the calling thread's network namespace.
pub fn read_firewall() -> FirewallView {
    let Some(nft) = find(NFT_PATHS) else {
        return FirewallView::Unreadable {
            reason: format!(
                "nft not found (looked in {}); it comes with the nftables package",
                NFT_PATHS.join(", ")
            ),
        };
    };
    let json = match run_tool(&nft, &["-j", "list", "ruleset"]) {
        Ok(out) => out,
        Err(e) => {
            return FirewallView::Unreadable {
                reason: format!("{} -j list ruleset: {e}{}", nft.display(), root_hint()),
            };
        }
    };
    let mut view = from_nft_json(&json);
    if let FirewallView::Rules {
        source,
        input_chains,
        unmodelled,
    } = &mut view
    {
        for (family, names_file, tools) in [
            (
                ChainFamily::Ip,
                "/proc/thread-self/net/ip_tables_names",
                IPT_LEGACY_SAVE,
            ),
            (
                ChainFamily::Ip6,
                "/proc/thread-self/net/ip6_tables_names",
                IP6T_LEGACY_SAVE,
            ),
        ] {
            let tables = match std::fs::read_to_string(names_file) {
                Ok(s) => s
                    .lines()
                    .map(clean)
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>(),
                // No x_tables module loaded: there are no legacy tables.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(e) => {
                    unmodelled.push(format!("{names_file} not readable ({e}): iptables-legacy tables, if any, were not read"));
                    continue;
                }
            };
            if tables.is_empty() {
                continue;
            }
            let Some(tool) = find(tools) else {
                unmodelled.push(format!(
                    "iptables-legacy tables {} exist but {} was not found",
                    tables.join(", "),
                    tools[0]
                ));
                continue;
            };
            match run_tool(&tool, &[]) {
                Ok(out) => {
                    let text = String::from_utf8_lossy(&out);
                    input_chains.extend(legacy_chains(&text, family));
                    source.push_str(&format!(
                        "; {}",
                        tool.file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ));
                }
                Err(e) => unmodelled.push(format!(
                    "iptables-legacy tables {} exist but {} failed: {e}",
                    tables.join(", "),
                    tool.display()
                )),
            }
        }
        sort_chains(input_chains);
    }
    view
}

fn root_hint() -> &'static str {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        " (reading the ruleset needs CAP_NET_ADMIN: run as root)"
    } else {
        ""
    }
}

pub(crate) fn find(candidates: &[&str]) -> Option<PathBuf> {
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
}

/// Printable, bounded copy of a string from a tool's output.
fn clean(s: &str) -> String {
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

fn read_capped(r: Option<impl Read>, cap: u64) -> (Vec<u8>, bool) {
    let mut buf = Vec::new();
    let Some(r) = r else {
        return (buf, false);
    };
    let mut r = r.take(cap + 1);
    let _ = r.read_to_end(&mut buf);
    let over = buf.len() as u64 > cap;
    buf.truncate(cap as usize);
    (buf, over)
}

/// Runs `path args` with an empty environment and a deadline; stdout on success,
/// else a one-line reason (exit status and the first line of stderr).
pub(crate) fn run_tool(path: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut child = Command::new(path)
        .args(args)
        .env_clear()
        .env("LC_ALL", "C")
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run: {e}"))?;
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    std::thread::scope(|s| {
        let out = s.spawn(move || read_capped(stdout, MAX_STDOUT));
        let err = s.spawn(move || read_capped(stderr, MAX_STDERR));
        let deadline = Instant::now() + TOOL_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!("no answer within {}s", TOOL_TIMEOUT.as_secs()));
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Err(format!("wait failed: {e}"));
                }
            }
        };
        let (out, out_over) = out.join().unwrap_or_default();
        let (err, _) = err.join().unwrap_or_default();
        let status = status?;
        if !status.success() {
            let first = String::from_utf8_lossy(&err)
                .lines()
                .map(clean)
                .find(|l| !l.is_empty())
                .unwrap_or_default();
            return Err(format!("failed ({status}): {first}"));
        }
        if out_over {
            return Err(format!("output larger than {MAX_STDOUT} bytes"));
        }
        Ok(out)
    })
}

fn sort_chains(chains: &mut [InputChain]) {
    chains.sort_by(|a, b| {
        (a.hook, a.priority, a.legacy, a.family, &a.table, &a.name)
            .cmp(&(b.hook, b.priority, b.legacy, b.family, &b.table, &b.name))
    });
}

// ---- nft JSON ---------------------------------------------------------------------

type ChainKey = (ChainFamily, String, String);

/// A named set of a table, as far as its elements are usable.
struct SetInfo {
    /// `None`: updated from the packet path (dynamic/timeout) or not readable.
    elems: Option<Vec<nx::Expression<'static>>>,
}

#[derive(Default)]
struct Tables {
    /// (family, table, set name) → set.
    sets: HashMap<ChainKey, SetInfo>,
}

fn family_of(f: nt::NfFamily) -> Option<ChainFamily> {
    match f {
        nt::NfFamily::IP => Some(ChainFamily::Ip),
        nt::NfFamily::IP6 => Some(ChainFamily::Ip6),
        nt::NfFamily::INet => Some(ChainFamily::Inet),
        _ => None,
    }
}

/// The simplified view of `nft -j list ruleset` output (without legacy tables).
pub fn from_nft_json(json: &[u8]) -> FirewallView {
    let doc: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => {
            return FirewallView::Unreadable {
                reason: format!("nft -j list ruleset printed no JSON that could be read: {e}"),
            };
        }
    };
    let Some(objects) = doc.get("nftables").and_then(Value::as_array) else {
        return FirewallView::Unreadable {
            reason: "nft -j list ruleset printed JSON without an \"nftables\" array".into(),
        };
    };
    let mut version = String::new();
    let mut unmodelled = Vec::new();
    let mut tables = Tables::default();
    // Base chains in order of appearance; rules per chain in order.
    let mut bases: Vec<(ChainKey, ChainHook, i32, ChainPolicy)> = Vec::new();
    let mut raw_rules: Vec<(ChainKey, Option<u64>, Vec<Value>)> = Vec::new();

    for obj in objects {
        let Some((kind, body)) = obj.as_object().and_then(|m| m.iter().next()) else {
            continue;
        };
        match kind.as_str() {
            "metainfo" => {
                if let Some(v) = body.get("version").and_then(Value::as_str) {
                    version = clean(v);
                }
            }
            "set" => {
                if let Ok(set) = serde_json::from_value::<ns::Set>(body.clone())
                    && let Some(fam) = family_of(set.family)
                {
                    let runtime = set.flags.as_ref().is_some_and(|f| {
                        f.contains(&ns::SetFlag::Dynamic) || f.contains(&ns::SetFlag::Timeout)
                    });
                    let elems = if runtime {
                        None
                    } else {
                        Some(set.elem.map(|e| e.into_owned()).unwrap_or_default())
                    };
                    tables.sets.insert(
                        (fam, clean(&set.table), clean(&set.name)),
                        SetInfo { elems },
                    );
                }
            }
            "chain" => match serde_json::from_value::<ns::Chain>(body.clone()) {
                Ok(c) => {
                    let Some(hook) = c.hook else { continue };
                    let what = format!(
                        "{} {} {}",
                        family_name(c.family),
                        clean(&c.table),
                        clean(&c.name)
                    );
                    let Some(fam) = family_of(c.family) else {
                        if matches!(c.family, nt::NfFamily::NetDev | nt::NfFamily::Bridge)
                            && matches!(
                                hook,
                                nt::NfHook::Ingress | nt::NfHook::Prerouting | nt::NfHook::Input
                            )
                        {
                            unmodelled.push(format!(
                                "{what} ({} hook) sees inbound packets and is not modelled",
                                hook_name(hook)
                            ));
                        }
                        continue;
                    };
                    let hook = match (hook, c._type) {
                        (nt::NfHook::Input, _) => ChainHook::Input,
                        // NAT chains translate, they do not filter; published
                        // ports are judged from their own evidence.
                        (nt::NfHook::Prerouting, Some(nt::NfChainType::Filter) | None) => {
                            ChainHook::Prerouting
                        }
                        (nt::NfHook::Ingress, _) => {
                            unmodelled.push(format!(
                                "{what} (ingress hook) sees inbound packets and is not modelled"
                            ));
                            continue;
                        }
                        _ => continue,
                    };
                    let policy = match c.policy {
                        Some(nt::NfChainPolicy::Drop) => ChainPolicy::Drop,
                        _ => ChainPolicy::Accept,
                    };
                    bases.push((
                        (fam, clean(&c.table), clean(&c.name)),
                        hook,
                        c.prio.unwrap_or(0),
                        policy,
                    ));
                }
                Err(e) => {
                    let hook = body.get("hook").and_then(Value::as_str).unwrap_or("");
                    if matches!(hook, "input" | "prerouting" | "ingress") {
                        unmodelled.push(format!(
                            "a chain hooked on {} could not be read: {}",
                            clean(hook),
                            clean(&e.to_string())
                        ));
                    }
                }
            },
            "rule" => {
                let fam = body
                    .get("family")
                    .and_then(Value::as_str)
                    .and_then(|f| match f {
                        "ip" => Some(ChainFamily::Ip),
                        "ip6" => Some(ChainFamily::Ip6),
                        "inet" => Some(ChainFamily::Inet),
                        _ => None,
                    });
                let table = body.get("table").and_then(Value::as_str);
                let chain = body.get("chain").and_then(Value::as_str);
                let (Some(fam), Some(table), Some(chain)) = (fam, table, chain) else {
                    continue;
                };
                let handle = body.get("handle").and_then(Value::as_u64);
                let expr = body
                    .get("expr")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                raw_rules.push(((fam, clean(table), clean(chain)), handle, expr));
            }
            _ => {}
        }
    }

    let mut rules_of: HashMap<ChainKey, Vec<Rule>> = HashMap::new();
    for (key, handle, expr) in raw_rules {
        let ctx = RuleCtx {
            tables: &tables,
            family: key.0,
            table: &key.1,
        };
        let converted = convert_rule(&ctx, handle, &expr);
        rules_of.entry(key).or_default().extend(converted);
    }

    let mut input_chains = Vec::new();
    for ((fam, table, name), hook, priority, policy) in bases {
        let key = (fam, table.clone(), name.clone());
        let rules = rules_of.get(&key).cloned().unwrap_or_default();
        let mut subchains = BTreeMap::new();
        let mut todo: Vec<String> = targets(&rules);
        while let Some(t) = todo.pop() {
            if subchains.contains_key(&t) || t == name {
                continue;
            }
            if let Some(r) = rules_of.get(&(fam, table.clone(), t.clone())) {
                todo.extend(targets(r));
                subchains.insert(t, r.clone());
            } else if ruleset_has_chain(objects, fam, &table, &t) {
                subchains.insert(t, Vec::new());
            }
        }
        input_chains.push(InputChain {
            family: fam,
            table,
            name,
            hook,
            priority,
            policy,
            legacy: false,
            rules,
            subchains,
        });
    }
    sort_chains(&mut input_chains);
    let source = if version.is_empty() {
        "nft -j list ruleset".to_string()
    } else {
        format!("nft -j list ruleset (nftables v{version})")
    };
    FirewallView::Rules {
        source,
        input_chains,
        unmodelled,
    }
}

fn family_name(f: nt::NfFamily) -> &'static str {
    match f {
        nt::NfFamily::IP => "ip",
        nt::NfFamily::IP6 => "ip6",
        nt::NfFamily::INet => "inet",
        nt::NfFamily::ARP => "arp",
        nt::NfFamily::Bridge => "bridge",
        nt::NfFamily::NetDev => "netdev",
    }
}

fn hook_name(h: nt::NfHook) -> &'static str {
    match h {
        nt::NfHook::Ingress => "ingress",
        nt::NfHook::Prerouting => "prerouting",
        nt::NfHook::Forward => "forward",
        nt::NfHook::Input => "input",
        nt::NfHook::Output => "output",
        nt::NfHook::Postrouting => "postrouting",
        nt::NfHook::Egress => "egress",
    }
}

/// An empty regular chain has no rule objects; it still exists.
fn ruleset_has_chain(objects: &[Value], fam: ChainFamily, table: &str, name: &str) -> bool {
    objects.iter().any(|o| {
        o.get("chain").is_some_and(|c| {
            c.get("family").and_then(Value::as_str) == Some(fam.label())
                && c.get("table").and_then(Value::as_str) == Some(table)
                && c.get("name").and_then(Value::as_str) == Some(name)
        })
    })
}

fn targets(rules: &[Rule]) -> Vec<String> {
    rules
        .iter()
        .filter_map(|r| match &r.verdict {
            Verdict::Jump { target } | Verdict::Goto { target } => Some(target.clone()),
            _ => None,
        })
        .collect()
}

struct RuleCtx<'a> {
    tables: &'a Tables,
    family: ChainFamily,
    table: &'a str,
}

fn unknown(what: impl Into<String>) -> Match {
    Match::Unknown {
        what: clean(&what.into()),
    }
}

/// The first key of a JSON object, for naming a statement that did not parse.
fn key_of(v: &Value) -> String {
    v.as_object()
        .and_then(|m| m.keys().next())
        .map(|k| clean(k))
        .unwrap_or_else(|| "?".into())
}

/// One nft rule → one rule, or several when it ends in a verdict map (each map
/// entry becomes a rule; their keys are disjoint, so order does not matter).
fn convert_rule(ctx: &RuleCtx, handle: Option<u64>, expr: &[Value]) -> Vec<Rule> {
    let mut matches = Vec::new();
    let mut verdict: Option<Verdict> = None;
    let mut opaque = false;
    let mut vmap: Option<Vec<(Vec<Match>, Verdict)>> = None;
    for raw in expr {
        if verdict.is_some() || vmap.is_some() {
            break;
        }
        let stmt = match serde_json::from_value::<st::Statement>(raw.clone()) {
            Ok(s) => s,
            Err(_) => {
                matches.push(unknown(format!(
                    "statement `{}` not understood",
                    key_of(raw)
                )));
                opaque = true;
                continue;
            }
        };
        match stmt {
            st::Statement::Match(m) => matches.extend(convert_match(ctx, &m)),
            st::Statement::Accept(_) => verdict = Some(Verdict::Accept),
            st::Statement::Drop(_) => verdict = Some(Verdict::Drop),
            st::Statement::Reject(_) => verdict = Some(Verdict::Reject),
            st::Statement::Return(_) => verdict = Some(Verdict::Return),
            st::Statement::Continue(_) => verdict = Some(Verdict::Continue),
            st::Statement::Jump(t) => {
                verdict = Some(Verdict::Jump {
                    target: clean(&t.target),
                })
            }
            st::Statement::Goto(t) => {
                verdict = Some(Verdict::Goto {
                    target: clean(&t.target),
                })
            }
            // Side effects only: the packet goes on to the next statement.
            st::Statement::Counter(_)
            | st::Statement::Log(_)
            | st::Statement::Mangle(_)
            | st::Statement::Notrack
            | st::Statement::Set(_)
            | st::Statement::CTHelper(_)
            | st::Statement::CTTimeout(_)
            | st::Statement::CTExpectation(_)
            | st::Statement::Dup(_) => {}
            // Stateful matches: they hold for some packets and not others.
            st::Statement::Limit(_) => matches.push(unknown("limit rate")),
            st::Statement::Quota(_) => matches.push(unknown("quota")),
            st::Statement::CTCount(_) => matches.push(unknown("ct count")),
            st::Statement::Meter(_) => matches.push(unknown("meter")),
            st::Statement::XT(x) => {
                let kind = x
                    .as_ref()
                    .and_then(|v| v.get("type"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let name = x
                    .as_ref()
                    .and_then(|v| v.get("name"))
                    .and_then(Value::as_str)
                    .map(clean)
                    .unwrap_or_else(|| "?".into());
                if kind == "target" {
                    match name.as_str() {
                        "REJECT" => verdict = Some(Verdict::Reject),
                        // Non-terminating targets: evaluation goes on.
                        "LOG" | "NFLOG" | "MARK" | "CONNMARK" | "TRACE" | "AUDIT" | "CLASSIFY" => {}
                        _ => {
                            verdict = Some(Verdict::Other {
                                what: format!("iptables target {name}"),
                            })
                        }
                    }
                } else {
                    matches.push(unknown(format!("iptables match -m {name}")));
                }
            }
            st::Statement::VerdictMap(vm) => {
                vmap = Some(convert_vmap(ctx, &vm));
            }
            st::Statement::Queue(_) => {
                verdict = Some(Verdict::Other {
                    what: "queue to userspace".into(),
                })
            }
            _ => {
                matches.push(unknown(format!("statement `{}`", key_of(raw))));
                opaque = true;
            }
        }
    }
    if let Some(entries) = vmap {
        return entries
            .into_iter()
            .map(|(key_matches, v)| {
                let mut m = matches.clone();
                m.extend(key_matches);
                Rule {
                    handle,
                    matches: m,
                    verdict: v,
                }
            })
            .collect();
    }
    let verdict = match verdict {
        Some(v) => v,
        None if opaque => Verdict::Other {
            what: "a statement that was not understood".into(),
        },
        None => Verdict::Continue,
    };
    vec![Rule {
        handle,
        matches,
        verdict,
    }]
}

fn convert_vmap(ctx: &RuleCtx, vm: &st::VerdictMap) -> Vec<(Vec<Match>, Verdict)> {
    let whole = |what: &str| {
        vec![(
            Vec::new(),
            Verdict::Other {
                what: what.to_string(),
            },
        )]
    };
    let nx::Expression::Named(nx::NamedExpression::Set(items)) = &vm.data else {
        return whole("verdict map (named or not understood)");
    };
    let mut out = Vec::new();
    for item in items {
        let (key, v) = match item {
            nx::SetItem::Mapping(k, nx::Expression::Verdict(v)) => (k, verdict_of(v)),
            nx::SetItem::MappingStatement(k, s) => (k, statement_verdict(s)),
            nx::SetItem::Element(nx::Expression::List(pair)) if pair.len() == 2 => match &pair[1] {
                nx::Expression::Verdict(v) => (&pair[0], verdict_of(v)),
                _ => return whole("verdict map entry not understood"),
            },
            _ => return whole("verdict map entry not understood"),
        };
        out.push((convert_cmp(ctx, &vm.key, Cmp::Eq, key), v));
    }
    out
}

fn verdict_of(v: &nx::Verdict) -> Verdict {
    match v {
        nx::Verdict::Accept => Verdict::Accept,
        nx::Verdict::Drop => Verdict::Drop,
        nx::Verdict::Continue => Verdict::Continue,
        nx::Verdict::Return => Verdict::Return,
        nx::Verdict::Jump(t) => Verdict::Jump {
            target: clean(&t.target),
        },
        nx::Verdict::Goto(t) => Verdict::Goto {
            target: clean(&t.target),
        },
    }
}

fn statement_verdict(s: &st::Statement) -> Verdict {
    match s {
        st::Statement::Accept(_) => Verdict::Accept,
        st::Statement::Drop(_) => Verdict::Drop,
        st::Statement::Reject(_) => Verdict::Reject,
        st::Statement::Return(_) => Verdict::Return,
        st::Statement::Continue(_) => Verdict::Continue,
        st::Statement::Jump(t) => Verdict::Jump {
            target: clean(&t.target),
        },
        st::Statement::Goto(t) => Verdict::Goto {
            target: clean(&t.target),
        },
        _ => Verdict::Other {
            what: "verdict map entry not understood".into(),
        },
    }
}

/// The comparison of a match. nftables 0.6's `Operator::LT` is serialised as
/// `">"` and `GT` as `"<"` (names swapped, wire format right): mapped by wire
/// format here.
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    Eq,
    Ne,
    Greater,
    Less,
    GreaterEq,
    LessEq,
}

fn convert_match(ctx: &RuleCtx, m: &st::Match) -> Vec<Match> {
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

const PORT_PROTOS: &[&str] = &["tcp", "udp", "udplite", "sctp", "dccp"];
const L4_HEADERS: &[(&str, &str)] = &[
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

fn convert_cmp(
    ctx: &RuleCtx,
    left: &nx::Expression,
    cmp: Cmp,
    right: &nx::Expression,
) -> Vec<Match> {
    let negated = cmp == Cmp::Ne;
    let eq_only = matches!(cmp, Cmp::Eq | Cmp::Ne);
    let nx::Expression::Named(left) = left else {
        return vec![unknown("match on a computed value")];
    };
    let atoms = match atoms(ctx, right) {
        Ok(a) => a,
        Err(why) => return vec![unknown(format!("{}: {why}", describe_left(left)))],
    };
    let bad = |what: &str| vec![unknown(format!("{} {what}", describe_left(left)))];
    match left {
        nx::NamedExpression::Meta(meta) => match meta.key {
            nx::MetaKey::L4proto if eq_only => match protos(&atoms) {
                Some(protocols) => vec![Match::L4Proto { negated, protocols }],
                None => bad("value not understood"),
            },
            nx::MetaKey::Nfproto | nx::MetaKey::Protocol if eq_only => match families(&atoms) {
                Some(families) => vec![Match::NfProto { negated, families }],
                None => bad("value not understood"),
            },
            nx::MetaKey::Iifname | nx::MetaKey::Iif if eq_only => {
                let names: Option<Vec<String>> = atoms
                    .iter()
                    .map(|a| match a {
                        nx::Expression::String(s) => Some(clean(s)),
                        _ => None,
                    })
                    .collect();
                match names {
                    Some(names) => vec![Match::InIface { negated, names }],
                    None => bad("value not understood"),
                }
            }
            nx::MetaKey::Pkttype if eq_only => match strings(&atoms) {
                Some(types) => vec![Match::PktType { negated, types }],
                None => bad("value not understood"),
            },
            _ => bad("not modelled"),
        },
        nx::NamedExpression::Fib(fib) if eq_only => {
            use nx::FibFlag as F;
            let flags = &fib.flags;
            let only = |allowed: &[F]| flags.iter().all(|f| allowed.contains(f));
            match fib.result {
                nx::FibResult::Type if only(&[F::Daddr]) && flags.contains(&F::Daddr) => {
                    match strings(&atoms) {
                        Some(types) => vec![Match::DstAddrType { negated, types }],
                        None => bad("value not understood"),
                    }
                }
                nx::FibResult::Oif
                    if only(&[F::Saddr, F::Iif, F::Mark])
                        && flags.contains(&F::Saddr)
                        && flags.contains(&F::Iif) =>
                {
                    match atoms.as_slice() {
                        // `missing` is `== false`, `exists` is `== true`.
                        [nx::Expression::Boolean(exists)] => vec![Match::RpfMissing {
                            negated: negated ^ exists,
                        }],
                        _ => bad("value not understood"),
                    }
                }
                _ => bad("not modelled"),
            }
        }
        nx::NamedExpression::CT(ct) if ct.key == "state" && eq_only => {
            let states: Option<Vec<String>> = atoms
                .iter()
                .map(|a| match a {
                    nx::Expression::String(s) => Some(clean(s)),
                    _ => None,
                })
                .collect();
            match states {
                Some(states) => vec![Match::CtState { negated, states }],
                None => bad("value not understood"),
            }
        }
        nx::NamedExpression::Payload(nx::Payload::PayloadField(p)) => {
            let proto = p.protocol.as_ref();
            let field = p.field.as_ref();
            let port_field = field == "dport" || field == "sport";
            if port_field && (proto == "th" || PORT_PROTOS.contains(&proto)) {
                let protocol = (proto != "th").then(|| proto.to_string());
                let Some(ports) = port_ranges(&atoms, cmp) else {
                    return bad("value not understood");
                };
                let negated = negated && eq_only;
                return vec![if field == "dport" {
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
                }];
            }
            if let Some((_, l4)) = L4_HEADERS.iter().find(|(h, _)| *h == proto) {
                // Any other field of a transport header implies that protocol.
                return vec![
                    Match::L4Proto {
                        negated: false,
                        protocols: vec![l4.to_string()],
                    },
                    unknown(format!("{proto} {field}")),
                ];
            }
            let fam = match proto {
                "ip" => IpFamily::Ipv4,
                "ip6" => IpFamily::Ipv6,
                _ => return bad("not modelled"),
            };
            let implied = Match::NfProto {
                negated: false,
                families: vec![fam],
            };
            match field {
                "saddr" | "daddr" if eq_only => match addr_specs(&atoms) {
                    Some(addrs) => vec![if field == "saddr" {
                        Match::SrcAddr {
                            family: fam,
                            negated,
                            addrs,
                        }
                    } else {
                        Match::DstAddr {
                            family: fam,
                            negated,
                            addrs,
                        }
                    }],
                    None => bad("value not understood"),
                },
                "protocol" | "nexthdr" if eq_only => match protos(&atoms) {
                    Some(protocols) => vec![implied, Match::L4Proto { negated, protocols }],
                    None => bad("value not understood"),
                },
                _ => vec![implied, unknown(format!("{proto} {field}"))],
            }
        }
        _ => bad("not modelled"),
    }
}

fn describe_left(left: &nx::NamedExpression) -> String {
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
fn atoms<'e, 'a>(
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

fn strings(atoms: &[&nx::Expression]) -> Option<Vec<String>> {
    atoms
        .iter()
        .map(|a| match a {
            nx::Expression::String(s) => Some(clean(s)),
            _ => None,
        })
        .collect()
}

fn proto_name(n: u32) -> String {
    match n {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "ipv6-icmp".into(),
        n => n.to_string(),
    }
}

fn protos(atoms: &[&nx::Expression]) -> Option<Vec<String>> {
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
fn families(atoms: &[&nx::Expression]) -> Option<Vec<IpFamily>> {
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

fn port_of(e: &nx::Expression) -> Option<u16> {
    match e {
        nx::Expression::Number(n) => u16::try_from(*n).ok(),
        nx::Expression::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn port_ranges(atoms: &[&nx::Expression], cmp: Cmp) -> Option<Vec<PortRange>> {
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

fn addr_of(e: &nx::Expression) -> Option<IpAddr> {
    match e {
        nx::Expression::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn addr_specs(atoms: &[&nx::Expression]) -> Option<Vec<AddrSpec>> {
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

// ---- iptables-legacy ----------------------------------------------------------------

/// The inbound chains of `iptables-legacy-save` output: each table's PREROUTING
/// and INPUT with their policy; rules are kept, unmodelled (the match text is
/// shown, only the `-j` target is read). NAT tables translate and are skipped.
pub fn legacy_chains(save: &str, family: ChainFamily) -> Vec<InputChain> {
    let mut chains: Vec<InputChain> = Vec::new();
    let mut table = String::new();
    for line in save.lines().take(1_000_000) {
        let line = line.trim();
        if let Some(t) = line.strip_prefix('*') {
            table = clean(t);
            continue;
        }
        if matches!(table.as_str(), "nat" | "") {
            continue;
        }
        let place = |chain: &str| match (table.as_str(), chain) {
            ("raw", "PREROUTING") => Some((ChainHook::Prerouting, -300)),
            ("mangle", "PREROUTING") => Some((ChainHook::Prerouting, -150)),
            ("mangle", "INPUT") => Some((ChainHook::Input, -150)),
            ("filter", "INPUT") => Some((ChainHook::Input, 0)),
            ("security", "INPUT") => Some((ChainHook::Input, 50)),
            _ => None,
        };
        if let Some(rest) = line.strip_prefix(':') {
            let mut parts = rest.split_whitespace();
            let (Some(name), Some(policy)) = (parts.next(), parts.next()) else {
                continue;
            };
            let Some((hook, priority)) = place(name) else {
                continue;
            };
            chains.push(InputChain {
                family,
                table: table.clone(),
                name: clean(name),
                hook,
                priority,
                policy: if policy == "ACCEPT" {
                    ChainPolicy::Accept
                } else {
                    ChainPolicy::Drop
                },
                legacy: true,
                rules: Vec::new(),
                subchains: BTreeMap::new(),
            });
        } else if let Some(rest) = line.strip_prefix("-A ") {
            let mut parts = rest.split_whitespace();
            let Some(name) = parts.next() else { continue };
            let Some(chain) = chains
                .iter_mut()
                .rev()
                .find(|c| c.table == table && c.name == name)
            else {
                continue;
            };
            let toks: Vec<&str> = rest.split_whitespace().collect();
            let target = toks
                .iter()
                .position(|t| *t == "-j" || *t == "--jump")
                .and_then(|i| toks.get(i + 1).copied());
            let verdict = match target {
                None => Verdict::Continue,
                Some("ACCEPT") => Verdict::Accept,
                Some("DROP") => Verdict::Drop,
                Some("REJECT") => Verdict::Reject,
                Some("RETURN") => Verdict::Return,
                Some(t) => Verdict::Other {
                    what: format!("iptables-legacy target {}", clean(t)),
                },
            };
            let handle = Some(chain.rules.len() as u64 + 1);
            chain.rules.push(Rule {
                handle,
                matches: vec![unknown(format!("iptables-legacy rule `-A {rest}`"))],
                verdict,
            });
        }
    }
    chains
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/firewall")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    fn chains(name: &str) -> (Vec<InputChain>, Vec<String>) {
        match from_nft_json(&fixture(name)) {
            FirewallView::Rules {
                input_chains,
                unmodelled,
                source,
            } => {
                assert!(source.starts_with("nft -j list ruleset"), "{source}");
                (input_chains, unmodelled)
            }
            other => panic!("{name}: {other:?}"),
        }
    }

    fn shown(c: &InputChain) -> Vec<String> {
        c.rules.iter().map(|r| r.to_string()).collect()
    }

    #[test]
    fn host_ruleset_with_docker_has_no_input_chain() {
        // Docker's iptables-nft tables: nat and forward chains only. The nat
        // PREROUTING chain is address translation, not filtering.
        let (chains, unmodelled) = chains("host.json");
        assert!(chains.is_empty(), "{chains:#?}");
        assert!(unmodelled.is_empty(), "{unmodelled:?}");
    }

    #[test]
    fn policy_drop_with_ssh() {
        let (chains, _) = chains("drop-ssh.json");
        assert_eq!(chains.len(), 1);
        let c = &chains[0];
        assert_eq!(c.label(), "inet filter input");
        assert_eq!(c.policy, ChainPolicy::Drop);
        assert_eq!(c.hook, ChainHook::Input);
        assert_eq!(shown(c), ["tcp dport 22 accept"]);
    }

    #[test]
    fn policy_accept_with_drop_8080() {
        let (chains, _) = chains("accept-drop-8080.json");
        let c = &chains[0];
        assert_eq!(c.policy, ChainPolicy::Accept);
        assert_eq!(
            c.rules[0].matches,
            [Match::DstPort {
                protocol: Some("tcp".into()),
                negated: false,
                ports: vec![PortRange {
                    first: 8080,
                    last: 8080
                }],
            }]
        );
        assert_eq!(c.rules[0].verdict, Verdict::Drop);
    }

    #[test]
    fn loopback_and_established() {
        let (chains, _) = chains("lo-established.json");
        assert_eq!(
            shown(&chains[0]),
            [
                "iifname \"lo\" accept",
                "ct state established accept",
                "ct state established,related accept",
                "ct state invalid drop",
            ]
        );
    }

    #[test]
    fn unmodelled_rule_is_kept_as_unknown() {
        let (chains, _) = chains("unmodelled.json");
        let c = &chains[0];
        assert!(
            c.rules.iter().any(|r| r
                .matches
                .iter()
                .any(|m| matches!(m, Match::Unknown { what } if what.contains("numgen")))),
            "{:?}",
            shown(c)
        );
    }

    #[test]
    fn rich_ruleset_is_simplified() {
        let (chains, _) = chains("rich.json");
        let c = &chains[0];
        let s = shown(c);
        for want in [
            "tcp dport { 22, 80-90 } accept",
            "tcp dport { 443, 8443 } accept",
            "ip saddr { 10.0.0.0/8, 192.168.1.5 } drop",
            "ip6 saddr fe80::/10 udp dport 546 accept",
            "meta l4proto { tcp, udp } th dport 53 accept",
            "tcp dport 0-1023 continue",
            "meta l4proto icmp <icmp type> <limit rate> accept",
            "tcp dport 7000 accept",
            "tcp dport 7001 drop",
            "ip daddr 10.1.2.3 tcp dport != 22 reject",
            "meta nfproto ipv4 jump sub",
            "meta nfproto ipv4 meta l4proto tcp goto sub",
            "iifname \"eth*\" tcp dport 9000 drop",
        ] {
            assert!(s.iter().any(|r| r == want), "missing {want:?} in {s:#?}");
        }
        assert_eq!(
            c.subchains.get("sub").map(|r| r.len()),
            Some(2),
            "{:?}",
            c.subchains
        );
    }

    #[test]
    fn vmaps_fib_and_pkttype() {
        let (chains, _) = chains("vmap-fib.json");
        assert_eq!(chains.len(), 2);
        let (pre, input) = (&chains[0], &chains[1]);
        assert_eq!(pre.hook, ChainHook::Prerouting);
        assert_eq!(pre.priority, -290);
        assert_eq!(input.priority, 10);
        assert_eq!(
            shown(pre),
            [
                "fib saddr . iif oif missing drop",
                "meta nfproto ipv6 fib saddr . iif oif missing drop"
            ]
        );
        let s = shown(input);
        for want in [
            "ct state invalid drop",
            "ct state established accept",
            "iifname \"lo\" accept",
            "iifname \"eth0\" jump inbound",
            "tcp dport 22 accept",
            "<match on a computed value> tcp dport 443 accept",
            "meta l4proto { icmp, ipv6-icmp } accept",
            "meta pkttype host <limit rate> reject",
            "reject",
        ] {
            assert!(s.iter().any(|r| r == want), "missing {want:?} in {s:#?}");
        }
        assert!(input.subchains.contains_key("inbound"));
    }

    #[test]
    fn iptables_nft_rules() {
        let (chains, _) = chains("iptables-nft.json");
        let input = chains
            .iter()
            .find(|c| c.family == ChainFamily::Ip)
            .expect("ip filter INPUT");
        let s = shown(input);
        assert!(
            s.contains(&"<iptables match -m conntrack> accept".to_string()),
            "{s:#?}"
        );
        assert!(s.contains(&"tcp dport 8080 reject".to_string()), "{s:#?}");
        // -j LOG does not end the rule's evaluation.
        assert!(
            s.contains(&"<iptables match -m addrtype> continue".to_string()),
            "{s:#?}"
        );
        assert!(input.subchains.contains_key("MYCHAIN"));
    }

    #[test]
    fn garbage_is_unreadable_not_a_guess() {
        for bad in [&b"not json"[..], b"{}", b"[1,2]", b"{\"nftables\": 3}"] {
            assert!(matches!(
                from_nft_json(bad),
                FirewallView::Unreadable { .. }
            ));
        }
        // Unknown objects and statements survive as Unknown entries.
        let odd = br#"{"nftables":[
            {"chain":{"family":"inet","table":"t","name":"in","handle":1,"type":"filter","hook":"input","prio":0,"policy":"drop"}},
            {"rule":{"family":"inet","table":"t","chain":"in","handle":2,"expr":[{"frobnicate":{"x":1}},{"accept":null}]}},
            {"rule":{"family":"inet","table":"t","chain":"in","handle":3,"expr":[{"frobnicate":{"x":1}}]}},
            {"wibble":{}}
        ]}"#;
        let FirewallView::Rules { input_chains, .. } = from_nft_json(odd) else {
            panic!("should read");
        };
        let s = shown(&input_chains[0]);
        assert_eq!(
            s,
            [
                "<statement `frobnicate` not understood> accept",
                "<statement `frobnicate` not understood> <a statement that was not understood>"
            ]
        );
    }

    #[test]
    fn legacy_save_output() {
        let text = String::from_utf8_lossy(&fixture("legacy-save.txt")).into_owned();
        let chains = legacy_chains(&text, ChainFamily::Ip);
        let filter = chains
            .iter()
            .find(|c| c.table == "filter" && c.name == "INPUT")
            .expect("filter INPUT");
        assert_eq!(filter.label(), "iptables-legacy filter INPUT");
        assert_eq!(filter.rules.len(), 1);
        assert_eq!(filter.rules[0].verdict, Verdict::Drop);
        assert!(chains.iter().all(|c| c.table != "nat"));
        assert!(
            chains
                .iter()
                .any(|c| c.table == "raw" && c.hook == ChainHook::Prerouting)
        );
    }

    #[test]
    fn clean_strips_control_and_bounds() {
        assert_eq!(clean("a\x1b[2Jb"), "a [2Jb");
        assert!(clean(&"x".repeat(1000)).chars().count() <= MAX_STR + 1);
    }
}
