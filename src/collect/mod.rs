//! Reads the system. Nothing here renders or judges: collectors turn /proc into
//! the plain `model::Inventory`, recording every refused read as a blind spot.

pub mod gpu;
pub mod host;
pub mod models;
pub mod net;
pub mod privacy;
pub mod procs;
pub mod servers;
pub mod versions;
pub mod watch;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Instant, SystemTime};

use crate::error::Error;
use crate::knowledge::Knowledge;
use crate::model::firewall::{FirewallView, NamespaceFirewall};
use crate::model::{BlindSpot, Inventory, Probe, Server, Source};

use crate::formats::analyse;
use host::UserNames;
use models::access as file_access;
use models::dirs as model_dirs;
use models::{hashcache, hasher, loaded, stores};
use net::sockets::walk_fds;
use net::{firewall, netns, probe};
use procs::{ProcTable, identify};

pub struct Collector {
    knowledge: Knowledge,
    secret_flags: Vec<String>,
    /// Secret flags of products whose argparse takes any unambiguous prefix.
    abbreviable_flags: Vec<String>,
    /// Variables whose values are read: config_audit.toml's allowlist and the
    /// switches, URLs and locations of privacy.toml.
    env_allowlist: Vec<String>,
    /// Settings read as switch words even under secret-looking names.
    env_switches: Vec<String>,
    users: UserNames,
    sniffed: std::sync::Mutex<loaded::SniffCache>,
    probes_enabled: bool,
    /// (pid, socket inode) → last probe round: at most one round a minute per listener.
    probe_cache: std::sync::Mutex<HashMap<(u32, u64), (Instant, Probe)>>,
    /// netns → last firewall read: the ruleset is read at most once a minute.
    firewall_cache: std::sync::Mutex<HashMap<Option<String>, (Instant, FirewallView)>>,
    procs: std::sync::Mutex<procs::ProcCache>,
    /// File identity → sha256, kept across runs in the state directory.
    hashes: std::sync::Arc<std::sync::Mutex<Option<hashcache::HashCache>>>,
    hasher: hasher::Hasher,
    /// Headless runs wait for every hash; the dashboard shows progress instead.
    wait_for_hashes: bool,
    analyses: std::sync::Mutex<analyse::AnalysisCache>,
    /// Last read of the NAT rules (root only), reused for a minute like the firewall.
    nat: net::publishing::NatReader,
    /// Model directories the operator listed (`[models] roots`).
    model_roots: Vec<std::path::PathBuf>,
    /// The policy file, read on every collection (edits apply at the next refresh).
    policy_path: Option<std::path::PathBuf>,
    /// Versions read from binaries and site directories, per file identity.
    versions: std::sync::Mutex<versions::Cache>,
    /// When each live peer of an AI process was first seen by this process.
    peers_first_seen: std::sync::Mutex<privacy::connections::FirstSeen>,
    /// NVML, loaded once (or why it could not be).
    gpu: std::sync::Mutex<gpu::Gpu>,
}

/// A listener is probed again only after this long.
const PROBE_TTL: std::time::Duration = std::time::Duration::from_secs(60);
/// Listeners probed per server and rounds run at once.
const PROBE_LISTENERS_PER_SERVER: usize = 2;
const PROBE_PARALLEL: usize = 8;

impl Collector {
    pub fn new(knowledge: Knowledge) -> Self {
        let mut secret_flags: Vec<String> = knowledge
            .signatures
            .servers
            .iter()
            .flat_map(|s| s.secret_flags.iter().cloned())
            .collect();
        secret_flags.sort();
        secret_flags.dedup();
        let mut abbreviable_flags: Vec<String> = knowledge
            .signatures
            .servers
            .iter()
            .filter(|s| s.argparse_abbrev)
            .flat_map(|s| s.secret_flags.iter().cloned())
            .collect();
        abbreviable_flags.sort();
        abbreviable_flags.dedup();
        let hashes: std::sync::Arc<std::sync::Mutex<Option<hashcache::HashCache>>> =
            Default::default();
        let mut env_allowlist = knowledge.audit.env_value_allowlist.clone();
        env_allowlist.extend(knowledge.privacy.env_value_names());
        env_allowlist.extend(knowledge.signatures.self_grant_env_names());
        env_allowlist.sort();
        env_allowlist.dedup();
        let mut env_switches: Vec<String> = knowledge.signatures.self_grant_env_names().collect();
        env_switches.sort();
        env_switches.dedup();
        Collector {
            knowledge,
            secret_flags,
            abbreviable_flags,
            env_allowlist,
            env_switches,
            users: UserNames::load(),
            sniffed: Default::default(),
            probes_enabled: true,
            probe_cache: Default::default(),
            firewall_cache: Default::default(),
            nat: net::publishing::NatReader::new(PROBE_TTL),
            procs: Default::default(),
            hashes: hashes.clone(),
            hasher: hasher::Hasher::new(hashes, background_workers()),
            wait_for_hashes: false,
            analyses: Default::default(),
            model_roots: Vec::new(),
            policy_path: None,
            versions: Default::default(),
            peers_first_seen: Default::default(),
            gpu: std::sync::Mutex::new(gpu::Gpu::open()),
        }
    }

    /// Hash every model file before a collection returns, on all cores
    /// (headless snapshots), instead of in the background at low priority.
    pub fn wait_for_hashes(mut self, wait: bool) -> Self {
        self.wait_for_hashes = wait;
        if wait {
            self.hasher = hasher::Hasher::new(self.hashes.clone(), cores());
        }
        self
    }

    /// Extra directories to search for model files.
    pub fn with_model_roots(mut self, roots: Vec<std::path::PathBuf>) -> Self {
        self.model_roots = roots;
        self
    }

    /// Where the operator's policy file is (absent file: no policy).
    pub fn with_policy(mut self, path: Option<std::path::PathBuf>) -> Self {
        self.policy_path = path;
        self
    }

    /// Model directories without a store layout, found by content; files already
    /// listed by a store (same device and inode) are not listed twice. Returns
    /// every root looked at, Ollama and Hugging Face ones included.
    fn read_model_dirs(
        &self,
        servers: &[Server],
        store_files: &mut Vec<crate::model::StoreFile>,
        blind: &mut Vec<BlindSpot>,
    ) -> Vec<crate::model::ModelRoot> {
        use std::os::unix::fs::MetadataExt;
        let identity = |p: &str| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
        let mut seen: HashSet<(u64, u64)> = store_files
            .iter()
            .filter_map(|f| identity(&f.path))
            .collect();
        let mut out = Vec::new();
        for (kind, root, why) in stores::roots(servers, &self.users) {
            use crate::model::RootState;
            let state = match std::fs::read_dir(&root) {
                Ok(_) => RootState::Found,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => RootState::Absent,
                Err(_) => RootState::Unreadable,
            };
            let root_s = root.to_string_lossy().into_owned();
            out.push(crate::model::ModelRoot {
                kind,
                files: store_files
                    .iter()
                    .filter(|f| f.root == root_s && stores::is_model(f))
                    .count(),
                path: root_s,
                why,
                state,
            });
        }
        let own_home = std::env::var_os("HOME").map(std::path::PathBuf::from);
        let cwd_of = |s: &Server| {
            let cwd = std::fs::read_link(format!("/proc/{}/cwd", s.pid)).ok()?;
            Some(match s.confinement.container {
                // As the container sees it, reached through its root.
                Some(_) => loaded::through_root(s.pid, &cwd),
                None => cwd,
            })
        };
        for r in model_dirs::roots(
            servers,
            &self.users,
            &self.model_roots,
            own_home.as_deref(),
            &cwd_of,
        ) {
            let path = r.path.to_string_lossy().into_owned();
            let mut root = crate::model::ModelRoot {
                kind: r.kind,
                path: path.clone(),
                why: r.why.clone(),
                state: crate::model::RootState::Found,
                files: 0,
            };
            match std::fs::read_dir(&r.path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    root.state = crate::model::RootState::Absent;
                    out.push(root);
                    continue;
                }
                Err(e) => {
                    root.state = crate::model::RootState::Unreadable;
                    blind.push(BlindSpot {
                        what: format!("{} ({})", r.kind.label(), r.why),
                        path: Source::path(path),
                        reason: e.to_string(),
                        consequence: "model files in it are not listed or judged; run as root or as its owner".into(),
                    });
                    out.push(root);
                    continue;
                }
            }
            let walked = {
                let mut cache = self.sniffed.lock().unwrap_or_else(|p| p.into_inner());
                model_dirs::walk(r.kind, &r.path, &r.why, &mut |p, m| cache.sniff(p, m))
            };
            blind.extend(walked.blind);
            for f in walked.files {
                if identity(&f.path).is_some_and(|id| !seen.insert(id)) {
                    continue;
                }
                root.files += 1;
                store_files.push(f);
            }
            out.push(root);
        }
        out
    }

    /// `false` is passive mode: no packet is sent, not even to loopback.
    pub fn with_probes(mut self, enabled: bool) -> Self {
        self.probes_enabled = enabled;
        self
    }

    /// Firewalls of the host namespace and of every namespace holding a server.
    fn read_firewalls(
        &self,
        servers: &[Server],
        sockets: &[crate::model::Socket],
        own_netns: &Option<String>,
        blind: &mut Vec<BlindSpot>,
    ) -> Vec<NamespaceFirewall> {
        // Only namespaces where an AI server listens beyond loopback: elsewhere no
        // verdict depends on the firewall, and reading it runs nft.
        let beyond_loopback = |s: &Server| {
            s.sockets
                .iter()
                .filter_map(|i| sockets.get(*i))
                .any(|k| k.is_listener() && !k.local.addr.is_loopback())
        };
        let mut wanted: BTreeMap<Option<String>, Option<u32>> = BTreeMap::new();
        for s in servers.iter().filter(|s| beyond_loopback(s)) {
            if s.netns.is_none() || s.netns == *own_netns {
                wanted.insert(own_netns.clone(), None);
            } else {
                wanted.entry(s.netns.clone()).or_insert(Some(s.pid));
                // Published ports of a container are filtered by the host.
                wanted.insert(own_netns.clone(), None);
            }
        }
        let mut cache = self
            .firewall_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (at, _)| at.elapsed() < PROBE_TTL);
        let mut out = Vec::new();
        for (ns, pid) in wanted {
            let view = match cache.get(&ns) {
                Some((_, v)) => v.clone(),
                None => {
                    let v = match pid {
                        None => firewall::read_firewall(),
                        Some(pid) => netns::run_in_netns_of(pid, || Ok(firewall::read_firewall()))
                            .unwrap_or_else(|e| FirewallView::Unreadable {
                                reason: format!("cannot enter the namespace: {e}"),
                            }),
                    };
                    cache.insert(ns.clone(), (Instant::now(), v.clone()));
                    v
                }
            };
            if let FirewallView::Unreadable { reason } = &view {
                blind.push(BlindSpot {
                    what: format!(
                        "host firewall of {}",
                        ns.as_deref().unwrap_or("an unknown namespace")
                    ),
                    path: Source::command("nft -j list ruleset"),
                    reason: reason.clone(),
                    consequence: "listeners beyond loopback are judged reachable unless a firewall blocks them".into(),
                });
            }
            out.push(NamespaceFirewall { netns: ns, view });
        }
        out
    }

    /// Model stores: listed by content, their digests checked (small files now,
    /// each file once per content: later refreshes reuse the hash).
    fn read_stores(
        &self,
        servers: &[Server],
        blind: &mut Vec<BlindSpot>,
    ) -> Vec<crate::model::StoreFile> {
        let mut out = Vec::new();
        for (kind, root, why) in stores::roots(servers, &self.users) {
            match std::fs::read_dir(&root) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    blind.push(BlindSpot {
                        what: format!("{kind:?} model store ({why})"),
                        path: Source::path(root.to_string_lossy()),
                        reason: e.to_string(),
                        consequence: "models in it are not listed or checked".into(),
                    });
                    continue;
                }
            }
            out.extend(match kind {
                crate::model::StoreKind::Ollama => stores::ollama(&root),
                crate::model::StoreKind::HuggingFace => stores::huggingface(&root),
                _ => Vec::new(),
            });
        }
        out
    }

    fn run_probes(
        &self,
        servers: &[Server],
        sockets: &[crate::model::Socket],
        own_netns: &Option<String>,
        is_root: bool,
        now: &str,
    ) -> Vec<Probe> {
        let fps = &self.knowledge.fingerprints;
        let mut cache = self.probe_cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.retain(|_, (at, _)| at.elapsed() < PROBE_TTL);
        let mut done = Vec::new();
        let mut todo = Vec::new();
        for s in servers {
            // The product's fingerprint speaks for the product's own ports; a
            // helper's port serves something else, and a product without a
            // fingerprint still answers or refuses: both get the generic round.
            let own_fp = fps.get(&s.product_id).unwrap_or(&fps.generic);
            let tcp_listener = |i: usize| {
                sockets.get(i).is_some_and(|k| {
                    k.protocol == crate::model::Protocol::Tcp
                        && k.state == crate::model::SocketState::Listen
                })
            };
            let helper = |i: usize| sockets.get(i).is_some_and(|k| s.helper_of(i, k).is_some());
            let own = s
                .sockets
                .iter()
                .copied()
                .filter(|&i| tcp_listener(i) && !helper(i))
                .take(PROBE_LISTENERS_PER_SERVER)
                .map(|i| (i, own_fp));
            let helpers = s
                .sockets
                .iter()
                .copied()
                .filter(|&i| tcp_listener(i) && helper(i))
                .take(PROBE_LISTENERS_PER_SERVER)
                .map(|i| (i, &fps.generic));
            for (i, fp) in own.chain(helpers) {
                let sock = &sockets[i];
                if let Some((_, p)) = cache.get(&(s.pid, sock.inode)) {
                    done.push(Probe {
                        socket: i,
                        ..p.clone()
                    });
                    continue;
                }
                let addr = probe::target_for(&sock.local);
                let ns = sock
                    .netns
                    .clone()
                    .unwrap_or_else(|| "unknown namespace".into());
                let mut p = Probe {
                    socket: i,
                    pid: s.pid,
                    product_id: fp.id.clone(),
                    target: format!("{addr} in {ns}"),
                    responses: Vec::new(),
                    skipped: None,
                    at: now.to_string(),
                };
                let other = sock.netns.is_some() && sock.netns != *own_netns;
                if other && !is_root {
                    p.skipped = Some("the listener is in another network namespace: probing it from inside needs root".into());
                    done.push(p);
                    continue;
                }
                todo.push((p, addr, fp, other.then_some(s.pid), sock.inode));
            }
        }
        for chunk in todo.chunks(PROBE_PARALLEL) {
            let results: Vec<(Probe, u64)> = std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(p, addr, fp, via, inode)| {
                        scope.spawn(move || {
                            let mut p = p.clone();
                            match via {
                                None => p.responses = probe::round(*addr, fp),
                                Some(pid) => match netns::run_in_netns_of(*pid, || {
                                    Ok(probe::round(*addr, fp))
                                }) {
                                    Ok(r) => p.responses = r,
                                    Err(e) => {
                                        p.skipped = Some(format!("cannot enter its namespace: {e}"))
                                    }
                                },
                            }
                            (p, *inode)
                        })
                    })
                    .collect();
                handles.into_iter().filter_map(|h| h.join().ok()).collect()
            });
            for (p, inode) in results {
                cache.insert((p.pid, inode), (Instant::now(), p.clone()));
                done.push(p);
            }
        }
        done.sort_by_key(|p| p.socket);
        done
    }

    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// One full collection. Fails only when /proc itself cannot be listed;
    /// everything narrower becomes a blind spot in the inventory.
    pub fn collect(&self) -> Result<Inventory, Error> {
        let started = Instant::now();
        let collected_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let privileges = host::privileges(&self.users);
        let mut blind = Vec::new();

        let mut proc_cache = self.procs.lock().unwrap_or_else(|p| p.into_inner());
        let table = ProcTable::scan(&self.secret_flags, &self.abbreviable_flags, &mut proc_cache)
            .map_err(|source| Error::Read {
            path: "/proc".into(),
            source,
        })?;
        drop(proc_cache);
        let walk = walk_fds(&table);
        // A process holds a socket, or one it started does (a server whose
        // workers accept), or its fds could not be read.
        let mut may_listen: HashSet<u32> = walk.sockets.values().flatten().copied().collect();
        may_listen.extend(walk.unreadable.iter().map(|(pid, _)| *pid));
        let parents: Vec<u32> = may_listen
            .iter()
            .filter_map(|pid| table.get(*pid).map(|p| p.ppid))
            .collect();
        may_listen.extend(parents);
        let found = identify::identify(
            &table,
            &self.knowledge.signatures,
            &identify::Host {
                may_listen: &|pid| may_listen.contains(&pid),
                home_of: &|uid| self.users.home(uid),
            },
        );
        let server_pids: HashSet<u32> = found
            .iter()
            .flat_map(|f| std::iter::once(f.pid).chain(f.workers.iter().copied()))
            .collect();

        // Namespaces: only processes that hold sockets (or are servers) matter.
        let mut interesting: HashSet<u32> = walk.sockets.values().flatten().copied().collect();
        interesting.extend(&server_pids);
        let net = net::read::read(
            &table,
            &walk,
            net::read::Namespaces::of(&interesting),
            &self.knowledge.network,
            &self.users,
            privileges.is_root,
            &mut blind,
        );
        let (ns, interfaces, sockets) = (net.namespaces, net.interfaces, net.sockets);
        let mut servers = servers::build(
            found,
            &servers::Context {
                table: &table,
                walk: &walk,
                sockets: &sockets,
                ns_of_pid: &ns.of_pid,
                env_allowlist: &self.env_allowlist,
                env_switches: &self.env_switches,
                users: &self.users,
                sniffed: &self.sniffed,
            },
            &mut blind,
        );
        servers::others_blind_spots(&walk, &server_pids, ns.unreadable.clone(), &mut blind);

        {
            let mut cache = self.versions.lock().unwrap_or_else(|p| p.into_inner());
            versions::read_all(
                &mut servers,
                &|uid| self.users.home(uid),
                &mut cache,
                &mut blind,
            );
        }
        for s in &mut servers {
            if let Some(sig) = self.knowledge.signatures.get(&s.product_id) {
                procs::auth::self_grant_defaults(sig, s);
            }
        }
        let system_software = versions::system::host();
        let firewalls = self.read_firewalls(&servers, &sockets, &ns.own, &mut blind);
        let mut store_files = self.read_stores(&servers, &mut blind);
        let model_roots = self.read_model_dirs(&servers, &mut store_files, &mut blind);
        // Group membership, read once per collection for every access chain.
        let groups = file_access::Groups::load();
        models::annotate(
            &mut servers,
            &mut store_files,
            &self.users,
            &groups,
            &mut self.analyses.lock().unwrap_or_else(|p| p.into_inner()),
            &self.knowledge.pickle,
        );
        let policy = match &self.policy_path {
            Some(p) => crate::knowledge::policy::load(p),
            None => crate::model::policy::PolicyStatus::Absent {
                path: "(no policy path: neither XDG_CONFIG_HOME nor HOME is set)".into(),
            },
        };
        let hashing = self.resolve_hashes(&mut servers, &mut store_files, &mut blind);
        let publishing = net::publishing::read(
            &table,
            &sockets,
            &ns,
            servers.iter().any(|s| s.confinement.container.is_some()),
            privileges.is_root,
            &self.nat,
            &mut blind,
        );
        let probes = if self.probes_enabled {
            self.run_probes(
                &servers,
                &sockets,
                &ns.own,
                privileges.is_root,
                &collected_at,
            )
        } else {
            Vec::new()
        };
        let privacy = privacy::read(
            &privacy::Context {
                table: &table,
                knowledge: &self.knowledge.privacy,
                servers: &servers,
                sockets: &sockets,
                users: &self.users,
                groups: &groups,
                collected_at: &collected_at,
            },
            &mut self
                .peers_first_seen
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
            &mut blind,
        );
        let gpu = self.gpu.lock().unwrap_or_else(|p| p.into_inner()).read();
        if let Some(why) = &gpu.unavailable {
            blind.push(BlindSpot {
                what: "GPU memory and utilisation per process".into(),
                path: Source::command("NVML (libnvidia-ml.so.1)"),
                reason: why.clone(),
                consequence: "the servers' GPU column is empty: which inference process holds which GPU, and how much of it, is not known".into(),
            });
        }
        let collection_ms = started.elapsed().as_millis() as u64;
        Ok(Inventory {
            host: host::host_info(collected_at, collection_ms),
            privileges,
            own_netns: ns.own,
            servers,
            sockets,
            interfaces,
            publishes: publishing.publishes,
            store_files,
            model_roots,
            policy,
            containers: publishing.containers,
            probes,
            probes_enabled: self.probes_enabled,
            hashing,
            firewalls,
            system_software,
            privacy,
            gpu,
            blind_spots: blind,
            processes_seen: table.procs.len(),
        })
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Background hashing leaves a core for the dashboard and the rest of the host.
fn background_workers() -> usize {
    cores().saturating_sub(1).clamp(1, 4)
}
