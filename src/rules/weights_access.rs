//! Who, besides the serving user and root, can swap a model's weights: the file,
//! or any directory above it (up to the store root, or `/` for a loaded model),
//! writable by group or others, or owned by another user. The serving user's own
//! write access is `pivot.model-dir-writable`'s concern; one finding per cause.

use std::collections::BTreeMap;

use crate::model::{Evidence, Finding, Inventory, PathAccess, Severity, Source, Subject};

pub const RULE_WRITABLE_BY_OTHERS: &str = "weights.writable-by-others";
pub const RULE_FOREIGN_OWNER: &str = "weights.owned-by-another-user";

/// Models listed as evidence under one path before they are only counted.
const LIST_MODELS: usize = 10;

/// Single-quoted for a POSIX shell.
pub fn shell_quote(p: &str) -> String {
    format!("'{}'", p.replace('\'', r"'\''"))
}

/// `file owned by alice (uid 1000), gid 100 (group has other members), mode 0644`
pub fn describe(a: &PathAccess) -> String {
    format!(
        "{} owned by {} (uid {}), gid {}{}, mode {:04o}",
        if a.is_dir { "directory" } else { "file" },
        a.owner.as_deref().unwrap_or("an unknown user"),
        a.uid,
        a.gid,
        match a.group_shared {
            Some(true) => " (group has other members)",
            Some(false) => " (no other member)",
            None => " (group not listed in /etc/group)",
        },
        a.mode
    )
}

/// Which write bits let someone other than the owner replace what is below `a`:
/// "g", "o" or "go". A sticky directory lets only an entry's owner replace it,
/// so its write bits are not a way in (the entry's owner is judged on its own).
fn foreign_write_bits(a: &PathAccess) -> String {
    if a.is_dir && a.mode & 0o1000 != 0 {
        return String::new();
    }
    let mut bits = String::new();
    if a.mode & 0o020 != 0 && a.group_shared != Some(false) {
        bits.push('g');
    }
    if a.mode & 0o002 != 0 {
        bits.push('o');
    }
    bits
}

/// A finding in the making: one path, one cause, the models below it.
struct Cause {
    access: PathAccess,
    bits: String,
    models: Vec<String>,
    product: String,
    pid: u32,
    loaded: bool,
    serving: Option<u32>,
}

pub fn findings(inv: &Inventory) -> Vec<Finding> {
    // (pid, rule, path) → cause
    let mut causes: BTreeMap<(u32, &'static str, String), Cause> = BTreeMap::new();
    let mut note = |pid: u32,
                    rule: &'static str,
                    a: &PathAccess,
                    bits: String,
                    model: &str,
                    product: &str,
                    loaded: bool,
                    serving: Option<u32>| {
        let c = causes
            .entry((pid, rule, a.path.clone()))
            .or_insert_with(|| Cause {
                access: a.clone(),
                bits,
                models: Vec::new(),
                product: product.to_string(),
                pid,
                loaded,
                serving,
            });
        if !c.models.iter().any(|m| m == model) {
            c.models.push(model.to_string());
        }
    };
    let mut judged_paths: std::collections::HashSet<String> = Default::default();
    for s in &inv.servers {
        let serving = s.confinement.euid.or(s.uid);
        for m in s.models.iter().filter(|m| !m.deleted) {
            for a in &m.facts.access {
                judged_paths.insert(a.path.clone());
                let bits = foreign_write_bits(a);
                if !bits.is_empty() {
                    note(
                        s.pid,
                        RULE_WRITABLE_BY_OTHERS,
                        a,
                        bits,
                        &m.path,
                        &s.product,
                        true,
                        serving,
                    );
                }
                if serving.is_some_and(|u| a.uid != 0 && a.uid != u) {
                    note(
                        s.pid,
                        RULE_FOREIGN_OWNER,
                        a,
                        String::new(),
                        &m.path,
                        &s.product,
                        true,
                        serving,
                    );
                }
            }
        }
    }
    // Files no server holds: the serving user is unknown, so only group/other
    // write bits and owners without an account are judged.
    for f in &inv.store_files {
        for a in &f.facts.access {
            if judged_paths.contains(&a.path) {
                continue;
            }
            let bits = foreign_write_bits(a);
            let product = f.store.label();
            if !bits.is_empty() {
                note(
                    0,
                    RULE_WRITABLE_BY_OTHERS,
                    a,
                    bits,
                    &f.path,
                    product,
                    false,
                    None,
                );
            }
            if a.owner.is_none() {
                note(
                    0,
                    RULE_FOREIGN_OWNER,
                    a,
                    String::new(),
                    &f.path,
                    product,
                    false,
                    None,
                );
            }
        }
    }
    causes
        .into_iter()
        .map(|((_, rule, path), c)| finding(rule, &path, c))
        .collect()
}

fn finding(rule: &'static str, path: &str, c: Cause) -> Finding {
    let a = &c.access;
    let q = shell_quote(path);
    let mut evidence = vec![Evidence::new(Source::path(path), describe(a))];
    for m in c.models.iter().take(LIST_MODELS) {
        evidence.push(Evidence::new(
            Source::path(m.clone()),
            if m == path {
                "the model file itself".to_string()
            } else {
                format!("model file below {path}")
            },
        ));
    }
    if c.models.len() > LIST_MODELS {
        evidence.push(Evidence::new(
            Source::path(path),
            format!(
                "and {} more model files below it",
                c.models.len() - LIST_MODELS
            ),
        ));
    }
    let who_serves = match (c.loaded, c.serving) {
        (true, Some(u)) => format!("the server runs as uid {u}"),
        _ => "no running server holds these files: judged without a serving user (only group/other write bits and owners without an account)".into(),
    };
    evidence.push(Evidence::new(
        Source::note(format!("{} (pid {})", c.product, c.pid)),
        who_serves,
    ));
    let (severity, title, summary, remediation) = if rule == RULE_WRITABLE_BY_OTHERS {
        let whom = match c.bits.as_str() {
            "g" => format!("members of group {}", a.gid),
            "o" => "every local user".to_string(),
            _ => format!("every local user and group {}", a.gid),
        };
        let severity = match (c.loaded, c.bits.contains('o')) {
            (true, true) => Severity::High,
            (true, false) | (false, true) => Severity::Medium,
            (false, false) => Severity::Low,
        };
        (
            severity,
            format!("{path} is writable by {whom}: the weights below it can be swapped"),
            format!(
                "Whoever can write {path} can replace the model files below it; the server loads whatever is there on its next start (a pickle checkpoint runs code, a GGUF can carry a hostile chat template). Write access of the server's own user is covered by pivot.model-dir-writable."
            ),
            format!("chmod {}-w {q}", c.bits),
        )
    } else {
        let owner = a.owner.clone().unwrap_or_else(|| format!("uid {}", a.uid));
        let severity = if c.loaded {
            Severity::Medium
        } else {
            Severity::Low
        };
        let (title, summary) = if c.loaded {
            (
                format!("{path} is owned by {owner}, neither root nor the serving user"),
                format!(
                    "{owner} can replace the model files below it (or change their modes) without touching the server; it loads what is there on its next start."
                ),
            )
        } else {
            (
                format!("{path} is owned by uid {}, which has no account on this host", a.uid),
                "Files owned by a uid with no account (a removed user, a container's user) are writable by whoever gets that uid next.".into(),
            )
        };
        let mode = if a.is_dir { "0755" } else { "0644" };
        (
            severity,
            title,
            summary,
            format!(
                "chown root:root {q} && chmod {mode} {q} (readable, not writable, by the server). If {path} is {owner}'s home or must stay theirs, move the model instead: install -d -o root -g root -m 0755 /srv/models, move it there and point the server at the new path."
            ),
        )
    };
    Finding {
        rule: rule.into(),
        severity,
        title,
        subject: Subject {
            product: c.product,
            pid: c.pid,
            listener: None,
            path: Some(path.to_string()),
        },
        summary,
        evidence,
        remediation,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn pa(path: &str, is_dir: bool, uid: u32, mode: u32, shared: Option<bool>) -> PathAccess {
        PathAccess {
            path: path.into(),
            is_dir,
            uid,
            gid: uid,
            owner: (uid < 60000).then(|| format!("u{uid}")),
            mode,
            group_shared: shared,
        }
    }

    fn inv_with(access: Vec<PathAccess>, euid: u32) -> Inventory {
        let mut s = crate::model::testing::server(7, "llama_server");
        s.confinement.euid = Some(euid);
        let mut m = crate::model::testing::loaded_model(&access[0].path, 7);
        m.facts.access = access.clone();
        s.models = vec![m];
        let mut inv = crate::model::testing::inventory();
        inv.servers = vec![s];
        inv
    }

    fn got(inv: &Inventory) -> Vec<(String, String, Severity)> {
        findings(inv)
            .into_iter()
            .map(|f| (f.rule, f.subject.path.unwrap_or_default(), f.severity))
            .collect()
    }

    #[test]
    fn who_else_can_swap_the_weights() {
        // Clean: root-owned tree, the server's own file.
        let clean = vec![
            pa("/srv/m/a.gguf", false, 998, 0o644, Some(false)),
            pa("/srv/m", true, 0, 0o755, Some(false)),
            pa("/srv", true, 0, 0o755, Some(false)),
            pa("/", true, 0, 0o755, Some(false)),
        ];
        assert_eq!(got(&inv_with(clean.clone(), 998)), vec![]);

        // World-writable directory, group-writable file of a shared group, foreign owner.
        let mut bad = clean.clone();
        bad[1].mode = 0o777;
        bad[0].mode = 0o664;
        bad[0].group_shared = Some(true);
        bad[2].uid = 1000;
        let g = got(&inv_with(bad, 998));
        assert!(
            g.contains(&(
                RULE_WRITABLE_BY_OTHERS.into(),
                "/srv/m".into(),
                Severity::High
            )),
            "{g:?}"
        );
        assert!(
            g.contains(&(
                RULE_WRITABLE_BY_OTHERS.into(),
                "/srv/m/a.gguf".into(),
                Severity::Medium
            )),
            "{g:?}"
        );
        assert!(
            g.contains(&(RULE_FOREIGN_OWNER.into(), "/srv".into(), Severity::Medium)),
            "{g:?}"
        );
        assert_eq!(g.len(), 3, "{g:?}");

        // A private group's write bit and a sticky world-writable /tmp are not ways in.
        let mut tmp = clean;
        tmp[0].mode = 0o664;
        tmp[1] = pa("/tmp", true, 0, 0o1777, Some(false));
        tmp.remove(2);
        assert_eq!(got(&inv_with(tmp, 998)), vec![]);
    }

    #[test]
    fn remediation_is_an_exact_command() {
        let mut a = vec![
            pa("/srv/it's/a.gguf", false, 0, 0o646, Some(false)),
            pa("/", true, 0, 0o755, Some(false)),
        ];
        a[0].mode = 0o666;
        a[0].group_shared = Some(true);
        let f = findings(&inv_with(a, 998));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].remediation, r"chmod go-w '/srv/it'\''s/a.gguf'");
    }
}
