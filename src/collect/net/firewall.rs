//! The host firewall, read-only: the base chains on the inbound path and on
//! the forward path of the calling thread's network namespace, simplified into
//! rules `rules::firewall` can judge.
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
//! - iptables-nft rules (ufw's, firewalld's iptables backend, Docker's) are
//!   nftables rules and show up in nft's output, but their iptables extensions
//!   (`-m conntrack`, `-m multiport`, …) appear only as opaque `xt` statements.
//!   So for each ip/ip6 table on the inbound path whose rules carry one,
//!   `iptables-nft-save` / `ip6tables-nft-save` is read too and its chains (the
//!   same table and chain names) replace nft's view of them; pure-nft tables
//!   stay as nft shows them. If that read fails, nft's view stays (the `xt`
//!   statements as `Unknown`) and the view's source says so.
//! - iptables-legacy tables are not nftables: when the kernel lists some
//!   (`/proc/thread-self/net/ip_tables_names`), `iptables-legacy-save` is read
//!   too.
//! - iptables-save text is modelled for the common matches: `-p`, `-s`, `-d`,
//!   `-i`, `-o` (`+` wildcard), `!`, `--dport`/`--sport` (`-m tcp|udp|sctp|dccp`),
//!   `-m multiport --dports/--sports`, `-m conntrack --ctstate`, `-m state`,
//!   `-m addrtype --dst-type`, `-m pkttype`, `-m iprange`, `-m rpfilter`,
//!   `-m comment` (ignored), the protocol of `-m icmp/icmp6`; targets ACCEPT,
//!   DROP, REJECT, RETURN, user chains (`-j`, `-g`) and non-terminating ones
//!   (LOG, MARK, …). Everything else (`-m recent`, `-m limit`, `-m hashlimit`,
//!   `-m set`, `-m string`, other options and targets) becomes `Unknown` or
//!   `Verdict::Other`.
//!
//! Chains of type nat are left out: they translate addresses, they do not filter
//! (published ports are judged from their own evidence). netdev/bridge chains on
//! the inbound path are listed as `unmodelled`.
//!
//! Forward path: filter-type chains hooked on `forward` (nft) and the `FORWARD`
//! chains of iptables' filter, mangle and security tables (iptables-nft through
//! iptables-nft-save like the inbound ones, iptables-legacy through
//! iptables-legacy-save) become `forward_chains`, with the same structure. A
//! forward chain nft could not parse becomes a chain whose only rule has an
//! unknown effect.
//!
//! Commands are found at fixed absolute paths, run with an empty environment
//! (`LC_ALL=C` only), no stdin, a deadline and capped output, and their output is
//! treated as hostile: parse failures become `Unknown` entries or an explicit
//! `Unreadable`, never a guess.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
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
pub(crate) const IPT_LEGACY_SAVE: &[&str] = &[
    "/usr/sbin/iptables-legacy-save",
    "/sbin/iptables-legacy-save",
    "/usr/bin/iptables-legacy-save",
    "/bin/iptables-legacy-save",
];
pub(crate) const IP6T_LEGACY_SAVE: &[&str] = &[
    "/usr/sbin/ip6tables-legacy-save",
    "/sbin/ip6tables-legacy-save",
    "/usr/bin/ip6tables-legacy-save",
    "/bin/ip6tables-legacy-save",
];
/// iptables-nft's save commands; `xtables-nft-multi` with the command's name
/// as its first argument where only the multi-call binary is installed.
pub(crate) const IPT_NFT_SAVE: &[&str] = &[
    "/usr/sbin/iptables-nft-save",
    "/sbin/iptables-nft-save",
    "/usr/bin/iptables-nft-save",
    "/bin/iptables-nft-save",
];
pub(crate) const IP6T_NFT_SAVE: &[&str] = &[
    "/usr/sbin/ip6tables-nft-save",
    "/sbin/ip6tables-nft-save",
    "/usr/bin/ip6tables-nft-save",
    "/bin/ip6tables-nft-save",
];
const XTABLES_NFT_MULTI: &[&str] = &[
    "/usr/sbin/xtables-nft-multi",
    "/sbin/xtables-nft-multi",
    "/usr/bin/xtables-nft-multi",
    "/bin/xtables-nft-multi",
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
    let mut view = from_nft_json_with_save(&json, read_iptables_nft);
    if let FirewallView::Rules {
        source,
        input_chains,
        forward_chains,
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
                    forward_chains.extend(legacy_forward_chains(&text, family));
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
        sort_chains(forward_chains);
    }
    view
}

/// `iptables-nft-save` (ip) or `ip6tables-nft-save` (ip6), run like nft.
fn read_iptables_nft(family: ChainFamily) -> Result<String, String> {
    let (paths, multi_arg): (&[&str], &str) = match family {
        ChainFamily::Ip6 => (IP6T_NFT_SAVE, "ip6tables-nft-save"),
        _ => (IPT_NFT_SAVE, "iptables-nft-save"),
    };
    let (tool, args) = match (find(paths), find(XTABLES_NFT_MULTI)) {
        (Some(t), _) => (t, Vec::new()),
        (None, Some(m)) => (m, vec![multi_arg]),
        (None, None) => {
            return Err(format!(
                "not found (looked in {} and for xtables-nft-multi)",
                paths.join(", ")
            ));
        }
    };
    run_tool(&tool, &args)
        .map(|out| String::from_utf8_lossy(&out).into_owned())
        .map_err(|e| format!("{}: {e}", tool.display()))
}

fn root_hint() -> &'static str {
    if !nix::unistd::geteuid().is_root() {
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

/// The simplified view of `nft -j list ruleset` output (without legacy tables),
/// iptables-nft tables as nft shows them (their iptables matches opaque).
pub fn from_nft_json(json: &[u8]) -> FirewallView {
    nft_view(json).0
}

/// What the nft JSON says beyond the view, for reading iptables-nft tables.
#[derive(Default)]
struct NftExtra {
    /// Tables (families ip and ip6) with a rule carrying an `xt` statement: an
    /// iptables extension that only iptables-nft can print.
    xt_tables: BTreeSet<(ChainFamily, String)>,
    /// The handles of each chain's rules, in order.
    handles: HashMap<ChainKey, Vec<Option<u64>>>,
}

fn nft_view(json: &[u8]) -> (FirewallView, NftExtra) {
    let unreadable = |reason: String| (FirewallView::Unreadable { reason }, NftExtra::default());
    let doc: Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => {
            return unreadable(format!(
                "nft -j list ruleset printed no JSON that could be read: {e}"
            ));
        }
    };
    let Some(objects) = doc.get("nftables").and_then(Value::as_array) else {
        return unreadable("nft -j list ruleset printed JSON without an \"nftables\" array".into());
    };
    let mut extra = NftExtra::default();
    let mut version = String::new();
    let mut unmodelled = Vec::new();
    let mut tables = Tables::default();
    // Base chains in order of appearance; rules per chain in order.
    let mut bases: Vec<(ChainKey, ChainHook, i32, ChainPolicy)> = Vec::new();
    let mut raw_rules: Vec<(ChainKey, Option<u64>, Vec<Value>)> = Vec::new();
    let mut unreadable_forward: Vec<InputChain> = Vec::new();

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
                        (nt::NfHook::Forward, Some(nt::NfChainType::Filter) | None) => {
                            ChainHook::Forward
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
                    if hook == "forward" {
                        // On the forward path only: a chain whose effect is unknown.
                        unreadable_forward.push(InputChain {
                            family: ChainFamily::Inet,
                            table: clean(body.get("table").and_then(Value::as_str).unwrap_or("?")),
                            name: clean(body.get("name").and_then(Value::as_str).unwrap_or("?")),
                            hook: ChainHook::Forward,
                            priority: 0,
                            policy: ChainPolicy::Accept,
                            legacy: false,
                            rules: vec![Rule {
                                handle: None,
                                matches: Vec::new(),
                                verdict: Verdict::Other {
                                    what: format!(
                                        "a chain hooked on forward that could not be read: {}",
                                        clean(&e.to_string())
                                    ),
                                },
                            }],
                            subchains: BTreeMap::new(),
                        });
                    }
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
                let key = (fam, clean(table), clean(chain));
                if fam != ChainFamily::Inet && expr.iter().any(|x| x.get("xt").is_some()) {
                    extra.xt_tables.insert((fam, key.1.clone()));
                }
                extra.handles.entry(key.clone()).or_default().push(handle);
                raw_rules.push((key, handle, expr));
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
    let mut forward_chains = unreadable_forward;
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
        let chain = InputChain {
            family: fam,
            table,
            name,
            hook,
            priority,
            policy,
            legacy: false,
            rules,
            subchains,
        };
        if hook == ChainHook::Forward {
            forward_chains.push(chain);
        } else {
            input_chains.push(chain);
        }
    }
    sort_chains(&mut input_chains);
    sort_chains(&mut forward_chains);
    let source = if version.is_empty() {
        "nft -j list ruleset".to_string()
    } else {
        format!("nft -j list ruleset (nftables v{version})")
    };
    (
        FirewallView::Rules {
            source,
            input_chains,
            forward_chains,
            unmodelled,
        },
        extra,
    )
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
                        n if NON_TERMINAL_TARGETS.contains(&n) => {}
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
            nx::MetaKey::Oifname | nx::MetaKey::Oif if eq_only => match strings(&atoms) {
                Some(names) => vec![Match::OutIface { negated, names }],
                None => bad("value not understood"),
            },
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

// ---- iptables-save ----------------------------------------------------------------

/// Targets that do not end a rule's evaluation and do not change what later
/// rules of the inbound path see (logging, marks, QoS): evaluation goes on.
/// NOTRACK and CT are not among them: they change the conntrack state later
/// rules match on.
const NON_TERMINAL_TARGETS: &[&str] = &[
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

/// One table of iptables-save output.
struct SaveTable {
    name: String,
    /// Chains in declaration order with their policy word (`-` for user chains).
    chains: Vec<(String, String)>,
    /// Rules per chain, in order; `handle` is the position (1-based).
    rules: HashMap<String, Vec<Rule>>,
}

impl SaveTable {
    fn policy(&self, chain: &str) -> Option<&str> {
        self.chains
            .iter()
            .find(|(n, _)| n == chain)
            .map(|(_, p)| p.as_str())
    }

    /// The rules of `chain` and the user chains reachable from it by jump/goto.
    fn chain_and_subchains(&self, chain: &str) -> (Vec<Rule>, BTreeMap<String, Vec<Rule>>) {
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
fn parse_save(save: &str, family: ChainFamily) -> Vec<SaveTable> {
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

fn build_table(
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
struct Word {
    text: String,
    quoted: bool,
}

/// Splits a line as iptables-save quotes it: words on blanks, `"…"` around
/// values with other characters than `[A-Za-z0-9_-]`, `\` escaping `"`, `\`
/// and `'` inside quotes. `None` for an unterminated quote.
fn save_words(line: &str) -> Option<Vec<Word>> {
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
const TOP_OPTIONS: &[&str] = &["-p", "-s", "-d", "-i", "-o", "-f", "-m", "-j", "-g"];

fn is_top_option(w: &Word) -> bool {
    !w.quoted
        && (TOP_OPTIONS.contains(&w.text.as_str())
            || matches!(w.text.as_str(), "--match" | "--jump" | "--goto"))
}

fn joined(words: &[Word]) -> String {
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
fn parse_rule(
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
                match protocol(v) {
                    // `-p all`: any packet; `! -p all`: none.
                    Some(p) if p == "all" => {
                        if negated {
                            matches.push(Match::L4Proto {
                                negated: false,
                                protocols: Vec::new(),
                            });
                        }
                    }
                    Some(p) => {
                        if !negated {
                            proto = Some(p.clone());
                        }
                        matches.push(Match::L4Proto {
                            negated,
                            protocols: vec![p],
                        });
                    }
                    None => matches.push(unknown(format!("iptables {}-p {v}", neg_word(negated)))),
                }
                i += 2;
            }
            ("-s" | "--source" | "--src" | "-d" | "--destination" | "--dst", Some(v)) => {
                let src = matches!(opt, "-s" | "--source" | "--src");
                matches.push(match addr_spec(v, fam) {
                    Some(a) if src => Match::SrcAddr {
                        family: fam,
                        negated,
                        addrs: vec![a],
                    },
                    Some(a) => Match::DstAddr {
                        family: fam,
                        negated,
                        addrs: vec![a],
                    },
                    None => unknown(format!("iptables {}{opt} {v}", neg_word(negated))),
                });
                i += 2;
            }
            ("-i" | "--in-interface" | "-o" | "--out-interface", Some(v)) => {
                // `eth+` is any name starting with `eth`: the model's `eth*`.
                let name = match v.strip_suffix('+') {
                    Some(stem) => format!("{}*", clean(stem)),
                    None => clean(v),
                };
                let names = vec![name];
                matches.push(if matches!(opt, "-i" | "--in-interface") {
                    Match::InIface { negated, names }
                } else {
                    Match::OutIface { negated, names }
                });
                i += 2;
            }
            ("-m" | "--match", Some(name)) if !negated => {
                let start = i + 2;
                let mut end = start;
                while end < words.len()
                    && !is_top_option(&words[end])
                    && !(words[end].text == "!"
                        && !words[end].quoted
                        && words.get(end + 1).is_some_and(is_top_option))
                {
                    end += 1;
                }
                matches.extend(module(name, &words[start..end], fam, proto.as_deref()));
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
    // `-p tcp -m tcp --dport 22`: the port match implies the protocol.
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
    // `-p icmp -m icmp`: the protocol once. A match twice is the match once.
    let mut unique: Vec<Match> = Vec::with_capacity(matches.len());
    for m in matches {
        if !unique.contains(&m) {
            unique.push(m);
        }
    }
    (unique, verdict)
}

fn neg_word(negated: bool) -> &'static str {
    if negated { "! " } else { "" }
}

/// `-p` as nft prints protocols: `tcp`, `ipv6-icmp`, numbers for the rest;
/// `all` for any.
fn protocol(v: &str) -> Option<String> {
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
fn addr_spec(v: &str, fam: IpFamily) -> Option<AddrSpec> {
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
fn save_ports(v: &str, list: bool) -> Option<Vec<PortRange>> {
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

fn lower_list(v: &str) -> Vec<String> {
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| clean(&s.to_ascii_lowercase()))
        .collect()
}

const PORT_MODULES: &[&str] = &["tcp", "udp", "udplite", "sctp", "dccp"];

/// The matches of `-m name args…`.
fn module(name: &str, args: &[Word], fam: IpFamily, proto: Option<&str>) -> Vec<Match> {
    let rest = |from: usize| {
        let text = joined(&args[from..]);
        if text.is_empty() {
            unknown(format!("iptables -m {name}"))
        } else {
            unknown(format!("iptables -m {name} {text}"))
        }
    };
    if name == "rpfilter" {
        // Holds when the reverse path is valid, `--invert` when it is not;
        // `--loose`, `--accept-local` and `--validmark` only widen what passes.
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
        return match flags {
            Some(f) => vec![Match::RpfMissing {
                negated: !f.contains(&"--invert"),
            }],
            None => vec![rest(0)],
        };
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
        let got: Option<Vec<Match>> = match (name, opt) {
            (_, "--dport" | "--destination-port") if port_module => {
                save_ports(v, false).map(|ports| {
                    vec![Match::DstPort {
                        protocol: Some(name.to_string()),
                        negated,
                        ports,
                    }]
                })
            }
            (_, "--sport" | "--source-port") if port_module => save_ports(v, false).map(|ports| {
                vec![Match::SrcPort {
                    protocol: Some(name.to_string()),
                    negated,
                    ports,
                }]
            }),
            ("multiport", "--dports" | "--destination-ports" | "--sports" | "--source-ports") => {
                // The kernel takes multiport only with a `-p` of a port protocol.
                let protocol = proto.filter(|p| PORT_MODULES.contains(p));
                match (protocol, save_ports(v, true)) {
                    (Some(p), Some(ports)) => {
                        let protocol = Some(p.to_string());
                        Some(vec![if matches!(opt, "--dports" | "--destination-ports") {
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
                        }])
                    }
                    _ => None,
                }
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
            ("pkttype", "--pkt-type") => {
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
            ("iprange", "--src-range" | "--dst-range") => v.split_once('-').and_then(|(a, b)| {
                let (first, last) = (a.parse::<IpAddr>().ok()?, b.parse::<IpAddr>().ok()?);
                let ok =
                    first.is_ipv4() == last.is_ipv4() && first.is_ipv4() == (fam == IpFamily::Ipv4);
                let addrs = vec![AddrSpec::Range { first, last }];
                ok.then(|| {
                    vec![if opt == "--src-range" {
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
                    }]
                })
            }),
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
        };
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

/// The verdict of `-j name args…`: a declared chain is a jump.
fn target(name: &str, args: &[Word], chains: &HashSet<&str>) -> Verdict {
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
fn place(table: &str, chain: &str) -> Option<(ChainHook, i32)> {
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
fn place_forward(table: &str, chain: &str) -> Option<(ChainHook, i32)> {
    match (table, chain) {
        ("mangle", "FORWARD") => Some((ChainHook::Forward, -150)),
        ("filter", "FORWARD") => Some((ChainHook::Forward, 0)),
        ("security", "FORWARD") => Some((ChainHook::Forward, 50)),
        _ => None,
    }
}

/// A chain's policy: `None` for anything but ACCEPT and DROP (no built-in
/// chain has another).
fn save_policy(word: &str) -> Option<ChainPolicy> {
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

fn save_base_chains(
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

// ---- iptables-nft -----------------------------------------------------------------

/// The view of `nft -j list ruleset` with the tables iptables-nft manages read
/// in iptables syntax: the inbound and forward chains of every ip/ip6 table whose rules
/// carry `xt` statements (iptables extensions, opaque in nft's JSON) are
/// replaced by the same chains of `save(family)`, the output of
/// `iptables-nft-save` (ip) or `ip6tables-nft-save` (ip6), called only for a
/// family that has such a table. Where that output is missing (`Err`: why) or
/// does not list the table, or lists a different number of rules than nft did
/// (changed in between), the nft view of the table stays, and the source says
/// so. Rules keep their nft handles.
pub fn from_nft_json_with_save(
    json: &[u8],
    mut save: impl FnMut(ChainFamily) -> Result<String, String>,
) -> FirewallView {
    let (mut view, extra) = nft_view(json);
    if let FirewallView::Rules {
        source,
        input_chains,
        forward_chains,
        ..
    } = &mut view
    {
        // Inbound and forward chains alike: a table is read whole or not at all.
        let mut all: Vec<&mut InputChain> = input_chains
            .iter_mut()
            .chain(forward_chains.iter_mut())
            .collect();
        for (family, tool) in [
            (ChainFamily::Ip, "iptables-nft-save"),
            (ChainFamily::Ip6, "ip6tables-nft-save"),
        ] {
            let mut tables: Vec<String> = all
                .iter()
                .filter(|c| c.family == family)
                .filter(|c| extra.xt_tables.contains(&(family, c.table.clone())))
                .map(|c| c.table.clone())
                .collect();
            tables.sort();
            tables.dedup();
            if tables.is_empty() {
                continue;
            }
            let fam = family.label();
            let named = |ts: &[String]| {
                ts.iter()
                    .map(|t| format!("{fam} {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let text = match save(family) {
                Ok(text) => text,
                Err(why) => {
                    source.push_str(&format!(
                        "; {tool} not read ({}): {} as nft shows them, iptables matches opaque",
                        clean(&why),
                        named(&tables)
                    ));
                    continue;
                }
            };
            let parsed = parse_save(&text, family);
            let (mut read, mut kept) = (Vec::new(), Vec::new());
            for table in tables {
                match replace_table(&mut all, &extra, family, &table, &parsed, tool) {
                    Ok(()) => read.push(table),
                    Err(why) => kept.push(format!("{fam} {table} {why}")),
                }
            }
            if !read.is_empty() {
                source.push_str(&format!("; {} read with {tool}", named(&read)));
            }
            if !kept.is_empty() {
                source.push_str(&format!(
                    "; {}: as nft shows them, iptables matches opaque",
                    kept.join(", ")
                ));
            }
        }
    }
    view
}

/// Replaces the base chains (inbound and forward) of one table by the modelled
/// chains of the save output, or says why not (leaving them untouched).
fn replace_table(
    chains: &mut [&mut InputChain],
    extra: &NftExtra,
    family: ChainFamily,
    table: &str,
    parsed: &[SaveTable],
    tool: &str,
) -> Result<(), String> {
    let Some(saved) = parsed.iter().find(|t| t.name == table) else {
        return Err(format!("not listed by {tool} (incompatible with it?)"));
    };
    let handles = |chain: &str| {
        extra
            .handles
            .get(&(family, table.to_string(), chain.to_string()))
            .cloned()
            .unwrap_or_default()
    };
    let mut replaced = Vec::new();
    for (idx, c) in chains.iter().enumerate() {
        if c.family != family || c.table != table {
            continue;
        }
        let Some(policy_word) = saved.policy(&c.name) else {
            return Err(format!("has no chain {} in {tool}", c.name));
        };
        let (mut rules, mut subchains) = saved.chain_and_subchains(&c.name);
        // The same rules, in the same order, as nft listed: take its handles.
        for (name, list) in std::iter::once((&c.name, &mut rules)).chain(subchains.iter_mut()) {
            let h = handles(name);
            if h.len() != list.len() {
                return Err(format!(
                    "changed between reads (chain {name}: {} rules in nft, {} in {tool})",
                    h.len(),
                    list.len()
                ));
            }
            for (r, h) in list.iter_mut().zip(h) {
                r.handle = h;
            }
        }
        let policy = save_policy(policy_word).unwrap_or(c.policy);
        replaced.push((idx, policy, rules, subchains));
    }
    for (idx, policy, rules, subchains) in replaced {
        let c = &mut *chains[idx];
        c.policy = policy;
        c.rules = rules;
        c.subchains = subchains;
    }
    Ok(())
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
                ..
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
        // Its FORWARD chain is on the forward path.
        let FirewallView::Rules { forward_chains, .. } = from_nft_json(&fixture("host.json"))
        else {
            panic!("readable");
        };
        assert_eq!(forward_chains.len(), 1);
        assert_eq!(forward_chains[0].label(), "ip filter FORWARD");
        assert_eq!(forward_chains[0].hook, ChainHook::Forward);
        assert_eq!(forward_chains[0].policy, ChainPolicy::Drop);
    }

    fn forward_of(view: &FirewallView) -> &[InputChain] {
        match view {
            FirewallView::Rules { forward_chains, .. } => forward_chains,
            other => panic!("{other:?}"),
        }
    }

    /// Captured on a host running a Docker container published on 0.0.0.0
    /// (172.17.0.2:8080 on docker0) and a Podman (CNI) one (10.88.0.11:8080 on
    /// cni-podman0): `nft -j list ruleset`, `iptables-nft-save`,
    /// `iptables-legacy-save`.
    #[test]
    fn docker_and_podman_forward_chains() {
        let view = with_saves("forward-docker-podman");
        let (source, input) = rules_of(&view);
        assert!(
            source.contains("ip filter read with iptables-nft-save"),
            "{source}"
        );
        // The nat chains are not filters; no inbound chain filters.
        assert!(input.is_empty(), "{input:#?}");
        let fwd = forward_of(&view);
        assert_eq!(fwd.len(), 1, "{fwd:#?}");
        let f = &fwd[0];
        assert_eq!(f.label(), "ip filter FORWARD");
        assert_eq!(f.policy, ChainPolicy::Drop);
        assert_eq!(
            shown(f),
            [
                "jump CNI-FORWARD",
                "jump DOCKER-USER",
                "jump DOCKER-ISOLATION-STAGE-1",
                "oifname \"docker0\" ct state related,established accept",
                "oifname \"docker0\" jump DOCKER",
                "iifname \"docker0\" oifname != \"docker0\" accept",
                "iifname \"docker0\" oifname \"docker0\" accept",
            ]
        );
        assert_eq!(
            sub(f, "DOCKER"),
            [
                "ip daddr 172.17.0.2 iifname != \"docker0\" oifname \"docker0\" tcp dport 8080 accept"
            ]
        );
        assert_eq!(
            sub(f, "CNI-FORWARD"),
            [
                "jump CNI-ADMIN",
                "ip daddr 10.88.0.11 ct state related,established accept",
                "ip saddr 10.88.0.11 accept",
            ]
        );
        assert!(f.subchains["CNI-ADMIN"].is_empty());
        // nft's handles.
        assert!(f.rules.iter().all(|r| r.handle.is_some()));
        // nft alone: the same chain, its iptables matches opaque.
        let plain = from_nft_json(&fixture("forward-docker-podman.json"));
        let pf = &forward_of(&plain)[0];
        assert_eq!(pf.label(), "ip filter FORWARD");
        assert!(
            shown(pf)
                .iter()
                .any(|r| r.contains("<iptables match -m conntrack>")),
            "{:#?}",
            shown(pf)
        );
        // The same host's legacy tables: empty, policy accept.
        let legacy = String::from_utf8_lossy(&fixture("forward-docker-podman.legacy")).into_owned();
        let lf = legacy_forward_chains(&legacy, ChainFamily::Ip);
        let labels: Vec<String> = lf.iter().map(|c| c.label()).collect();
        assert_eq!(
            labels,
            [
                "iptables-legacy mangle FORWARD",
                "iptables-legacy filter FORWARD"
            ]
        );
        assert!(
            lf.iter()
                .all(|c| c.rules.is_empty() && c.policy == ChainPolicy::Accept)
        );
        assert_eq!(lf[0].priority, -150);
        assert!(
            legacy_chains(&legacy, ChainFamily::Ip)
                .iter()
                .all(|c| c.hook != ChainHook::Forward)
        );
    }

    #[test]
    fn nft_forward_chains_and_oifname() {
        let json = br#"{"nftables":[
            {"chain":{"family":"inet","table":"t","name":"fwd","handle":1,"type":"filter","hook":"forward","prio":0,"policy":"drop"}},
            {"chain":{"family":"inet","table":"t","name":"nat","handle":2,"type":"nat","hook":"forward","prio":0,"policy":"accept"}},
            {"chain":{"family":"inet","table":"t","name":"in","handle":3,"type":"filter","hook":"input","prio":0,"policy":"accept"}},
            {"chain":{"family":"inet","table":"t","name":"c","handle":4}},
            {"rule":{"family":"inet","table":"t","chain":"fwd","handle":5,"expr":[{"match":{"op":"==","left":{"meta":{"key":"oifname"}},"right":"br-*"}},{"jump":{"target":"c"}}]}},
            {"rule":{"family":"inet","table":"t","chain":"fwd","handle":6,"expr":[{"match":{"op":"!=","left":{"meta":{"key":"oif"}},"right":"eth0"}},{"accept":null}]}},
            {"rule":{"family":"inet","table":"t","chain":"c","handle":7,"expr":[{"accept":null}]}},
            {"chain":{"family":"inet","table":"t","name":"bad","handle":8,"type":"filter","hook":"forward","prio":"x","policy":"drop"}}
        ]}"#;
        let view = from_nft_json(json);
        let (_, input) = rules_of(&view);
        assert_eq!(input.len(), 1);
        assert_eq!(input[0].label(), "inet t in");
        let fwd = forward_of(&view);
        let f = find(fwd, "inet t fwd");
        assert_eq!(f.hook, ChainHook::Forward);
        assert_eq!(
            shown(f),
            ["oifname \"br-*\" jump c", "oifname != \"eth0\" accept"]
        );
        assert_eq!(sub(f, "c"), ["accept"]);
        // Not a filter: left out. Not readable: a chain of unknown effect.
        assert!(fwd.iter().all(|c| c.name != "nat"));
        let bad = find(fwd, "inet t bad");
        assert!(
            matches!(bad.rules[0].verdict, Verdict::Other { .. }),
            "{bad:?}"
        );
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
        assert_eq!(shown(filter), ["tcp dport 8080 drop"]);
        assert_eq!(filter.rules[0].handle, Some(1));
        assert!(chains.iter().all(|c| c.table != "nat"));
        assert!(
            chains
                .iter()
                .any(|c| c.table == "raw" && c.hook == ChainHook::Prerouting)
        );
    }

    /// `<case>.json` with `<case>.save` / `<case>.save6` as the output of
    /// iptables-nft-save / ip6tables-nft-save (missing file: the tool failed).
    fn with_saves(case: &str) -> FirewallView {
        from_nft_json_with_save(&fixture(&format!("{case}.json")), |family| {
            let ext = if family == ChainFamily::Ip6 {
                "save6"
            } else {
                "save"
            };
            let p = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/firewall")
                .join(format!("{case}.{ext}"));
            std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))
        })
    }

    fn rules_of(view: &FirewallView) -> (&str, &[InputChain]) {
        match view {
            FirewallView::Rules {
                source,
                input_chains,
                ..
            } => (source, input_chains),
            other => panic!("{other:?}"),
        }
    }

    fn sub(c: &InputChain, name: &str) -> Vec<String> {
        c.subchains
            .get(name)
            .unwrap_or_else(|| panic!("no subchain {name}: {:?}", c.subchains.keys()))
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    fn find<'a>(chains: &'a [InputChain], label: &str) -> &'a InputChain {
        chains
            .iter()
            .find(|c| c.label() == label)
            .unwrap_or_else(|| panic!("no {label}: {chains:#?}"))
    }

    #[test]
    fn ufw_tables_are_read_in_iptables_syntax() {
        let view = with_saves("ufw");
        let (source, chains) = rules_of(&view);
        assert_eq!(
            source,
            "nft -j list ruleset (nftables v1.0.6); ip filter read with iptables-nft-save; \
             ip6 filter read with ip6tables-nft-save"
        );
        let input = find(chains, "ip filter INPUT");
        assert_eq!(input.policy, ChainPolicy::Drop);
        assert!(!input.legacy);
        assert_eq!(
            shown(input),
            [
                "jump ufw-before-logging-input",
                "jump ufw-before-input",
                "jump ufw-after-input",
                "jump ufw-after-logging-input",
                "jump ufw-reject-input",
                "jump ufw-track-input",
            ]
        );
        let before = sub(input, "ufw-before-input");
        for want in [
            "iifname \"lo\" accept",
            "ct state related,established accept",
            "ct state invalid jump ufw-logging-deny",
            "ct state invalid drop",
            "meta l4proto icmp <iptables -m icmp --icmp-type 8> accept",
            "udp sport 67 udp dport 68 accept",
            "ip daddr 224.0.0.251 udp dport 5353 accept",
            "jump ufw-not-local",
            "jump ufw-user-input",
        ] {
            assert!(
                before.iter().any(|r| r == want),
                "missing {want:?} in {before:#?}"
            );
        }
        assert_eq!(
            sub(input, "ufw-user-input"),
            [
                "tcp dport 22 accept",
                "tcp dport { 80, 443 } accept",
                "tcp dport 8022 accept",
                "ip saddr 10.0.0.0/8 tcp dport 9000 accept",
                // `-m comment` is left out; `eth+` is `eth*`.
                "iifname \"eth*\" tcp dport 11434 accept",
            ]
        );
        assert_eq!(
            sub(input, "ufw-not-local"),
            [
                "fib daddr type local return",
                "fib daddr type multicast return",
                "fib daddr type broadcast return",
                "<iptables -m limit --limit 3/min --limit-burst 10> jump ufw-logging-deny",
                "drop",
            ]
        );
        // LOG does not end evaluation.
        assert_eq!(
            sub(input, "ufw-after-logging-input"),
            ["<iptables -m limit --limit 3/min --limit-burst 10> continue"]
        );
        // Only what INPUT reaches: no FORWARD or OUTPUT chains.
        assert!(!input.subchains.contains_key("ufw-before-forward"));
        assert!(input.subchains["ufw-track-input"].is_empty());
        // Rules keep nft's handles.
        let nft = chains_of_json("ufw.json", "ip filter INPUT");
        let handles = |c: &InputChain| c.rules.iter().map(|r| r.handle).collect::<Vec<_>>();
        assert_eq!(handles(input), handles(&nft));
        assert!(handles(input).iter().all(|h| h.is_some_and(|h| h > 6)));

        let input6 = find(chains, "ip6 filter INPUT");
        assert_eq!(input6.policy, ChainPolicy::Drop);
        let before6 = sub(input6, "ufw6-before-input");
        for want in [
            "<iptables -m rt --rt-type 0> drop",
            "meta l4proto ipv6-icmp <iptables -m icmp6 --icmpv6-type 135> \
             <iptables -m hl --hl-eq 255> accept",
            "ip6 daddr fe80::/10 udp sport 547 udp dport 546 accept",
            "ip6 daddr ff02::fb udp dport 5353 accept",
        ] {
            assert!(
                before6.iter().any(|r| r == want),
                "missing {want:?} in {before6:#?}"
            );
        }
    }

    fn chains_of_json(name: &str, label: &str) -> InputChain {
        let (chains, _) = chains(name);
        find(&chains, label).clone()
    }

    #[test]
    fn recent_hashlimit_and_string_stay_unknown() {
        let view = with_saves("recent");
        let (_, chains) = rules_of(&view);
        let input = find(chains, "ip filter INPUT");
        assert_eq!(
            sub(input, "ufw-user-input"),
            [
                "tcp dport 22 ct state new <iptables -m recent --set --name DEFAULT --mask \
                 255.255.255.255 --rsource> continue",
                "tcp dport 22 ct state new <iptables -m recent --update --seconds 30 --hitcount 6 \
                 --name DEFAULT --mask 255.255.255.255 --rsource> jump ufw-user-limit",
                "tcp dport 22 jump ufw-user-limit-accept",
                "tcp dport 8000-8100 <iptables -m hashlimit --hashlimit-upto 10/sec \
                 --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name api> accept",
                "tcp dport 9000 <iptables -m string --string \"GET /admin\" --algo bm> drop",
                "tcp dport 9000 accept",
            ]
        );
        assert_eq!(
            sub(input, "ufw-user-limit"),
            ["<iptables -m limit --limit 3/min> continue", "reject"]
        );
    }

    #[test]
    fn iptables_nft_fixture_with_its_save() {
        let view = with_saves("iptables-nft");
        let (source, chains) = rules_of(&view);
        assert!(
            source.contains("ip filter read with iptables-nft-save"),
            "{source}"
        );
        let input = find(chains, "ip filter INPUT");
        assert_eq!(
            shown(input),
            [
                "iifname \"lo\" accept",
                "ct state related,established accept",
                "ct state new tcp dport 22 accept",
                "tcp dport { 80, 443, 1000-2000 } accept",
                "ip saddr 10.0.0.0/8 udp dport 53 accept",
                "tcp dport 8080 reject",
                "fib daddr type local continue",
                "tcp dport 9090 drop",
                "jump MYCHAIN",
            ]
        );
        assert_eq!(sub(input, "MYCHAIN"), ["tcp dport != 5000 return"]);
        assert_eq!(
            input.rules.iter().map(|r| r.handle).collect::<Vec<_>>(),
            (2..=9).chain([11]).map(Some).collect::<Vec<_>>()
        );
        let input6 = find(chains, "ip6 filter INPUT");
        assert_eq!(shown(input6), ["meta l4proto ipv6-icmp accept"]);
    }

    #[test]
    fn without_iptables_nft_save_the_nft_view_stays() {
        let json = fixture("iptables-nft.json");
        let plain = from_nft_json(&json);
        let (_, plain_chains) = rules_of(&plain);
        // The tool failed.
        let view = from_nft_json_with_save(&json, |_| Err("not found".into()));
        let (source, chains) = rules_of(&view);
        assert_eq!(chains, plain_chains);
        assert!(
            source.contains(
                "; iptables-nft-save not read (not found): ip filter as nft shows them, \
                 iptables matches opaque"
            ),
            "{source}"
        );
        // Its ip6 table is native nft (no `xt`): ip6tables-nft-save is not needed.
        assert!(!source.contains("ip6tables"), "{source}");
        // The tool ran but did not list the table (`# Table `filter' is
        // incompatible, use 'nft' tool.`).
        let view = from_nft_json_with_save(&json, |_| {
            Ok("# Table `filter' is incompatible, use 'nft' tool.\n".into())
        });
        let (source, chains) = rules_of(&view);
        assert_eq!(chains, plain_chains);
        assert!(
            source.contains("ip filter not listed by iptables-nft-save"),
            "{source}"
        );
        // The ruleset changed between the two reads: a rule more.
        let save = String::from_utf8_lossy(&fixture("iptables-nft.save"))
            .replace("COMMIT", "-A MYCHAIN -j DROP\nCOMMIT");
        let view = from_nft_json_with_save(&json, |f| {
            if f == ChainFamily::Ip {
                Ok(save.clone())
            } else {
                Err("skipped".into())
            }
        });
        let (source, chains) = rules_of(&view);
        assert_eq!(chains, plain_chains);
        assert!(
            source.contains(
                "ip filter changed between reads (chain MYCHAIN: 1 rules in nft, 2 in \
                 iptables-nft-save)"
            ),
            "{source}"
        );
    }

    #[test]
    fn pure_nft_rulesets_do_not_run_iptables_nft_save() {
        // (host.json is not one: Docker's FORWARD chain is iptables-nft's.)
        for name in ["drop-ssh.json", "rich.json", "vmap-fib.json"] {
            let view = from_nft_json_with_save(&fixture(name), |f| {
                panic!("{name}: iptables-nft-save should not run for {f:?}")
            });
            assert_eq!(view, from_nft_json(&fixture(name)));
        }
    }

    /// The rules of chain `c` of an inline ruleset, shown.
    fn saved(text: &str, family: ChainFamily, c: &str) -> Vec<String> {
        let tables = parse_save(text, family);
        let t = tables.first().expect("a table");
        t.rules
            .get(c)
            .map(|r| r.iter().map(|r| r.to_string()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn iptables_save_syntax() {
        let text = r#"# Generated by iptables-save
*filter
:INPUT DROP [0:0]
:OUT - [0:0]
[5:300] -A INPUT ! -s 10.0.0.0/8 ! -i lo -p tcp -m tcp --dport 1024: -j ACCEPT
-A INPUT -s 192.168.0.0/255.255.0.0 -p udp -m udp --sport :1023 -j DROP
-A INPUT -s 10.0.0.0/255.0.255.0 -j DROP
-A INPUT -i + -m conntrack ! --ctstate NEW -j ACCEPT
-A INPUT -p 6 -m multiport ! --dports 1,2:3 -j OUT
-A INPUT -p tcp -m multiport --ports 80 -j ACCEPT
-A INPUT -g OUT
-A INPUT -m comment --comment "-j ACCEPT \"quoted\" \\ -m x" -j DROP
-A INPUT -o eth0 -j ACCEPT
-A INPUT -f -j DROP
-A INPUT -p tcp -m tcp --syn -j DROP
-A INPUT -p tcp -m tcp --tcp-flags SYN,RST SYN --dport 22 -j ACCEPT
-A INPUT -m conntrack --ctstate DNAT -j ACCEPT
-A INPUT -m addrtype --src-type LOCAL -j ACCEPT
-A INPUT -m pkttype --pkt-type unicast -m iprange --src-range 10.0.0.1-10.0.0.9 -j ACCEPT
-A INPUT ! -p all -j DROP
-A INPUT -p udp -j NFQUEUE --queue-num 1
-A INPUT -j CT --notrack
-A INPUT -j NOWHERE
-A INPUT -g NOWHERE
-A INPUT -m comment --comment "unterminated
-A INPUT -s fd00::1/64 -j DROP
-A INPUT -j TRACE
-A INPUT ! -p tc/p -j ACCEPT
-A OUT -j RETURN
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
-A PREROUTING -j DROP
"#;
        assert_eq!(
            saved(text, ChainFamily::Ip, "INPUT"),
            [
                "ip saddr != 10.0.0.0/8 iifname != \"lo\" tcp dport 1024-65535 accept",
                "ip saddr 192.168.0.0/16 udp sport 0-1023 drop",
                "<iptables -s 10.0.0.0/255.0.255.0> drop",
                "iifname \"*\" ct state != new accept",
                "tcp dport != { 1, 2-3 } jump OUT",
                "meta l4proto tcp <iptables -m multiport --ports 80> accept",
                "goto OUT",
                "drop",
                "oifname \"eth0\" accept",
                "<iptables -f> drop",
                "meta l4proto tcp <iptables -m tcp --syn> drop",
                "meta l4proto tcp <iptables -m tcp --tcp-flags SYN,RST SYN --dport 22> accept",
                "<iptables -m conntrack --ctstate DNAT> accept",
                "<iptables -m addrtype --src-type LOCAL> accept",
                "meta pkttype host ip saddr 10.0.0.1-10.0.0.9 accept",
                "meta l4proto {  } drop",
                "meta l4proto udp <iptables target NFQUEUE --queue-num 1>",
                "<iptables target CT --notrack>",
                "<iptables target NOWHERE>",
                "<iptables goto NOWHERE>",
                "<iptables rule not understood: -A INPUT -m comment --comment \"unterminated> \
                 <an iptables rule that was not understood>",
                "<iptables -s fd00::1/64> drop",
                "continue",
                "<iptables ! -p tc/p> accept",
            ]
        );
        assert_eq!(saved(text, ChainFamily::Ip, "OUT"), ["return"]);
        let fwd = "*filter\n:FORWARD DROP [0:0]\n-A FORWARD -o br+ ! -i eth0 -j ACCEPT\n\
                   -A FORWARD ! --out-interface docker0 -j DROP\nCOMMIT\n";
        assert_eq!(
            saved(fwd, ChainFamily::Ip, "FORWARD"),
            [
                "oifname \"br*\" iifname != \"eth0\" accept",
                "oifname != \"docker0\" drop"
            ]
        );
        // ip6tables: its addresses, not IPv4 ones.
        let six = "*filter\n:INPUT DROP [0:0]\n-A INPUT -s fd00::/8 -d ::1/128 -j ACCEPT\n\
                   -A INPUT -s 10.0.0.1/32 -j ACCEPT\n\
                   -A INPUT -p icmpv6 -j ACCEPT\nCOMMIT\n";
        assert_eq!(
            saved(six, ChainFamily::Ip6, "INPUT"),
            [
                "ip6 saddr fd00::/8 ip6 daddr ::1 accept",
                "<iptables -s 10.0.0.1/32> accept",
                "meta l4proto ipv6-icmp accept",
            ]
        );
        // The mangle table above has no COMMIT: an incomplete dump, left out.
        assert_eq!(parse_save(text, ChainFamily::Ip).len(), 1);
    }

    #[test]
    fn rpfilter_in_raw_prerouting() {
        let text = "*raw\n:PREROUTING ACCEPT [0:0]\n\
                    -A PREROUTING -m rpfilter --invert -j DROP\n\
                    -A PREROUTING -m rpfilter --loose --validmark -j ACCEPT\n\
                    -A PREROUTING -m rpfilter --bogus -j DROP\nCOMMIT\n";
        assert_eq!(
            saved(text, ChainFamily::Ip, "PREROUTING"),
            [
                "fib saddr . iif oif missing drop",
                "fib saddr . iif oif exists accept",
                "<iptables -m rpfilter --bogus> drop",
            ]
        );
        let chains = legacy_chains(text, ChainFamily::Ip);
        assert_eq!(chains[0].label(), "iptables-legacy raw PREROUTING");
        assert_eq!(chains[0].hook, ChainHook::Prerouting);
        assert_eq!(chains[0].priority, -300);
    }

    #[test]
    fn clean_strips_control_and_bounds() {
        assert_eq!(clean("a\x1b[2Jb"), "a [2Jb");
        assert!(clean(&"x".repeat(1000)).chars().count() <= MAX_STR + 1);
    }
}
