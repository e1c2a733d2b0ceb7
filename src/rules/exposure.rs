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
