//! Cloud back-ends a process is configured for: API-key variables (by name),
//! base URLs (host only, judged without DNS), features set to remote engines,
//! entries of known configuration files, and settings kept where aiposture
//! does not look.

use std::net::IpAddr;

use crate::knowledge::network::{AddrClass, Network};
use crate::knowledge::privacy::Privacy;
use crate::model::privacy::{Backend, BackendKind, ConfigBackend, HostsName};
use crate::model::redact::url_host;
use crate::model::{Evidence, Server, Source};

/// Where a host sends data, without resolving it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostVerdict {
    /// `loopback`, `lan`, `vpn`, `public`, `cloud` or `unresolved`.
    pub destination: &'static str,
    pub note: String,
}

impl HostVerdict {
    /// Does data leave the host's network?
    pub fn leaves(&self) -> Option<bool> {
        match self.destination {
            "loopback" | "lan" => Some(false),
            "unresolved" => None,
            _ => Some(true),
        }
    }
}

pub fn judge_host(
    host: &str,
    privacy: &Privacy,
    network: &Network,
    hosts_names: &[HostsName],
) -> HostVerdict {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let by_addr = |addr: IpAddr, how: String| {
        let (class, _) = network.classify(&addr);
        let destination = match class {
            AddrClass::Loopback => "loopback",
            AddrClass::Cgnat => "vpn",
            AddrClass::Public => "public",
            _ => "lan",
        };
        HostVerdict {
            destination,
            note: how,
        }
    };
    if let Ok(addr) = bare.parse::<IpAddr>() {
        return by_addr(addr, format!("address {addr}"));
    }
    if privacy.is_local_name(bare) {
        return HostVerdict {
            destination: "loopback",
            note: format!("{bare} names this host"),
        };
    }
    if let Some(h) = hosts_names
        .iter()
        .find(|h| h.names.iter().any(|n| n.eq_ignore_ascii_case(bare)))
    {
        return by_addr(h.addr, format!("{bare} is {} in {}", h.addr, h.file));
    }
    if let Some(c) = privacy.cloud_host(bare) {
        return HostVerdict {
            destination: "cloud",
            note: format!("{bare}: {} ({})", c.provider, c.source),
        };
    }
    HostVerdict {
        destination: "unresolved",
        note: format!("{bare}: a name aiposture does not resolve (no DNS)"),
    }
}

pub fn backends(
    server: &Server,
    privacy: &Privacy,
    network: &Network,
    hosts_names: &[HostsName],
    config: &[ConfigBackend],
) -> Vec<Backend> {
    let environ = Source::proc(server.pid, "environ");
    let mut out = Vec::new();
    let names: Vec<&str> = server
        .secret_env_names
        .iter()
        .map(String::as_str)
        .chain(server.env_config.iter().map(|e| e.name.as_str()))
        .collect();
    key_backends(privacy, &environ, &names, &mut out);
    base_url_backends(server, privacy, network, hosts_names, &environ, &mut out);
    remote_engine_backends(server, privacy, &environ, &mut out);
    config_file_backends(server, privacy, network, hosts_names, config, &mut out);
    feature_backends(server, privacy, &mut out);
    out
}

/// Cloud API keys named in the environment.
fn key_backends(privacy: &Privacy, environ: &Source, names: &[&str], out: &mut Vec<Backend>) {
    for k in &privacy.cloud_keys {
        for name in k.env.iter().filter(|n| names.contains(&n.as_str())) {
            out.push(Backend {
                kind: BackendKind::ApiKey,
                setting: name.clone(),
                provider: Some(k.provider.clone()),
                host: None,
                destination: "cloud".into(),
                evidence: vec![Evidence::new(
                    environ.clone(),
                    format!("{name} is set (value not read); {}", k.source),
                )],
            });
        }
    }
}

/// Base-URL variables: where the server sends requests, judged by host.
fn base_url_backends(
    server: &Server,
    privacy: &Privacy,
    network: &Network,
    hosts_names: &[HostsName],
    environ: &Source,
    out: &mut Vec<Backend>,
) {
    for b in &privacy.base_urls {
        for name in &b.env {
            let Some(value) = server.env_config.iter().find(|e| e.name == *name) else {
                continue;
            };
            let urls: Vec<&str> = match &b.separator {
                Some(sep) => value.value.split(sep.as_str()).collect(),
                None => vec![value.value.as_str()],
            };
            for url in urls.into_iter().map(str::trim).filter(|u| !u.is_empty()) {
                let Some(host) = url_host(url) else {
                    out.push(Backend {
                        kind: BackendKind::BaseUrl,
                        setting: name.clone(),
                        provider: Some(b.provider.clone()),
                        host: None,
                        destination: "unresolved".into(),
                        evidence: vec![Evidence::new(
                            environ.clone(),
                            format!("{name}: not a URL"),
                        )],
                    });
                    continue;
                };
                let v = judge_host(&host, privacy, network, hosts_names);
                out.push(Backend {
                    kind: BackendKind::BaseUrl,
                    setting: name.clone(),
                    provider: Some(b.provider.clone()),
                    host: Some(host),
                    destination: v.destination.into(),
                    evidence: vec![Evidence::new(
                        environ.clone(),
                        format!("{name}: {}", v.note),
                    )],
                });
            }
        }
    }
}

/// Remote engines switched on by a variable.
fn remote_engine_backends(
    server: &Server,
    privacy: &Privacy,
    environ: &Source,
    out: &mut Vec<Backend>,
) {
    for e in privacy
        .engines
        .iter()
        .filter(|e| e.products.contains(&server.product_id))
    {
        let Some(value) = server.env_config.iter().find(|v| v.name == e.env) else {
            continue;
        };
        if e.remote
            .iter()
            .any(|r| r.eq_ignore_ascii_case(value.value.trim()))
        {
            out.push(Backend {
                kind: BackendKind::RemoteEngine,
                setting: e.env.clone(),
                provider: Some(value.value.clone()),
                host: None,
                destination: "cloud".into(),
                evidence: vec![Evidence::new(
                    environ.clone(),
                    format!(
                        "{}={:?}: {} go to {} ({})",
                        e.env, value.value, e.what, e.to, e.source
                    ),
                )],
            });
        }
    }
}

/// Back-ends named in a configuration file the server was started with.
fn config_file_backends(
    server: &Server,
    privacy: &Privacy,
    network: &Network,
    hosts_names: &[HostsName],
    config: &[ConfigBackend],
    out: &mut Vec<Backend>,
) {
    for c in config.iter().filter(|c| c.pid == server.pid) {
        let local_provider = c.provider.as_deref().is_some_and(|p| {
            privacy
                .config_files
                .iter()
                .any(|f| f.local_providers.iter().any(|l| l == p))
        });
        let callback = c
            .provider
            .as_deref()
            .and_then(|p| p.strip_prefix("callback:"));
        let verdict = match (&c.host, callback) {
            (_, Some(name)) if local_provider => HostVerdict {
                destination: "loopback",
                note: format!("logging callback {name}: scraped or written locally"),
            },
            (_, Some(name)) => HostVerdict {
                destination: "unresolved",
                note: format!(
                    "logging callback {name}: request logs go to its service (its cloud unless self-hosted; the endpoint comes from its own variables)"
                ),
            },
            (Some(h), None) => judge_host(h, privacy, network, hosts_names),
            (None, None) if local_provider => HostVerdict {
                destination: "loopback",
                note: "a local provider with its default address".into(),
            },
            (None, None) => HostVerdict {
                destination: "cloud",
                note: format!(
                    "provider {} with its default (cloud) endpoint",
                    c.provider.as_deref().unwrap_or("?")
                ),
            },
        };
        out.push(Backend {
            kind: BackendKind::ConfigEntry,
            setting: c.key.clone(),
            provider: c.provider.clone(),
            host: c.host.clone(),
            destination: verdict.destination.into(),
            evidence: vec![Evidence::new(
                Source::path(c.file.clone()),
                format!("{}: {}", c.key, verdict.note),
            )],
        });
    }
}

/// Cloud features on unless a variable turns them off.
fn feature_backends(server: &Server, privacy: &Privacy, out: &mut Vec<Backend>) {
    for s in privacy
        .stored_settings
        .iter()
        .filter(|s| s.products.contains(&server.product_id))
    {
        let off = s.unless_env.as_ref().and_then(|u| {
            server
                .env_config
                .iter()
                .find(|e| e.name == u.env && u.values.contains(&e.value))
        });
        if off.is_none() {
            out.push(Backend {
                kind: BackendKind::ConfigEntry,
                setting: s.what.clone(),
                provider: None,
                host: None,
                destination: "unresolved".into(),
                evidence: vec![Evidence::new(
                    Source::asset("assets/privacy.toml", Some("stored_settings".into())),
                    format!("not read by aiposture; {}", s.source),
                )],
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EnvSetting;
    use crate::model::testing::server;

    fn kit() -> (Privacy, Network) {
        (
            Privacy::embedded().expect("privacy.toml"),
            Network::embedded().expect("network.toml"),
        )
    }

    #[test]
    fn hosts_are_judged_without_dns() {
        let (p, n) = kit();
        let j = |h: &str| judge_host(h, &p, &n, &[]).destination;
        assert_eq!(j("127.0.0.1"), "loopback");
        assert_eq!(j("localhost"), "loopback");
        assert_eq!(j("host.docker.internal"), "loopback");
        assert_eq!(j("192.168.1.5"), "lan");
        assert_eq!(j("100.101.102.103"), "vpn");
        assert_eq!(j("8.8.8.8"), "public");
        assert_eq!(j("api.openai.com"), "cloud");
        assert_eq!(j("myres.openai.azure.com"), "cloud");
        assert_eq!(j("notopenai.com"), "unresolved");
        assert_eq!(j("ollama"), "unresolved");
        let hosts = [HostsName {
            addr: "10.0.0.7".parse().expect("addr"),
            names: vec!["gpu-box".into()],
            file: "/etc/hosts".into(),
        }];
        assert_eq!(judge_host("gpu-box", &p, &n, &hosts).destination, "lan");
    }

    #[test]
    fn url_hosts_drop_userinfo_and_query() {
        assert_eq!(
            url_host("https://user:secret@API.openai.com:443/v1?key=abc").as_deref(),
            Some("api.openai.com")
        );
        assert_eq!(url_host("http://[::1]:11434").as_deref(), Some("[::1]"));
        assert_eq!(url_host("not a url"), None);
        assert_eq!(
            url_host("https://<redacted>@api.openai.com/v1?api_key=<redacted>").as_deref(),
            Some("api.openai.com")
        );
    }

    #[test]
    fn open_webui_back_ends() {
        let (p, n) = kit();
        let mut s = server(7, "open_webui");
        s.secret_env_names = vec!["OPENAI_API_KEY".into()];
        s.env_config = vec![
            EnvSetting {
                name: "OLLAMA_BASE_URL".into(),
                value: "http://host.docker.internal:11434".into(),
            },
            EnvSetting {
                name: "OPENAI_API_BASE_URLS".into(),
                value: "https://api.openai.com/v1;http://10.1.2.3:8000/v1".into(),
            },
            EnvSetting {
                name: "RAG_EMBEDDING_ENGINE".into(),
                value: "openai".into(),
            },
        ];
        let b = backends(&s, &p, &n, &[], &[]);
        let dest = |setting: &str| -> Vec<String> {
            b.iter()
                .filter(|x| x.setting == setting)
                .map(|x| x.destination.clone())
                .collect()
        };
        assert_eq!(dest("OPENAI_API_KEY"), ["cloud"]);
        assert_eq!(dest("OLLAMA_BASE_URL"), ["loopback"]);
        assert_eq!(dest("OPENAI_API_BASE_URLS"), ["cloud", "lan"]);
        assert_eq!(dest("RAG_EMBEDDING_ENGINE"), ["cloud"]);
        // The admin panel's settings are not read: said, not skipped.
        assert!(
            b.iter()
                .any(|x| x.destination == "unresolved" && x.setting.contains("webui.db"))
        );
    }
}
