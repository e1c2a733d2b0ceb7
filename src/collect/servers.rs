//! One `Server` per identified process: the process and its workers, their
//! environment (names; values only where allowlisted), the sockets they hold,
//! the model files they map or hold open, and the auth their flags configure.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use super::host::UserNames;
use super::models::loaded::{self, SniffCache};
use super::net::sockets::FdWalk;
use super::procs::identify::Identified;
use super::procs::{ProcTable, auth, env, privilege};
use crate::knowledge::signatures::Strength;
use crate::model::redact::is_secret_name;
use crate::model::{
    BlindSpot, Helper, Identification, MatchStrength, Server, Socket, SocketState, Source, Worker,
};

/// How many pids a blind spot lists before it only counts.
const LIST_PIDS: usize = 8;

/// What `build` reads each server with.
pub struct Context<'a> {
    pub table: &'a ProcTable,
    pub walk: &'a FdWalk,
    pub sockets: &'a [Socket],
    pub ns_of_pid: &'a BTreeMap<u32, String>,
    pub env_allowlist: &'a [String],
    /// On/off settings read even under a secret-looking name, as the switch word only.
    pub env_switches: &'a [String],
    pub users: &'a UserNames,
    pub sniffed: &'a Mutex<SniffCache>,
}

pub fn build(found: Vec<Identified<'_>>, cx: &Context, blind: &mut Vec<BlindSpot>) -> Vec<Server> {
    let mut servers: Vec<Server> = found
        .into_iter()
        .filter_map(|f| build_one(f, cx, blind))
        .collect();
    attach_same_deployment(&mut servers, cx);
    servers
}

/// The deployment a process belongs to beyond its process tree: its container,
/// or the systemd service it runs in.
fn deployment_of(pid: u32) -> Option<String> {
    privilege::deployment_of_pid(pid).or_else(|| {
        privilege::service_cgroup_of_pid(pid).map(|(unit, _)| format!("systemd unit {unit}"))
    })
}

/// A server's deployment: its container; or its systemd service, only where the
/// server is the service's first process (the unit is then this server's own
/// service: `ssh.service`'s first process is sshd, whose logins' programs it
/// holds, and no AI server's sibling).
fn server_deployment(pid: u32, cx: &Context) -> Option<String> {
    if let Some(c) = privilege::deployment_of_pid(pid) {
        return Some(c);
    }
    let (unit, procs) = privilege::service_cgroup_of_pid(pid)?;
    let own = cx.table.get(pid)?.starttime;
    // Strictly first: another process started in the same clock tick leaves it
    // undecided, and undecided attributes nothing (pids wrap, so they order nothing).
    let strictly_first = privilege::cgroup_procs(&procs)
        .into_iter()
        .filter(|&p| p != pid)
        .filter_map(|p| cx.table.get(p))
        .all(|e| e.starttime > own);
    strictly_first.then(|| format!("systemd unit {unit}"))
}

/// A listener no server holds, whose process runs in the same container as a
/// server, or in the systemd service the server is the main process of (a
/// sidecar, a process a supervisor or `ExecStartPost=` started beside it): part
/// of that deployment, so a helper of that server.
fn attach_same_deployment(servers: &mut [Server], cx: &Context) {
    let groups: Vec<Option<String>> = servers
        .iter()
        .map(|s| server_deployment(s.pid, cx))
        .collect();
    if groups.iter().all(Option::is_none) {
        return;
    }
    let held: HashSet<usize> = servers
        .iter()
        .flat_map(|s| s.sockets.iter().copied())
        .collect();
    let mut seen: BTreeMap<u32, Option<String>> = BTreeMap::new();
    for (idx, sock) in cx.sockets.iter().enumerate() {
        if sock.state == SocketState::Established || held.contains(&idx) {
            continue;
        }
        for &pid in sock.owner_pids() {
            let group = seen.entry(pid).or_insert_with(|| deployment_of(pid));
            let Some(g) = group.as_ref() else {
                continue;
            };
            let Some(si) = groups.iter().position(|x| x.as_ref() == Some(g)) else {
                continue;
            };
            let server = &mut servers[si];
            server.sockets.push(idx);
            server.sockets.sort_unstable();
            match server.helpers.iter_mut().find(|h| h.pid == pid) {
                Some(h) => h.sockets.push(idx),
                None => server.helpers.push(Helper {
                    pid,
                    comm: cx
                        .table
                        .get(pid)
                        .map(|p| p.comm.clone())
                        .unwrap_or_default(),
                    cmdline: cx
                        .table
                        .get(pid)
                        .map(|p| p.argv.clone())
                        .unwrap_or_default(),
                    role: format!("runs in the same {g}"),
                    sockets: vec![idx],
                }),
            }
            break;
        }
    }
}

fn build_one(f: Identified<'_>, cx: &Context, blind: &mut Vec<BlindSpot>) -> Option<Server> {
    let entry = cx.table.get(f.pid)?;
    let members: Vec<u32> = std::iter::once(f.pid)
        .chain(f.workers.iter().copied())
        .collect();
    let env = env::read(f.pid, cx.env_allowlist, cx.env_switches);
    let env_names = env.as_ref().map(|e| e.names.clone()).map_err(Clone::clone);
    if let Err(reason) = &env {
        blind.push(BlindSpot {
            what: format!("environment of pid {} ({})", f.pid, f.signature.name),
            path: Source::proc(f.pid, "environ"),
            reason: reason.clone(),
            consequence: "auth, bind and telemetry switches set by environment cannot be seen; run as root or as the server's user".into(),
        });
    }
    for (pid, reason) in cx
        .walk
        .unreadable
        .iter()
        .filter(|(p, _)| members.contains(p))
    {
        blind.push(BlindSpot {
            what: format!("open sockets of pid {pid} ({})", f.signature.name),
            path: Source::proc(*pid, "fd"),
            reason: reason.clone(),
            consequence: "this server's listeners appear as owner-unknown sockets; run as root or as the server's user".into(),
        });
    }
    let models = models_of(&members, cx, blind);
    let home = cx.users.home(entry.uid);
    let auth = auth::auth_config(f.signature, f.pid, &entry.argv, &env_names, home.as_deref());
    let (_, secret_flags) = crate::model::redact::redact_argv_abbrev(
        &entry.argv,
        &f.signature.secret_flags,
        if f.signature.argparse_abbrev {
            &f.signature.secret_flags
        } else {
            &[]
        },
    );
    let secret_env_names = env_names
        .as_ref()
        .map(|names| {
            names
                .iter()
                .filter(|n| is_secret_name(n))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let env_unreadable = env.as_ref().err().cloned();
    let env_config = env.map(|e| e.config).unwrap_or_default();
    let mut auth = auth;
    auth::self_grants(f.signature, f.pid, &env_config, &mut auth);
    // A class of AI processes (not a product) is a server only while it listens.
    if f.signature.listening_only
        && !cx.sockets.iter().any(|s| {
            s.state != SocketState::Established
                && s.owner_pids().iter().any(|p| members.contains(p))
        })
    {
        return None;
    }
    // A printed token counts only where auth is on: the file is then its key.
    let token_outputs = match &f.signature.prints_token {
        Some(re) if auth.state == crate::model::AuthState::Configured => {
            crate::collect::procs::output::token_outputs(
                &members,
                re,
                cx.users,
                crate::collect::models::access::Groups::load,
            )
        }
        _ => Vec::new(),
    };
    let helpers = helpers_of(&f, cx);
    let sockets = cx
        .sockets
        .iter()
        .enumerate()
        .filter(|(i, s)| {
            s.owner_pids().iter().any(|p| members.contains(p))
                || helpers.iter().any(|h| h.sockets.contains(i))
        })
        .map(|(i, _)| i)
        .collect();
    Some(Server {
        product_id: f.signature.id.clone(),
        product: f.signature.name.clone(),
        pid: f.pid,
        ppid: entry.ppid,
        uid: Some(entry.uid),
        user: cx.users.name(entry.uid),
        exe: entry.exe_path.clone(),
        cmdline: entry.argv.clone(),
        netns: cx.ns_of_pid.get(&f.pid).cloned(),
        identification: Identification {
            strength: match f.strength {
                Strength::Strong => MatchStrength::Strong,
                Strength::Weak => MatchStrength::Weak,
            },
            reason: f.reason,
            signature_status: f.signature.status.clone(),
        },
        workers: f
            .workers
            .iter()
            .map(|&pid| Worker {
                pid,
                comm: cx
                    .table
                    .get(pid)
                    .map(|p| p.comm.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        helpers,
        sockets,
        models,
        auth,
        token_outputs,
        secret_env_names,
        secret_flags,
        env_config,
        env_unreadable,
        confinement: privilege::read(f.pid),
        components: Vec::new(),
        runtime: Default::default(),
    })
}

/// The helpers that hold a listening or bound socket, with their role; the
/// others (a shell, a short-lived tool) hold nothing anyone could reach.
fn helpers_of(f: &Identified<'_>, cx: &Context) -> Vec<Helper> {
    f.helpers
        .iter()
        .filter_map(|&pid| {
            let p = cx.table.get(pid)?;
            let sockets: Vec<usize> = cx
                .sockets
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    s.state != SocketState::Established && s.owner_pids().contains(&pid)
                })
                .map(|(i, _)| i)
                .collect();
            if sockets.is_empty() {
                return None;
            }
            let cmdline = p.argv.join(" ");
            Some(Helper {
                pid,
                comm: p.comm.clone(),
                cmdline: p.argv.clone(),
                role: f
                    .signature
                    .helper_role(&p.comm, &cmdline)
                    .unwrap_or(GENERIC_HELPER)
                    .to_string(),
                sockets,
            })
        })
        .collect()
}

/// The role of a helper no signature names.
const GENERIC_HELPER: &str = "helper process";

/// Model files the server and its workers map or hold; one mapped by both is one.
fn models_of(
    members: &[u32],
    cx: &Context,
    blind: &mut Vec<BlindSpot>,
) -> Vec<crate::model::LoadedModel> {
    let mut models = Vec::new();
    // A poisoned lock only means an earlier collection panicked; the cache
    // holds plain values and stays valid.
    let mut cache = cx.sniffed.lock().unwrap_or_else(|p| p.into_inner());
    for &pid in members {
        let comm = cx.table.get(pid).map(|p| p.comm.as_str()).unwrap_or("");
        models.extend(loaded::loaded_models(pid, comm, blind, &mut cache));
    }
    drop(cache);
    models.sort_by(|a, b| a.path.cmp(&b.path).then(a.pid.cmp(&b.pid)));
    models.dedup_by(|a, b| a.path == b.path);
    models
}

/// What could not be seen of processes that are not servers: other users' fd
/// tables, and namespaces that could not be read.
pub fn others_blind_spots(
    walk: &FdWalk,
    server_pids: &HashSet<u32>,
    mut ns_unreadable: Vec<u32>,
    blind: &mut Vec<BlindSpot>,
) {
    let others: Vec<u32> = walk
        .unreadable
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !server_pids.contains(p))
        .collect();
    if !others.is_empty() {
        blind.push(BlindSpot {
            what: format!("open files of {} processes of other users", others.len()),
            path: pid_paths(&others, "fd"),
            reason: "permission denied".into(),
            consequence: "sockets they hold are listed as owner-unknown; AI servers among them are still recognised by command line. Run as root to join them".into(),
        });
    }
    if !ns_unreadable.is_empty() {
        ns_unreadable.sort_unstable();
        blind.push(BlindSpot {
            what: format!("network namespace of {} processes", ns_unreadable.len()),
            path: pid_paths(&ns_unreadable, "ns/net"),
            reason: "permission denied".into(),
            consequence: "sockets inside other network namespaces (containers) these processes may use are not listed".into(),
        });
    }
}

fn pid_paths(pids: &[u32], leaf: &str) -> Source {
    Source::ProcEach {
        pids: pids.iter().take(LIST_PIDS).copied().collect(),
        file: leaf.into(),
        more: pids.len().saturating_sub(LIST_PIDS),
    }
}
