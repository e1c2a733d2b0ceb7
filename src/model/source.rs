//! Where a piece of evidence was read, as data: a file (with a line or byte
//! offset), a file of one process under /proc, a netlink dump of a namespace, a
//! probe, the Docker API, a configuration key, an entry of the embedded
//! knowledge, a command. Exporters place it (SARIF locations) by its kind,
//! never by parsing text; `Display` gives the one-line form every text output uses.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A file of the host an auditor can open: a model, a configuration, a log,
    /// a binary, a package database.
    File {
        path: String,
        /// 1-based line the fact was read on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
        /// Byte offset the fact was read at (binary formats).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset: Option<u64>,
    },
    /// A file of one process under /proc, e.g. `cmdline` or `net/tcp` of pid 812.
    Proc {
        pid: u32,
        file: String,
        /// The process by name, when the text names it (`docker-proxy`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        process: Option<String>,
    },
    /// The same /proc file of several processes (each refused alike); `more`
    /// counts the processes not listed.
    ProcEach {
        pids: Vec<u32>,
        file: String,
        #[serde(default, skip_serializing_if = "is_zero")]
        more: usize,
    },
    /// A kernel view that is not a file of the stack: `/proc/net/tcp`, `/sys/…`, `/dev/…`.
    Kernel { path: String },
    /// A netlink sock_diag dump of a network namespace, standing in for the
    /// /proc table it replaces.
    SockDiag {
        /// e.g. `net:[4026531840]`.
        netns: String,
        /// The table it replaces, e.g. `/proc/net/tcp`.
        table: String,
    },
    /// A read-only loopback request to a local server.
    Probe { method: String, url: String },
    /// A read-only request to the Docker Engine API.
    DockerApi {
        socket: String,
        endpoint: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        container: Option<String>,
    },
    /// A key or table of a configuration file (aiposture's config, a product's
    /// config); `file` is absent when the configuration had no file.
    Config {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        line: Option<u64>,
    },
    /// An entry of aiposture's embedded knowledge, e.g. `assets/privacy.toml`,
    /// entry `switch gradio-analytics`.
    Asset {
        file: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<String>,
    },
    /// A command or library call whose answer was read, e.g.
    /// `nft -j list ruleset (nftables v1.0.6)` or `getifaddrs(3)`.
    Command { name: String },
    /// aiposture's own records: its state directory, an earlier snapshot.
    Record { what: String },
    /// A named source with no location to open (a judgement input such as
    /// "advisory data" or "host firewall").
    Note { label: String },
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A place in a file: what SARIF calls a physical location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLocation<'a> {
    pub path: &'a str,
    pub line: Option<u64>,
    pub offset: Option<u64>,
}

impl Source {
    pub fn file(path: impl Into<String>) -> Self {
        Source::File {
            path: path.into(),
            line: None,
            offset: None,
        }
    }

    /// A path aiposture opened, by where it lies: a file of one process under
    /// /proc (also a file reached through `/proc/PID/root`), another kernel view
    /// (/proc, /sys, /dev), or a file of the host.
    pub fn path(path: impl Into<String>) -> Self {
        let path = path.into();
        if let Some(rest) = path.strip_prefix("/proc/")
            && let Some((pid, file)) = rest.split_once('/')
            && let Ok(pid) = pid.parse::<u32>()
        {
            return Source::proc(pid, file);
        }
        if ["/proc/", "/sys/", "/dev/"]
            .iter()
            .any(|p| path.starts_with(p))
        {
            return Source::Kernel { path };
        }
        Source::file(path)
    }

    pub fn file_line(path: impl Into<String>, line: u64) -> Self {
        Source::File {
            path: path.into(),
            line: Some(line),
            offset: None,
        }
    }

    pub fn file_offset(path: impl Into<String>, offset: u64) -> Self {
        Source::File {
            path: path.into(),
            line: None,
            offset: Some(offset),
        }
    }

    pub fn proc(pid: u32, file: impl Into<String>) -> Self {
        Source::Proc {
            pid,
            file: file.into(),
            process: None,
        }
    }

    pub fn kernel(path: impl Into<String>) -> Self {
        Source::Kernel { path: path.into() }
    }

    pub fn asset(file: &str, entry: Option<String>) -> Self {
        Source::Asset {
            file: file.into(),
            entry,
        }
    }

    pub fn command(name: impl Into<String>) -> Self {
        Source::Command { name: name.into() }
    }

    pub fn record(what: impl Into<String>) -> Self {
        Source::Record { what: what.into() }
    }

    pub fn note(label: impl Into<String>) -> Self {
        Source::Note {
            label: label.into(),
        }
    }

    /// The file an auditor can open, when this source is one: files of the host
    /// and configuration files; never /proc, kernel views or aiposture's records.
    pub fn artifact(&self) -> Option<FileLocation<'_>> {
        match self {
            Source::File { path, line, offset } => Some(FileLocation {
                path,
                line: *line,
                offset: *offset,
            }),
            Source::Config {
                file: Some(path),
                line,
                ..
            } => Some(FileLocation {
                path,
                line: *line,
                offset: None,
            }),
            _ => None,
        }
    }

    /// A source written by schema version 1, where it was one line of text. The
    /// kinds that text can be told apart by are recovered so that the line
    /// `Display` gives back is the one that was read; anything else is a note.
    pub fn from_v1(text: &str) -> Self {
        let typed = v1_kind(text);
        if typed.to_string() == text {
            typed
        } else {
            Source::note(text)
        }
    }
}

fn v1_kind(text: &str) -> Source {
    if let Some(each) = v1_proc_each(text) {
        return each;
    }
    if let Some(rest) = text.strip_prefix("sock_diag dump in ")
        && let Some((netns, table)) = rest.split_once(" (the rows of ")
        && let Some(table) = table.strip_suffix(')')
    {
        return Source::SockDiag {
            netns: netns.into(),
            table: table.into(),
        };
    }
    // The commands and calls version 1 named.
    if [
        "nft ",
        "iptables",
        "ip6tables",
        "getifaddrs(3)",
        "NVML ",
        "inotify",
    ]
    .iter()
    .any(|c| text.starts_with(c))
    {
        return Source::command(text);
    }
    if ["$XDG_STATE_HOME/", "old snapshot ", "new snapshot "]
        .iter()
        .any(|r| text.starts_with(r))
    {
        return Source::record(text);
    }
    if let Some(rest) = text.strip_prefix("Docker API ")
        && let Some((socket, rest)) = rest.split_once(' ')
    {
        let (endpoint, container) = match rest.split_once(" (container ") {
            Some((e, c)) => (e, c.strip_suffix(')').map(str::to_string)),
            None => (rest, None),
        };
        return Source::DockerApi {
            socket: socket.into(),
            endpoint: endpoint.into(),
            container,
        };
    }
    if let Some((name, rest)) = text.split_once(" pid ")
        && let Some((pid, file)) = rest.split_once(" (/proc/")
        && let Ok(pid) = pid.parse::<u32>()
        && let Some(file) = file
            .strip_prefix(&format!("{pid}/"))
            .and_then(|f| f.strip_suffix(')'))
    {
        return Source::Proc {
            pid,
            file: file.into(),
            process: Some(name.into()),
        };
    }
    if let Some(url) = text.strip_prefix("GET ") {
        return Source::Probe {
            method: "GET".into(),
            url: url.into(),
        };
    }
    if let Some(rest) = text.strip_prefix("assets/") {
        let (file, entry) = match rest.split_once(' ') {
            Some((f, e)) => (f, Some(e.to_string())),
            None => (rest, None),
        };
        return Source::asset(&format!("assets/{file}"), entry);
    }
    if text.starts_with('/') {
        if let Some((path, line)) = text.rsplit_once(':')
            && let Ok(line) = line.parse::<u64>()
            && line > 0
            && !path.starts_with("/proc/")
        {
            return Source::file_line(path, line);
        }
        return Source::path(text);
    }
    Source::note(text)
}

/// `/proc/1/fd, /proc/2/fd, … and 3 more`.
fn v1_proc_each(text: &str) -> Option<Source> {
    let (listed, more) = match text.rsplit_once(", … and ") {
        Some((l, m)) => (l, m.strip_suffix(" more")?.parse().ok()?),
        None => (text, 0),
    };
    let mut pids = Vec::new();
    let mut file = None;
    for part in listed.split(", ") {
        let (pid, f) = part.strip_prefix("/proc/")?.split_once('/')?;
        pids.push(pid.parse().ok()?);
        if *file.get_or_insert(f) != f {
            return None;
        }
    }
    let file = file?.to_string();
    (pids.len() > 1 || more > 0).then_some(Source::ProcEach { pids, file, more })
}

/// Reads a source of either schema version: the typed object of version 2, or
/// the line of text of version 1 (snapshots, baselines and history kept from
/// before).
pub fn v1_or_v2<'de, D: Deserializer<'de>>(d: D) -> Result<Source, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Typed(Source),
        Text(String),
    }
    Ok(match Either::deserialize(d)? {
        Either::Typed(s) => s,
        Either::Text(t) => Source::from_v1(&t),
    })
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File { path, line, .. } => match line {
                Some(n) => write!(f, "{path}:{n}"),
                None => f.write_str(path),
            },
            Source::Proc {
                pid,
                file,
                process: Some(name),
            } => write!(f, "{name} pid {pid} (/proc/{pid}/{file})"),
            Source::Proc { pid, file, .. } => write!(f, "/proc/{pid}/{file}"),
            Source::ProcEach { pids, file, more } => {
                let mut each: Vec<String> =
                    pids.iter().map(|p| format!("/proc/{p}/{file}")).collect();
                if *more > 0 {
                    each.push(format!("… and {more} more"));
                }
                f.write_str(&each.join(", "))
            }
            Source::Kernel { path } => f.write_str(path),
            Source::SockDiag { netns, table } => {
                write!(f, "sock_diag dump in {netns} (the rows of {table})")
            }
            Source::Probe { method, url } => write!(f, "{method} {url}"),
            Source::DockerApi {
                socket,
                endpoint,
                container,
            } => {
                write!(f, "Docker API {socket} {endpoint}")?;
                match container {
                    Some(c) => write!(f, " (container {c})"),
                    None => Ok(()),
                }
            }
            Source::Config { file, key, line } => {
                f.write_str(file.as_deref().unwrap_or("config"))?;
                if let Some(n) = line {
                    write!(f, ":{n}")?;
                }
                write!(f, " {key}")
            }
            Source::Asset { file, entry } => match entry {
                Some(e) => write!(f, "{file} {e}"),
                None => f.write_str(file),
            },
            Source::Command { name } => f.write_str(name),
            Source::Record { what } => f.write_str(what),
            Source::Note { label } => f.write_str(label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_text_reads_back_as_the_same_line() {
        for (text, kind) in [
            ("/proc/812/cmdline", "proc"),
            ("/proc/812/net/tcp6", "proc"),
            ("/proc/net/tcp", "kernel"),
            ("/srv/models/a.gguf", "file"),
            ("/etc/aiposture/policy.toml:12", "file"),
            (
                "sock_diag dump in net:[4026531840] (the rows of /proc/net/tcp)",
                "sock_diag",
            ),
            ("GET http://127.0.0.1:8080 in net:[1]", "probe"),
            ("assets/privacy.toml switch gradio-analytics", "asset"),
            ("assets/signatures.toml", "asset"),
            ("advisory data", "note"),
            (
                "nft -j list ruleset (nftables v1.0.6); iptables-legacy-save",
                "command",
            ),
            ("$XDG_STATE_HOME/aiposture/hashes.json", "record"),
            (
                "Docker API /var/run/docker.sock /containers/json (container web)",
                "docker_api",
            ),
            ("docker-proxy pid 77 (/proc/77/cmdline)", "proc"),
            ("/proc/812/fd, /proc/813/fd", "proc_each"),
            ("/proc/812/fd, /proc/813/fd, … and 4 more", "proc_each"),
            ("/proc/812/fd, /srv/x", "proc"),
        ] {
            let s = Source::from_v1(text);
            assert_eq!(s.to_string(), text);
            let v = serde_json::to_value(&s).expect("serialises");
            assert_eq!(v["kind"], kind, "{text}");
        }
    }

    #[test]
    fn both_versions_deserialise() {
        #[derive(Deserialize)]
        struct E {
            #[serde(deserialize_with = "v1_or_v2")]
            source: Source,
        }
        let old: E = serde_json::from_str(r#"{"source":"/proc/9/environ"}"#).expect("v1");
        assert_eq!(old.source, Source::proc(9, "environ"));
        let new: E =
            serde_json::from_str(r#"{"source":{"kind":"file","path":"/m.pkl","offset":40}}"#)
                .expect("v2");
        assert_eq!(new.source, Source::file_offset("/m.pkl", 40));
        assert!(serde_json::from_str::<E>(r#"{"source":{"kind":"teleport"}}"#).is_err());
    }

    #[test]
    fn only_files_are_artifacts() {
        assert!(Source::proc(1, "status").artifact().is_none());
        assert!(Source::kernel("/sys/class/net").artifact().is_none());
        let c = Source::Config {
            file: Some("/etc/aiposture/config.toml".into()),
            key: "[[suppress]]".into(),
            line: None,
        };
        assert_eq!(
            c.artifact().map(|l| l.path),
            Some("/etc/aiposture/config.toml")
        );
        assert_eq!(
            Source::file_line("/p.toml", 3)
                .artifact()
                .and_then(|l| l.line),
            Some(3)
        );
    }
}
