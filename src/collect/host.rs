//! Who and where we are: host identity and the privileges we run with, which
//! decide what the rest of the collection can see.

use std::collections::HashMap;

use sysinfo::System;

use crate::model::{HostInfo, Privileges};

// Capabilities that widen what /proc shows (bit numbers from linux/capability.h).
const CAPS: [(u32, &str); 5] = [
    (1, "CAP_DAC_OVERRIDE"),
    (2, "CAP_DAC_READ_SEARCH"),
    (12, "CAP_NET_ADMIN"),
    (19, "CAP_SYS_PTRACE"),
    (21, "CAP_SYS_ADMIN"),
];

pub fn host_info(collected_at: String, collection_ms: u64) -> HostInfo {
    HostInfo {
        hostname: System::host_name().unwrap_or_else(|_| "unknown".into()),
        kernel: System::kernel_version().ok(),
        os: System::long_os_version().ok(),
        collected_at,
        collection_ms,
    }
}

/// uid → user name from /etc/passwd.
///
/// Read directly: getpwuid goes through NSS, which may ask LDAP or SSSD over the
/// network, and sysinfo's user list drops accounts whose shell is /bin/false —
/// exactly the service accounts (ollama, vllm) AI servers run as.
pub struct UserNames(HashMap<u32, String>, HashMap<u32, String>);

impl UserNames {
    pub fn load() -> Self {
        Self::parse(&std::fs::read_to_string("/etc/passwd").unwrap_or_default())
    }

    pub fn parse(passwd: &str) -> Self {
        let mut map = HashMap::new();
        let mut homes = HashMap::new();
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            let (Some(name), Some(uid)) = (f.first(), f.get(2)) else {
                continue;
            };
            if let Ok(uid) = uid.parse::<u32>() {
                map.entry(uid).or_insert_with(|| name.to_string());
                if let Some(home) = f.get(5).filter(|h| h.starts_with('/')) {
                    homes.entry(uid).or_insert_with(|| home.to_string());
                }
            }
        }
        UserNames(map, homes)
    }

    pub fn name(&self, uid: u32) -> Option<String> {
        self.0.get(&uid).cloned()
    }

    pub fn home(&self, uid: u32) -> Option<String> {
        self.1.get(&uid).cloned()
    }
}

pub fn privileges(users: &UserNames) -> Privileges {
    let uid = nix::unistd::geteuid().as_raw();
    let capeff = crate::collect::procs::read_status(std::process::id())
        .map(|s| s.capeff)
        .unwrap_or(0);
    Privileges {
        uid,
        user: users.name(uid).unwrap_or_else(|| uid.to_string()),
        is_root: uid == 0,
        capabilities: CAPS
            .iter()
            .filter(|(bit, _)| capeff & (1u64 << bit) != 0)
            .map(|(_, name)| name.to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_names_include_nologin_accounts_and_skip_garbage() {
        let u = UserNames::parse(
            "root:x:0:0::/root:/bin/bash\nollama:x:998:998::/usr/share/ollama:/bin/false\nbroken\n+::::::\n",
        );
        assert_eq!(u.name(0).as_deref(), Some("root"));
        assert_eq!(u.name(998).as_deref(), Some("ollama"));
        assert_eq!(u.name(5), None);
        assert_eq!(u.home(998).as_deref(), Some("/usr/share/ollama"));
    }
}
