//! Names `/etc/hosts` gives to addresses: the only naming of a peer that needs
//! no DNS query. A process in another mount namespace or root (a container,
//! `ip netns exec`) may see another file: it is read through `/proc/PID/root`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::model::privacy::HostsName;

pub const HOST_FILE: &str = "/etc/hosts";

/// Hosts files past this size are read only this far (ad-blocking lists run to
/// megabytes; an AI stack's own entries sit near the top).
const MAX_BYTES: u64 = 16 * 1024 * 1024;

/// `address name...` lines; comments, blank lines and unparsable addresses
/// (zone ids like `fe80::1%eth0`) are skipped.
pub fn parse(text: &str) -> Vec<(IpAddr, Vec<String>)> {
    text.lines()
        .filter_map(|line| {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let addr: IpAddr = words.next()?.parse().ok()?;
            let names: Vec<String> = words.map(str::to_string).collect();
            (!names.is_empty()).then(|| (canonical(addr), names))
        })
        .collect()
}

/// IPv4-mapped IPv6 as the IPv4 address it carries, as sockets are shown.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(addr),
        v4 => v4,
    }
}

/// The hosts file `pid` resolves names with, as a path aiposture can read:
/// `/etc/hosts` when it is the same file as ours, else through its root.
pub fn file_of(pid: u32) -> Result<String, String> {
    let theirs = format!("/proc/{pid}/root/etc/hosts");
    let identity = |p: &str| std::fs::metadata(p).map(|m| (m.dev(), m.ino()));
    match (identity(&theirs), identity(HOST_FILE)) {
        (Ok(a), Ok(b)) if a == b => Ok(HOST_FILE.into()),
        (Ok(_), _) => Ok(theirs),
        // No hosts file in its root: it has no names to give.
        (Err(e), _) if e.kind() == std::io::ErrorKind::NotFound => Ok(theirs),
        (Err(e), _) => Err(e.to_string()),
    }
}

/// Device and inode of a file: two paths to one file are read once.
pub fn identity(path: &str) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Names `file` gives to any of `addrs` (entries for one address merged in
/// file order). A missing file gives none.
pub fn names_in(file: &str, addrs: &BTreeSet<IpAddr>) -> Result<Vec<HostsName>, String> {
    let mut text = String::new();
    match std::fs::File::open(Path::new(file)) {
        Ok(f) => {
            let mut bytes = Vec::new();
            f.take(MAX_BYTES)
                .read_to_end(&mut bytes)
                .map_err(|e| e.to_string())?;
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e.to_string()),
    }
    let mut found: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
    for (addr, names) in parse(&text) {
        if addrs.contains(&addr) {
            let have = found.entry(addr).or_default();
            for n in names {
                if !have.contains(&n) {
                    have.push(n);
                }
            }
        }
    }
    Ok(found
        .into_iter()
        .map(|(addr, names)| HostsName {
            addr,
            names,
            file: file.to_string(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn lines_comments_and_mapped_addresses() {
        let rows = parse(
            "# comment\n127.0.0.1\tlocalhost\n\n203.0.113.9 api.internal gpu # trailing\n\
             ::ffff:10.0.0.5 nas\nfe80::1%eth0 router\n10.0.0.6\nnot-an-ip name\n",
        );
        assert_eq!(
            rows,
            vec![
                (ip("127.0.0.1"), vec!["localhost".to_string()]),
                (
                    ip("203.0.113.9"),
                    vec!["api.internal".to_string(), "gpu".to_string()]
                ),
                (ip("10.0.0.5"), vec!["nas".to_string()]),
            ]
        );
    }

    #[test]
    fn only_asked_addresses_are_kept_and_entries_merge() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("hosts");
        std::fs::write(
            &file,
            "8.8.8.8 a.example\n1.1.1.1 other\n8.8.8.8 b.example a.example\n",
        )
        .expect("write");
        let path = file.to_string_lossy().into_owned();
        let want: BTreeSet<IpAddr> = [ip("8.8.8.8"), ip("9.9.9.9")].into();
        let got = names_in(&path, &want).expect("read");
        assert_eq!(
            got,
            vec![HostsName {
                addr: ip("8.8.8.8"),
                names: vec!["a.example".into(), "b.example".into()],
                file: path.clone(),
            }]
        );
        let missing = dir.path().join("absent").to_string_lossy().into_owned();
        assert_eq!(names_in(&missing, &want), Ok(vec![]));
    }

    #[test]
    fn own_process_uses_the_host_file() {
        assert_eq!(file_of(std::process::id()), Ok(HOST_FILE.to_string()));
    }
}
