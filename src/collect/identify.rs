//! Which processes are AI servers, and which are only their workers.
//!
//! A worker (vLLM engine core, Ollama runner, a uvicorn worker) is folded into
//! the topmost ancestor server it belongs to, so one server is counted once and
//! sockets or models held by its workers are still attributed to it.

use std::collections::{BTreeMap, HashMap};

use super::procs::{ProcEntry, ProcTable};
use crate::knowledge::Signatures;
use crate::knowledge::signatures::{ProcessFacts, Strength};

pub struct Identified<'s> {
    pub pid: u32,
    pub signature: &'s crate::knowledge::Signature,
    pub strength: Strength,
    pub reason: String,
    pub workers: Vec<u32>,
}

// Children that Python's multiprocessing starts for a server: they carry no
// product name of their own.
fn is_python_helper(p: &ProcEntry) -> bool {
    p.argv.iter().any(|a| {
        a.contains("multiprocessing.spawn")
            || a.contains("multiprocessing.resource_tracker")
            || a.contains("multiprocessing.forkserver")
            || a == "--multiprocessing-fork"
    })
}

pub fn identify<'s>(table: &ProcTable, sigs: &'s Signatures) -> Vec<Identified<'s>> {
    let own = std::process::id();
    let mut matched: HashMap<u32, Identified<'s>> = HashMap::new();
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
        };
        if let Some(m) = sigs.identify(&facts) {
            matched.insert(
                p.pid,
                Identified {
                    pid: p.pid,
                    signature: m.signature,
                    strength: m.strength,
                    reason: m.reason,
                    workers: Vec::new(),
                },
            );
        }
    }

    // A matched process whose ancestor is the same product (or the product it is
    // a child of) is a worker of the topmost such ancestor.
    let mut parent_of: BTreeMap<u32, u32> = BTreeMap::new();
    for (&pid, m) in &matched {
        let mut top = None;
        for anc in table.ancestors(pid) {
            if let Some(a) = matched.get(&anc.pid) {
                let same = a.signature.id == m.signature.id
                    || m.signature.child_of.as_deref() == Some(a.signature.id.as_str());
                if same {
                    top = Some(anc.pid);
                }
            }
        }
        if let Some(t) = top {
            parent_of.insert(pid, t);
        }
    }
    // Unmatched multiprocessing children of a server are its workers too.
    for p in table.procs.values() {
        if matched.contains_key(&p.pid) || !is_python_helper(p) {
            continue;
        }
        if let Some(server) = table
            .ancestors(p.pid)
            .map(|a| a.pid)
            .filter(|a| matched.contains_key(a))
            .last()
        {
            parent_of.insert(p.pid, server);
        }
    }
    for (worker, server) in &parent_of {
        // The server may itself be a worker of a higher one; resolve to the root.
        let mut root = *server;
        // Bounded: a pid reused mid-scan could make the chain loop.
        for _ in 0..64 {
            match parent_of.get(&root) {
                Some(up) if *up != root => root = *up,
                _ => break,
            }
        }
        if let Some(m) = matched.get_mut(&root) {
            m.workers.push(*worker);
        }
    }
    let mut servers: Vec<Identified<'s>> = matched
        .into_values()
        .filter(|m| !parent_of.contains_key(&m.pid))
        .collect();
    for s in &mut servers {
        s.workers.sort_unstable();
    }
    servers.sort_by_key(|s| s.pid);
    servers
}
