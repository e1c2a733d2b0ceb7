//! Model stores on disk: Ollama's manifests and content-addressed blobs, and the
//! Hugging Face hub cache (snapshots pointing at blobs). Both name files by their
//! digest, so integrity is checkable without any outside reference.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::formats::magic::recognise;
use crate::model::{Integrity, StoreFile, StoreKind};

/// Cap on manifest size: they are a few hundred bytes.
const MANIFEST_CAP: u64 = 1024 * 1024;
/// Bound on directory walking, against hostile or looping trees.
const MAX_ENTRIES: usize = 100_000;
const MAX_DEPTH: usize = 8;

#[derive(Deserialize)]
struct Manifest {
    #[serde(default)]
    layers: Vec<Layer>,
    config: Option<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
}

pub fn read_capped(path: &Path, cap: u64) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::fs::File::open(path)?.take(cap).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Files below `root`, bounded in depth and count, symlinks not followed.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            if out.len() >= MAX_ENTRIES {
                return out;
            }
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() && depth < MAX_DEPTH {
                stack.push((e.path(), depth + 1));
            } else if ft.is_file() || ft.is_symlink() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// Ollama store at `root` (`…/.ollama/models`): every manifest's model layer,
/// resolved to its blob, named `<registry>/<namespace>/<model>:<tag>`.
pub fn ollama(root: &Path) -> Vec<StoreFile> {
    let manifests = root.join("manifests");
    let mut out = Vec::new();
    for m in walk(&manifests) {
        let Ok(rel) = m.strip_prefix(&manifests) else {
            continue;
        };
        let parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        let reference = match parts.as_slice() {
            [reg, ns, model, tag] => format!("{reg}/{ns}/{model}:{tag}"),
            _ => rel.to_string_lossy().into_owned(),
        };
        let manifest: Option<Manifest> = read_capped(&m, MANIFEST_CAP)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        let Some(manifest) = manifest else {
            out.push(StoreFile {
                store: StoreKind::Ollama,
                root: root.to_string_lossy().into_owned(),
                reference,
                path: m.to_string_lossy().into_owned(),
                size_bytes: None,
                format: None,
                expected_sha256: None,
                integrity: Integrity::NoDigest,
                facts: Default::default(),
                problem: Some("manifest is not valid JSON".into()),
                template_layer: None,
                license_layers: Vec::new(),
                config_layer: None,
            });
            continue;
        };
        let blob_of = |digest: &str| {
            let hex = digest.strip_prefix("sha256:").unwrap_or(digest).to_string();
            (root.join("blobs").join(format!("sha256-{hex}")), hex)
        };
        let template = manifest
            .layers
            .iter()
            .find(|l| l.media_type.ends_with(".template"))
            .map(|l| blob_of(&l.digest).0.to_string_lossy().into_owned());
        let licenses: Vec<String> = manifest
            .layers
            .iter()
            .filter(|l| l.media_type.ends_with(".license"))
            .map(|l| blob_of(&l.digest).0.to_string_lossy().into_owned())
            .collect();
        let config = manifest
            .config
            .as_ref()
            .map(|l| blob_of(&l.digest).0.to_string_lossy().into_owned());
        for l in manifest
            .layers
            .iter()
            .filter(|l| l.media_type.ends_with(".model"))
        {
            let (blob, hex) = blob_of(&l.digest);
            let mut f = file(StoreKind::Ollama, root, &reference, &blob, Some(hex));
            f.template_layer = template.clone();
            f.license_layers = licenses.clone();
            f.config_layer = config.clone();
            out.push(f);
        }
    }
    out
}

/// Hugging Face hub cache at `hub` (`…/huggingface/hub`): each snapshot file,
/// named `org/name@revision/path`; LFS blobs carry their sha256 as file name.
pub fn huggingface(hub: &Path) -> Vec<StoreFile> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(hub) else {
        return out;
    };
    let mut repos: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("models--"))
        })
        .collect();
    repos.sort();
    for repo in repos {
        let name = repo
            .file_name()
            .map(|n| {
                n.to_string_lossy()
                    .trim_start_matches("models--")
                    .replacen("--", "/", 1)
            })
            .unwrap_or_default();
        let snapshots = repo.join("snapshots");
        for f in walk(&snapshots) {
            let Ok(rel) = f.strip_prefix(&snapshots) else {
                continue;
            };
            let mut it = rel.iter();
            let rev = it
                .next()
                .map(|r| r.to_string_lossy().into_owned())
                .unwrap_or_default();
            let inner: PathBuf = it.collect();
            // Snapshot entries are symlinks to ../../blobs/<hash>.
            let target = std::fs::read_link(&f)
                .ok()
                .map(|t| f.parent().map(|p| p.join(&t)).unwrap_or(t));
            // Lexically resolved (`snapshots/rev/../../blobs/x` → `blobs/x`): the path a
            // server maps, so loaded models and store files meet on the same string.
            let blob =
                crate::collect::models::access::normalise(&target.unwrap_or_else(|| f.clone()));
            let expected = blob
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| n.len() == 64 && n.chars().all(|c| c.is_ascii_hexdigit()));
            let reference = format!(
                "{name}@{}/{}",
                &rev[..rev.len().min(12)],
                inner.to_string_lossy()
            );
            out.push(file(
                StoreKind::HuggingFace,
                hub,
                &reference,
                &blob,
                expected,
            ));
        }
    }
    out
}

fn file(
    store: StoreKind,
    root: &Path,
    reference: &str,
    path: &Path,
    expected: Option<String>,
) -> StoreFile {
    let (size, format, problem) = match std::fs::metadata(path) {
        Ok(m) => match recognise(path) {
            Ok(f) => (Some(m.len()), f, None),
            Err(e) => (Some(m.len()), None, Some(format!("unreadable: {e}"))),
        },
        Err(e) => (None, None, Some(format!("missing or unreadable: {e}"))),
    };
    StoreFile {
        store,
        root: root.to_string_lossy().into_owned(),
        reference: reference.to_string(),
        path: path.to_string_lossy().into_owned(),
        size_bytes: size,
        format,
        integrity: if expected.is_some() {
            Integrity::NotChecked {
                why: "not hashed yet".into(),
            }
        } else {
            Integrity::NoDigest
        },
        expected_sha256: expected,
        facts: Default::default(),
        problem,
        template_layer: None,
        license_layers: Vec::new(),
        config_layer: None,
    }
}

/// sha256 of a file, streamed (never held in memory).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    crate::collect::models::hasher::sha256_file(path, None)
}

/// Does the file still hash to the digest its store named it by?
pub fn verify(f: &StoreFile) -> Option<Result<bool, String>> {
    let expected = f.expected_sha256.as_ref()?;
    Some(
        sha256_file(Path::new(&f.path))
            .map(|actual| actual.eq_ignore_ascii_case(expected))
            .map_err(|e| e.to_string()),
    )
}

/// Is this a model file (by content)? Store files that are not (tokenizers,
/// configs) are kept out of the model list.
pub fn is_model(f: &StoreFile) -> bool {
    // Every format the sniffer names is a model format (or a container of one).
    f.format.is_some()
}

/// Where stores may be, and why each place was looked at: the servers' own
/// configuration first, then their owners' homes, then the well-known paths.
pub fn roots(
    servers: &[crate::model::Server],
    users: &crate::collect::host::UserNames,
) -> Vec<(StoreKind, PathBuf, String)> {
    let mut out: Vec<(StoreKind, PathBuf, String)> = Vec::new();
    let mut add = |k: StoreKind, p: PathBuf, why: String| {
        if !out.iter().any(|(kk, pp, _)| *kk == k && *pp == p) {
            out.push((k, p, why));
        }
    };
    for s in servers {
        let env = |n: &str| {
            s.env_config
                .iter()
                .find(|e| e.name == n)
                .map(|e| e.value.clone())
        };
        if let Some(v) = env("OLLAMA_MODELS") {
            add(
                StoreKind::Ollama,
                PathBuf::from(v),
                format!("OLLAMA_MODELS of pid {}", s.pid),
            );
        }
        if let Some(v) = env("HF_HUB_CACHE") {
            add(
                StoreKind::HuggingFace,
                PathBuf::from(v),
                format!("HF_HUB_CACHE of pid {}", s.pid),
            );
        }
        if let Some(v) = env("HF_HOME") {
            add(
                StoreKind::HuggingFace,
                PathBuf::from(v).join("hub"),
                format!("HF_HOME of pid {}", s.pid),
            );
        }
        if let Some(home) = s.uid.and_then(|u| users.home(u)) {
            let who = format!(
                "home of {} (pid {})",
                s.user.clone().unwrap_or_default(),
                s.pid
            );
            add(
                StoreKind::Ollama,
                Path::new(&home).join(".ollama/models"),
                who.clone(),
            );
            add(
                StoreKind::HuggingFace,
                Path::new(&home).join(".cache/huggingface/hub"),
                who,
            );
        }
    }
    add(
        StoreKind::Ollama,
        PathBuf::from("/usr/share/ollama/.ollama/models"),
        "Ollama's Linux service default".into(),
    );
    if let Some(home) = std::env::var_os("HOME") {
        let home = PathBuf::from(home);
        add(
            StoreKind::Ollama,
            home.join(".ollama/models"),
            "home of the user running aiposture".into(),
        );
        add(
            StoreKind::HuggingFace,
            home.join(".cache/huggingface/hub"),
            "home of the user running aiposture".into(),
        );
    }
    out
}
