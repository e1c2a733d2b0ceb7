//! `nft -j list ruleset` → chains: tables, sets, base chains on the inbound and
//! forward paths, rules with their verdicts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use nftables::expr as nx;
use nftables::schema as ns;
use nftables::stmt as st;
use nftables::types as nt;
use serde_json::Value;

use super::common::*;
use super::nft_match::*;
use crate::model::Source;
use crate::model::firewall::*;

// ---- nft JSON ---------------------------------------------------------------------

pub(super) fn family_of(f: nt::NfFamily) -> Option<ChainFamily> {
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
pub(super) struct NftExtra {
    /// Tables (families ip and ip6) with a rule carrying an `xt` statement: an
    /// iptables extension that only iptables-nft can print.
    pub(super) xt_tables: BTreeSet<(ChainFamily, String)>,
    /// The handles of each chain's rules, in order.
    pub(super) handles: HashMap<ChainKey, Vec<Option<u64>>>,
}

pub(super) fn nft_view(json: &[u8]) -> (FirewallView, NftExtra) {
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
    let mut pass = Pass::default();
    for obj in objects {
        pass.object(obj);
    }
    let Pass {
        extra,
        version,
        unmodelled,
        tables,
        bases,
        raw_rules,
        unreadable_forward,
    } = pass;

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
    let source = Source::command(if version.is_empty() {
        "nft -j list ruleset".to_string()
    } else {
        format!("nft -j list ruleset (nftables v{version})")
    });
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

/// What one pass over the ruleset's objects gathers: tables and their sets,
/// base chains in order of appearance, each chain's rules in order, and what
/// is not modelled.
#[derive(Default)]
struct Pass {
    extra: NftExtra,
    version: String,
    unmodelled: Vec<String>,
    tables: Tables,
    bases: Vec<(ChainKey, ChainHook, i32, ChainPolicy)>,
    raw_rules: Vec<(ChainKey, Option<u64>, Vec<Value>)>,
    unreadable_forward: Vec<InputChain>,
}

impl Pass {
    /// One object of `nft -j list ruleset`: metainfo, set, chain or rule.
    fn object(&mut self, obj: &Value) {
        let Some((kind, body)) = obj.as_object().and_then(|m| m.iter().next()) else {
            return;
        };
        match kind.as_str() {
            "metainfo" => {
                if let Some(v) = body.get("version").and_then(Value::as_str) {
                    self.version = clean(v);
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
                    self.tables.sets.insert(
                        (fam, clean(&set.table), clean(&set.name)),
                        SetInfo { elems },
                    );
                }
            }
            "chain" => match serde_json::from_value::<ns::Chain>(body.clone()) {
                Ok(c) => {
                    let Some(hook) = c.hook else { return };
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
                            self.unmodelled.push(format!(
                                "{what} ({} hook) sees inbound packets and is not modelled",
                                hook_name(hook)
                            ));
                        }
                        return;
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
                            self.unmodelled.push(format!(
                                "{what} (ingress hook) sees inbound packets and is not modelled"
                            ));
                            return;
                        }
                        _ => return,
                    };
                    let policy = match c.policy {
                        Some(nt::NfChainPolicy::Drop) => ChainPolicy::Drop,
                        _ => ChainPolicy::Accept,
                    };
                    self.bases.push((
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
                        self.unreadable_forward.push(InputChain {
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
                        self.unmodelled.push(format!(
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
                    return;
                };
                let handle = body.get("handle").and_then(Value::as_u64);
                let expr = body
                    .get("expr")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let key = (fam, clean(table), clean(chain));
                if fam != ChainFamily::Inet && expr.iter().any(|x| x.get("xt").is_some()) {
                    self.extra.xt_tables.insert((fam, key.1.clone()));
                }
                self.extra
                    .handles
                    .entry(key.clone())
                    .or_default()
                    .push(handle);
                self.raw_rules.push((key, handle, expr));
            }
            _ => {}
        }
    }
}

pub(super) fn family_name(f: nt::NfFamily) -> &'static str {
    match f {
        nt::NfFamily::IP => "ip",
        nt::NfFamily::IP6 => "ip6",
        nt::NfFamily::INet => "inet",
        nt::NfFamily::ARP => "arp",
        nt::NfFamily::Bridge => "bridge",
        nt::NfFamily::NetDev => "netdev",
    }
}

pub(super) fn hook_name(h: nt::NfHook) -> &'static str {
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
pub(super) fn ruleset_has_chain(
    objects: &[Value],
    fam: ChainFamily,
    table: &str,
    name: &str,
) -> bool {
    objects.iter().any(|o| {
        o.get("chain").is_some_and(|c| {
            c.get("family").and_then(Value::as_str) == Some(fam.label())
                && c.get("table").and_then(Value::as_str) == Some(table)
                && c.get("name").and_then(Value::as_str) == Some(name)
        })
    })
}

pub(super) fn targets(rules: &[Rule]) -> Vec<String> {
    rules
        .iter()
        .filter_map(|r| match &r.verdict {
            Verdict::Jump { target } | Verdict::Goto { target } => Some(target.clone()),
            _ => None,
        })
        .collect()
}

/// The first key of a JSON object, for naming a statement that did not parse.
pub(super) fn key_of(v: &Value) -> String {
    v.as_object()
        .and_then(|m| m.keys().next())
        .map(|k| clean(k))
        .unwrap_or_else(|| "?".into())
}

/// One nft rule → one rule, or several when it ends in a verdict map (each map
/// entry becomes a rule; their keys are disjoint, so order does not matter).
pub(super) fn convert_rule(ctx: &RuleCtx, handle: Option<u64>, expr: &[Value]) -> Vec<Rule> {
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

pub(super) fn convert_vmap(ctx: &RuleCtx, vm: &st::VerdictMap) -> Vec<(Vec<Match>, Verdict)> {
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

pub(super) fn verdict_of(v: &nx::Verdict) -> Verdict {
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

pub(super) fn statement_verdict(s: &st::Statement) -> Verdict {
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
