//! Owner and mode of a model file and of each directory above it: who, besides
//! the server, could swap the weights. Group membership comes from /etc/group and
//! the primary groups of /etc/passwd, read directly (no NSS round-trips).

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

use crate::collect::host::UserNames;
use crate::model::PathAccess;

/// Most path components recorded for one file (deeper trees are cut at the top).
const MAX_CHAIN: usize = 64;

/// gid → users in it (listed members and users whose primary group it is).
#[derive(Default)]
pub struct Groups(HashMap<u32, Vec<String>>);

impl Groups {
    pub fn load() -> Self {
        Self::parse(
            &std::fs::read_to_string("/etc/group").unwrap_or_default(),
            &std::fs::read_to_string("/etc/passwd").unwrap_or_default(),
        )
    }

    pub fn parse(group: &str, passwd: &str) -> Self {
        let mut map: HashMap<u32, Vec<String>> = HashMap::new();
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            let Some(gid) = f.get(2).and_then(|g| g.parse::<u32>().ok()) else {
                continue;
            };
            let members = map.entry(gid).or_default();
            for m in f
                .get(3)
                .map(|m| m.split(',').filter(|s| !s.is_empty()))
                .into_iter()
                .flatten()
            {
                members.push(m.to_string());
            }
        }
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let (Some(name), Some(gid)) = (f.first(), f.get(3).and_then(|g| g.parse().ok())) {
                map.entry(gid).or_default().push(name.to_string());
            }
        }
        Groups(map)
    }

    /// Is anyone other than `owner` in group `gid`? `None`: the group is not listed.
    pub fn shared(&self, gid: u32, owner: Option<&str>) -> Option<bool> {
        self.0
            .get(&gid)
            .map(|users| users.iter().any(|u| Some(u.as_str()) != owner))
    }
}

/// `a/b/../c` → `a/c` without touching the file system (HF snapshot links are
/// relative `../../blobs/…`).
pub fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// The file and each directory above it up to `stop` (inclusive) or `/`.
/// `seen_at` maps a shown path to where to stat it from here (a container's
/// files through /proc/PID/root). Unreadable components end the chain.
pub fn chain(
    file: &Path,
    stop: Option<&Path>,
    seen_at: &dyn Fn(&Path) -> PathBuf,
    users: &UserNames,
    groups: &Groups,
) -> Vec<PathAccess> {
    let file = normalise(file);
    let stop = stop.map(normalise);
    let mut out = Vec::new();
    let mut cur: Option<&Path> = Some(file.as_path());
    while let Some(p) = cur {
        if out.len() >= MAX_CHAIN {
            break;
        }
        let Ok(m) = std::fs::metadata(seen_at(p)) else {
            break;
        };
        let owner = users.name(m.uid());
        out.push(PathAccess {
            path: p.to_string_lossy().into_owned(),
            is_dir: m.is_dir(),
            uid: m.uid(),
            gid: m.gid(),
            group_shared: groups.shared(m.gid(), owner.as_deref()),
            owner,
            mode: m.mode() & 0o7777,
        });
        if stop.as_deref() == Some(p) {
            break;
        }
        cur = p.parent();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_shared_groups() {
        let g = Groups::parse(
            "alice:x:1000:\nmodels:x:2000:alice,bob\nempty:x:3000:\n",
            "alice:x:1000:1000::/home/alice:/bin/sh\n",
        );
        assert_eq!(g.shared(1000, Some("alice")), Some(false));
        assert_eq!(g.shared(2000, Some("alice")), Some(true));
        assert_eq!(g.shared(3000, Some("alice")), Some(false));
        assert_eq!(g.shared(4000, Some("alice")), None);
    }

    #[test]
    fn normalise_resolves_parent_components() {
        assert_eq!(
            normalise(Path::new("/h/hub/models--a--b/snapshots/r/../../blobs/x")),
            PathBuf::from("/h/hub/models--a--b/blobs/x")
        );
    }
}
