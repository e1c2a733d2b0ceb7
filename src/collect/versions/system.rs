//! Host software versions from files: the NVIDIA kernel driver, CUDA
//! toolkits, the CUDA runtime a process maps, and Debian packages that matter
//! to an AI server (interpreter, libc, TLS, NVIDIA, CUDA).

use std::io::Read;
use std::path::Path;

use crate::model::components::{Absent, Component, Ecosystem, SystemSoftware, VersionSource};

pub const NVIDIA_VERSION: &str = "/proc/driver/nvidia/version";
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";
/// CUDA toolkits' version files, in the places the NVIDIA installers use.
const CUDA_VERSION_JSON: &[&str] = &["/usr/local/cuda/version.json"];
/// The dpkg database of a large host is ~5 MiB.
const MAX_DPKG_BYTES: u64 = 64 << 20;
const MAX_SMALL_FILE: u64 = 64 << 10;

/// Debian binary packages kept: exact names, or prefixes ending in `*`.
const DPKG_WANTED: &[&str] = &[
    "python3",
    "python3.*",
    "libpython3*",
    "python3-pip",
    "libc6",
    "openssl",
    "libssl*",
    "nvidia-*",
    "libnvidia-*",
    "cuda-*",
    "libcudnn*",
    "libnccl*",
    "zlib1g",
    "libcurl*",
];

fn wanted(name: &str) -> bool {
    DPKG_WANTED.iter().any(|w| match w.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == *w,
    })
}

fn read_capped(path: &Path, cap: u64) -> std::io::Result<String> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?.take(cap).read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// `NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024`
/// (or `... Open Kernel Module for x86_64  570.86.15  Release Build ...`).
pub fn parse_nvidia_version(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with("NVRM version:"))?;
    let after = line.split("Kernel Module").nth(1)?;
    after
        .split_whitespace()
        .find(|w| {
            w.split('.').count() >= 2
                && w.split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        })
        .map(str::to_string)
}

/// `{"cuda": {"name": "CUDA SDK", "version": "12.4.1"}, ...}`
pub fn parse_cuda_version_json(text: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.pointer("/cuda/version")?.as_str().map(str::to_string)
}

#[derive(Debug, Clone, PartialEq)]
pub struct DpkgEntry {
    pub package: String,
    pub version: String,
    pub source: Option<String>,
}

/// Installed packages of a dpkg status file (paragraphs of `Field: value`),
/// only those `keep` wants. `Source: name (version)` keeps the name.
pub fn parse_dpkg_status(text: &str, keep: impl Fn(&str) -> bool) -> Vec<DpkgEntry> {
    let mut out = Vec::new();
    for para in text.split("\n\n") {
        // dpkg writes `Package:` first: a paragraph of a package not asked about
        // is passed over without reading its (long) description.
        let first = para.trim_start_matches('\n').lines().next().unwrap_or("");
        if let Some(name) = first.strip_prefix("Package:")
            && !keep(name.trim())
        {
            continue;
        }
        let (mut pkg, mut ver, mut src, mut installed) = (None, None, None, false);
        for line in para.lines() {
            if line.starts_with([' ', '\t']) {
                continue;
            }
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let v = v.trim();
            match k {
                "Package" => pkg = Some(v),
                "Version" => ver = Some(v),
                "Source" => src = v.split_whitespace().next(),
                "Status" => installed = v.ends_with(" installed"),
                _ => {}
            }
        }
        if let (Some(p), Some(v), true) = (pkg, ver, installed)
            && keep(p)
        {
            out.push(DpkgEntry {
                package: p.to_string(),
                version: v.to_string(),
                source: src.filter(|s| *s != p).map(str::to_string),
            });
        }
    }
    out.sort_by(|a, b| a.package.cmp(&b.package));
    out
}

/// Debian components of the dpkg database under `root` (`/` or `/proc/PID/root`).
pub fn dpkg_components(root: &Path) -> Result<Option<Vec<Component>>, String> {
    // Inside a container's root, its own symlinks are followed inside it.
    let seen = super::python::resolve_in_root(root, Path::new(DPKG_STATUS));
    let text = match read_capped(&seen, MAX_DPKG_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{DPKG_STATUS}: {e}")),
    };
    Ok(Some(
        parse_dpkg_status(&text, wanted)
            .into_iter()
            .map(|e| Component {
                version_note: None,
                canonical_version: None,
                ecosystem: Ecosystem::Debian,
                key: e.package.to_lowercase(),
                name: e.package,
                version: e.version,
                path: DPKG_STATUS.into(),
                how: VersionSource::DpkgStatus,
                replaced_by: None,
                source_package: e.source,
                shadowed: false,
                revision: None,
                detail: None,
            })
            .collect(),
    ))
}

fn system(name: &str, version: String, path: &str, how: VersionSource) -> Component {
    Component {
        version_note: None,
        canonical_version: None,
        ecosystem: Ecosystem::System,
        name: name.into(),
        key: name.to_lowercase(),
        version,
        path: path.into(),
        how,
        replaced_by: None,
        source_package: None,
        shadowed: false,
        revision: None,
        detail: None,
    }
}

/// The host's driver, CUDA toolkit and Debian packages.
pub fn host() -> SystemSoftware {
    let mut out = SystemSoftware::default();
    match read_capped(Path::new(NVIDIA_VERSION), MAX_SMALL_FILE) {
        Ok(t) => match parse_nvidia_version(&t) {
            Some(v) => out.components.push(system(
                "nvidia-driver",
                v,
                NVIDIA_VERSION,
                VersionSource::ProcDriverVersion,
            )),
            None => out
                .errors
                .push(format!("{NVIDIA_VERSION}: no driver version in it")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.absent.push(Absent {
            what: "NVIDIA kernel driver (not loaded)".into(),
            path: NVIDIA_VERSION.into(),
        }),
        Err(e) => out.errors.push(format!("{NVIDIA_VERSION}: {e}")),
    }
    for p in CUDA_VERSION_JSON {
        match read_capped(Path::new(p), MAX_SMALL_FILE) {
            Ok(t) => match parse_cuda_version_json(&t) {
                Some(v) => out.components.push(system(
                    "cuda-toolkit",
                    v,
                    p,
                    VersionSource::CudaVersionJson,
                )),
                None => out.errors.push(format!("{p}: no /cuda/version in it")),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.absent.push(Absent {
                what: "CUDA toolkit".into(),
                path: (*p).into(),
            }),
            Err(e) => out.errors.push(format!("{p}: {e}")),
        }
    }
    match dpkg_components(Path::new("/")) {
        Ok(Some(c)) => out.components.extend(c),
        Ok(None) => out.absent.push(Absent {
            what: "dpkg database (not a Debian-based host)".into(),
            path: DPKG_STATUS.into(),
        }),
        Err(e) => out.errors.push(e),
    }
    out
}

/// `libcudart.so.12.4.127` → `12.4.127`: the CUDA runtime a process maps, when
/// its file name carries at least major.minor.
pub fn cudart_version(mapped: &str) -> Option<String> {
    let name = Path::new(mapped)
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let v = name.strip_prefix("libcudart.so.")?;
    (v.split('.').count() >= 2
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
    .then(|| v.to_string())
}

/// The CUDA runtime in a process's memory map, as a component.
pub fn mapped_cudart(maps: &[crate::collect::procs::maps::MappedFile]) -> Option<Component> {
    maps.iter()
        .map(|m| m.path.to_string_lossy())
        .find_map(|p| cudart_version(&p).map(|v| (p, v)))
        .map(|(p, v)| system("cuda-runtime", v, &p, VersionSource::MappedLibrary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_driver_lines_of_proprietary_and_open_modules() {
        assert_eq!(
            parse_nvidia_version("NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.15  Tue Mar  5 22:23:56 UTC 2024\nGCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n").as_deref(),
            Some("550.54.15")
        );
        assert_eq!(
            parse_nvidia_version("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.86.15  Release Build  (dvs-builder@U16-I3-B03-4-3)  Thu Jan 23 22:52:36 UTC 2025\n").as_deref(),
            Some("570.86.15")
        );
        assert_eq!(parse_nvidia_version("garbage"), None);
    }

    #[test]
    fn cuda_runtime_file_names() {
        assert_eq!(
            cudart_version("/usr/local/cuda-12.4/lib64/libcudart.so.12.4.127").as_deref(),
            Some("12.4.127")
        );
        assert_eq!(cudart_version("/x/libcudart.so.12"), None);
        assert_eq!(cudart_version("/x/libcudart-9335f6a2.so.12"), None);
    }

    #[test]
    fn cuda_version_json() {
        assert_eq!(
            parse_cuda_version_json(r#"{"cuda":{"name":"CUDA SDK","version":"12.4.1"},"cuda_cudart":{"version":"12.4.127"}}"#).as_deref(),
            Some("12.4.1")
        );
        assert_eq!(parse_cuda_version_json("{"), None);
    }

    /// The host's own dpkg database, written by dpkg: libc6 is on every Debian
    /// system and must agree with what dpkg-query says.
    #[test]
    fn dpkg_status_of_this_host_agrees_with_dpkg_query() {
        let Ok(text) = std::fs::read_to_string(DPKG_STATUS) else {
            panic!("{DPKG_STATUS} missing: the test suite runs on Debian");
        };
        let entries = parse_dpkg_status(&text, wanted);
        let libc = entries
            .iter()
            .find(|e| e.package == "libc6")
            .expect("libc6 listed");
        let out = std::process::Command::new("dpkg-query")
            .args(["-W", "-f=${Version} ${source:Package}", "libc6"])
            .output()
            .expect("dpkg-query");
        let q = String::from_utf8_lossy(&out.stdout).into_owned();
        let (ver, src) = q.split_once(' ').expect("two fields");
        assert_eq!(libc.version, ver);
        assert_eq!(libc.source.as_deref(), Some(src).filter(|s| *s != "libc6"));
        assert!(entries.iter().all(|e| wanted(&e.package)));
        assert!(!entries.iter().any(|e| e.package == "bash"));
    }

    #[test]
    fn dpkg_paragraphs_not_installed_or_broken_are_skipped() {
        let t = "Package: openssl\nStatus: deinstall ok config-files\nVersion: 3.0.1\n\nPackage: libssl3\nStatus: install ok installed\nSource: openssl (3.0.15-1~deb12u1)\nVersion: 3.0.15-1~deb12u1\nDescription: x\n continued: line\n\nPackage: libc6\n";
        let e = parse_dpkg_status(t, wanted);
        assert_eq!(
            e,
            vec![DpkgEntry {
                package: "libssl3".into(),
                version: "3.0.15-1~deb12u1".into(),
                source: Some("openssl".into())
            }]
        );
    }
}
