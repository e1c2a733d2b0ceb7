//! Tunnel clients, AI agents and MCP servers among the processes
//! (`assets/privacy.toml` `[[actors]]`), matched on the same facts as servers.

use crate::collect::host::UserNames;
use crate::collect::procs::ProcTable;
use crate::knowledge::privacy::ActorSignature;
use crate::knowledge::signatures::ProcessFacts;
use crate::model::privacy::Actor;
use crate::model::{Server, Socket};

/// Every process an actor signature matches. A tunnel started by a server
/// (Gradio's frpc, KoboldCpp's cloudflared) names that server as its parent.
pub fn find(
    table: &ProcTable,
    signatures: &[ActorSignature],
    servers: &[Server],
    sockets: &[Socket],
    users: &UserNames,
) -> Vec<Actor> {
    let own = std::process::id();
    let server_of = |pid: u32| {
        servers
            .iter()
            .find(|s| s.pid == pid || s.workers.iter().any(|w| w.pid == pid))
            .map(|s| s.pid)
    };
    let mut out = Vec::new();
    for p in table.procs.values() {
        if p.pid == own {
            continue;
        }
        let cmdline = p.argv.join(" ");
        let facts = ProcessFacts {
            exe_basename: p.exe.as_deref(),
            argv: &p.argv,
            cmdline: &cmdline,
            comm: &p.comm,
            script: &|| None,
            python_env: &|| None,
            node_package: &|| None,
            may_listen: true,
        };
        let Some((sig, reason)) = signatures
            .iter()
            .find_map(|s| s.matches(&facts).map(|r| (s, r)))
        else {
            continue;
        };
        let parent_server = std::iter::once(p.pid)
            .chain(table.ancestors(p.pid).map(|a| a.pid))
            .find_map(server_of);
        out.push(Actor {
            id: sig.id.clone(),
            name: sig.name.clone(),
            kind: sig.kind,
            pid: p.pid,
            ppid: p.ppid,
            uid: Some(p.uid),
            user: users.name(p.uid),
            cmdline: p.argv.clone(),
            reason,
            status: sig.status.clone(),
            parent_server,
            sockets: sockets
                .iter()
                .enumerate()
                .filter(|(_, s)| s.owner_pids().contains(&p.pid))
                .map(|(i, _)| i)
                .collect(),
        });
    }
    // A launcher and its child matched by the same entry (npx → node) are one actor.
    let parents: Vec<(usize, u32)> = out
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            table
                .ancestors(a.pid)
                .map(|x| x.pid)
                .filter(|anc| out.iter().any(|b| b.pid == *anc && b.id == a.id))
                .last()
                .map(|anc| (i, anc))
        })
        .collect();
    let mut drop: Vec<usize> = Vec::new();
    for (i, anc) in parents {
        let child_sockets = std::mem::take(&mut out[i].sockets);
        if let Some(top) = out.iter_mut().find(|b| b.pid == anc) {
            top.sockets.extend(child_sockets);
        }
        drop.push(i);
    }
    let mut i = 0;
    out.retain(|_| {
        let keep = !drop.contains(&i);
        i += 1;
        keep
    });
    out.sort_by_key(|a| a.pid);
    out
}
