//! The Python environment of one process, derived from its files the way
//! CPython's `site` derives `sys.path` (venv `pyvenv.cfg`, base prefix, user
//! site, `PYTHONPATH`), and the distributions installed in it (`Name`/`Version`
//! of every `*.dist-info/METADATA` and `*.egg-info/PKG-INFO`). Everything is
//! read through `/proc/PID/root`, so a container is read as its process sees it.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::knowledge::signatures::PythonDists;
use crate::model::components::{Component, Ecosystem, PythonEnv, SiteDir, VersionSource, pep503};

/// Directory entries looked at per site directory.
const MAX_ENTRIES: usize = 20_000;
/// Distributions kept per site directory.
const MAX_DISTS: usize = 5_000;
/// Bytes read from the top of a METADATA file: the headers come first, the
/// long description after them can be megabytes.
const MAX_HEADER_BYTES: u64 = 64 << 10;
/// Bytes read from pyvenv.cfg.
const MAX_CFG_BYTES: u64 = 16 << 10;
/// PYTHONPATH entries followed.
const MAX_PYTHONPATH: usize = 32;

/// What the collector knows of the process, as plain values.
pub struct ProcessView<'a> {
    /// `/proc/PID/root` (or `/` in tests).
    pub root: PathBuf,
    pub argv: &'a [String],
    /// Target of /proc/PID/exe.
    pub exe: Option<&'a str>,
    pub cwd: Option<PathBuf>,
    /// Allowlisted environment values (PYTHONPATH, PYTHONNOUSERSITE, VIRTUAL_ENV…).
    pub env: &'a [(String, String)],
    /// Home directory of the process owner, for the user site.
    pub home: Option<String>,
}

impl ProcessView<'_> {
    /// A path as the process sees it, reached from here (symlinks resolved in its root).
    pub fn seen(&self, p: &Path) -> PathBuf {
        resolve_in_root(&self.root, p)
    }
    fn env(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
    fn absolute(&self, p: &str) -> Option<PathBuf> {
        let p = Path::new(p);
        if p.is_absolute() {
            Some(p.to_path_buf())
        } else {
            self.cwd.as_ref().map(|c| c.join(p))
        }
    }
}

/// Symlinks followed per path (the kernel's own limit is 40).
const MAX_SYMLINKS: usize = 40;

fn parts(p: &Path) -> impl DoubleEndedIterator<Item = std::ffi::OsString> + '_ {
    use std::path::Component as C;
    p.components().filter_map(|c| match c {
        C::Normal(x) => Some(x.to_os_string()),
        C::ParentDir => Some("..".into()),
        C::RootDir | C::CurDir | C::Prefix(_) => None,
    })
}

/// `p` resolved the way the process resolves it, under `root` (`/proc/PID/root`).
/// The kernel resolves an absolute symlink met under `/proc/PID/root/...`
/// against *our* root, so a container's `/opt/venv -> /srv/venv` would be read
/// from the host's `/srv/venv`: each component is looked at, and symlink targets
/// are re-rooted here. Missing components end the walk (the rest is joined as is).
pub fn resolve_in_root(root: &Path, p: &Path) -> PathBuf {
    let mut inside = PathBuf::new();
    let mut pending: std::collections::VecDeque<std::ffi::OsString> = parts(p).collect();
    let mut hops = 0;
    while let Some(c) = pending.pop_front() {
        if c == ".." {
            inside.pop();
            continue;
        }
        let candidate = inside.join(&c);
        let here = root.join(&candidate);
        let is_link = std::fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink());
        match std::fs::read_link(&here) {
            Ok(target) if is_link && hops < MAX_SYMLINKS => {
                hops += 1;
                if target.is_absolute() {
                    inside = PathBuf::new();
                }
                for x in parts(&target).rev() {
                    pending.push_front(x);
                }
            }
            _ => inside = candidate,
        }
    }
    root.join(inside)
}

/// Is this process a Python interpreter? By its real binary or argv[0].
pub fn is_python(argv: &[String], exe: Option<&str>) -> bool {
    let base = |p: &str| {
        Path::new(p)
            .file_name()
            .map(|n| n.to_string_lossy().starts_with("python"))
            .unwrap_or(false)
    };
    exe.is_some_and(base) || argv.first().is_some_and(|a| base(a))
}

/// A distribution found in one site directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Dist {
    pub name: String,
    pub version: String,
    /// The METADATA / PKG-INFO file, as the process sees it.
    pub path: String,
    pub how: VersionSource,
}

/// One site directory's listing (cached by the caller on the directory's mtime).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    pub dists: Vec<Dist>,
    pub errors: Vec<String>,
}

struct VenvCfg {
    home: Option<String>,
    system_site: bool,
    version: Option<String>,
}

fn read_head(path: &Path, cap: u64) -> std::io::Result<String> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?.take(cap).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn parse_pyvenv(text: &str) -> VenvCfg {
    let mut cfg = VenvCfg {
        home: None,
        system_site: false,
        version: None,
    };
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        match k {
            "home" => cfg.home = Some(v.to_string()),
            "include-system-site-packages" => cfg.system_site = v.eq_ignore_ascii_case("true"),
            // `version` (venv) and `version_info` (virtualenv, e.g. 3.11.2.final.0).
            "version" | "version_info" if cfg.version.is_none() || k == "version" => {
                cfg.version = Some(v.split(".final").next().unwrap_or(v).to_string())
            }
            _ => {}
        }
    }
    cfg
}

/// `Name`/`Version` from RFC 822 headers (METADATA, PKG-INFO): the first
/// occurrence of each, before the first blank line.
pub fn parse_metadata(text: &str) -> Result<(String, String), String> {
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("Name") && name.is_none() {
                name = Some(v.to_string());
            } else if k.eq_ignore_ascii_case("Version") && version.is_none() {
                version = Some(v.to_string());
            }
        }
    }
    match (name, version) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => Ok((n, v)),
        (None, _) | (Some(_), None) => Err("no Name or no Version header".into()),
        _ => Err("empty Name or Version".into()),
    }
}

/// Distributions of one site directory. `seen_dir` is where it is reached from
/// here, `shown_dir` how the process names it.
pub fn list_site_dir(seen_dir: &Path, shown_dir: &str) -> std::io::Result<Listing> {
    let mut out = Listing::default();
    let mut names: Vec<(String, bool)> = Vec::new();
    for (i, entry) in std::fs::read_dir(seen_dir)?.enumerate() {
        if i >= MAX_ENTRIES {
            out.errors.push(format!(
                "{shown_dir}: more than {MAX_ENTRIES} entries, the rest not read"
            ));
            break;
        }
        let Ok(entry) = entry else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".dist-info") || name.ends_with(".egg-info") {
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            names.push((name, is_dir));
        }
    }
    // Directory order is arbitrary; a sorted listing is stable across runs.
    names.sort();
    for (name, is_dir) in names {
        if out.dists.len() >= MAX_DISTS {
            out.errors.push(format!(
                "{shown_dir}: more than {MAX_DISTS} distributions, the rest not read"
            ));
            break;
        }
        let (file, how) = if name.ends_with(".dist-info") {
            (format!("{name}/METADATA"), VersionSource::DistInfoMetadata)
        } else if is_dir {
            (format!("{name}/PKG-INFO"), VersionSource::EggInfoPkgInfo)
        } else {
            // setup.py develop / old installs: the .egg-info is the PKG-INFO file itself.
            (name.clone(), VersionSource::EggInfoPkgInfo)
        };
        let shown = format!("{}/{file}", shown_dir.trim_end_matches('/'));
        match read_head(&seen_dir.join(&file), MAX_HEADER_BYTES)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_metadata(&t))
        {
            Ok((n, v)) => out.dists.push(Dist {
                name: n,
                version: v,
                path: shown,
                how,
            }),
            Err(e) => out.errors.push(format!("{shown}: {e}")),
        }
    }
    Ok(out)
}

/// Where to look, in `sys.path` order, with why; plus the environment facts.
pub fn derive(view: &ProcessView<'_>) -> PythonEnv {
    let exists = |p: &Path| view.seen(p).exists();
    // The interpreter as started: CPython finds pyvenv.cfg from argv[0], not the
    // symlink-resolved binary (a venv's python is a symlink to the base one).
    let started = view
        .argv
        .first()
        .filter(|a| a.contains('/'))
        .and_then(|a| view.absolute(a));
    let mut venv: Option<PathBuf> = None;
    let candidates = started
        .iter()
        .cloned()
        .chain(
            view.env("VIRTUAL_ENV")
                .map(|v| Path::new(v).join("bin/python")),
        )
        .chain(view.exe.map(PathBuf::from));
    'outer: for exe in candidates {
        for dir in exe.ancestors().skip(1).take(2) {
            if exists(&dir.join("pyvenv.cfg")) {
                venv = Some(dir.to_path_buf());
                break 'outer;
            }
        }
    }
    let cfg = venv
        .as_ref()
        .and_then(|v| read_head(&view.seen(&v.join("pyvenv.cfg")), MAX_CFG_BYTES).ok())
        .map(|t| parse_pyvenv(&t));
    let real = view.exe.map(PathBuf::from);
    // Base prefix: the parent of the directory holding the base interpreter.
    let base_prefix = cfg
        .as_ref()
        .and_then(|c| c.home.as_ref())
        .map(PathBuf::from)
        .or_else(|| {
            real.as_ref()
                .and_then(|r| r.parent().map(Path::to_path_buf))
        })
        .and_then(|bin| bin.parent().map(Path::to_path_buf));
    let conda = [venv.as_ref(), base_prefix.as_ref()]
        .into_iter()
        .flatten()
        .any(|p| exists(&p.join("conda-meta")));
    let conda_python = conda
        .then(|| {
            [venv.as_ref(), base_prefix.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|p| conda_python_version(&view.seen(&p.join("conda-meta"))))
        })
        .flatten();
    let version = cfg
        .as_ref()
        .and_then(|c| c.version.clone())
        .or_else(|| conda_python.clone())
        .or_else(|| real.as_deref().and_then(version_from_name))
        .or_else(|| started.as_deref().and_then(version_from_name))
        .or_else(|| {
            [venv.as_ref(), base_prefix.as_ref()]
                .into_iter()
                .flatten()
                .find_map(|p| lib_python_dir(&view.seen(&p.join("lib"))))
        });
    let mut env = PythonEnv {
        executable: started
            .as_ref()
            .or(real.as_ref())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default(),
        real_executable: view.exe.map(str::to_string),
        version: version.clone(),
        venv: venv.as_ref().map(|v| v.to_string_lossy().into_owned()),
        base_prefix: base_prefix
            .as_ref()
            .map(|b| b.to_string_lossy().into_owned()),
        system_site_packages: cfg.as_ref().is_some_and(|c| c.system_site),
        conda,
        site_dirs: Vec::new(),
    };
    let mut dirs: Vec<(PathBuf, String)> = Vec::new();
    if let Some(pp) = view.env("PYTHONPATH") {
        for p in pp.split(':').filter(|p| !p.is_empty()).take(MAX_PYTHONPATH) {
            if let Some(abs) = view.absolute(p) {
                dirs.push((abs, "PYTHONPATH".into()));
            }
        }
    }
    let xy = version
        .as_deref()
        .map(|v| v.split('.').take(2).collect::<Vec<_>>().join("."));
    if let Some(xy) = &xy {
        let lib = format!("lib/python{xy}");
        let user_site_on =
            (venv.is_none() || env.system_site_packages) && view.env("PYTHONNOUSERSITE").is_none();
        if let Some(v) = &venv {
            dirs.push((v.join(&lib).join("site-packages"), "venv".into()));
        }
        if user_site_on {
            let base = view
                .env("PYTHONUSERBASE")
                .map(PathBuf::from)
                .or_else(|| view.home.as_ref().map(|h| Path::new(h).join(".local")));
            if let Some(b) = base {
                dirs.push((b.join(&lib).join("site-packages"), "user site".into()));
            }
        }
        if let Some(b) = &base_prefix
            && (venv.is_none() || env.system_site_packages)
        {
            dirs.push((b.join(&lib).join("site-packages"), "base prefix".into()));
            // Debian's site.py (prefix /usr): /usr/local's dist-packages, then the
            // distribution's; lib/pythonX.Y/site-packages is usually absent there.
            if b == Path::new("/usr") {
                dirs.push((
                    PathBuf::from(format!("/usr/local/lib/python{xy}/dist-packages")),
                    "Debian dist-packages".into(),
                ));
                dirs.push((
                    PathBuf::from("/usr/lib/python3/dist-packages"),
                    "Debian dist-packages".into(),
                ));
                dirs.push((
                    b.join(&lib).join("dist-packages"),
                    "Debian dist-packages".into(),
                ));
            }
        }
    }
    let mut seen_dirs: Vec<PathBuf> = Vec::new();
    for (d, why) in dirs {
        if seen_dirs.contains(&d) {
            continue;
        }
        seen_dirs.push(d.clone());
        env.site_dirs.push(SiteDir {
            path: d.to_string_lossy().into_owned(),
            why,
            state: String::new(),
            distributions: 0,
        });
    }
    env
}

/// The distributions of a process's environment, by name only (no METADATA
/// read): enough to tell what kind of program it can be, on every refresh of a
/// listener nobody has a signature for. Directory order is kept (`sys.path`).
pub fn dist_names(view: &ProcessView<'_>) -> PythonDists {
    let env = derive(view);
    let mut out = PythonDists::default();
    for d in &env.site_dirs {
        let Ok(entries) = std::fs::read_dir(view.seen(Path::new(&d.path))) else {
            continue;
        };
        let mut here: Vec<String> = entries
            .take(MAX_ENTRIES)
            .filter_map(|e| e.ok())
            .filter_map(|e| dist_dir_name(&e.file_name().to_string_lossy()))
            .collect();
        here.sort();
        here.dedup();
        out.dists
            .extend(here.into_iter().map(|n| (n, d.path.clone())));
    }
    out
}

/// `Foo_Bar-1.2.dist-info` / `foo_bar-1.2-py3.11.egg-info` → `foo-bar`: the
/// installer escapes `-` in the name to `_`, so the name ends at the first `-`.
fn dist_dir_name(entry: &str) -> Option<String> {
    let stem = entry
        .strip_suffix(".dist-info")
        .or_else(|| entry.strip_suffix(".egg-info"))?;
    let name = stem.split('-').next().filter(|n| !n.is_empty())?;
    Some(pep503(name))
}

/// A conda environment's interpreter: its package record `python-3.11.5-h955ad1f_0.json`.
fn conda_python_version(meta: &Path) -> Option<String> {
    std::fs::read_dir(meta)
        .ok()?
        .take(MAX_ENTRIES)
        .filter_map(|e| e.ok())
        .find_map(|e| conda_record_version(&e.file_name().to_string_lossy(), "python"))
}

/// `python-3.11.5-h955ad1f_0.json` → `3.11.5` for package `python`: conda
/// records are `name-version-build.json`, and neither version nor build has a `-`.
fn conda_record_version(file: &str, package: &str) -> Option<String> {
    let rest = file
        .strip_suffix(".json")?
        .strip_prefix(package)?
        .strip_prefix('-')?;
    let (version, build) = rest.rsplit_once('-')?;
    (!version.contains('-')
        && !build.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit()))
    .then(|| version.to_string())
}

/// `python3.11` → `3.11`.
fn version_from_name(p: &Path) -> Option<String> {
    let n = p.file_name()?.to_string_lossy().into_owned();
    let v = n.strip_prefix("python")?;
    (v.contains('.')
        && v.split('.')
            .all(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())))
    .then(|| v.to_string())
}

/// The one `pythonX.Y` directory under a prefix's `lib/`.
fn lib_python_dir(lib: &Path) -> Option<String> {
    let mut found: Vec<String> = std::fs::read_dir(lib)
        .ok()?
        .take(MAX_ENTRIES)
        .filter_map(|e| e.ok())
        .filter_map(|e| version_from_name(&e.path()))
        .collect();
    found.sort();
    (found.len() == 1).then(|| found.remove(0))
}

/// Components of the listings, in `sys.path` order: the first of a name is the
/// one imported, later ones are marked shadowed.
pub fn components(env: &PythonEnv, listings: &[Listing]) -> Vec<Component> {
    let mut out: Vec<Component> = Vec::new();
    if let Some(v) = &env.version {
        let (path, how) = match (&env.venv, &env.base_prefix) {
            (Some(venv), _) if v.split('.').count() >= 3 => (
                format!("{}/pyvenv.cfg", venv.trim_end_matches('/')),
                VersionSource::PyvenvCfg,
            ),
            (None, Some(prefix)) if env.conda && v.split('.').count() >= 3 => (
                format!("{}/conda-meta", prefix.trim_end_matches('/')),
                VersionSource::CondaMeta,
            ),
            _ => (env.executable.clone(), VersionSource::InterpreterPath),
        };
        out.push(Component {
            version_note: None,
            canonical_version: None,
            ecosystem: Ecosystem::System,
            name: "CPython".into(),
            key: "cpython".into(),
            version: v.clone(),
            path,
            how,
            replaced_by: None,
            source_package: None,
            shadowed: false,
            revision: None,
            detail: Some("interpreter".into()),
        });
    }
    let mut keys: std::collections::HashSet<String> = Default::default();
    for l in listings {
        for d in &l.dists {
            let key = pep503(&d.name);
            let shadowed = !keys.insert(key.clone());
            out.push(Component {
                version_note: None,
                canonical_version: None,
                ecosystem: Ecosystem::PyPI,
                name: d.name.clone(),
                key,
                version: d.version.clone(),
                path: d.path.clone(),
                how: d.how,
                replaced_by: None,
                source_package: None,
                shadowed,
                revision: None,
                detail: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_headers_stop_at_the_body() {
        let t =
            "Metadata-Version: 2.1\nName: Jinja2\nVersion: 3.1.4\nSummary: x\n\nName: not-this\n";
        assert_eq!(parse_metadata(t), Ok(("Jinja2".into(), "3.1.4".into())));
        assert!(parse_metadata("Metadata-Version: 2.1\n\nName: a\nVersion: 1\n").is_err());
        assert!(parse_metadata("").is_err());
        assert!(parse_metadata("Name:\nVersion: 1\n").is_err());
    }

    #[test]
    fn pyvenv_cfg_of_venv_and_virtualenv() {
        let c = parse_pyvenv(
            "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\nexecutable = /usr/bin/python3.11\n",
        );
        assert_eq!(c.home.as_deref(), Some("/usr/bin"));
        assert!(!c.system_site);
        assert_eq!(c.version.as_deref(), Some("3.11.2"));
        let c = parse_pyvenv(
            "home = /opt/py/bin\nimplementation = CPython\nversion_info = 3.12.1.final.0\ninclude-system-site-packages = True\n",
        );
        assert!(c.system_site);
        assert_eq!(c.version.as_deref(), Some("3.12.1"));
    }

    #[test]
    fn conda_record_names() {
        assert_eq!(
            conda_record_version("python-3.11.5-h955ad1f_0.json", "python").as_deref(),
            Some("3.11.5")
        );
        assert_eq!(
            conda_record_version("python-dateutil-2.8.2-pyhd3eb1b0_0.json", "python"),
            None
        );
        assert_eq!(
            conda_record_version("python_abi-3.11-4_cp311.json", "python"),
            None
        );
        assert_eq!(conda_record_version("python-3.11.5.json", "python"), None);
    }

    #[test]
    fn interpreter_names() {
        assert_eq!(
            version_from_name(Path::new("/usr/bin/python3.11")).as_deref(),
            Some("3.11")
        );
        assert_eq!(version_from_name(Path::new("/usr/bin/python3")), None);
        assert_eq!(
            version_from_name(Path::new("/usr/bin/python3.11-config")),
            None
        );
    }
}

#[cfg(test)]
mod hostile {
    use super::*;

    /// A container-style root whose venv is an absolute symlink: followed inside
    /// the root, never to the host path of the same name; loops end.
    #[test]
    fn symlinks_resolve_inside_the_root() {
        let t = tempfile::tempdir().expect("tempdir");
        let root = t.path();
        std::fs::create_dir_all(root.join("srv/real-venv/bin")).expect("mkdir");
        std::fs::create_dir_all(root.join("opt")).expect("mkdir");
        std::os::unix::fs::symlink("/srv/real-venv", root.join("opt/venv")).expect("symlink");
        std::os::unix::fs::symlink("../srv/./real-venv/bin", root.join("opt/bin"))
            .expect("symlink");
        std::os::unix::fs::symlink("loop", root.join("loop")).expect("symlink");
        assert_eq!(
            resolve_in_root(root, Path::new("/opt/venv/pyvenv.cfg")),
            root.join("srv/real-venv/pyvenv.cfg")
        );
        assert_eq!(
            resolve_in_root(root, Path::new("/opt/bin/python")),
            root.join("srv/real-venv/bin/python")
        );
        assert_eq!(
            resolve_in_root(root, Path::new("/../../etc")),
            root.join("etc")
        );
        // Bounded: the loop is left unresolved after MAX_SYMLINKS hops.
        assert_eq!(
            resolve_in_root(root, Path::new("/loop/x")),
            root.join("loop/x")
        );
    }

    /// Broken, oversized and binary metadata: one error per file, never a panic,
    /// and the good distribution next to them still listed.
    #[test]
    fn broken_dists_are_per_file_errors() {
        let t = tempfile::tempdir().expect("tempdir");
        let d = t.path();
        std::fs::create_dir(d.join("nometa-1.0.dist-info")).expect("mkdir");
        std::fs::create_dir(d.join("huge-1.0.dist-info")).expect("mkdir");
        std::fs::write(d.join("huge-1.0.dist-info/METADATA"), vec![b'A'; 1 << 20]).expect("write");
        std::fs::create_dir(d.join("bin-1.0.dist-info")).expect("mkdir");
        std::fs::write(
            d.join("bin-1.0.dist-info/METADATA"),
            [0xff, 0xfe, 0, 1, 2, b'\n'],
        )
        .expect("write");
        std::fs::write(
            d.join("old-2.0.egg-info"),
            "Metadata-Version: 1.0\nName: old\nVersion: 2.0\n",
        )
        .expect("write");
        std::fs::create_dir(d.join("good-1.0.dist-info")).expect("mkdir");
        std::fs::write(
            d.join("good-1.0.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: Good\nVersion: 1.0rc1+local.7\n\nbody",
        )
        .expect("write");
        let l = list_site_dir(d, "/site").expect("listing");
        let got: Vec<(&str, &str, VersionSource)> = l
            .dists
            .iter()
            .map(|x| (x.name.as_str(), x.version.as_str(), x.how))
            .collect();
        assert_eq!(
            got,
            [
                ("Good", "1.0rc1+local.7", VersionSource::DistInfoMetadata),
                ("old", "2.0", VersionSource::EggInfoPkgInfo),
            ]
        );
        assert_eq!(l.dists[1].path, "/site/old-2.0.egg-info");
        assert_eq!(l.errors.len(), 3, "{:?}", l.errors);
        assert!(
            l.errors
                .iter()
                .any(|e| e.starts_with("/site/nometa-1.0.dist-info/METADATA:"))
        );
    }
}
