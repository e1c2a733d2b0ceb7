//! Model directories without a content-addressed layout: LM Studio, llama.cpp's
//! cache, ComfyUI and text-generation-webui `models/` trees, and roots the operator
//! lists in the config. Files are recognised by content (magic), never by name;
//! nothing names a digest for them, so their integrity is `NoDigest`.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::collect::models::stores::read_capped;
use crate::model::{BlindSpot, Integrity, ModelFormat, Server, Source, StoreFile, StoreKind};

/// Bounds on one walk, against hostile or looping trees.
const MAX_DEPTH: usize = 8;
const MAX_ENTRIES: usize = 50_000;
/// Unreadable directories listed one by one before they are only counted.
const MAX_BLIND: usize = 8;
/// LM Studio's settings are a few KiB.
const SETTINGS_CAP: u64 = 256 * 1024;

/// A place to look, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Root {
    pub kind: StoreKind,
    pub path: PathBuf,
    pub why: String,
}

/// What a walk found under one root.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<StoreFile>,
    pub blind: Vec<BlindSpot>,
    /// The entry bound was hit: the listing is incomplete.
    pub truncated: bool,
}

fn flag_value(argv: &[String], flag: &str) -> Option<String> {
    crate::model::argv::value(argv, flag).map(String::from)
}

/// Directory of the first argv element ending in `/name` or equal to `name`.
fn script_dir(argv: &[String], name: &str) -> Option<PathBuf> {
    argv.iter()
        .skip(1)
        .find(|a| *a == name || a.ends_with(&format!("/{name}")))
        .map(|a| {
            Path::new(a)
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        })
}

fn against(cwd: Option<&Path>, p: PathBuf) -> Option<PathBuf> {
    if p.is_absolute() {
        Some(p)
    } else {
        cwd.map(|c| c.join(p))
    }
}

/// `downloadsFolder` of LM Studio's settings (second-hand: the key shown by
/// current releases), if the file is there and small.
pub fn lmstudio_downloads(settings: &Path) -> Option<PathBuf> {
    let bytes = read_capped(settings, SETTINGS_CAP).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("downloadsFolder")
        .and_then(|d| d.as_str())
        .filter(|d| d.starts_with('/'))
        .map(PathBuf::from)
}

/// Places of one home: LM Studio and llama.cpp defaults.
fn home_roots(home: &Path, who: &str, add: &mut dyn FnMut(StoreKind, PathBuf, String)) {
    for rel in [".lmstudio/models", ".cache/lm-studio/models"] {
        add(StoreKind::LmStudio, home.join(rel), who.to_string());
    }
    for settings in [".lmstudio/settings.json", ".cache/lm-studio/settings.json"] {
        let s = home.join(settings);
        if let Some(d) = lmstudio_downloads(&s) {
            add(
                StoreKind::LmStudio,
                d,
                format!("downloadsFolder in {}", s.display()),
            );
        }
    }
    add(
        StoreKind::LlamaCpp,
        home.join(".cache/llama.cpp"),
        who.to_string(),
    );
}

/// Where model directories may be, and why each was looked at: the servers'
/// own flags, environment and working directory, their owners' homes, the
/// invoking user's home, and the operator's list. `cwd_of` gives a server's
/// working directory as reachable from here.
pub fn roots(
    servers: &[Server],
    users: &crate::collect::host::UserNames,
    configured: &[PathBuf],
    own_home: Option<&Path>,
    cwd_of: &dyn Fn(&Server) -> Option<PathBuf>,
) -> Vec<Root> {
    let mut out: Vec<Root> = Vec::new();
    let mut add = |kind: StoreKind, path: PathBuf, why: String| {
        if !out.iter().any(|r| r.path == path) {
            out.push(Root { kind, path, why });
        }
    };
    for s in servers {
        let cwd = cwd_of(s);
        if let Some(v) = s.env_config.iter().find(|e| e.name == "LLAMA_CACHE") {
            add(
                StoreKind::LlamaCpp,
                PathBuf::from(&v.value),
                format!("LLAMA_CACHE of pid {}", s.pid),
            );
        }
        match s.product_id.as_str() {
            "comfyui" => {
                if let Some(b) = flag_value(&s.cmdline, "--base-directory")
                    .and_then(|b| against(cwd.as_deref(), PathBuf::from(b)))
                {
                    add(
                        StoreKind::ComfyUi,
                        b.join("models"),
                        format!("--base-directory of pid {}", s.pid),
                    );
                }
                // ComfyUI resolves models/ next to main.py, not the cwd.
                if let Some(d) =
                    script_dir(&s.cmdline, "main.py").and_then(|d| against(cwd.as_deref(), d))
                {
                    add(
                        StoreKind::ComfyUi,
                        crate::collect::models::access::normalise(&d.join("models")),
                        format!("next to main.py of pid {}", s.pid),
                    );
                }
                if let Some(c) = &cwd {
                    add(
                        StoreKind::ComfyUi,
                        c.join("models"),
                        format!("working directory of pid {}", s.pid),
                    );
                }
            }
            "text_generation_webui" => {
                if let Some(d) = flag_value(&s.cmdline, "--model-dir")
                    .and_then(|d| against(cwd.as_deref(), PathBuf::from(d)))
                {
                    add(
                        StoreKind::TextGenerationWebui,
                        d,
                        format!("--model-dir of pid {}", s.pid),
                    );
                }
                let mut bases = Vec::new();
                if let Some(d) =
                    script_dir(&s.cmdline, "server.py").and_then(|d| against(cwd.as_deref(), d))
                {
                    bases.push((
                        crate::collect::models::access::normalise(&d),
                        format!("next to server.py of pid {}", s.pid),
                    ));
                }
                if let Some(c) = &cwd {
                    bases.push((c.clone(), format!("working directory of pid {}", s.pid)));
                }
                // Older releases keep models/, newer ones user_data/models.
                for (b, why) in bases {
                    for rel in ["models", "user_data/models"] {
                        add(StoreKind::TextGenerationWebui, b.join(rel), why.clone());
                    }
                }
            }
            _ => {}
        }
        if let Some(home) = s.uid.and_then(|u| users.home(u)) {
            let who = format!(
                "home of {} (pid {})",
                s.user.clone().unwrap_or_default(),
                s.pid
            );
            home_roots(Path::new(&home), &who, &mut add);
        }
    }
    if let Some(home) = own_home {
        home_roots(home, "home of the user running aiposture", &mut add);
    }
    // Last, so that a file below both a product's directory and a configured root
    // is listed under the product (it is listed once).
    for p in configured {
        add(
            StoreKind::Configured,
            p.clone(),
            "listed in [models] roots of the config".into(),
        );
    }
    out
}

/// Model files below `root`, by content. Symlinked directories are followed once
/// (a visited set of device/inode pairs stops loops); depth and entry count are
/// bounded; unreadable directories become blind spots.
pub fn walk(
    kind: StoreKind,
    root: &Path,
    why: &str,
    sniff: &mut dyn FnMut(&Path, &std::fs::Metadata) -> std::io::Result<Option<ModelFormat>>,
) -> Walked {
    let mut w = Walked::default();
    let mut visited: HashSet<(u64, u64)> = HashSet::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    let mut entries = 0usize;
    let mut unreadable: Vec<(PathBuf, String)> = Vec::new();
    while let Some((dir, depth)) = stack.pop() {
        let Ok(meta) = std::fs::metadata(&dir) else {
            continue;
        };
        if !visited.insert((meta.dev(), meta.ino())) {
            continue;
        }
        let rd = match std::fs::read_dir(&dir) {
            Ok(rd) => rd,
            Err(e) => {
                unreadable.push((dir, e.to_string()));
                continue;
            }
        };
        // Bounded before sorting: a directory of millions of entries is not held.
        let mut names: Vec<std::fs::DirEntry> = rd
            .flatten()
            .take(MAX_ENTRIES + 1 - entries.min(MAX_ENTRIES))
            .collect();
        names.sort_by_key(|e| e.file_name());
        for e in names {
            entries += 1;
            if entries > MAX_ENTRIES {
                w.truncated = true;
                break;
            }
            let path = e.path();
            // Follows symlinks: a linked model or directory counts where it is linked.
            let Ok(m) = std::fs::metadata(&path) else {
                continue;
            };
            if m.is_dir() {
                if depth < MAX_DEPTH {
                    stack.push((path, depth + 1));
                }
                continue;
            }
            if !m.is_file() {
                continue;
            }
            match sniff(&path, &m) {
                Ok(Some(format)) => {
                    let reference = path
                        .strip_prefix(root)
                        .map(|r| r.to_string_lossy().into_owned())
                        .unwrap_or_else(|_| path.to_string_lossy().into_owned());
                    w.files.push(StoreFile {
                        store: kind,
                        root: root.to_string_lossy().into_owned(),
                        reference,
                        path: path.to_string_lossy().into_owned(),
                        size_bytes: Some(m.len()),
                        format: Some(format),
                        expected_sha256: None,
                        integrity: Integrity::NoDigest,
                        facts: Default::default(),
                        problem: None,
                        template_layer: None,
                        license_layers: Vec::new(),
                        config_layer: None,
                    });
                }
                Ok(None) => {}
                Err(e) => unreadable.push((path, e.to_string())),
            }
        }
        if w.truncated {
            break;
        }
    }
    w.files.sort_by(|a, b| a.path.cmp(&b.path));
    let what = format!("{} at {} ({why})", kind.label(), root.display());
    for (p, reason) in unreadable.iter().take(MAX_BLIND) {
        w.blind.push(BlindSpot {
            what: format!("{what}: {}", p.display()),
            path: Source::path(p.to_string_lossy()),
            reason: reason.clone(),
            consequence: "model files in it are not listed or judged; run as root or as its owner"
                .into(),
        });
    }
    if unreadable.len() > MAX_BLIND {
        w.blind.push(BlindSpot {
            what: format!("{what}: {} more paths", unreadable.len() - MAX_BLIND),
            path: Source::path(root.to_string_lossy()),
            reason: "unreadable".into(),
            consequence: "model files in them are not listed or judged".into(),
        });
    }
    if w.truncated {
        w.blind.push(BlindSpot {
            what: what.clone(),
            path: Source::path(root.to_string_lossy()),
            reason: format!("more than {MAX_ENTRIES} entries"),
            consequence: "the listing stops there: later model files are not listed".into(),
        });
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_script_dirs() {
        let argv: Vec<String> = ["python", "/opt/ComfyUI/main.py", "--base-directory=/data/c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            flag_value(&argv, "--base-directory").as_deref(),
            Some("/data/c")
        );
        assert_eq!(
            script_dir(&argv, "main.py"),
            Some(PathBuf::from("/opt/ComfyUI"))
        );
        let argv: Vec<String> = ["python", "server.py", "--model-dir", "m2"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(flag_value(&argv, "--model-dir").as_deref(), Some("m2"));
        assert_eq!(script_dir(&argv, "server.py"), Some(PathBuf::new()));
    }
}
