//! Which processes are AI servers, which are only their workers, and which are
//! other processes they started.
//!
//! A worker (vLLM engine core, Ollama runner, a uvicorn worker) is folded into
//! the topmost ancestor server it belongs to, so one server is counted once and
//! sockets or models held by its workers are still attributed to it. Any other
//! descendant that is not a server of its own (a kernel, a dashboard, a metrics
//! exporter, a tunnel) is a helper of that server: a server is its process tree.

use std::collections::{BTreeMap, HashMap};

use crate::collect::procs::{ProcEntry, ProcTable, env, node};
use crate::collect::versions::python;
use crate::knowledge::Signatures;
use crate::knowledge::signatures::{ProcessFacts, PythonDists, Strength};

pub struct Identified<'s> {
    pub pid: u32,
    pub signature: &'s crate::knowledge::Signature,
    pub strength: Strength,
    pub reason: String,
    pub workers: Vec<u32>,
    /// Other descendants of the server or its workers (none of them a server).
    pub helpers: Vec<u32>,
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

/// How much of a script is read to find its imports.
const SCRIPT_HEAD: u64 = 64 * 1024;

/// The script a Python interpreter runs (`python [-opts] app.py`), read through
/// the process's own cwd and root so containers resolve as they see it.
fn read_script(pid: u32, argv: &[String]) -> Option<String> {
    use std::io::Read;
    let mut args = argv.iter().skip(1);
    let script = loop {
        let a = args.next()?;
        match a.as_str() {
            // A module or inline code: no script file.
            "-m" | "-c" => return None,
            "-W" | "-X" | "--check-hash-based-pycs" => {
                args.next();
            }
            s if s.starts_with('-') => {}
            s => break s,
        }
    };
    if !script.ends_with(".py") {
        return None;
    }
    let path = match script.strip_prefix('/') {
        Some(abs) => format!("/proc/{pid}/root/{abs}"),
        None => format!("/proc/{pid}/cwd/{script}"),
    };
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(SCRIPT_HEAD)
        .read_to_end(&mut bytes)
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Environment variables that move a Python process's `sys.path`: their
/// values are read (and only theirs) to find the environment it imports from.
const PYTHON_PATH_VARS: [&str; 4] = [
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "PYTHONNOUSERSITE",
    "PYTHONUSERBASE",
];

/// The distribution names of a Python process's environment.
fn read_python_env(p: &ProcEntry, home: Option<String>) -> Option<PythonDists> {
    if !python::is_python(&p.argv, p.exe.as_deref()) {
        return None;
    }
    let allow: Vec<String> = PYTHON_PATH_VARS.iter().map(|v| (*v).to_string()).collect();
    let env: Vec<(String, String)> = env::read(p.pid, &allow, &[])
        .map(|e| e.config.into_iter().map(|s| (s.name, s.value)).collect())
        .unwrap_or_default();
    let view = python::ProcessView {
        root: std::path::PathBuf::from(format!("/proc/{}/root", p.pid)),
        argv: &p.argv,
        exe: p.exe_path.as_deref(),
        cwd: std::fs::read_link(format!("/proc/{}/cwd", p.pid)).ok(),
        env: &env,
        home,
    };
    Some(python::dist_names(&view))
}

/// What identification knows of the host beyond the process table.
pub struct Host<'a> {
    /// Does this process hold a socket (or could its fds not be read)?
    pub may_listen: &'a dyn Fn(u32) -> bool,
    /// Home directory of a uid, for the Python user site.
    pub home_of: &'a dyn Fn(u32) -> Option<String>,
}

pub fn identify<'s>(
    table: &ProcTable,
    sigs: &'s Signatures,
    host: &Host<'_>,
) -> Vec<Identified<'s>> {
    let own = std::process::id();
    let mut matched: HashMap<u32, Identified<'s>> = HashMap::new();
    for p in table.procs.values() {
        if p.pid == own {
            continue;
        }
        let cmdline = p.argv.join(" ");
        let script = || {
            p.script
                .get_or_read(|| read_script(p.pid, &p.argv))
                .map(str::to_owned)
        };
        let python_env = || {
            p.script
                .python_or_read(|| read_python_env(p, (host.home_of)(p.uid)))
                .cloned()
        };
        let node_package = || {
            p.script
                .node_or_read(|| {
                    node::is_node(&p.argv, p.exe.as_deref())
                        .then(|| node::package_of(p.pid, &p.argv))
                        .flatten()
                })
                .cloned()
        };
        let may_listen = (host.may_listen)(p.pid);
        let facts = ProcessFacts {
            exe_basename: p.exe.as_deref(),
            argv: &p.argv,
            cmdline: &cmdline,
            comm: &p.comm,
            script: &script,
            python_env: &python_env,
            node_package: &node_package,
            may_listen,
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
                    helpers: Vec::new(),
                },
            );
        }
    }

    // A class match (any Python program with AI libraries) below a recognised
    // product is that product's own process: a helper, not a server of its own.
    let below_product: Vec<u32> = matched
        .values()
        .filter(|m| m.signature.listening_only)
        .filter(|m| {
            table.ancestors(m.pid).any(|a| {
                matched
                    .get(&a.pid)
                    .is_some_and(|s| !s.signature.listening_only)
            })
        })
        .map(|m| m.pid)
        .collect();
    for pid in below_product {
        matched.remove(&pid);
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
    // Every other descendant belongs to the nearest server above it (resolved to
    // that server's root): a process a server started is part of it until it is
    // a server itself.
    let root_of = |pid: u32| {
        let mut root = pid;
        for _ in 0..64 {
            match parent_of.get(&root) {
                Some(up) if *up != root => root = *up,
                _ => break,
            }
        }
        root
    };
    let mut helpers: Vec<(u32, u32)> = Vec::new();
    for p in table.procs.values() {
        if p.pid == own || matched.contains_key(&p.pid) || parent_of.contains_key(&p.pid) {
            continue;
        }
        if let Some(server) = table
            .ancestors(p.pid)
            .map(|a| a.pid)
            .find(|a| matched.contains_key(a))
        {
            helpers.push((p.pid, root_of(server)));
        }
    }
    for (helper, root) in helpers {
        if let Some(m) = matched.get_mut(&root) {
            m.helpers.push(helper);
        }
    }
    let mut servers: Vec<Identified<'s>> = matched
        .into_values()
        .filter(|m| !parent_of.contains_key(&m.pid))
        .collect();
    for s in &mut servers {
        s.workers.sort_unstable();
        s.helpers.sort_unstable();
    }
    servers.sort_by_key(|s| s.pid);
    servers
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn entry(pid: u32, ppid: u32, comm: &str, argv: &str, exe: Option<&str>) -> ProcEntry {
        ProcEntry {
            pid,
            ppid,
            uid: 0,
            comm: comm.into(),
            argv: argv.split(' ').map(String::from).collect(),
            exe: exe.map(String::from),
            exe_path: None,
            starttime: u64::from(pid),
            script: Default::default(),
        }
    }

    const ANY_HOST: Host<'static> = Host {
        may_listen: &|_| true,
        home_of: &|_| None,
    };

    fn table(entries: Vec<ProcEntry>) -> ProcTable {
        ProcTable {
            procs: entries
                .into_iter()
                .map(|e| (e.pid, e))
                .collect::<HashMap<_, _>>(),
        }
    }

    #[test]
    fn workers_fold_into_their_server_and_unrelated_children_do_not() {
        let sigs = Signatures::embedded().expect("signatures");
        let t = table(vec![
            entry(1, 0, "systemd", "/sbin/init", Some("systemd")),
            entry(
                10,
                1,
                "python3",
                "/opt/v/bin/python3 /opt/v/bin/vllm serve m",
                Some("python3.11"),
            ),
            entry(
                11,
                10,
                "VLLM::EngineCor",
                "/opt/v/bin/python3 -c from multiprocessing.spawn import spawn_main; spawn_main()",
                Some("python3.11"),
            ),
            entry(
                12,
                10,
                "python3",
                "/opt/v/bin/python3 -c from multiprocessing.resource_tracker import main;main(5)",
                Some("python3.11"),
            ),
            entry(13, 10, "bash", "bash", Some("bash")),
            entry(
                20,
                1,
                "ollama",
                "/usr/local/bin/ollama serve",
                Some("ollama"),
            ),
            entry(
                21,
                20,
                "ollama",
                "/usr/local/bin/ollama runner --model /m --port 4000",
                Some("ollama"),
            ),
        ]);
        let found = identify(&t, &sigs, &ANY_HOST);
        let ids: Vec<(u32, &str, Vec<u32>, Vec<u32>)> = found
            .iter()
            .map(|f| {
                (
                    f.pid,
                    f.signature.id.as_str(),
                    f.workers.clone(),
                    f.helpers.clone(),
                )
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                (10, "vllm", vec![11, 12], vec![13]),
                (20, "ollama", vec![21], vec![])
            ],
            "bash (13) is no worker but a helper of the server it started; each server counted once"
        );
    }

    #[test]
    fn an_old_llama_cpp_server_binary_is_only_a_weak_match() {
        let sigs = Signatures::embedded().expect("signatures");
        let t = table(vec![entry(
            5,
            1,
            "server",
            "./server -m /models/x.gguf --host 0.0.0.0 --port 8080 --ctx-size 4096",
            Some("server"),
        )]);
        let found = identify(&t, &sigs, &ANY_HOST);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].strength, Strength::Weak, "{}", found[0].reason);
    }

    #[test]
    fn a_script_is_read_once_per_process() {
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("app.py");
        std::fs::write(&script, "import gradio as gr\n").expect("write");
        let own = std::process::id();
        let argv = format!("python3 -u {}", script.display());
        let p = entry(own, 1, "python3", &argv, Some("python3"));
        let head = || p.script.get_or_read(|| read_script(p.pid, &p.argv));
        assert!(head().is_some_and(|t| t.contains("import gradio")));

        // The running interpreter already read its script: a newer file is not it.
        std::fs::write(&script, "print('replaced')\n").expect("rewrite");
        assert!(head().is_some_and(|t| t.contains("import gradio")));
        // Sharing across tables built from the process cache: procs.rs tests.
    }
}
