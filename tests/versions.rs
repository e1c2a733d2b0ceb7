//! Versions of the running stack, read from files while real servers run:
//! Python servers started from real virtualenvs (pip-installed distributions,
//! one on PYTHONPATH shadowing the venv's, a local version label), a Go binary
//! built by the real toolchain with a replaced dependency, Debian's own Go
//! binaries, and the llama-server built by scripts/test-deps.sh. Each result is
//! checked against what the real tools say (`importlib.metadata` run by the
//! server's interpreter, `go version -m`, `llama-server --version`).
// Tests signal, reap and measure the processes they start: kill(2) and
// wait4(2) have no safe wrapper in std.
#![allow(unsafe_code)]

mod support;

use std::collections::BTreeSet;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::*;

/// A stand-in server whose process group is killed on drop.
struct Standin(std::process::Child);

impl Drop for Standin {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group this test created.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

fn pip(venv: &Path, args: &[&str]) {
    run_ok(
        Command::new(venv.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
            ])
            .args(args),
    );
}

/// Debian's interpreter (scripts/test-deps.sh installs python3 and python3-venv), not
/// whatever `python3` PATH finds first (pyenv, conda): the layout asserted is Debian's.
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

fn make_venv(dir: &Path) {
    run_ok(Command::new(SYSTEM_PYTHON).arg("-m").arg("venv").arg(dir));
}

/// The model holder copied to `script`, run by `python` with `env`.
fn start_python_server(python: &Path, script: &Path, env: &[(&str, &Path)]) -> Standin {
    std::fs::create_dir_all(script.parent().expect("parent")).expect("mkdir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/model_holder.py"),
        script,
    )
    .expect("copy holder");
    let ready = temp_path("versions-ready");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("READY_FILE", &ready)
        .stdin(Stdio::null())
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let s = Standin(cmd.spawn().expect("spawn stand-in"));
    wait_until("the stand-in to start", Duration::from_secs(20), || {
        ready.exists()
    });
    let _ = std::fs::remove_file(&ready);
    s
}

fn server_of(snap: &Value, pid: u32) -> Value {
    servers_with_pid(snap, pid)
        .first()
        .map(|s| (*s).clone())
        .unwrap_or_else(|| {
            panic!(
                "pid {pid} not recognised: {:#}",
                snap["inventory"]["servers"]
            )
        })
}

fn pypi(server: &Value) -> Vec<Value> {
    server["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["ecosystem"] == "PyPI")
        .cloned()
        .collect()
}

fn find<'a>(comps: &'a [Value], name: &str, version: &str) -> &'a Value {
    comps
        .iter()
        .find(|c| c["name"] == name && c["version"] == version)
        .unwrap_or_else(|| panic!("{name} {version} not among {comps:#?}"))
}

/// What the server's own interpreter imports: `importlib.metadata` over its
/// `sys.path` (same PYTHONPATH), first distribution of each normalised name.
fn imported_by(python: &Path, pythonpath: Option<&Path>) -> BTreeSet<(String, String)> {
    let mut cmd = Command::new(python);
    cmd.env_clear().env("PATH", "/usr/bin:/bin").args([
        "-c",
        "import importlib.metadata as m, re, json\n\
         seen = {}\n\
         for d in m.distributions():\n\
         \x20   k = re.sub(r'[-_.]+', '-', d.metadata['Name']).lower()\n\
         \x20   seen.setdefault(k, (d.metadata['Name'], d.version))\n\
         print(json.dumps(sorted(seen.values())))",
    ]);
    if let Some(p) = pythonpath {
        cmd.env("PYTHONPATH", p);
    }
    let out = run_ok(&mut cmd);
    let v: Vec<(String, String)> = serde_json::from_slice(&out.stdout).expect("json");
    v.into_iter().collect()
}

fn not_shadowed(comps: &[Value]) -> BTreeSet<(String, String)> {
    comps
        .iter()
        .filter(|c| c["shadowed"] != true)
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["version"].as_str().expect("version").to_string(),
            )
        })
        .collect()
}

/// Two servers from two venvs at once, each read as its own process sees it:
/// exact pip-installed versions and the METADATA they were read from; a
/// PYTHONPATH directory shadowing the venv's copy; a local version label kept;
/// names as written with their PEP 503 key. The set of active distributions is
/// exactly what the server's interpreter itself imports.
#[test]
fn python_servers_report_the_distributions_of_their_own_venv() {
    let t = tempfile::tempdir().expect("tempdir");
    let a = t.path().join("venv-a");
    let b = t.path().join("venv-b");
    make_venv(&a);
    // B sees the system's packages too: user site, then Debian's dist-packages after its own.
    run_ok(
        Command::new(SYSTEM_PYTHON)
            .args(["-m", "venv", "--system-site-packages"])
            .arg(&b),
    );
    pip(&a, &["ollama==0.3.3", "text-generation==0.6.0"]);
    pip(&b, &["ollama==0.1.0"]);
    // An `.egg-info` directory, written by setuptools' egg_info into B's site-packages
    // (what `setup.py develop` and old installs leave).
    let egg = t.path().join("egg");
    std::fs::create_dir_all(&egg).expect("mkdir");
    std::fs::write(
        egg.join("setup.py"),
        "from setuptools import setup\nsetup(name='aipt_egg', version='0.9.1', py_modules=[])\n",
    )
    .expect("write");
    let xy_b = String::from_utf8(
        run_ok(
            Command::new(b.join("bin/python"))
                .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"]),
        )
        .stdout,
    )
    .expect("utf-8");
    let site_b = b.join(format!("lib/python{}/site-packages", xy_b.trim()));
    run_ok(
        Command::new(b.join("bin/python"))
            .args(["setup.py", "-q", "egg_info", "--egg-base"])
            .arg(&site_b)
            .current_dir(&egg),
    );
    // A distribution with a local version label, built and installed by pip from source.
    let src = t.path().join("labelled");
    std::fs::create_dir_all(src.join("aipt_labelled")).expect("mkdir");
    std::fs::write(src.join("aipt_labelled/__init__.py"), "").expect("write");
    std::fs::write(
        src.join("pyproject.toml"),
        "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"Aipt_Labelled.Pkg\"\nversion = \"2.5.1+cu124\"\n\n\
         [tool.setuptools]\npackages = [\"aipt_labelled\"]\n",
    )
    .expect("write");
    // The venv's bundled setuptools builds it (with `wheel`, which the venv lacks).
    pip(&a, &["wheel==0.45.1"]);
    pip(&a, &["--no-build-isolation", src.to_str().expect("utf-8")]);
    let pp = t.path().join("pythonpath");
    run_ok(
        Command::new(a.join("bin/python"))
            .args([
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "--target",
            ])
            .arg(&pp)
            .arg("ollama==0.4.0"),
    );

    let comfy = start_python_server(
        &a.join("bin/python"),
        &t.path().join("ComfyUI/main.py"),
        &[("PYTHONPATH", &pp)],
    );
    let webui = start_python_server(
        &b.join("bin/python"),
        &t.path().join("text-generation-webui/server.py"),
        &[],
    );
    let snap = snapshot(&["--passive"]);

    // --- venv A, with PYTHONPATH
    let s = server_of(&snap, comfy.0.id());
    assert_eq!(s["product_id"], "comfyui");
    let py = &s["runtime"]["python"];
    assert_eq!(py["venv"], a.to_str().expect("utf-8"));
    assert_eq!(
        py["executable"],
        a.join("bin/python").to_str().expect("utf-8")
    );
    let real = std::fs::canonicalize(a.join("bin/python")).expect("realpath");
    assert_eq!(py["real_executable"], real.to_str().expect("utf-8"));
    let version = String::from_utf8(
        run_ok(
            Command::new(a.join("bin/python"))
                .args(["-c", "import platform; print(platform.python_version())"]),
        )
        .stdout,
    )
    .expect("utf-8");
    assert_eq!(py["version"], version.trim());
    let xy: String = version
        .trim()
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    let site_a = a.join(format!("lib/python{xy}/site-packages"));
    let dirs: Vec<(&str, &str, &str)> = py["site_dirs"]
        .as_array()
        .expect("site_dirs")
        .iter()
        .map(|d| {
            (
                d["path"].as_str().unwrap_or(""),
                d["why"].as_str().unwrap_or(""),
                d["state"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        dirs,
        [
            (pp.to_str().expect("utf-8"), "PYTHONPATH", "found"),
            (site_a.to_str().expect("utf-8"), "venv", "found"),
        ],
        "a venv without system site packages: PYTHONPATH, then its own site-packages"
    );

    let comps = pypi(&s);
    let on_path = find(&comps, "ollama", "0.4.0");
    assert_eq!(
        on_path["path"],
        pp.join("ollama-0.4.0.dist-info/METADATA")
            .to_str()
            .expect("utf-8")
    );
    assert_eq!(on_path["how"], "dist_info_metadata");
    assert!(on_path.get("shadowed").is_none());
    let in_venv = find(&comps, "ollama", "0.3.3");
    assert_eq!(
        in_venv["path"],
        site_a
            .join("ollama-0.3.3.dist-info/METADATA")
            .to_str()
            .expect("utf-8")
    );
    assert_eq!(
        in_venv["shadowed"], true,
        "PYTHONPATH comes first on sys.path"
    );
    let tg = find(&comps, "text-generation", "0.6.0");
    assert_eq!(tg["key"], "text-generation");
    // setuptools writes `Name: Aipt-Labelled.Pkg` (its safe_name); shown as METADATA has it.
    let labelled = find(&comps, "Aipt-Labelled.Pkg", "2.5.1+cu124");
    assert_eq!(labelled["key"], "aipt-labelled-pkg");
    assert!(
        labelled["path"]
            .as_str()
            .expect("path")
            .ends_with(".dist-info/METADATA")
    );
    // Every METADATA named exists where the process sees it.
    for c in &comps {
        assert!(
            Path::new(c["path"].as_str().expect("path")).is_file(),
            "{c}"
        );
    }
    assert_eq!(
        not_shadowed(&comps),
        imported_by(&a.join("bin/python"), Some(&pp))
    );
    let cpython = s["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["key"] == "cpython")
        .expect("interpreter component");
    assert_eq!(cpython["version"], version.trim());
    assert_eq!(
        cpython["path"],
        a.join("pyvenv.cfg").to_str().expect("utf-8")
    );

    // --- venv B: its own versions, none of A's
    let s = server_of(&snap, webui.0.id());
    assert_eq!(s["runtime"]["python"]["venv"], b.to_str().expect("utf-8"));
    assert_eq!(s["runtime"]["python"]["system_site_packages"], true);
    let whys: Vec<&str> = s["runtime"]["python"]["site_dirs"]
        .as_array()
        .expect("site_dirs")
        .iter()
        .map(|d| d["why"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(whys.first(), Some(&"venv"), "{whys:?}");
    assert!(
        whys.contains(&"user site") && whys.contains(&"Debian dist-packages"),
        "{whys:?}"
    );
    let comps = pypi(&s);
    find(&comps, "ollama", "0.1.0");
    let egg = comps
        .iter()
        .find(|c| c["key"] == "aipt-egg")
        .unwrap_or_else(|| panic!("egg-info not read: {comps:#?}"));
    assert_eq!(egg["version"], "0.9.1");
    assert_eq!(egg["how"], "egg_info_pkg_info");
    assert!(
        egg["path"]
            .as_str()
            .expect("path")
            .ends_with(".egg-info/PKG-INFO"),
        "{egg}"
    );
    assert!(
        !comps.iter().any(|c| c["name"] == "text-generation"),
        "{comps:#?}"
    );
    assert_eq!(
        not_shadowed(&comps),
        imported_by(&b.join("bin/python"), None)
    );
}

/// Modules as `go version -m` prints them: `mod`/`dep` lines, `=>` under the module it replaces.
fn go_version_m(bin: &Path) -> Vec<(String, String, String, Option<String>)> {
    let out = run_ok(Command::new("go").arg("version").arg("-m").arg(bin));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut mods: Vec<(String, String, String, Option<String>)> = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.trim_start().split('\t').collect();
        match f.first().copied() {
            Some(k @ ("mod" | "dep")) => mods.push((
                k.to_string(),
                f.get(1).unwrap_or(&"").to_string(),
                f.get(2).unwrap_or(&"").to_string(),
                None,
            )),
            Some("=>") => {
                if let Some(m) = mods.last_mut() {
                    m.3 = Some(format!(
                        "{} {}",
                        f.get(1).unwrap_or(&""),
                        f.get(2).unwrap_or(&"")
                    ));
                }
            }
            _ => {}
        }
    }
    mods
}

fn go_toolchain(bin: &Path) -> String {
    let out = run_ok(Command::new("go").arg("version").arg(bin));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .nth(1)
        .expect("go version")
        .to_string()
}

/// A Go binary built by Debian's go toolchain, with a dependency replaced by a
/// local module (no network), run as `local-ai`: its modules read from the
/// running process's executable match `go version -m` exactly.
#[test]
fn go_server_modules_match_go_version_m() {
    let t = tempfile::tempdir().expect("tempdir");
    let src = t.path().join("src");
    for m in ["app", "greet"] {
        std::fs::create_dir_all(src.join(m)).expect("mkdir");
        for e in std::fs::read_dir(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/go")
                .join(m),
        )
        .expect("fixture")
        {
            let e = e.expect("entry");
            std::fs::copy(e.path(), src.join(m).join(e.file_name())).expect("copy");
        }
    }
    // A git checkout: the toolchain stamps vcs.revision into the build info.
    let git = |args: &[&str]| {
        run_ok(
            Command::new("git")
                .args([
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@t",
                    "-c",
                    "commit.gpgsign=false",
                ])
                .args(args)
                .current_dir(&src),
        )
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "fixture"]);
    let head = String::from_utf8_lossy(&git(&["rev-parse", "HEAD"]).stdout)
        .trim()
        .to_string();
    let bin = t.path().join("local-ai");
    run_ok(
        Command::new("go")
            .args(["build", "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(src.join("app"))
            .env("GOFLAGS", "-mod=mod")
            .env("GOPROXY", "off")
            .env("GOPATH", t.path().join("gopath"))
            .env("GOCACHE", t.path().join("gocache")),
    );
    let child = Command::new(&bin)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn");
    let server = Standin(child);
    let snap = snapshot(&["--passive"]);
    let s = server_of(&snap, server.0.id());
    assert_eq!(s["product_id"], "localai");
    let go: Vec<&Value> = s["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["ecosystem"] == "Go")
        .collect();
    let expected = go_version_m(&bin);
    assert_eq!(
        expected,
        [
            (
                "mod".into(),
                "example.com/aipt/app".into(),
                "(devel)".into(),
                None
            ),
            (
                "dep".into(),
                "example.com/aipt/greet".into(),
                "v1.4.2".into(),
                Some("../greet (devel)".into())
            ),
        ]
    );
    let ours: Vec<(String, String, String, Option<String>)> = go
        .iter()
        .filter(|c| c["name"] != "stdlib")
        .map(|c| {
            (
                if c["detail"] == "main module" {
                    "mod"
                } else {
                    "dep"
                }
                .to_string(),
                c["name"].as_str().expect("name").to_string(),
                c["version"].as_str().expect("version").to_string(),
                c["replaced_by"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(ours, expected);
    for c in &go {
        assert_eq!(c["path"], bin.to_str().expect("utf-8"));
        assert_eq!(c["how"], "go_build_info");
    }
    let toolchain = go_toolchain(&bin);
    let stdlib = go.iter().find(|c| c["name"] == "stdlib").expect("stdlib");
    assert_eq!(stdlib["version"], toolchain.trim_start_matches("go"));
    assert_eq!(s["runtime"]["go"]["go_version"], toolchain);
    assert_eq!(s["runtime"]["go"]["main_package"], "example.com/aipt/app");
    let main = go
        .iter()
        .find(|c| c["detail"] == "main module")
        .expect("main module");
    assert_eq!(main["revision"], head, "vcs.revision of the build");
    let settings = s["runtime"]["go"]["settings"].to_string();
    assert!(
        settings.contains(&format!("vcs.revision={head}")),
        "{settings}"
    );
}

/// Debian's own Go binaries (podman, installed by scripts/test-deps.sh, and any
/// other present) are built in GOPATH mode: a toolchain and a main package, no
/// module lines. The library reads the same as `go version -m`.
#[test]
fn debian_go_binaries_read_as_go_version_m_reads_them() {
    let mut checked = 0;
    for p in ["/usr/bin/podman", "/usr/sbin/runc", "/usr/bin/containerd"] {
        let p = PathBuf::from(p);
        if !p.exists() {
            continue;
        }
        let read = aiposture::collect::versions::binary::read(&p).expect("readable");
        let info = read.go.expect("a Go binary").expect("parses");
        assert_eq!(info.go_version, go_toolchain(&p), "{}", p.display());
        let mods = go_version_m(&p);
        assert_eq!(
            info.main.is_some() as usize + info.deps.len(),
            mods.len(),
            "{}",
            p.display()
        );
        assert!(read.llama.is_none());
        checked += 1;
    }
    assert!(checked >= 1, "podman is installed by scripts/test-deps.sh");
}

/// The llama-server built by scripts/test-deps.sh: build number and commit
/// from its symbols agree with what `llama-server --version` prints.
#[test]
fn llama_server_build_number_and_commit_from_its_symbols() {
    let out = run_ok(Command::new(llama_server_bin()).arg("--version"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // `version: 0.5.0-dev (build 1, commit 0c1e570)` or `version: 4589 (0c1e570)`.
    let line = text
        .lines()
        .find(|l| l.starts_with("version:"))
        .expect("version line");
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    let (number, commit) = match line.split_once("(build ") {
        Some((_, rest)) => {
            let (n, c) = rest.split_once(", commit ").expect("commit");
            (digits(n), c.trim_end_matches(')').to_string())
        }
        None => {
            let (n, c) = line
                .trim_start_matches("version:")
                .split_once('(')
                .expect("(commit)");
            (digits(n), c.trim_end_matches(')').to_string())
        }
    };

    let p = start_llama(
        Command::new(llama_server_bin()),
        &["--port", &free_port().to_string()],
        &[],
    );
    let snap = snapshot(&["--passive"]);
    let s = server_of(&snap, p.pid());
    let l = s["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|c| c["ecosystem"] == "llama.cpp")
        .unwrap_or_else(|| panic!("no llama.cpp component: {:#}", s["components"]));
    assert_eq!(l["version"], format!("b{number}"));
    assert_eq!(l["detail"], format!("commit {commit}"));
    assert_eq!(l["revision"], commit);
    assert_eq!(l["how"], "elf_symbols");
    let real = std::fs::canonicalize(llama_server_bin()).expect("realpath");
    assert_eq!(l["path"], real.to_str().expect("utf-8"));
}

/// Host software: the dpkg database read as dpkg-query reads it, the NVIDIA
/// driver stated absent (or read) from /proc.
#[test]
fn host_packages_and_driver_state() {
    let snap = snapshot(&["--passive"]);
    let sys = &snap["inventory"]["system_software"];
    let comps = sys["components"].as_array().expect("components");
    let out = run_ok(Command::new("dpkg-query").args(["-W", "-f=${Version}", "libc6"]));
    let libc = comps.iter().find(|c| c["name"] == "libc6").expect("libc6");
    assert_eq!(
        libc["version"],
        String::from_utf8_lossy(&out.stdout).as_ref()
    );
    assert_eq!(libc["ecosystem"], "Debian");
    assert_eq!(libc["path"], "/var/lib/dpkg/status");
    let driver = Path::new("/proc/driver/nvidia/version");
    if driver.exists() {
        assert!(comps.iter().any(|c| c["name"] == "nvidia-driver"));
    } else {
        assert!(
            sys["absent"]
                .as_array()
                .expect("absent")
                .iter()
                .any(|a| a["path"] == "/proc/driver/nvidia/version"),
            "{sys:#}"
        );
    }
}

/// Run as nobody, a root server's interpreter, executable and site-packages
/// cannot be read: named blind spots and no versions, never a guess. As root
/// the same server's venv (the test-deps venv) is read in full.
#[test]
fn versions_of_another_users_server_are_a_blind_spot() {
    let t = tempfile::tempdir().expect("tempdir");
    let s = start_python_server(&python(), &t.path().join("ComfyUI/main.py"), &[]);
    let pid = s.0.id();

    let snap = snapshot(&["--passive"]);
    let srv = server_of(&snap, pid);
    let comps = pypi(&srv);
    assert_eq!(not_shadowed(&comps), imported_by(&python(), None));
    assert!(comps.iter().any(|c| c["name"] == "gguf"), "{comps:#?}");

    let snap = snapshot_as_nobody();
    let srv = server_of(&snap, pid);
    assert_eq!(srv["components"], serde_json::json!([]), "{srv:#}");
    assert!(srv["runtime"]["python"].is_null());
    let blind = support::blind_spots_text(&snap);
    assert!(blind.contains(&format!("/proc/{pid}/exe")), "{blind}");
    assert!(blind.contains(&format!("/proc/{pid}/root")), "{blind}");
}

/// A server in its own mount namespace sees its venv at a path that does not
/// exist on the host (a tmpfs over /mnt, the venv bind-mounted into it and
/// reached through an absolute symlink, as container images often do): the
/// venv is read through /proc/PID/root with the symlink followed inside that
/// root, and its versions are named by the paths the process knows.
#[test]
fn python_server_in_its_own_mount_namespace_is_read_as_it_sees_itself() {
    let t = tempfile::tempdir().expect("tempdir");
    let real = t.path().join("venv");
    make_venv(&real);
    pip(&real, &["ollama==0.2.0"]);
    let script = t.path().join("ComfyUI/main.py");
    std::fs::create_dir_all(script.parent().expect("parent")).expect("mkdir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/model_holder.py"),
        &script,
    )
    .expect("copy holder");
    let ready = temp_path("versions-ns-ready");
    let inner = "/mnt/aipt-venv";
    let child = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t tmpfs none /mnt && mkdir /mnt/real && mount --bind \"$1\" /mnt/real && ln -s /mnt/real {inner} && exec {inner}/bin/python \"$2\""
        ))
        .arg("sh")
        .arg(&real)
        .arg(&script)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env("READY_FILE", &ready)
        .stdin(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn");
    let s = Standin(child);
    wait_until("the stand-in to start", Duration::from_secs(20), || {
        ready.exists()
    });
    assert!(
        !Path::new(inner).exists(),
        "the venv path must exist only inside the namespace"
    );

    let snap = snapshot(&["--passive"]);
    let srv = server_of(&snap, s.0.id());
    assert_eq!(srv["runtime"]["python"]["venv"], inner);
    let o = find(&pypi(&srv), "ollama", "0.2.0").clone();
    let path = o["path"].as_str().expect("path");
    assert!(
        path.starts_with(&format!("{inner}/lib/python3."))
            && path.ends_with("/site-packages/ollama-0.2.0.dist-info/METADATA"),
        "{path}"
    );
}
