//! Where each listener can be reached from, and the first rule built on it: an
//! AI server that answers without credentials on more than loopback.

use std::net::IpAddr;

use crate::knowledge::Signatures;
use crate::model::{
    AuthState, BindScope, Evidence, Finding, Inventory, ListenerExposure, Protocol, Server,
    Severity, Socket, SocketState, Subject,
};

pub const RULE_UNAUTH_EXPOSED: &str = "exposure.unauthenticated-listener";

pub fn bind_scope(addr: &IpAddr) -> BindScope {
    if addr.is_loopback() {
        BindScope::Loopback
    } else if addr.is_unspecified() {
        BindScope::Wildcard
    } else {
        BindScope::Address
    }
}

pub fn listener_exposures(inv: &Inventory) -> Vec<ListenerExposure> {
    inv.sockets
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_listener())
        .map(|(i, s)| {
            let scope = bind_scope(&s.local.addr);
            let other_netns = s.netns.is_some() && s.netns != inv.own_netns;
            let where_ = if other_netns {
                format!("namespace {}", s.netns.as_deref().unwrap_or("?"))
            } else {
                "the host namespace".to_string()
            };
            let summary = match scope {
                BindScope::Loopback => format!("loopback of {where_}"),
                BindScope::Wildcard => format!("all interfaces of {where_}"),
                BindScope::Address => format!("{} in {where_}", s.local.addr),
            };
            ListenerExposure {
                socket: i,
                scope,
                other_netns,
                summary,
            }
        })
        .collect()
}

fn socket_evidence(s: &Socket) -> Evidence {
    let state = match s.state {
        SocketState::Listen => "LISTEN",
        SocketState::UdpBound => "bound",
        SocketState::Established => "ESTABLISHED",
    };
    Evidence::new(
        s.source.clone(),
        format!(
            "local_address {}{} state {state} inode {} uid {}",
            s.local,
            if s.local.v4_mapped {
                " (IPv4-mapped)"
            } else {
                ""
            },
            s.inode,
            s.uid
        ),
    )
}

fn remediation(server: &Server, signatures: &Signatures) -> String {
    let sig = signatures.get(&server.product_id);
    let bind = sig
        .map(|s| {
            let mut ways: Vec<String> = s
                .bind_flags
                .iter()
                .filter(|f| !f.contains("port"))
                .cloned()
                .collect();
            ways.extend(
                s.bind_env
                    .iter()
                    .filter(|e| !e.contains("PORT"))
                    .map(|e| format!("{e}=127.0.0.1")),
            );
            ways
        })
        .unwrap_or_default();
    let bind = if bind.is_empty() {
        "Bind it to 127.0.0.1".to_string()
    } else {
        format!("Bind it to 127.0.0.1 ({})", bind.join(" or "))
    };
    let auth = match (server.auth.state, sig) {
        (AuthState::Unsupported, _) => {
            " It has no authentication of its own: put an authenticating reverse proxy in front of it and firewall the port.".to_string()
        }
        (_, Some(s)) if !s.auth_flags.is_empty() || !s.auth_env.is_empty() => {
            let mut ways: Vec<String> = s.auth_flags.clone();
            ways.extend(s.auth_env.iter().cloned());
            format!(
                " If it must be reachable, require a key ({}) — prefer a key file or environment over the command line, which every local user can read in /proc — and firewall the port.",
                ways.join(", ")
            )
        }
        _ => " If it must be reachable, front it with an authenticating reverse proxy and firewall the port.".to_string(),
    };
    format!("{bind}.{auth}")
}

/// One finding per server and exposed TCP listener whose auth is not configured.
pub fn unauthenticated_exposed(
    inv: &Inventory,
    exposures: &[ListenerExposure],
    signatures: &Signatures,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for server in &inv.servers {
        if server.auth.state == AuthState::Configured {
            continue;
        }
        for &idx in &server.sockets {
            let Some(sock) = inv.sockets.get(idx) else {
                continue;
            };
            if sock.protocol != Protocol::Tcp || sock.state != SocketState::Listen {
                continue;
            }
            let Some(exp) = exposures.iter().find(|e| e.socket == idx) else {
                continue;
            };
            if exp.scope == BindScope::Loopback {
                continue;
            }
            let (severity, title) = match (server.auth.state, exp.other_netns) {
                (AuthState::Unknown, _) => (
                    Severity::Medium,
                    format!(
                        "{} listens on {} and its authentication could not be determined",
                        server.product, sock.local
                    ),
                ),
                (_, false) => (
                    Severity::High,
                    format!(
                        "{} accepts unauthenticated requests on {}",
                        server.product, sock.local
                    ),
                ),
                (_, true) => (
                    Severity::Medium,
                    format!(
                        "{} accepts unauthenticated requests on {} inside another network namespace",
                        server.product, sock.local
                    ),
                ),
            };
            let mut summary = format!(
                "The listener is bound to {}. Anyone who can reach it can use the model, read what it exposes and load the host.",
                exp.summary
            );
            if exp.other_netns {
                summary.push_str(" Whether that namespace is reachable from outside the host (published ports, bridges) is not assessed by this rule.");
            }
            let mut evidence = vec![
                socket_evidence(sock),
                Evidence::new(
                    format!("/proc/{}/fd", server.pid),
                    format!(
                        "socket:[{}] held by pid {}",
                        sock.inode,
                        sock.owner_pids()
                            .iter()
                            .map(|p| p.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Evidence::new(
                    format!("/proc/{}/cmdline", server.pid),
                    format!(
                        "identified as {} ({}): {}",
                        server.product,
                        match server.identification.strength {
                            crate::model::MatchStrength::Strong => "strong match",
                            crate::model::MatchStrength::Weak => "weak match only",
                        },
                        server.identification.reason
                    ),
                ),
            ];
            evidence.extend(server.auth.evidence.iter().cloned());
            out.push(Finding {
                rule: RULE_UNAUTH_EXPOSED.into(),
                severity,
                title,
                subject: Subject {
                    product: server.product.clone(),
                    pid: server.pid,
                    listener: Some(format!("{}/tcp", sock.local)),
                },
                summary,
                evidence,
                remediation: remediation(server, signatures),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn inventory(addr: &str, auth: AuthState, netns: &str) -> Inventory {
        let own = "net:[1]".to_string();
        Inventory {
            host: HostInfo {
                hostname: "h".into(),
                kernel: None,
                os: None,
                collected_at: "2026-01-01T00:00:00Z".into(),
                collection_ms: 1,
            },
            privileges: Privileges {
                uid: 0,
                user: "root".into(),
                is_root: true,
                capabilities: vec![],
            },
            own_netns: Some(own),
            servers: vec![Server {
                product_id: "llama_server".into(),
                product: "llama.cpp llama-server".into(),
                pid: 42,
                ppid: 1,
                uid: Some(0),
                user: Some("root".into()),
                exe: None,
                cmdline: vec!["llama-server".into()],
                netns: Some(netns.into()),
                identification: Identification {
                    strength: MatchStrength::Strong,
                    reason: "test".into(),
                    signature_status: "src".into(),
                },
                workers: vec![],
                sockets: vec![0],
                models: vec![],
                auth: AuthConfig {
                    state: auth,
                    evidence: vec![Evidence::new("/proc/42/cmdline", "none of --api-key given")],
                },
                secret_env_names: vec![],
                secret_flags: vec![],
            }],
            sockets: vec![Socket {
                protocol: Protocol::Tcp,
                local: Endpoint {
                    addr: addr.parse().expect("addr"),
                    port: 8080,
                    v4_mapped: false,
                },
                remote: None,
                state: SocketState::Listen,
                inode: 7,
                uid: 0,
                netns: Some(netns.into()),
                source: "/proc/net/tcp".into(),
                owner: SocketOwner::Processes {
                    pids: vec![42],
                    comm: "llama-server".into(),
                },
            }],
            blind_spots: vec![],
            processes_seen: 1,
        }
    }

    fn findings(addr: &str, auth: AuthState, netns: &str) -> Vec<Finding> {
        let sigs = Signatures::embedded().expect("signatures");
        let inv = inventory(addr, auth, netns);
        let exp = listener_exposures(&inv);
        unauthenticated_exposed(&inv, &exp, &sigs)
    }

    #[test]
    fn severity_follows_bind_auth_and_namespace() {
        let cases = [
            (
                "0.0.0.0",
                AuthState::NotConfigured,
                "net:[1]",
                Some(Severity::High),
            ),
            (
                "::",
                AuthState::Unsupported,
                "net:[1]",
                Some(Severity::High),
            ),
            (
                "192.168.1.5",
                AuthState::NotConfigured,
                "net:[1]",
                Some(Severity::High),
            ),
            (
                "0.0.0.0",
                AuthState::NotConfigured,
                "net:[2]",
                Some(Severity::Medium),
            ),
            (
                "0.0.0.0",
                AuthState::Unknown,
                "net:[1]",
                Some(Severity::Medium),
            ),
            ("0.0.0.0", AuthState::Configured, "net:[1]", None),
            ("127.0.0.1", AuthState::NotConfigured, "net:[1]", None),
            ("::1", AuthState::Unsupported, "net:[1]", None),
        ];
        for (addr, auth, ns, want) in cases {
            let got = findings(addr, auth, ns);
            assert_eq!(
                got.first().map(|f| f.severity),
                want,
                "{addr} {auth:?} {ns}"
            );
            assert!(got.len() <= 1);
        }
    }

    #[test]
    fn finding_carries_evidence_and_remediation() {
        let f = findings("0.0.0.0", AuthState::NotConfigured, "net:[1]");
        let f = &f[0];
        assert_eq!(f.rule, RULE_UNAUTH_EXPOSED);
        assert!(
            f.evidence
                .iter()
                .any(|e| e.source == "/proc/net/tcp" && e.detail.contains("0.0.0.0:8080"))
        );
        assert!(f.evidence.iter().any(|e| e.detail.contains("--api-key")));
        assert!(f.remediation.contains("--host"), "{}", f.remediation);
        assert!(f.remediation.contains("LLAMA_API_KEY"), "{}", f.remediation);
    }
}
