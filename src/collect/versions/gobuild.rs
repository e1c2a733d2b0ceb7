//! Go build info, as `debug/buildinfo` reads it, without running the binary.
//!
//! The linker writes a 32-byte header (`\xff Go buildinf:`, pointer size,
//! flags) into `.go.buildinfo`; since Go 1.18 (flag bit 2) the toolchain
//! version and the module info follow inline as uvarint-length strings, the
//! module info framed by two 16-byte sentinels. Hand-parsed: the format is
//! four fields, and pulling in a Go-specific crate for it would add weight
//! without adding checks.

use crate::model::components::{Component, Ecosystem, GoBuild, VersionSource};

pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
const HEADER: usize = 32;
const FLAG_INLINE: u8 = 0x2;
/// Longest string accepted from the blob (module info of a large program is ~100 KiB).
pub const MAX_STRING: u64 = 4 << 20;
/// Modules kept from one binary.
const MAX_MODULES: usize = 5000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct BuildInfo {
    /// As written, e.g. `go1.22.5` (may carry ` X:experiment` suffixes).
    pub go_version: String,
    pub path: Option<String>,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    pub settings: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub path: String,
    pub version: String,
    pub replace: Option<Box<Module>>,
}

fn uvarint(b: &[u8], at: usize) -> Result<(u64, usize), String> {
    let mut v = 0u64;
    for (i, &byte) in b.get(at..).unwrap_or_default().iter().take(10).enumerate() {
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok((v, at + i + 1));
        }
    }
    Err(format!("truncated or overlong length at byte {at}"))
}

fn string(b: &[u8], at: usize) -> Result<(&[u8], usize), String> {
    let (n, start) = uvarint(b, at)?;
    if n > MAX_STRING {
        return Err(format!("string of {n} bytes at byte {at} exceeds the cap"));
    }
    let end = start + n as usize;
    let s = b
        .get(start..end)
        .ok_or_else(|| format!("string of {n} bytes at byte {start} runs past the section"))?;
    Ok((s, end))
}

/// Parse the build info blob (the `.go.buildinfo` section, or as much of it as was read).
pub fn parse(blob: &[u8]) -> Result<BuildInfo, String> {
    if blob.len() < HEADER || &blob[..14] != MAGIC {
        return Err("no Go build info header".into());
    }
    let flags = blob[15];
    if flags & FLAG_INLINE == 0 {
        // Before 1.18 the header holds pointers to string headers in the data segment.
        return Err("Go build info of a toolchain before 1.18 (pointer format), not read".into());
    }
    let (vers, next) = string(blob, HEADER)?;
    let (mut modinfo, _) = string(blob, next)?;
    if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        modinfo = &modinfo[16..modinfo.len() - 16];
    }
    let mut info = BuildInfo {
        go_version: String::from_utf8_lossy(vers).into_owned(),
        ..Default::default()
    };
    parse_modinfo(&String::from_utf8_lossy(modinfo), &mut info)?;
    Ok(info)
}

/// The text `go version -m` prints: `path`, `mod`, `dep`, `=>`, `build` lines, tab-separated.
fn parse_modinfo(text: &str, info: &mut BuildInfo) -> Result<(), String> {
    // `=>` applies to the module line just before it.
    let mut last_is_main = false;
    for line in text.lines() {
        let mut f = line.split('\t');
        let kind = f.next().unwrap_or_default();
        let module = |f: &mut std::str::Split<'_, char>| {
            let path = f.next().unwrap_or_default().to_string();
            // A replacement by a local directory has no version: `(devel)` in `go version -m`.
            let version = f
                .next()
                .filter(|v| !v.is_empty())
                .unwrap_or("(devel)")
                .to_string();
            Module {
                path,
                version,
                replace: None,
            }
        };
        match kind {
            "path" => info.path = f.next().map(str::to_string),
            "mod" => {
                info.main = Some(module(&mut f));
                last_is_main = true;
            }
            "dep" => {
                if info.deps.len() >= MAX_MODULES {
                    return Err(format!("more than {MAX_MODULES} modules"));
                }
                info.deps.push(module(&mut f));
                last_is_main = false;
            }
            "=>" => {
                let target = if last_is_main {
                    info.main.as_mut()
                } else {
                    info.deps.last_mut()
                };
                match target {
                    Some(m) if m.replace.is_none() => m.replace = Some(Box::new(module(&mut f))),
                    _ => return Err(format!("replacement without a module: {line:?}")),
                }
            }
            "build" => {
                if let Some((k, v)) = f.next().and_then(|kv| kv.split_once('=')) {
                    info.settings.push((k.to_string(), v.to_string()));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Components of a binary: main module, every dependency, and the toolchain
/// (`stdlib`, OSV's name for the Go standard library).
pub fn components(info: &BuildInfo, path: &str) -> (Vec<Component>, GoBuild) {
    let vcs_revision = info
        .settings
        .iter()
        .find(|(k, _)| k == "vcs.revision")
        .map(|(_, v)| v.clone());
    let comp = |m: &Module, detail: Option<String>| Component {
        version_note: None,
        canonical_version: None,
        ecosystem: Ecosystem::Go,
        name: m.path.clone(),
        key: m.path.clone(),
        version: m.version.clone(),
        path: path.to_string(),
        how: VersionSource::GoBuildInfo,
        replaced_by: m
            .replace
            .as_ref()
            .map(|r| format!("{} {}", r.path, r.version)),
        source_package: None,
        shadowed: false,
        revision: None,
        detail,
    };
    let mut out = Vec::new();
    if let Some(m) = &info.main {
        let mut c = comp(m, Some("main module".into()));
        c.revision = vcs_revision;
        out.push(c);
    }
    out.extend(info.deps.iter().map(|m| comp(m, None)));
    let toolchain = info
        .go_version
        .split_whitespace()
        .next()
        .unwrap_or_default();
    if let Some(v) = toolchain.strip_prefix("go") {
        out.push(Component {
            version_note: None,
            canonical_version: None,
            ecosystem: Ecosystem::Go,
            name: "stdlib".into(),
            key: "stdlib".into(),
            version: v.to_string(),
            path: path.to_string(),
            how: VersionSource::GoBuildInfo,
            replaced_by: None,
            source_package: None,
            shadowed: false,
            revision: None,
            detail: Some(format!("Go toolchain {}", info.go_version)),
        });
    }
    let build = GoBuild {
        go_version: info.go_version.clone(),
        main_package: info.path.clone(),
        // -ldflags can carry -X values (tokens, URLs): left out.
        settings: info
            .settings
            .iter()
            .filter(|(k, _)| k != "-ldflags")
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
    };
    (out, build)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(vers: &str, modinfo: &[u8]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.push(8);
        b.push(FLAG_INLINE);
        b.resize(HEADER, 0);
        for s in [vers.as_bytes(), modinfo] {
            let mut n = s.len() as u64;
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                b.push(if n > 0 { byte | 0x80 } else { byte });
                if n == 0 {
                    break;
                }
            }
            b.extend_from_slice(s);
        }
        b
    }

    #[test]
    fn hostile_blobs_are_errors_not_panics() {
        assert!(parse(b"").is_err());
        assert!(parse(&[0xff; 64]).is_err());
        let mut b = MAGIC.to_vec();
        b.extend([8, 2]);
        b.resize(HEADER, 0);
        b.extend([0xff; 12]);
        assert!(parse(&b).unwrap_err().contains("overlong"));
        let mut b = MAGIC.to_vec();
        b.extend([8, 2]);
        b.resize(HEADER, 0);
        b.extend([0x90, 0x01, b'g']);
        assert!(parse(&b).unwrap_err().contains("runs past"));
        let mut old = MAGIC.to_vec();
        old.extend([8, 0]);
        old.resize(HEADER, 0);
        assert!(parse(&old).unwrap_err().contains("before 1.18"));
        let b = blob("go1.22.5", b"=>\tx\tv1\t\n");
        assert!(
            parse(&b)
                .unwrap_err()
                .contains("replacement without a module")
        );
    }
}

#[cfg(test)]
mod real_bytes {
    use super::*;

    /// The `.go.buildinfo` section of `tests/fixtures/go/app` built by Debian's
    /// go 1.19.8 (`objcopy --only-section=.go.buildinfo`); `go version -m` says:
    /// mod example.com/aipt/app (devel); dep example.com/aipt/greet v1.4.2 => ../greet (devel).
    const SECTION: &[u8] = include_bytes!("../../../tests/fixtures/go/buildinfo-go1.19.8.bin");

    #[test]
    fn section_written_by_the_go_linker() {
        let info = parse(SECTION).expect("parses");
        assert_eq!(info.go_version, "go1.19.8");
        assert_eq!(info.path.as_deref(), Some("example.com/aipt/app"));
        let main = info.main.clone().expect("mod line");
        assert_eq!(
            (main.path.as_str(), main.version.as_str()),
            ("example.com/aipt/app", "(devel)")
        );
        assert_eq!(info.deps.len(), 1);
        let dep = &info.deps[0];
        assert_eq!(
            (dep.path.as_str(), dep.version.as_str()),
            ("example.com/aipt/greet", "v1.4.2")
        );
        let r = dep.replace.as_ref().expect("replaced");
        assert_eq!(
            (r.path.as_str(), r.version.as_str()),
            ("../greet", "(devel)")
        );
        assert!(info.settings.contains(&("CGO_ENABLED".into(), "1".into())));
        let (c, build) = components(&info, "/srv/app");
        let names: Vec<(&str, &str, Option<&str>)> = c
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.version.as_str(),
                    c.replaced_by.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                ("example.com/aipt/app", "(devel)", None),
                ("example.com/aipt/greet", "v1.4.2", Some("../greet (devel)")),
                ("stdlib", "1.19.8", None),
            ]
        );
        assert_eq!(build.main_package.as_deref(), Some("example.com/aipt/app"));
    }

    #[test]
    fn every_truncation_of_the_real_section_is_an_error_or_a_prefix() {
        for n in 0..SECTION.len() {
            // Must not panic; a cut inside the strings is an error.
            let _ = parse(&SECTION[..n]);
        }
        assert!(parse(&SECTION[..40]).is_err());
    }
}
