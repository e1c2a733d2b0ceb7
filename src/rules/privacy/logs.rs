//! Who can read a prompt log at rest. A file is readable by everyone when it
//! has o+r and every directory above it lets others through (o+x); by the other
//! members of its group when it has g+r, the group has other members and every
//! directory above lets that group through. For a directory log the file judged
//! is its loosest member (the collector picks it only where the directories
//! between the log directory and it let that class through). Entries marked
//! `unverified` in `assets/privacy.toml` are shown but never raise a finding:
//! a guessed location must not accuse a file on its own.

use std::collections::BTreeSet;

use crate::knowledge::Knowledge;
use crate::knowledge::privacy::Log;
use crate::model::privacy::{LogReaders, PromptLog};
use crate::model::{Evidence, Finding, Inventory, PathAccess, Severity, Source, Subject};

pub const RULE_WORLD_READABLE: &str = "privacy.prompt-log-world-readable";
pub const RULE_GROUP_READABLE: &str = "privacy.prompt-log-group-readable";

/// The file whose mode decides: the log file, or a directory log's loosest member.
fn judged(log: &PromptLog) -> Option<&PathAccess> {
    if log.is_dir {
        log.loosest_member.as_ref()
    } else {
        log.access.first().filter(|a| !a.is_dir)
    }
}

fn others_pass(d: &PathAccess) -> bool {
    d.mode & 0o001 != 0
}

fn group_passes(d: &PathAccess, gid: u32) -> bool {
    others_pass(d) || (d.mode & 0o010 != 0 && d.gid == gid)
}

/// Who can read `log`, from its access chain (and loosest member).
pub fn readers(log: &PromptLog) -> LogReaders {
    match judged(log) {
        Some(file) => chain_readers(file, &log.access),
        None => LogReaders::Owner,
    }
}

/// Who can read `file` through `access` (the file, then each directory above
/// it up to `/`): everyone, the other members of its group, or its owner only.
pub fn chain_readers(file: &PathAccess, access: &[PathAccess]) -> LogReaders {
    // The chain ends early where a component could not be looked at.
    let complete = access.last().is_some_and(|a| a.path == "/");
    let dirs: Vec<&PathAccess> = access.iter().filter(|a| a.is_dir).collect();
    let found = if file.mode & 0o004 != 0 && dirs.iter().all(|d| others_pass(d)) {
        LogReaders::Everyone
    } else if file.mode & 0o040 != 0
        && file.group_shared == Some(true)
        && dirs.iter().all(|d| group_passes(d, file.gid))
    {
        LogReaders::Group { gid: file.gid }
    } else {
        LogReaders::Owner
    };
    if found != LogReaders::Owner && !complete {
        LogReaders::Unknown
    } else {
        found
    }
}

/// Single-quoted for a POSIX shell.
use crate::rules::weights_access::shell_quote as quote;

pub fn describe(a: &PathAccess, readers: LogReaders) -> String {
    let verdict = match (a.is_dir, readers) {
        (true, LogReaders::Everyone) => ": others may pass (o+x)".to_string(),
        (true, LogReaders::Group { gid: g }) => format!(": group {g} may pass"),
        (false, LogReaders::Everyone) => ": others may read (o+r)".to_string(),
        (false, LogReaders::Group { gid: g }) => format!(": group {g} may read (g+r)"),
        _ => String::new(),
    };
    format!("{}{verdict}", crate::rules::weights_access::describe(a))
}

fn finding(log: &PromptLog, entry: &Log, readers: LogReaders) -> Finding {
    let (rule, severity, whom) = match readers {
        LogReaders::Everyone => (RULE_WORLD_READABLE, Severity::Medium, "every local user"),
        _ => (
            RULE_GROUP_READABLE,
            Severity::Low,
            "the other members of its group",
        ),
    };
    let mut evidence: Vec<Evidence> = Vec::new();
    if let Some(m) = log.loosest_member.as_ref().filter(|_| log.is_dir) {
        evidence.push(Evidence::new(
            Source::path(m.path.clone()),
            format!("{} (loosest file in the directory)", describe(m, readers)),
        ));
    }
    for a in &log.access {
        evidence.push(Evidence::new(
            Source::path(a.path.clone()),
            describe(a, readers),
        ));
    }
    evidence.push(Evidence::new(
        Source::asset(
            "assets/privacy.toml",
            Some(format!("[[logs]] id = \"{}\"", entry.id)),
        ),
        format!(
            "holds {}; status {}; source: {}",
            entry.holds, entry.status, entry.source
        ),
    ));
    evidence.push(Evidence::new(
        Source::note(format!("{} (pid {})", log.product, log.pid)),
        format!("located by {}", log.located_by),
    ));
    evidence.push(Evidence::new(
        Source::path(log.path.clone()),
        format!(
            "{} bytes in {} file{}, last modified {}",
            log.size_bytes,
            log.files,
            if log.files == 1 { "" } else { "s" },
            log.modified.as_deref().unwrap_or("unknown")
        ),
    ));
    let q = quote(&log.path);
    let keep_private =
        "; to keep files it creates private, start it with umask 077 (systemd: UMask=0077)";
    let remediation = if log.is_dir {
        format!(
            "chmod -R go-rwx {q} (the directory and every file in it){keep_private}. If another account must read it, use a dedicated group: chgrp -R GROUP {q} && chmod -R g+rX,o-rwx {q}"
        )
    } else {
        format!(
            "chmod 600 {q}{keep_private}. If another account must read it, use a dedicated group: chgrp GROUP {q} && chmod 640 {q}"
        )
    };
    let holds = &log.holds;
    Finding {
        rule: rule.into(),
        severity,
        title: format!(
            "{} of {} (pid {}) is readable by {whom}",
            log.path, log.product, log.pid
        ),
        subject: Subject {
            product: log.product.clone(),
            pid: log.pid,
            listener: None,
            path: Some(log.path.clone()),
        },
        summary: format!(
            "It keeps {holds}: {whom} can read what was asked of the model and what it answered, without going through the server or its authentication."
        ),
        evidence,
        remediation,
    }
}

/// One finding per prompt log (pid and path) readable past its owner.
pub fn findings(inventory: &Inventory, knowledge: &Knowledge) -> Vec<Finding> {
    let mut seen: BTreeSet<(u32, &str)> = BTreeSet::new();
    let mut out = Vec::new();
    for log in &inventory.privacy.prompt_logs {
        // A log whose entry is unknown or unverified is shown, not judged.
        let Some(entry) = knowledge
            .privacy
            .logs
            .iter()
            .find(|e| e.id == log.log && e.status != "unverified")
        else {
            continue;
        };
        let readers = readers(log);
        if !matches!(readers, LogReaders::Everyone | LogReaders::Group { .. }) {
            continue;
        }
        if seen.insert((log.pid, log.path.as_str())) {
            out.push(finding(log, entry, readers));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testing::inventory;

    fn access(path: &str, is_dir: bool, mode: u32, gid: u32, shared: Option<bool>) -> PathAccess {
        PathAccess {
            path: path.into(),
            is_dir,
            uid: 1000,
            gid,
            owner: Some("alice".into()),
            mode,
            group_shared: shared,
        }
    }

    fn chain_above(dir_mode: u32) -> Vec<PathAccess> {
        vec![
            access("/srv/llm", true, dir_mode, 1000, Some(false)),
            access("/srv", true, 0o755, 0, Some(false)),
            access("/", true, 0o755, 0, Some(false)),
        ]
    }

    fn file_log(file_mode: u32, gid: u32, shared: Option<bool>, dir_mode: u32) -> PromptLog {
        let mut access = vec![access("/srv/llm/server.log", false, file_mode, gid, shared)];
        access.extend(chain_above(dir_mode));
        PromptLog {
            pid: 42,
            product: "llama.cpp server".into(),
            log: "llama-server-log-file".into(),
            holds: "server log".into(),
            path: "/srv/llm/server.log".into(),
            located_by: "--log-file of pid 42".into(),
            is_dir: false,
            size_bytes: 10,
            files: 1,
            modified: Some("2026-01-01T00:00:00Z".into()),
            access,
            loosest_member: None,
            readers: None,
        }
    }

    fn run(logs: Vec<PromptLog>) -> Vec<Finding> {
        let mut inv = inventory();
        inv.privacy.prompt_logs = logs;
        let k = Knowledge::embedded().expect("knowledge");
        findings(&inv, &k)
    }

    #[test]
    fn world_readable_log_under_passable_dirs_is_a_medium_finding() {
        let log = file_log(0o644, 1000, Some(false), 0o755);
        assert_eq!(readers(&log), LogReaders::Everyone);
        let f = run(vec![log]);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].rule, RULE_WORLD_READABLE);
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].subject.path.as_deref(), Some("/srv/llm/server.log"));
        assert_eq!(
            f[0].remediation.split(';').next(),
            Some("chmod 600 '/srv/llm/server.log'")
        );
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.source.to_string() == "/srv/llm"
                    && e.detail.contains("mode 0755")
                    && e.detail.contains("o+x"))
        );
        assert!(f[0].evidence.iter().any(
            |e| e.source.to_string().contains("llama-server-log-file")
                && e.detail.contains("status src")
                && e.detail.contains("common/arg.cpp")
        ));
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e.detail.contains("--log-file of pid 42"))
        );
    }

    #[test]
    fn a_closed_directory_above_or_a_private_mode_clears_it() {
        let closed = file_log(0o644, 1000, Some(false), 0o750);
        assert_eq!(readers(&closed), LogReaders::Owner);
        let private = file_log(0o600, 1000, Some(false), 0o755);
        assert_eq!(readers(&private), LogReaders::Owner);
        assert!(run(vec![closed, private]).is_empty());
    }

    #[test]
    fn group_readable_with_other_members_is_a_low_finding() {
        // Group 2000 has other members; the directory is closed to others but
        // passable by group 2000.
        let mut log = file_log(0o640, 2000, Some(true), 0o750);
        log.access[1].gid = 2000;
        assert_eq!(readers(&log), LogReaders::Group { gid: 2000 });
        let f = run(vec![log.clone()]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, RULE_GROUP_READABLE);
        assert_eq!(f[0].severity, Severity::Low);
        // A private group (no other member) reads nothing new.
        log.access[0].group_shared = Some(false);
        assert_eq!(readers(&log), LogReaders::Owner);
        // A directory of another group stops the group.
        let mut log = file_log(0o640, 2000, Some(true), 0o750);
        log.access[1].gid = 3000;
        assert_eq!(readers(&log), LogReaders::Owner);
    }

    #[test]
    fn a_directory_log_is_judged_by_its_loosest_member() {
        let mut chain = vec![access("/srv/llm/slots", true, 0o755, 1000, Some(false))];
        chain.extend(chain_above(0o755));
        let mut log = file_log(0o644, 1000, Some(false), 0o755);
        log.log = "llama-server-slots".into();
        log.path = "/srv/llm/slots".into();
        log.is_dir = true;
        log.files = 2;
        log.access = chain;
        assert_eq!(readers(&log), LogReaders::Owner, "no loose member");
        log.loosest_member = Some(access_member(0o644));
        assert_eq!(readers(&log), LogReaders::Everyone);
        let f = run(vec![log.clone()]);
        assert_eq!(f.len(), 1);
        assert!(
            f[0].remediation
                .starts_with("chmod -R go-rwx '/srv/llm/slots'")
        );
        assert_eq!(f[0].evidence[0].source.to_string(), "/srv/llm/slots/a.bin");
        // The log directory itself closed to others: nothing inside is reachable.
        log.access[0].mode = 0o700;
        assert_eq!(readers(&log), LogReaders::Owner);
    }

    fn access_member(mode: u32) -> PathAccess {
        access("/srv/llm/slots/a.bin", false, mode, 1000, Some(false))
    }

    #[test]
    fn an_incomplete_chain_is_unknown_not_a_finding() {
        let mut log = file_log(0o644, 1000, Some(false), 0o755);
        log.access.truncate(2);
        assert_eq!(readers(&log), LogReaders::Unknown);
        assert!(run(vec![log]).is_empty());
    }

    #[test]
    fn unverified_or_unknown_entries_are_shown_but_raise_nothing() {
        let mut log = file_log(0o644, 1000, Some(false), 0o755);
        log.log = "lmstudio-conversations".into();
        assert!(run(vec![log.clone()]).is_empty());
        log.log = "no-such-entry".into();
        assert!(run(vec![log]).is_empty());
        let k = Knowledge::embedded().expect("knowledge");
        assert!(
            k.privacy
                .logs
                .iter()
                .any(|l| l.id == "lmstudio-conversations" && l.status == "unverified")
        );
    }
}
