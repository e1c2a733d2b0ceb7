//! Model files on the host: those a server maps or holds open, the stores and
//! model directories they come from, who can write them, and their content
//! hashes (cache, background hasher, integrity against store digests).

pub mod access;
pub mod dirs;
pub mod hashcache;
pub mod hasher;
pub(crate) mod integrity;
pub mod loaded;
pub mod stores;

use std::path::Path;

use crate::collect::host::UserNames;
use crate::formats::analyse::AnalysisCache;
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::{Server, StoreFile};

/// Who could swap each model file (owner and mode up to the store root for
/// store files, up to `/` as their process sees them for loaded models), and
/// what each file's header holds (cached per content).
pub fn annotate(
    servers: &mut [Server],
    store_files: &mut [StoreFile],
    users: &UserNames,
    groups: &access::Groups,
    analyses: &mut AnalysisCache,
    rules: &PickleRules,
) {
    let plain = |p: &Path| p.to_path_buf();
    for f in store_files.iter_mut().filter(|f| stores::is_model(f)) {
        f.facts.access = access::chain(
            Path::new(&f.path),
            Some(Path::new(&f.root)),
            &plain,
            users,
            groups,
        );
    }
    for s in servers.iter_mut() {
        for m in s.models.iter_mut().filter(|m| !m.deleted) {
            let pid = m.pid;
            let through_root = move |p: &Path| loaded::through_root(pid, p);
            m.facts.access = access::chain(&m.fs_path(), None, &through_root, users, groups);
            // As the process sees it: through its root (containers).
            let seen = loaded::through_root(m.pid, &m.fs_path());
            m.facts.analysis = analyses.get_or_analyse(&seen, &m.format, rules);
        }
    }
    for f in store_files.iter_mut() {
        if let Some(format) = f.format.clone() {
            f.facts.analysis = analyses.get_or_analyse(Path::new(&f.path), &format, rules);
        }
    }
}
