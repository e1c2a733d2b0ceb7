//! Tables that iptables-nft manages, read in iptables syntax over nft's view.

use super::common::*;
use super::iptables::*;
use super::nft::*;
use crate::model::firewall::*;

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
                    also_read(
                        source,
                        &format!(
                            "; {tool} not read ({}): {} as nft shows them, iptables matches opaque",
                            clean(&why),
                            named(&tables)
                        ),
                    );
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
                also_read(source, &format!("; {} read with {tool}", named(&read)));
            }
            if !kept.is_empty() {
                also_read(
                    source,
                    &format!(
                        "; {}: as nft shows them, iptables matches opaque",
                        kept.join(", ")
                    ),
                );
            }
        }
    }
    view
}

/// Replaces the base chains (inbound and forward) of one table by the modelled
/// chains of the save output, or says why not (leaving them untouched).
pub(super) fn replace_table(
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
