//! How much a compromised server could do on the host: its user, capabilities,
//! sandboxing (no_new_privs, seccomp), container, and the systemd unit that
//! starts it with the hardening directives that unit sets.

use std::collections::BTreeMap;
use std::path::Path;

use crate::collect::procs::describe;
use crate::model::{Confinement, ContainerInfo, SystemdUnit};

/// Capability names by bit (linux/capability.h).
const CAP_NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The hardening directives worth reporting (systemd.exec(5)).
const UNIT_KEYS: [&str; 14] = [
    "User",
    "DynamicUser",
    "NoNewPrivileges",
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "PrivateDevices",
    "CapabilityBoundingSet",
    "AmbientCapabilities",
    "ReadWritePaths",
    "RestrictAddressFamilies",
    "SystemCallFilter",
    "IPAddressDeny",
    "ExecStart",
];

const UNIT_DIRS: [&str; 4] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

pub fn cap_names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|b| mask & (1u64 << b) != 0)
        .map(|b| {
            CAP_NAMES
                .get(b as usize)
                .map(|s| s.to_string())
                .unwrap_or_else(|| format!("cap_{b}"))
        })
        .collect()
}

/// Container runtime and id from a cgroup path, e.g. `/docker/3f2a…`,
/// `/system.slice/docker-3f2a….scope`, `/kubepods/…`, `/machine.slice/libpod-…`.
pub fn container_from_cgroup(cgroup: &str) -> Option<ContainerInfo> {
    for line in cgroup.lines() {
        let path = line.splitn(3, ':').nth(2).unwrap_or("");
        for (marker, runtime) in [
            ("docker-", "docker"),
            ("/docker/", "docker"),
            ("libpod-", "podman"),
            ("/libpod/", "podman"),
            ("cri-containerd-", "containerd"),
            ("crio-", "cri-o"),
            ("/kubepods", "kubernetes"),
            ("/lxc/", "lxc"),
        ] {
            if let Some(pos) = path.find(marker) {
                let rest = &path[pos + marker.len()..];
                let id: String = rest
                    .trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect();
                return Some(ContainerInfo {
                    runtime: runtime.into(),
                    id: (id.len() >= 12).then(|| id[..12].to_string()),
                    cgroup: path.to_string(),
                });
            }
        }
    }
    None
}

/// `ollama.service` from a cgroup path such as `/system.slice/ollama.service`.
pub fn unit_from_cgroup(cgroup: &str) -> Option<String> {
    cgroup
        .lines()
        .filter_map(|l| l.splitn(3, ':').nth(2))
        .flat_map(|p| p.split('/'))
        .find(|seg| seg.ends_with(".service"))
        .map(String::from)
}

/// The group a process was started in that makes its processes one deployment:
/// its container (`container docker 3f2a9c1d0e5b`). A systemd service is not
/// taken as one: on hosts without logind everything started over ssh runs in
/// `ssh.service`, and a cron job in `cron.service`, so a unit can hold unrelated
/// programs (processes a service started are still its descendants).
pub fn deployment_of(cgroup: &str) -> Option<String> {
    container_from_cgroup(cgroup)
        .and_then(|c| c.id.map(|id| format!("container {} {id}", c.runtime)))
}

/// [`deployment_of`] a process, from /proc/PID/cgroup.
pub fn deployment_of_pid(pid: u32) -> Option<String> {
    let cg = std::fs::read(format!("/proc/{pid}/cgroup")).ok()?;
    deployment_of(&String::from_utf8_lossy(&cg))
}

/// The systemd service a process runs in as its own cgroup (the leaf directory
/// named `*.service`, in the unified hierarchy or systemd's named one): its name
/// and the `cgroup.procs` files that list the unit's processes, where each
/// layout (unified, hybrid, legacy) mounts them.
pub fn service_cgroup(cgroup: &str) -> Option<(String, Vec<String>)> {
    cgroup.lines().find_map(|l| {
        let mut parts = l.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?.trim());
        let mounts: &[&str] = match controllers {
            "" => &["/sys/fs/cgroup", "/sys/fs/cgroup/unified"],
            "name=systemd" => &["/sys/fs/cgroup/systemd"],
            _ => return None,
        };
        let leaf = path.rsplit('/').next()?;
        leaf.ends_with(".service").then(|| {
            (
                leaf.to_string(),
                mounts
                    .iter()
                    .map(|m| format!("{m}{path}/cgroup.procs"))
                    .collect(),
            )
        })
    })
}

/// [`service_cgroup`] of a process, from /proc/PID/cgroup.
pub fn service_cgroup_of_pid(pid: u32) -> Option<(String, Vec<String>)> {
    let cg = std::fs::read(format!("/proc/{pid}/cgroup")).ok()?;
    service_cgroup(&String::from_utf8_lossy(&cg))
}

/// The processes a unit's `cgroup.procs` lists (the first of `files` that reads).
pub fn cgroup_procs(files: &[String]) -> Vec<u32> {
    files
        .iter()
        .find_map(|f| std::fs::read_to_string(f).ok())
        .map(|t| t.lines().filter_map(|l| l.trim().parse().ok()).collect())
        .unwrap_or_default()
}

/// Directives of a unit: the unit file, then its drop-ins in name order (later wins).
pub fn read_unit(name: &str) -> Option<SystemdUnit> {
    let file = UNIT_DIRS
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())?;
    let mut files = vec![file.clone()];
    for d in UNIT_DIRS {
        let dir = Path::new(d).join(format!("{name}.d"));
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut confs: Vec<_> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                .collect();
            confs.sort();
            files.extend(confs);
        }
    }
    let mut directives = BTreeMap::new();
    for f in &files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        for line in text.lines() {
            let Some((k, v)) = line.trim().split_once('=') else {
                continue;
            };
            let k = k.trim();
            if UNIT_KEYS.contains(&k) {
                directives.insert(k.to_string(), v.trim().to_string());
            }
        }
    }
    Some(SystemdUnit {
        name: name.to_string(),
        files: files
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect(),
        directives,
    })
}

pub fn read(pid: u32) -> Confinement {
    let mut c = Confinement::default();
    match crate::collect::procs::read_status(pid) {
        Ok(st) => {
            c.euid = Some(st.euid);
            c.groups = std::iter::once(st.egid)
                .chain(st.groups.iter().copied())
                .collect();
            c.capabilities = Some(cap_names(st.capeff));
            c.no_new_privs = st.nonewprivs.map(|v| v == 1);
            c.seccomp = st.seccomp.map(|m| match m {
                0 => "disabled".to_string(),
                1 => "strict".to_string(),
                2 => "filter".to_string(),
                other => format!("mode {other}"),
            });
        }
        Err(e) => c
            .unreadable
            .push(format!("/proc/{pid}/status: {}", describe(&e))),
    }
    // Lossy: a delegated cgroup subtree may be named with any bytes.
    match std::fs::read(format!("/proc/{pid}/cgroup"))
        .map(|b| String::from_utf8_lossy(&b).into_owned())
    {
        Ok(cg) => {
            c.container = container_from_cgroup(&cg);
            if c.container.is_none() {
                c.systemd_unit = unit_from_cgroup(&cg).and_then(|u| read_unit(&u));
            }
        }
        Err(e) => c.unreadable.push(format!("/proc/{pid}/cgroup: {e}")),
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployments_are_containers_not_services_or_sessions() {
        assert_eq!(
            deployment_of("0::/system.slice/docker-3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e.scope\n").as_deref(),
            Some("container docker 3f2a9c1d0e5b")
        );
        assert_eq!(deployment_of("0::/system.slice/ssh.service\n"), None);
        assert_eq!(
            service_cgroup("0::/system.slice/ollama.service\n").map(|(u, f)| (u, f.len())),
            Some(("ollama.service".to_string(), 2))
        );
        assert_eq!(
            service_cgroup("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope\n"),
            None
        );
        assert_eq!(
            service_cgroup("4:memory:/x\n1:name=systemd:/system.slice/a.service\n0::/\n"),
            Some((
                "a.service".to_string(),
                vec!["/sys/fs/cgroup/systemd/system.slice/a.service/cgroup.procs".to_string()]
            ))
        );
        assert_eq!(
            deployment_of("0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope\n"),
            None
        );
        assert_eq!(deployment_of("0::/init.scope\n"), None);
    }

    #[test]
    fn cgroup_paths_of_real_runtimes() {
        let d = container_from_cgroup(
            "12:pids:/docker/3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e\n",
        )
        .expect("docker v1");
        assert_eq!(
            (d.runtime.as_str(), d.id.as_deref()),
            ("docker", Some("3f2a9c1d0e5b"))
        );
        let d = container_from_cgroup("0::/system.slice/docker-3f2a9c1d0e5b7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e.scope\n")
            .expect("docker v2");
        assert_eq!(d.id.as_deref(), Some("3f2a9c1d0e5b"));
        assert_eq!(
            container_from_cgroup("0::/machine.slice/libpod-abcdef0123456789.scope")
                .map(|c| c.runtime),
            Some("podman".into())
        );
        assert!(container_from_cgroup("0::/user.slice/user-1000.slice/session-2.scope").is_none());
        assert_eq!(
            unit_from_cgroup("0::/system.slice/ollama.service").as_deref(),
            Some("ollama.service")
        );
        assert_eq!(unit_from_cgroup("1:name=systemd:/\n"), None);
    }

    #[test]
    fn capability_names() {
        assert_eq!(cap_names(0), Vec::<String>::new());
        assert_eq!(
            cap_names((1 << 21) | (1 << 10)),
            vec!["CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"]
        );
    }
}
