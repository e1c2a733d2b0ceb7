//! Pivot risk: if the server is compromised (a malicious model, an exposed
//! endpoint), what does the attacker get? Least privilege, judged from the
//! server's user, capabilities, sandbox, container and systemd unit.

use crate::model::{Evidence, Finding, LoadedModel, Server, Severity, Source, Subject};

const DANGEROUS_CAPS: [&str; 5] = [
    "CAP_SYS_ADMIN",
    "CAP_SYS_PTRACE",
    "CAP_NET_ADMIN",
    "CAP_SYS_MODULE",
    "CAP_DAC_READ_SEARCH",
];
/// Unit directives whose absence leaves the service unhardened (systemd.exec(5)).
const HARDENING: [(&str, &str); 4] = [
    ("NoNewPrivileges", "NoNewPrivileges=yes"),
    ("ProtectSystem", "ProtectSystem=strict"),
    ("PrivateTmp", "PrivateTmp=yes"),
    ("ProtectHome", "ProtectHome=yes"),
];

fn finding(
    s: &Server,
    rule: &str,
    severity: Severity,
    title: String,
    summary: &str,
    evidence: Vec<Evidence>,
    fix: &str,
) -> Finding {
    Finding {
        rule: rule.into(),
        severity,
        title: format!("{} (pid {}) {title}", s.product, s.pid),
        subject: Subject {
            product: s.product.clone(),
            pid: s.pid,
            listener: None,
            path: None,
        },
        summary: summary.into(),
        evidence,
        remediation: fix.into(),
    }
}

/// The server's own user owns the directory and may write it. Group and other
/// write bits are `weights.writable-by-others` (rules/weights_access.rs): they let
/// anyone in that group, not just the server, swap the model; one finding per cause.
fn dir_writable(m: &LoadedModel, euid: u32) -> bool {
    m.dir_owner
        .is_some_and(|d| d.uid == euid && d.mode & 0o200 != 0)
}

pub fn findings(servers: &[Server]) -> Vec<Finding> {
    let mut out = Vec::new();
    for s in servers {
        let c = &s.confinement;
        let status = Evidence::new(
            Source::proc(s.pid, "status"),
            format!(
                "euid {}, CapEff {}, NoNewPrivs {}, Seccomp {}",
                c.euid.map(|u| u.to_string()).unwrap_or_else(|| "?".into()),
                c.capabilities
                    .as_ref()
                    .map(|v| if v.is_empty() {
                        "none".to_string()
                    } else {
                        format!("{} capabilities", v.len())
                    })
                    .unwrap_or_else(|| "?".into()),
                c.no_new_privs
                    .map(|b| if b { "1" } else { "0" })
                    .unwrap_or("?"),
                c.seccomp.as_deref().unwrap_or("?"),
            ),
        );
        let caps = c.capabilities.clone().unwrap_or_default();
        let dangerous: Vec<&str> = DANGEROUS_CAPS
            .iter()
            .copied()
            .filter(|d| caps.iter().any(|c| c == d))
            .collect();
        let mut where_ = vec![status.clone()];
        if let Some(ct) = &c.container {
            where_.push(Evidence::new(
                Source::proc(s.pid, "cgroup"),
                format!(
                    "{} container {}",
                    ct.runtime,
                    ct.id.as_deref().unwrap_or("(id unknown)")
                ),
            ));
        }
        match (c.euid, &c.container) {
            (Some(0), None) => out.push(finding(
                s,
                "pivot.runs-as-root",
                Severity::Medium,
                "runs as root".into(),
                "A compromise of the server (a malicious model file, a template or API bug) is a compromise of the whole host.",
                where_.clone(),
                "Run it as a dedicated unprivileged user (systemd User= or DynamicUser=yes), owning only its model and cache directories.",
            )),
            (Some(0), Some(_)) if dangerous.contains(&"CAP_SYS_ADMIN") => out.push(finding(
                s,
                "pivot.privileged-container",
                Severity::High,
                "runs as root in a container with CAP_SYS_ADMIN (privileged)".into(),
                "A privileged container is no boundary: root inside can mount host filesystems and load kernel modules.",
                where_.clone(),
                "Drop --privileged and extra capabilities; run the container as a non-root user.",
            )),
            (Some(0), Some(_)) => out.push(finding(
                s,
                "pivot.root-in-container",
                Severity::Low,
                "runs as root inside its container".into(),
                "Root in a container is one kernel or runtime bug away from root on the host.",
                where_.clone(),
                "Run the container with --user / USER set to an unprivileged uid.",
            )),
            _ => {}
        }
        if c.euid.is_some_and(|u| u != 0) && !dangerous.is_empty() {
            out.push(finding(
                s,
                "pivot.dangerous-capabilities",
                Severity::Medium,
                format!("holds {}", dangerous.join(", ")),
                "These capabilities let a non-root process act much like root.",
                where_.clone(),
                "Remove them (CapabilityBoundingSet=/AmbientCapabilities= in the unit, --cap-drop for containers).",
            ));
        }
        if let Some(u) = &c.systemd_unit {
            let missing: Vec<&str> = HARDENING
                .iter()
                .filter(|(k, _)| {
                    u.directives
                        .get(*k)
                        .is_none_or(|v| v == "no" || v == "false")
                })
                .map(|(_, want)| *want)
                .collect();
            let no_user = !u.directives.contains_key("User")
                && u.directives
                    .get("DynamicUser")
                    .is_none_or(|v| v != "yes" && v != "true");
            if !missing.is_empty() || no_user {
                let mut list = missing.clone();
                if no_user {
                    list.insert(0, "User= or DynamicUser=yes");
                }
                out.push(finding(
                    s,
                    "pivot.unit-not-hardened",
                    Severity::Low,
                    format!("is started by {} without {}", u.name, list.join(", ")),
                    "The unit leaves the sandboxing systemd offers unused.",
                    vec![Evidence::new(
                        match u.files.as_slice() {
                            [one] => Source::path(one.clone()),
                            _ => Source::note(u.files.join(", ")),
                        },
                        format!("directives set: {:?}", u.directives),
                    )],
                    &format!(
                        "Add to a drop-in (systemctl edit {}): {}",
                        u.name,
                        list.join(", ")
                    ),
                ));
            }
        }
        if let Some(euid) = c.euid.filter(|u| *u != 0) {
            let writable: Vec<&LoadedModel> =
                s.models.iter().filter(|m| dir_writable(m, euid)).collect();
            if !writable.is_empty() {
                out.push(finding(
                    s,
                    "pivot.model-dir-writable",
                    Severity::Low,
                    "can rewrite the directory of a model it loads".into(),
                    "A compromised server can swap its own model for a malicious one that runs on the next start.",
                    writable
                        .iter()
                        .map(|m| {
                            let d = m.dir_owner.map(|d| format!("owner uid {} gid {} mode {:o}", d.uid, d.gid, d.mode)).unwrap_or_default();
                            Evidence::new(Source::path(m.path.clone()), format!("directory {d}, server euid {euid}"))
                        })
                        .collect(),
                    "Make model directories read-only to the server's user (owned by another account, or ReadOnlyPaths= in the unit). Write access of others is reported as weights.writable-by-others.",
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn server(
        euid: u32,
        caps: &[&str],
        container: bool,
        unit: Option<&[(&str, &str)]>,
        dir: Option<(u32, u32)>,
    ) -> Server {
        let mut s = crate::model::testing::server(5, "ollama");
        s.models = dir
            .map(|(uid, mode)| LoadedModel {
                dir_owner: Some(DirOwner { uid, gid: 0, mode }),
                ..crate::model::testing::loaded_model("/srv/models/m.gguf", 5)
            })
            .into_iter()
            .collect();
        s.confinement = Confinement {
            euid: Some(euid),
            groups: vec![euid],
            capabilities: Some(caps.iter().map(|s| s.to_string()).collect()),
            no_new_privs: Some(false),
            seccomp: Some("disabled".into()),
            container: container.then(|| ContainerInfo {
                runtime: "docker".into(),
                id: Some("3f2a9c1d0e5b".into()),
                cgroup: "/docker/3f2a".into(),
            }),
            systemd_unit: unit.map(|d| SystemdUnit {
                name: "ollama.service".into(),
                files: vec!["/etc/systemd/system/ollama.service".into()],
                directives: d
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            }),
            unreadable: vec![],
        };
        s
    }

    fn rules(s: Server) -> Vec<(String, Severity)> {
        findings(&[s])
            .into_iter()
            .map(|f| (f.rule, f.severity))
            .collect()
    }

    #[test]
    fn least_privilege_judgements() {
        assert_eq!(
            rules(server(0, &["CAP_SYS_ADMIN"], false, None, None)),
            vec![("pivot.runs-as-root".into(), Severity::Medium)]
        );
        assert_eq!(
            rules(server(0, &["CAP_SYS_ADMIN"], true, None, None)),
            vec![("pivot.privileged-container".into(), Severity::High)]
        );
        assert_eq!(
            rules(server(0, &["CAP_CHOWN"], true, None, None)),
            vec![("pivot.root-in-container".into(), Severity::Low)]
        );
        assert_eq!(
            rules(server(998, &["CAP_NET_ADMIN"], false, None, None)),
            vec![("pivot.dangerous-capabilities".into(), Severity::Medium)]
        );
        let hardened = [
            ("User", "ollama"),
            ("NoNewPrivileges", "yes"),
            ("ProtectSystem", "strict"),
            ("PrivateTmp", "yes"),
            ("ProtectHome", "yes"),
        ];
        assert_eq!(
            rules(server(998, &[], false, Some(&hardened), None)),
            vec![]
        );
        assert_eq!(
            rules(server(998, &[], false, Some(&[("User", "ollama")]), None)),
            vec![("pivot.unit-not-hardened".into(), Severity::Low)]
        );
        assert_eq!(
            rules(server(998, &[], false, None, Some((998, 0o755)))),
            vec![("pivot.model-dir-writable".into(), Severity::Low)]
        );
        assert_eq!(
            rules(server(998, &[], false, None, Some((0, 0o755)))),
            vec![]
        );
        // World-writable but not the server's own: weights.writable-by-others reports it.
        assert_eq!(
            rules(server(998, &[], false, None, Some((0, 0o777)))),
            vec![]
        );
    }
}
