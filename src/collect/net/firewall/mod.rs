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

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub use crate::model::firewall::*;

mod common;
mod iptables;
mod iptables_nft;
mod nft;
mod nft_match;
#[cfg(test)]
mod tests;

use common::*;

pub use iptables::{legacy_chains, legacy_forward_chains};
pub use iptables_nft::from_nft_json_with_save;
pub use nft::from_nft_json;

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
                    also_read(
                        source,
                        &format!(
                            "; {}",
                            tool.file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default()
                        ),
                    );
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
