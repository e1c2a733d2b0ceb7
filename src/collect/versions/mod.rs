//! Versions of the running stack, per server, read without executing anything:
//! the Python environment of the process (`python`), versions embedded in its
//! binary (`binary`: Go build info via `gobuild`, llama.cpp build symbols), the
//! CUDA runtime it maps and, for containers, the dpkg database of its root
//! (`system`, which also reads the host's).

pub mod binary;
pub mod gobuild;
pub mod python;
pub mod system;

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::model::components::{Component, Ecosystem, Runtime, VersionSource};
use crate::model::{BlindSpot, Server, Source};

/// Errors kept per server (one broken METADATA each would otherwise flood the UI).
const MAX_ERRORS: usize = 20;

/// File identity: the same inode with the same change time has the same content.
type Identity = (u64, u64, i64, i64);

fn identity(m: &std::fs::Metadata) -> Identity {
    (m.dev(), m.ino(), m.mtime(), m.mtime_nsec())
}

/// Results reused across refreshes while the files are unchanged.
#[derive(Default)]
pub struct Cache {
    binaries: HashMap<Identity, Result<binary::BinaryVersions, String>>,
    sites: HashMap<Identity, python::Listing>,
}

impl Cache {
    /// Drop entries not used by this collection (servers that went away).
    fn retain(&mut self, binaries: &[Identity], sites: &[Identity]) {
        self.binaries.retain(|k, _| binaries.contains(k));
        self.sites.retain(|k, _| sites.contains(k));
    }
}

/// Versions of every server; fills `components` and `runtime`.
pub fn read_all(
    servers: &mut [Server],
    home_of: &dyn Fn(u32) -> Option<String>,
    cache: &mut Cache,
    blind: &mut Vec<BlindSpot>,
) {
    let mut used_bins = Vec::new();
    let mut used_sites = Vec::new();
    for s in servers.iter_mut() {
        let home = s.uid.and_then(home_of);
        let (components, runtime) =
            read_server(s, home, cache, blind, &mut used_bins, &mut used_sites);
        s.components = components;
        s.runtime = runtime;
    }
    cache.retain(&used_bins, &used_sites);
}

fn denied(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::PermissionDenied
}

/// What reading one server's versions accumulates.
struct Reading<'a> {
    cache: &'a mut Cache,
    blind: &'a mut Vec<BlindSpot>,
    used_bins: &'a mut Vec<Identity>,
    used_sites: &'a mut Vec<Identity>,
    out: Vec<Component>,
    rt: Runtime,
}

fn read_server(
    s: &Server,
    home: Option<String>,
    cache: &mut Cache,
    blind: &mut Vec<BlindSpot>,
    used_bins: &mut Vec<Identity>,
    used_sites: &mut Vec<Identity>,
) -> (Vec<Component>, Runtime) {
    let mut r = Reading {
        cache,
        blind,
        used_bins,
        used_sites,
        out: Vec::new(),
        rt: Runtime::default(),
    };
    let root = PathBuf::from(format!("/proc/{}/root", s.pid));
    binary_components(s, &mut r);
    cuda_runtime(s, &mut r);
    if s.confinement.container.is_some() {
        container_packages(&root, &mut r);
    }
    if python::is_python(&s.cmdline, s.exe.as_deref()) {
        python_packages(s, &root, home, &mut r);
    }
    r.rt.errors.truncate(MAX_ERRORS);
    (r.out, r.rt)
}

/// The binary: Go build info, llama.cpp build symbols.
fn binary_components(s: &Server, r: &mut Reading) {
    let exe_link = PathBuf::from(format!("/proc/{}/exe", s.pid));
    match std::fs::metadata(&exe_link) {
        Ok(m) => {
            let id = identity(&m);
            r.used_bins.push(id);
            let read = r.cache
                .binaries
                .entry(id)
                .or_insert_with(|| binary::read(&exe_link));
            let shown = s.exe.clone().unwrap_or_else(|| exe_link.to_string_lossy().into_owned());
            match read {
                Ok(b) => {
                    match &b.go {
                        Some(Ok(info)) => {
                            let (c, go) = gobuild::components(info, &shown);
                            r.out.extend(c);
                            r.rt.go = Some(go);
                        }
                        Some(Err(e)) => r.rt.errors.push(format!("{shown}: Go build info: {e}")),
                        None => {}
                    }
                    if let Some(l) = &b.llama {
                        r.out.push(Component { version_note: None, canonical_version: None,
                            ecosystem: Ecosystem::LlamaCpp,
                            name: "llama.cpp".into(),
                            key: "llama.cpp".into(),
                            // Release tags are `b<build number>`.
                            version: format!("b{}", l.number),
                            path: shown.clone(),
                            how: VersionSource::ElfSymbols,
                            replaced_by: None,
                            source_package: None,
                            shadowed: false,
            revision: l.commit.clone(),
                            detail: l.commit.as_ref().map(|c| format!("commit {c}")),
                        });
                    }
                }
                Err(e) => r.rt.errors.push(format!("{shown}: {e}")),
            }
        }
        Err(e) if denied(&e) => r.blind.push(BlindSpot {
            what: format!("executable of pid {} ({})", s.pid, s.product),
            path: Source::path(exe_link.to_string_lossy()),
            reason: "permission denied".into(),
            consequence: "versions built into the server binary (Go modules, llama.cpp build) are unknown; run as root or as the server's user".into(),
        }),
        Err(e) => r.rt.errors.push(format!("{}: {e}", exe_link.display())),
    }
    if matches!(s.product_id.as_str(), "llama_server" | "ollama_runner")
        && !r.out.iter().any(|c| c.ecosystem == Ecosystem::LlamaCpp)
    {
        r.rt.notes.push(
            "llama.cpp build: no LLAMA_BUILD_NUMBER symbol (stripped binary); the /props probe answer's build_info carries it when probes are on".into(),
        );
    }
}

/// The CUDA runtime the server or its workers map.
fn cuda_runtime(s: &Server, r: &mut Reading) {
    for pid in std::iter::once(s.pid).chain(s.workers.iter().map(|w| w.pid)) {
        if let Ok(text) = std::fs::read(format!("/proc/{pid}/maps"))
            && let Ok(maps) = crate::collect::procs::maps::parse(&text)
            && let Some(c) = system::mapped_cudart(&maps)
        {
            r.out.push(c);
            break;
        }
    }
}

/// A container's own packages, as its processes see them.
fn container_packages(root: &Path, r: &mut Reading) {
    match system::dpkg_components(root) {
        Ok(Some(c)) => r.out.extend(c),
        Ok(None) => {}
        Err(e) => r.rt.errors.push(format!("{}: {e}", root.display())),
    }
}

/// The Python environment: interpreter, sys.path, and what each site directory holds.
fn python_packages(s: &Server, root: &Path, home: Option<String>, r: &mut Reading) {
    let env: Vec<(String, String)> = s
        .env_config
        .iter()
        .map(|e| (e.name.clone(), e.value.clone()))
        .collect();
    let view = python::ProcessView {
        root: root.to_path_buf(),
        argv: &s.cmdline,
        exe: s.exe.as_deref(),
        cwd: std::fs::read_link(format!("/proc/{}/cwd", s.pid)).ok(),
        env: &env,
        home,
    };
    match std::fs::read_dir(root) {
        Err(e) if denied(&e) => r.blind.push(BlindSpot {
            what: format!("Python environment of pid {} ({})", s.pid, s.product),
            path: Source::path(root.to_string_lossy()),
            reason: "permission denied".into(),
            consequence: "the Python packages this server imports, and their versions, are unknown; run as root or as the server's user".into(),
        }),
        _ => {
            let mut env = python::derive(&view);
            let mut listings = Vec::new();
            for d in env.site_dirs.iter_mut() {
                let seen = view.seen(Path::new(&d.path));
                let meta = match std::fs::metadata(&seen) {
                    Ok(m) if m.is_dir() => m,
                    Ok(_) => {
                        d.state = "not a directory".into();
                        continue;
                    }
                    Err(e) => {
                        d.state = if denied(&e) { "unreadable" } else { "absent" }.into();
                        if denied(&e) {
                            r.blind.push(BlindSpot {
                                what: format!("site directory of pid {} ({})", s.pid, s.product),
                                path: Source::path(d.path.clone()),
                                reason: e.to_string(),
                                consequence: "packages installed there are not listed".into(),
                            });
                        }
                        continue;
                    }
                };
                let id = identity(&meta);
                r.used_sites.push(id);
                let listing = match r.cache.sites.get(&id) {
                    Some(l) => l.clone(),
                    None => match python::list_site_dir(&seen, &d.path) {
                        Ok(l) => {
                            r.cache.sites.insert(id, l.clone());
                            l
                        }
                        Err(e) => {
                            d.state = "unreadable".into();
                            r.rt.errors.push(format!("{}: {e}", d.path));
                            continue;
                        }
                    },
                };
                d.state = "found".into();
                d.distributions = listing.dists.len();
                r.rt.errors.extend(listing.errors.iter().cloned());
                listings.push(listing);
            }
            r.out.extend(python::components(&env, &listings));
            r.rt.python = Some(env);
        }
    }
}
