//! Where aiposture keeps its own state: one directory, named the same way by
//! every part that writes there (hash cache, timeline, baseline, exports).

use std::path::PathBuf;

/// `$XDG_STATE_HOME/aiposture`, else `~/.local/state/aiposture`; `None` when
/// neither variable names a directory (never a path relative to the cwd).
pub fn state_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".local/state"))
        })
        .map(|d| d.join("aiposture"))
}
