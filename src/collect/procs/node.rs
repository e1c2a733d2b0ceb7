//! The npm package a Node process runs: the script named on its command line,
//! resolved as the process resolves it (its cwd, its root, symlinks such as
//! `node_modules/.bin/x` re-rooted), and the nearest `package.json` above it.
//! Read, never run: this is how an MCP server started with `npx` or
//! `node dist/index.js` is told from any other Node program.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::collect::versions::python::resolve_in_root;
use crate::knowledge::signatures::NodePackage;

/// Directories climbed from the script to its package.json.
const MAX_UP: usize = 12;
/// Bytes read of a package.json.
const MAX_MANIFEST: u64 = 256 << 10;

/// Is this process a Node interpreter? By its real binary or argv[0].
pub fn is_node(argv: &[String], exe: Option<&str>) -> bool {
    let base = |p: &str| {
        let name = p.rsplit('/').next().unwrap_or(p);
        name == "nodejs"
            || name
                .strip_prefix("node")
                .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit()))
    };
    exe.is_some_and(base) || argv.first().is_some_and(|a| base(a))
}

/// The script argument of `node [options] script [args]`; none for `-e`, `-p`
/// or the REPL. Options that take a value are skipped with it.
pub fn script_arg(argv: &[String]) -> Option<&str> {
    let mut args = argv.iter().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-e" | "--eval" | "-p" | "--print" | "-i" | "--interactive" | "-" => return None,
            "-r"
            | "--require"
            | "--import"
            | "--loader"
            | "--experimental-loader"
            | "-C"
            | "--conditions"
            | "--env-file"
            | "--title"
            | "--inspect-port" => {
                args.next();
            }
            s if s.starts_with('-') => {}
            s => return Some(s),
        }
    }
    None
}

/// The package of the script a Node process runs, through `/proc/PID/root`.
pub fn package_of(pid: u32, argv: &[String]) -> Option<NodePackage> {
    let script = script_arg(argv)?;
    let root = PathBuf::from(format!("/proc/{pid}/root"));
    let cwd = std::fs::read_link(format!("/proc/{pid}/cwd")).ok();
    find_package(&root, cwd.as_deref(), script)
}

/// The nearest package.json above `script` (as seen under `root`, relative to
/// `cwd`), with the names it declares.
pub fn find_package(root: &Path, cwd: Option<&Path>, script: &str) -> Option<NodePackage> {
    let inside = if script.starts_with('/') {
        PathBuf::from(script)
    } else {
        cwd?.join(script)
    };
    let seen = resolve_in_root(root, &inside);
    // Shown as the process sees it: the resolved path without our root prefix.
    let shown_of = |p: &Path| {
        p.strip_prefix(root)
            .map(|r| Path::new("/").join(r))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    for dir in seen.ancestors().skip(1).take(MAX_UP) {
        if dir == root || !dir.starts_with(root) {
            break;
        }
        let manifest = dir.join("package.json");
        let Ok(file) = std::fs::File::open(&manifest) else {
            continue;
        };
        let mut text = Vec::new();
        file.take(MAX_MANIFEST).read_to_end(&mut text).ok()?;
        return Some(parse_manifest(
            &text,
            shown_of(&manifest).to_string_lossy().into_owned(),
        ));
    }
    None
}

/// Name and dependency names of a package.json; a manifest that does not parse
/// is a package with no known name or dependencies (the reason is not needed to
/// classify, and the file is not the operator's to fix).
fn parse_manifest(text: &[u8], shown: String) -> NodePackage {
    let v: serde_json::Value = serde_json::from_slice(text).unwrap_or_default();
    let mut dependencies: Vec<String> = [
        "dependencies",
        "peerDependencies",
        "optionalDependencies",
        "bundleDependencies",
    ]
    .iter()
    .filter_map(|k| v.get(k))
    .flat_map(|d| match d {
        serde_json::Value::Object(m) => m.keys().cloned().collect::<Vec<_>>(),
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    })
    .collect();
    dependencies.sort();
    dependencies.dedup();
    NodePackage {
        manifest: shown,
        name: v.get("name").and_then(|n| n.as_str()).map(String::from),
        dependencies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split(' ').map(String::from).collect()
    }

    #[test]
    fn the_script_is_the_first_operand_after_options() {
        assert_eq!(
            script_arg(&argv(
                "node --enable-source-maps -r ./otel.js dist/index.js --port 3000"
            )),
            Some("dist/index.js")
        );
        assert_eq!(script_arg(&argv("node -e require('x')")), None);
        assert_eq!(script_arg(&argv("node")), None);
        assert!(is_node(&argv("/usr/bin/node x.js"), Some("node")));
        assert!(is_node(&argv("node22 x.js"), None));
        assert!(!is_node(
            &argv("/usr/bin/nodejs-lint x.js"),
            Some("nodejs-lint")
        ));
    }

    /// `npx` runs a package's bin through a symlink in `node_modules/.bin`: the
    /// manifest found is the linked package's own, not the npx cache's.
    #[test]
    fn a_bin_symlink_leads_to_its_package_manifest() {
        let root = tempfile::tempdir().expect("tempdir");
        let cache = root.path().join("home/u/.npm/_npx/abc");
        let pkg = cache.join("node_modules/@modelcontextprotocol/server-everything");
        std::fs::create_dir_all(pkg.join("dist")).expect("mkdir");
        std::fs::create_dir_all(cache.join("node_modules/.bin")).expect("mkdir");
        std::fs::write(pkg.join("dist/index.js"), "#!/usr/bin/env node\n").expect("write");
        std::fs::write(
            pkg.join("package.json"),
            r#"{"name":"@modelcontextprotocol/server-everything","dependencies":{"@modelcontextprotocol/sdk":"^1.0.0","zod":"^3"}}"#,
        )
        .expect("write");
        std::fs::write(cache.join("package.json"), r#"{"dependencies":{"x":"1"}}"#).expect("write");
        // An absolute link, as the process sees paths: re-rooted under `root`.
        std::os::unix::fs::symlink(
            "/home/u/.npm/_npx/abc/node_modules/@modelcontextprotocol/server-everything/dist/index.js",
            cache.join("node_modules/.bin/mcp-server-everything"),
        )
        .expect("symlink");
        let found = find_package(
            root.path(),
            Some(Path::new("/home/u")),
            ".npm/_npx/abc/node_modules/.bin/mcp-server-everything",
        )
        .expect("package");
        assert_eq!(
            found.manifest,
            "/home/u/.npm/_npx/abc/node_modules/@modelcontextprotocol/server-everything/package.json"
        );
        assert_eq!(
            found.name.as_deref(),
            Some("@modelcontextprotocol/server-everything")
        );
        assert_eq!(found.dependencies, ["@modelcontextprotocol/sdk", "zod"]);
    }

    #[test]
    fn a_script_outside_any_package_has_none_and_bad_json_is_no_error() {
        let root = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(root.path().join("srv/app")).expect("mkdir");
        std::fs::write(root.path().join("srv/app/a.js"), "").expect("write");
        assert_eq!(find_package(root.path(), None, "/srv/app/a.js"), None);
        std::fs::write(root.path().join("srv/package.json"), "{not json").expect("write");
        let p = find_package(root.path(), None, "/srv/app/a.js").expect("manifest");
        assert_eq!(p.name, None);
        assert!(p.dependencies.is_empty());
    }
}
