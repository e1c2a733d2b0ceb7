//! Where each listener can be reached from, and the first rule built on it: an
//! AI server that answers without credentials on more than loopback.

use crate::knowledge::Signatures;
use crate::model::{
    AuthState, BindScope, Evidence, Finding, Helper, Inventory, ListenerExposure, ProbeAuth,
    ProbeVerdict, Protocol, Reach, Server, Severity, Socket, SocketState, Source, Subject,
};

pub const RULE_UNAUTH_EXPOSED: &str = "exposure.unauthenticated-listener";

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
    probes: &[ProbeVerdict],
    signatures: &Signatures,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for server in &inv.servers {
        // What the server did when asked beats what its flags suggest: auth may
        // come from a config file that was not read.
        let answered: Vec<&ProbeVerdict> = probes
            .iter()
            .filter(|p| p.pid == server.pid)
            .filter(|p| !server.helpers.iter().any(|h| h.sockets.contains(&p.socket)))
            .collect();
        let demands = answered.iter().any(|p| p.auth == ProbeAuth::DemandsAuth);
        let open = answered
            .iter()
            .find(|p| p.auth == ProbeAuth::AnswersWithoutCredentials);
        // What anyone can grant themselves (open sign-up of the first admin, a
        // setting that signs every visitor in) is no auth, whatever else says so.
        let mut self_grant: Vec<&String> = Vec::new();
        for g in server
            .auth
            .self_grant
            .iter()
            .chain(answered.iter().flat_map(|p| &p.self_grant))
        {
            if !self_grant.contains(&g) {
                self_grant.push(g);
            }
        }
        let covered = self_grant.is_empty()
            && (demands || (server.auth.state == AuthState::Configured && open.is_none()));
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
            // A process the server started answers for itself: the server's key
            // does not cover a port it does not serve.
            if let Some(h) = server.helper_of(idx, sock) {
                out.extend(helper_listener(server, h, sock, exp, probes));
                continue;
            }
            if covered {
                continue;
            }
            let unauth =
                open.is_some() || server.auth.state != AuthState::Unknown || !self_grant.is_empty();
            let severity = severity_of(exp.reach, unauth);
            let who = reach_words(exp.reach);
            let title = if let Some(g) = self_grant.first() {
                format!(
                    "{} on {} {who} without authentication in effect: anyone can let themselves in ({})",
                    server.product,
                    sock.local,
                    g.split(':').next().unwrap_or(g)
                )
            } else if unauth {
                format!(
                    "{} on {} {who} without authentication",
                    server.product, sock.local
                )
            } else {
                format!(
                    "{} on {} {who}; whether it requires authentication is unknown",
                    server.product, sock.local
                )
            };
            let mut summary = format!(
                "Exposure: {}. Anyone who can reach it can use the model, read what it exposes and load the host.",
                exp.summary
            );
            if exp.reach == Reach::LoopbackOnly {
                summary.push_str(" The bind covers every interface its namespace will ever have: an interface added later is exposed at once.");
            }
            for g in &self_grant {
                summary.push_str(&format!(" Its authentication is no barrier: {g}."));
            }
            let mut evidence = vec![
                socket_evidence(sock),
                Evidence::new(
                    Source::proc(server.pid, "fd"),
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
                    Source::proc(server.pid, "cmdline"),
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
            evidence.extend(exp.chain.iter().skip(1).cloned());
            evidence.extend(server.auth.evidence.iter().cloned());
            if let Some(p) = open {
                evidence.extend(p.evidence.iter().cloned());
            }
            out.push(Finding {
                rule: RULE_UNAUTH_EXPOSED.into(),
                severity,
                title,
                subject: listener_subject(server, sock),
                summary,
                evidence,
                remediation: if self_grant.is_empty() {
                    remediation(server, signatures)
                } else {
                    format!(
                        "First close the way in named above. {}",
                        remediation(server, signatures)
                    )
                },
            });
        }
    }
    out
}

/// A finding about one TCP listener of a server.
fn listener_subject(server: &Server, sock: &Socket) -> Subject {
    Subject {
        product: server.product.clone(),
        pid: server.pid,
        listener: Some(format!("{}/tcp", sock.local)),
        path: None,
    }
}

fn severity_of(reach: Reach, unauth: bool) -> Severity {
    match (reach, unauth) {
        (Reach::Public, true) => Severity::Critical,
        (Reach::Public, false) | (Reach::Lan | Reach::Vpn, true) => Severity::High,
        (Reach::HostOnly | Reach::Unknown, _) | (Reach::Lan | Reach::Vpn, false) => {
            Severity::Medium
        }
        (Reach::LoopbackOnly, _) => Severity::Low,
    }
}

fn reach_words(reach: Reach) -> &'static str {
    match reach {
        Reach::LoopbackOnly => "is bound beyond loopback (today only loopback reaches it)",
        Reach::HostOnly => "is reachable from the host and its containers",
        Reach::Lan => "is reachable from the LAN",
        Reach::Vpn => "is reachable over a VPN",
        Reach::Public => "is reachable from public networks",
        Reach::Unknown => "is bound beyond loopback (reach unknown)",
    }
}

/// A listener of a process the server started: judged by what that listener
/// answered (a probe of it), never by the server's own auth; unprobed, its auth
/// is unknown.
fn helper_listener(
    server: &Server,
    h: &Helper,
    sock: &Socket,
    exp: &ListenerExposure,
    probes: &[ProbeVerdict],
) -> Option<Finding> {
    let own: Vec<&ProbeVerdict> = probes.iter().filter(|p| p.socket == exp.socket).collect();
    if own.iter().any(|p| p.auth == ProbeAuth::DemandsAuth) {
        return None;
    }
    let open = own
        .iter()
        .find(|p| p.auth == ProbeAuth::AnswersWithoutCredentials);
    let who = reach_words(exp.reach);
    let what = format!("{} {} ({}, pid {})", server.product, h.role, h.comm, h.pid);
    let title = match open {
        Some(_) => format!("{what} on {} {who} without authentication", sock.local),
        None => format!(
            "{what} on {} {who}; whether it requires authentication is unknown",
            sock.local
        ),
    };
    let mut evidence = vec![
        socket_evidence(sock),
        Evidence::new(
            Source::proc(h.pid, "fd"),
            format!("socket:[{}] held by pid {}", sock.inode, h.pid),
        ),
        Evidence::new(
            Source::proc(h.pid, "stat"),
            format!(
                "started by {} (pid {}), a descendant of it: {}",
                server.product, server.pid, h.role
            ),
        ),
    ];
    evidence.extend(exp.chain.iter().skip(1).cloned());
    if let Some(p) = open {
        evidence.extend(p.evidence.iter().cloned());
    }
    Some(Finding {
        rule: RULE_UNAUTH_EXPOSED.into(),
        severity: severity_of(exp.reach, open.is_some()),
        title,
        subject: listener_subject(server, sock),
        summary: format!(
            "Exposure: {}. This port is served by a process {} started, not by its API: the server's own authentication does not cover it, and anyone who can reach it can use whatever it serves.",
            exp.summary, server.product
        ),
        evidence,
        remediation: format!(
            "Find out what {} serves on this port; bind it to 127.0.0.1 or firewall the port, and turn on its own authentication if it has one.",
            h.comm
        ),
    })
}

pub const RULE_PARTIAL_AUTH: &str = "exposure.paths-open-despite-auth";

/// A server that demands credentials on its API but answers other paths
/// without them (vLLM's --api-key guards /v1 only; llama.cpp leaves /health).
pub fn partial_auth(
    inv: &Inventory,
    exposures: &[ListenerExposure],
    probes: &[ProbeVerdict],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in probes
        .iter()
        .filter(|p| p.auth == ProbeAuth::DemandsAuth && !p.open_paths.is_empty())
    {
        let Some(server) = inv.servers.iter().find(|s| s.pid == p.pid) else {
            continue;
        };
        let Some(sock) = inv.sockets.get(p.socket) else {
            continue;
        };
        let reach = exposures
            .iter()
            .find(|e| e.socket == p.socket)
            .map(|e| e.reach)
            .unwrap_or(Reach::Unknown);
        let severity = match reach {
            Reach::Lan | Reach::Vpn | Reach::Public | Reach::Unknown => Severity::Low,
            Reach::LoopbackOnly | Reach::HostOnly => Severity::Info,
        };
        out.push(Finding {
            rule: RULE_PARTIAL_AUTH.into(),
            severity,
            title: format!(
                "{} on {} answers {} without credentials although it requires a key",
                server.product,
                sock.local,
                p.open_paths.join(", ")
            ),
            subject: listener_subject(server, sock),
            summary: format!(
                "Reach: {}. These paths stay open by design; they reveal that the server runs, and may reveal its version, metrics or model names to anyone who can reach it.",
                reach.label()
            ),
            evidence: p.evidence.clone(),
            remediation: "If the listener must be reachable, put an authenticating reverse proxy in front that guards every path, or bind to 127.0.0.1.".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Knowledge;
    use crate::model::*;

    const HOST: &str = "net:[1]";

    fn iface(name: &str, ns: &str, kind: InterfaceKind, addrs: &[(&str, u8)]) -> Interface {
        Interface {
            name: name.into(),
            netns: Some(ns.into()),
            kind,
            addrs: addrs
                .iter()
                .map(|(a, p)| IfAddr {
                    addr: a.parse().expect("addr"),
                    prefix: *p,
                })
                .collect(),
        }
    }

    fn inventory(
        addr: &str,
        auth: AuthState,
        netns: &str,
        interfaces: Vec<Interface>,
    ) -> Inventory {
        let mut inv = crate::model::testing::inventory();
        inv.own_netns = Some(HOST.into());
        inv.servers = vec![Server {
            product: "llama.cpp llama-server".into(),
            netns: Some(netns.into()),
            sockets: vec![0],
            auth: AuthConfig {
                state: auth,
                evidence: vec![Evidence::new(
                    Source::from_v1("/proc/42/cmdline"),
                    "none of --api-key given",
                )],
                self_grant: vec![],
            },
            ..crate::model::testing::server(42, "llama_server")
        }];
        inv.sockets = vec![Socket {
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
            source: Source::from_v1("/proc/net/tcp"),
            owner: SocketOwner::Processes {
                pids: vec![42],
                comm: "llama-server".into(),
            },
        }];
        inv.interfaces = interfaces;
        inv
    }

    fn judge(
        addr: &str,
        auth: AuthState,
        netns: &str,
        ifaces: Vec<Interface>,
    ) -> (Reach, Option<Severity>) {
        let k = Knowledge::embedded().expect("knowledge");
        let inv = inventory(addr, auth, netns, ifaces);
        let exp = crate::rules::reach::listener_exposures(&inv, &k.network);
        let f = unauthenticated_exposed(&inv, &exp, &[], &k.signatures);
        assert!(f.len() <= 1);
        (exp[0].reach, f.first().map(|f| f.severity))
    }

    /// A server whose key covers its API, and a process it started that listens
    /// on the LAN: the key does not speak for the helper's port.
    #[test]
    fn a_helper_listener_is_judged_on_its_own() {
        let k = Knowledge::embedded().expect("knowledge");
        let lan = vec![
            lo(HOST),
            iface("eth0", HOST, InterfaceKind::Other, &[("192.168.1.5", 24)]),
        ];
        let mut inv = inventory("0.0.0.0", AuthState::Configured, HOST, lan);
        let mut helper_sock = inv.sockets[0].clone();
        helper_sock.local.port = 9090;
        helper_sock.inode = 8;
        helper_sock.owner = SocketOwner::Processes {
            pids: vec![77],
            comm: "python3".into(),
        };
        inv.sockets.push(helper_sock);
        inv.servers[0].sockets = vec![0, 1];
        inv.servers[0].helpers = vec![Helper {
            pid: 77,
            comm: "python3".into(),
            cmdline: vec!["python3".into(), "-m".into(), "http.server".into()],
            role: "helper process".into(),
            sockets: vec![1],
        }];
        let exp = crate::rules::reach::listener_exposures(&inv, &k.network);
        let f = unauthenticated_exposed(&inv, &exp, &[], &k.signatures);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].subject.listener.as_deref(), Some("0.0.0.0:9090/tcp"));
        assert_eq!(f[0].severity, Severity::Medium, "LAN, auth unknown");
        assert!(
            f[0].title.contains("helper process (python3, pid 77)"),
            "{}",
            f[0].title
        );
        assert!(f[0].title.contains("is unknown"), "{}", f[0].title);

        // Its own probe settles it: open is high on the LAN, a 401 is no finding.
        let probe = |auth| ProbeVerdict {
            socket: 1,
            pid: 42,
            identity: ProbeIdentity::NotConfirmed,
            version: None,
            auth,
            listed: None,
            open_paths: Vec::new(),
            self_grant: Vec::new(),
            evidence: Vec::new(),
        };
        let f = unauthenticated_exposed(
            &inv,
            &exp,
            &[probe(ProbeAuth::AnswersWithoutCredentials)],
            &k.signatures,
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert!(
            f[0].title.ends_with("without authentication"),
            "{}",
            f[0].title
        );
        let f =
            unauthenticated_exposed(&inv, &exp, &[probe(ProbeAuth::DemandsAuth)], &k.signatures);
        assert!(f.is_empty(), "{f:#?}");
    }

    /// Auth that is on but that anyone can grant themselves is no auth: a 401
    /// from the API does not cover the server.
    #[test]
    fn a_self_grant_outweighs_configured_auth_and_a_401() {
        let k = Knowledge::embedded().expect("knowledge");
        let lan = vec![
            lo(HOST),
            iface("eth0", HOST, InterfaceKind::Other, &[("192.168.1.5", 24)]),
        ];
        let mut inv = inventory("0.0.0.0", AuthState::Configured, HOST, lan);
        let exp = crate::rules::reach::listener_exposures(&inv, &k.network);
        let demands = ProbeVerdict {
            socket: 0,
            pid: 42,
            identity: ProbeIdentity::Confirmed,
            version: None,
            auth: ProbeAuth::DemandsAuth,
            listed: None,
            open_paths: Vec::new(),
            self_grant: Vec::new(),
            evidence: Vec::new(),
        };
        let probes = [demands];
        assert!(unauthenticated_exposed(&inv, &exp, &probes, &k.signatures).is_empty());
        inv.servers[0].auth.self_grant =
            vec!["LANGFLOW_AUTO_LOGIN is on: every visitor gets a superuser token".into()];
        let f = unauthenticated_exposed(&inv, &exp, &probes, &k.signatures);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].severity, Severity::High);
        assert!(
            f[0].title
                .ends_with("anyone can let themselves in (LANGFLOW_AUTO_LOGIN is on)"),
            "{}",
            f[0].title
        );
        assert!(f[0].summary.contains("superuser token"), "{}", f[0].summary);
        assert!(f[0].remediation.starts_with("First close the way in"));
    }

    fn lo(ns: &str) -> Interface {
        iface(
            "lo",
            ns,
            InterfaceKind::Loopback,
            &[("127.0.0.1", 8), ("::1", 128)],
        )
    }

    #[test]
    fn reach_and_severity_follow_bind_interfaces_and_auth() {
        use AuthState::*;
        let lan = || {
            vec![
                lo(HOST),
                iface("eth0", HOST, InterfaceKind::Other, &[("192.168.1.5", 24)]),
            ]
        };
        let public = || {
            vec![
                lo(HOST),
                iface("eth0", HOST, InterfaceKind::Other, &[("8.8.4.4", 24)]),
            ]
        };
        let vpn = || {
            let mut v = lan();
            v.push(iface("wg0", HOST, InterfaceKind::Vpn, &[("10.8.0.1", 24)]));
            v
        };
        let container = || {
            vec![
                lo("net:[2]"),
                iface(
                    "eth0",
                    "net:[2]",
                    InterfaceKind::Other,
                    &[("172.17.0.2", 16)],
                ),
                iface(
                    "docker0",
                    HOST,
                    InterfaceKind::Bridge,
                    &[("172.17.0.1", 16)],
                ),
            ]
        };
        let cases = [
            (
                "0.0.0.0",
                NotConfigured,
                HOST,
                lan(),
                Reach::Lan,
                Some(Severity::High),
            ),
            (
                "::",
                Unsupported,
                HOST,
                public(),
                Reach::Public,
                Some(Severity::Critical),
            ),
            (
                "0.0.0.0",
                NotConfigured,
                HOST,
                vpn(),
                Reach::Vpn,
                Some(Severity::High),
            ),
            (
                "192.168.1.5",
                NotConfigured,
                HOST,
                vpn(),
                Reach::Lan,
                Some(Severity::High),
            ),
            (
                "0.0.0.0",
                Unknown,
                HOST,
                lan(),
                Reach::Lan,
                Some(Severity::Medium),
            ),
            ("0.0.0.0", Configured, HOST, public(), Reach::Public, None),
            (
                "127.0.0.1",
                NotConfigured,
                HOST,
                public(),
                Reach::LoopbackOnly,
                None,
            ),
            (
                "0.0.0.0",
                NotConfigured,
                "net:[2]",
                vec![lo("net:[2]")],
                Reach::LoopbackOnly,
                Some(Severity::Low),
            ),
            (
                "0.0.0.0",
                NotConfigured,
                "net:[2]",
                container(),
                Reach::HostOnly,
                Some(Severity::Medium),
            ),
            (
                "0.0.0.0",
                NotConfigured,
                "net:[3]",
                lan(),
                Reach::Unknown,
                Some(Severity::Medium),
            ),
            (
                "10.9.9.9",
                NotConfigured,
                HOST,
                lan(),
                Reach::Unknown,
                Some(Severity::Medium),
            ),
        ];
        for (addr, auth, ns, ifaces, reach, sev) in cases {
            assert_eq!(
                judge(addr, auth, ns, ifaces),
                (reach, sev),
                "{addr} {auth:?} {ns}"
            );
        }
    }

    #[test]
    fn finding_carries_the_chain_and_a_concrete_remediation() {
        let k = Knowledge::embedded().expect("knowledge");
        let inv = inventory(
            "0.0.0.0",
            AuthState::NotConfigured,
            HOST,
            vec![
                lo(HOST),
                iface("eth0", HOST, InterfaceKind::Other, &[("192.168.1.5", 24)]),
            ],
        );
        let exp = crate::rules::reach::listener_exposures(&inv, &k.network);
        let f = &unauthenticated_exposed(&inv, &exp, &[], &k.signatures)[0];
        assert_eq!(f.rule, RULE_UNAUTH_EXPOSED);
        let ev: Vec<String> = f
            .evidence
            .iter()
            .map(|e| format!("{} {}", e.source, e.detail))
            .collect();
        assert!(
            ev.iter()
                .any(|e| e.contains("/proc/net/tcp") && e.contains("0.0.0.0:8080")),
            "{ev:#?}"
        );
        assert!(
            ev.iter().any(|e| e.contains("192.168.1.5 on eth0")),
            "{ev:#?}"
        );
        assert!(ev.iter().any(|e| e.contains("firewall")), "{ev:#?}");
        assert!(ev.iter().any(|e| e.contains("--api-key")), "{ev:#?}");
        assert!(f.remediation.contains("--host"), "{}", f.remediation);
        assert!(f.remediation.contains("LLAMA_API_KEY"), "{}", f.remediation);
    }
}
