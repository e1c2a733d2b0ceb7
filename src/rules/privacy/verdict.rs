//! The host's air-gap readiness and the privacy findings, from the per-process
//! rows: every switch, back-end, tunnel, agent and live connection that would
//! reach out is listed, and anything unknown keeps the verdict from "ready".

use crate::knowledge::privacy::Privacy;
use crate::model::privacy::{
    Actor, AirGap, AirGapState, Destination, PrivacyRole, ProcessPrivacy, ReachOut, SwitchKind,
    SwitchState,
};
use crate::model::{Evidence, Finding, Severity, Source, Subject};

fn leaves(destination: &str) -> Option<bool> {
    match destination {
        "loopback" | "lan" => Some(false),
        "unresolved" => None,
        _ => Some(true),
    }
}

pub fn air_gap(processes: &[ProcessPrivacy], actors: &[Actor], privacy: &Privacy) -> AirGap {
    let mut out = Vec::new();
    let mut add = |p: &ProcessPrivacy, kind: &str, what: String, state: SwitchState| {
        out.push(ReachOut {
            pid: p.pid,
            product: p.product.clone(),
            kind: kind.to_string(),
            what,
            state,
        })
    };
    for p in processes {
        for why in &p.not_assessed {
            add(p, "not assessed", why.clone(), SwitchState::Unknown);
        }
        for s in p.switches.iter().filter(|s| s.state != SwitchState::Off) {
            add(
                p,
                s.kind.as_str(),
                format!("{} → {}", s.name, s.endpoint),
                s.state,
            );
        }
        for b in &p.backends {
            let what = format!(
                "{} → {}",
                b.setting,
                b.host
                    .clone()
                    .or_else(|| b.provider.clone())
                    .unwrap_or_else(|| b.destination.clone())
            );
            match leaves(&b.destination) {
                Some(true) => add(p, "backend", what, SwitchState::On),
                None => add(p, "backend", what, SwitchState::Unknown),
                Some(false) => {}
            }
        }
        let child_of_listed = |id: &str| {
            actors
                .iter()
                .any(|a| a.pid == p.pid && a.id == id && a.parent_server.is_some())
        };
        for t in p.tunnels.iter().filter(|t| !child_of_listed(&t.id)) {
            add(
                p,
                "tunnel",
                format!("{} → {}", t.trigger, t.target),
                SwitchState::On,
            );
        }
        if p.role == PrivacyRole::Agent {
            let a = actors.iter().find(|a| a.pid == p.pid);
            let sig = a.and_then(|a| privacy.actor(&a.id));
            let cloud = sig.is_some_and(|s| s.cloud_only);
            add(
                p,
                "agent",
                format!(
                    "{} → {}",
                    p.product,
                    sig.map(|s| s.target.as_str()).unwrap_or("its model API")
                ),
                if cloud {
                    SwitchState::On
                } else {
                    SwitchState::Unknown
                },
            );
        }
        for e in p
            .egress
            .iter()
            .filter(|e| matches!(e.destination, Destination::Public | Destination::Vpn))
        {
            add(
                p,
                "egress",
                format!(
                    "{} {}:{} ({}{})",
                    match e.protocol {
                        crate::model::Protocol::Tcp => "tcp",
                        crate::model::Protocol::Udp => "udp",
                    },
                    e.remote,
                    e.port,
                    e.destination.as_str(),
                    e.attribution
                        .as_deref()
                        .map(|a| format!(", {a}"))
                        .unwrap_or_default()
                ),
                SwitchState::On,
            );
        }
    }
    let state = if out.iter().any(|r| r.state == SwitchState::On) {
        AirGapState::NotReady
    } else if out.iter().any(|r| r.state == SwitchState::Unknown) {
        AirGapState::Unknown
    } else {
        AirGapState::Ready
    };
    AirGap {
        state: Some(state),
        reach_outs: out,
    }
}

fn subject(p: &ProcessPrivacy) -> Subject {
    Subject {
        product: p.product.clone(),
        pid: p.pid,
        listener: None,
        path: None,
    }
}

pub fn findings(processes: &[ProcessPrivacy], actors: &[Actor], privacy: &Privacy) -> Vec<Finding> {
    let mut out = Vec::new();
    for p in processes {
        let on: Vec<_> = p
            .switches
            .iter()
            .filter(|s| s.state == SwitchState::On)
            .collect();
        switch_findings(p, &on, &mut out);
        backend_findings(p, &mut out);
        tunnel_findings(p, actors, &mut out);
        agent_findings(p, actors, privacy, &mut out);
        egress_findings(p, &on, &mut out);
    }
    out
}

/// A switch that phones home, updates or pulls, turned on.
fn switch_findings(
    p: &ProcessPrivacy,
    on: &[&crate::model::privacy::Switch],
    out: &mut Vec<Finding>,
) {
    for s in on {
        let (rule, summary) = match s.kind {
            SwitchKind::Telemetry => (
                "privacy.telemetry-on",
                "usage data about this server and host is sent",
            ),
            SwitchKind::UpdateCheck => (
                "privacy.update-check-on",
                "the server contacts its vendor at start or periodically",
            ),
            SwitchKind::HubPull => (
                "privacy.hub-pull-on",
                "models or catalogs are fetched from a hub: which models you use leaves the host, and unreviewed weights can arrive",
            ),
            SwitchKind::CloudFeatures => (
                "privacy.cloud-features-on",
                "cloud features of a local product are enabled: requests can be served by, and sent to, the vendor's cloud",
            ),
        };
        let mut evidence = vec![Evidence::new(
            Source::note("applies"),
            s.applies_because.clone(),
        )];
        evidence.extend(s.evidence.iter().cloned());
        evidence.push(Evidence::new(Source::note("source"), s.source.clone()));
        out.push(Finding {
            rule: rule.into(),
            severity: Severity::Low,
            title: format!("{} is on ({})", s.name, s.endpoint),
            subject: subject(p),
            summary: format!("{summary}; a \"local\" stack reaches {}.", s.endpoint),
            evidence,
            remediation: s.remediation.clone(),
        });
    }
}

/// Data that can leave through a cloud back-end.
fn backend_findings(p: &ProcessPrivacy, out: &mut Vec<Finding>) {
    let leaving: Vec<_> = p
        .backends
        .iter()
        .filter(|b| leaves(&b.destination) == Some(true))
        .collect();
    if !leaving.is_empty() {
        let names: Vec<String> = leaving
            .iter()
            .map(|b| match &b.host {
                Some(h) => format!("{} ({h})", b.setting),
                None => b.setting.clone(),
            })
            .collect();
        out.push(Finding {
            rule: "privacy.cloud-backend".into(),
            severity: Severity::Medium,
            title: format!("data can leave through a cloud back-end: {}", names.join(", ")),
            subject: subject(p),
            summary: "The process is configured with credentials or URLs of remote model APIs or engines: prompts, documents or recordings can be sent off the host.".into(),
            evidence: leaving.iter().flat_map(|b| b.evidence.iter().cloned()).collect(),
            remediation: "Remove the cloud credentials and remote URLs from the service's environment and configuration if the stack must stay local; otherwise record the back-end as an accepted data flow.".into(),
        });
    }
}

/// A tunnel that publishes a local port (unless it is listed under its server).
fn tunnel_findings(p: &ProcessPrivacy, actors: &[Actor], out: &mut Vec<Finding>) {
    let listed_under_server = |id: &str| {
        actors
            .iter()
            .any(|a| a.pid == p.pid && a.id == id && a.parent_server.is_some())
    };
    for t in p.tunnels.iter().filter(|t| !listed_under_server(&t.id)) {
        out.push(Finding {
            rule: "privacy.public-tunnel".into(),
            severity: Severity::High,
            title: format!("public tunnel: {} → {}", t.trigger, t.target),
            subject: subject(p),
            summary: "A tunnel publishes a local port on the internet whatever the bind address and firewall say.".into(),
            evidence: t.evidence.clone(),
            remediation: "Stop the tunnel (drop the flag or variable, stop the tunnel process); publish through a reverse proxy with authentication if remote access is needed.".into(),
        });
    }
}

/// An AI agent or MCP server acting on this host.
fn agent_findings(p: &ProcessPrivacy, actors: &[Actor], privacy: &Privacy, out: &mut Vec<Finding>) {
    if matches!(p.role, PrivacyRole::Agent | PrivacyRole::McpServer)
        && let Some(a) = actors.iter().find(|a| a.pid == p.pid)
    {
        let sig = privacy.actor(&a.id);
        out.push(Finding {
            rule: "privacy.ai-agent".into(),
            severity: Severity::Info,
            title: format!("{} running ({})", a.name, a.kind.as_str()),
            subject: subject(p),
            summary: format!(
                "An AI {} acts on this host as {}: {}.",
                a.kind.as_str(),
                a.user.as_deref().unwrap_or("an unknown user"),
                sig.map(|s| s.target.as_str()).unwrap_or("")
            ),
            evidence: vec![
                Evidence::new(
                    Source::proc(a.pid, "cmdline"),
                    format!("{} — {}", a.cmdline.join(" "), a.reason),
                ),
                Evidence::new(
                    Source::asset("assets/privacy.toml", Some("actors".into())),
                    sig.map(|s| format!("{} [{}]", s.source, s.status))
                        .unwrap_or_default(),
                ),
            ],
            remediation: "Confirm the agent is sanctioned; run it as a user that cannot read model stores, secrets or production data it does not need.".into(),
        });
    }
}

/// Live connections to public addresses, correlated with switches that are on.
fn egress_findings(
    p: &ProcessPrivacy,
    on: &[&crate::model::privacy::Switch],
    out: &mut Vec<Finding>,
) {
    let public: Vec<_> = p
        .egress
        .iter()
        .filter(|e| e.destination == Destination::Public)
        .collect();
    if !public.is_empty() {
        let peers: Vec<String> = public
            .iter()
            .map(|e| {
                format!(
                    "{}:{}{}",
                    e.remote,
                    e.port,
                    e.attribution
                        .as_deref()
                        .map(|a| format!(" ({a})"))
                        .unwrap_or_default()
                )
            })
            .collect();
        let mut evidence: Vec<Evidence> = public
            .iter()
            .flat_map(|e| e.evidence.iter().cloned())
            .collect();
        let (rule, severity, title, summary) = if on.is_empty() {
            (
                "privacy.egress-public",
                Severity::Low,
                format!("connected to public addresses: {}", peers.join(", ")),
                "An AI process holds connections to the internet.".to_string(),
            )
        } else {
            for s in on {
                evidence.push(Evidence::new(
                    Source::note("switch"),
                    format!("{} is on → {}", s.name, s.endpoint),
                ));
            }
            (
                "privacy.telemetry-egress",
                Severity::Medium,
                format!(
                    "telemetry on and connected to public addresses: {}",
                    peers.join(", ")
                ),
                "A process with phone-home switches on holds live connections to the internet: the switches are not theoretical.".to_string(),
            )
        };
        out.push(Finding {
            rule: rule.into(),
            severity,
            title,
            subject: subject(p),
            summary,
            evidence,
            remediation: if on.is_empty() {
                "Find out what the peer is (the evidence names the socket); block egress for the service user (nftables owner match, systemd IPAddressDeny=any with IPAddressAllow=localhost) if the stack must stay local.".into()
            } else {
                format!(
                    "{} Then block egress for the service (systemd IPAddressDeny=any, IPAddressAllow=localhost).",
                    on.iter()
                        .map(|s| s.remediation.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::knowledge::Knowledge;
    use crate::model::EnvSetting;
    use crate::model::privacy::{Actor, ActorKind, AirGapState};
    use crate::model::testing::{inventory, server};

    fn env(n: &str, v: &str) -> EnvSetting {
        EnvSetting {
            name: n.into(),
            value: v.into(),
        }
    }

    #[test]
    fn air_gap_ready_needs_every_switch_off_and_nothing_unknown() {
        let k = Knowledge::embedded().expect("knowledge");
        let mut inv = inventory();
        let mut s = server(10, "gradio");
        s.env_config = vec![env("GRADIO_ANALYTICS_ENABLED", "False")];
        inv.servers.push(s);
        let (report, findings) = super::super::analyse(&inv, &k);
        assert_eq!(
            report.air_gap.state,
            Some(AirGapState::Ready),
            "{report:#?}"
        );
        assert!(findings.is_empty(), "{findings:#?}");

        inv.servers[0].env_config.clear();
        let (report, findings) = super::super::analyse(&inv, &k);
        assert_eq!(report.air_gap.state, Some(AirGapState::NotReady));
        assert!(findings.iter().any(|f| f.rule == "privacy.telemetry-on"));

        inv.servers[0].env_unreadable = Some("permission denied".into());
        let (report, _) = super::super::analyse(&inv, &k);
        assert_eq!(report.air_gap.state, Some(AirGapState::Unknown));
    }

    /// Every switch off, but the server's open sockets were not readable: its
    /// connections are unseen, so the host is not known to be air-gapped.
    #[test]
    fn air_gap_is_unknown_while_a_process_of_the_stack_is_not_assessed() {
        use crate::model::{BlindSpot, Source};
        let k = Knowledge::embedded().expect("knowledge");
        let mut inv = inventory();
        let mut s = server(10, "gradio");
        s.env_config = vec![env("GRADIO_ANALYTICS_ENABLED", "False")];
        inv.servers.push(s);
        inv.blind_spots.push(BlindSpot {
            what: "open files of pid 10 (python3)".into(),
            path: Source::proc(10, "fd"),
            reason: "permission denied".into(),
            consequence: "unseen".into(),
        });
        let (report, _) = super::super::analyse(&inv, &k);
        assert_eq!(
            report.air_gap.state,
            Some(AirGapState::Unknown),
            "{report:#?}"
        );
        let r = &report.air_gap.reach_outs;
        assert!(
            r.iter().any(|r| r.kind == "not assessed"
                && r.pid == 10
                && r.what.contains("connections cannot be seen")),
            "{r:#?}"
        );
        // Another process's hidden sockets say nothing about this one.
        inv.blind_spots[0].path = Source::proc(11, "fd");
        let (report, _) = super::super::analyse(&inv, &k);
        assert_eq!(
            report.air_gap.state,
            Some(AirGapState::Ready),
            "{report:#?}"
        );
    }

    #[test]
    fn a_share_tunnel_child_is_one_high_finding_on_its_server() {
        let k = Knowledge::embedded().expect("knowledge");
        let mut inv = inventory();
        let mut s = server(10, "gradio");
        s.env_config = vec![env("GRADIO_ANALYTICS_ENABLED", "False")];
        inv.servers.push(s);
        inv.privacy.actors.push(Actor {
            id: "frpc".into(),
            name: "FRP client (Gradio share)".into(),
            kind: ActorKind::Tunnel,
            pid: 11,
            ppid: 10,
            uid: Some(0),
            user: Some("root".into()),
            cmdline: vec!["/root/.cache/huggingface/gradio/frpc/frpc_linux_amd64_v0.3".into()],
            reason: "test".into(),
            status: "src".into(),
            parent_server: Some(10),
            sockets: vec![],
        });
        let (report, findings) = super::super::analyse(&inv, &k);
        let tunnels: Vec<_> = findings
            .iter()
            .filter(|f| f.rule == "privacy.public-tunnel")
            .collect();
        assert_eq!(tunnels.len(), 1, "{tunnels:#?}");
        assert_eq!(tunnels[0].subject.pid, 10);
        assert_eq!(report.air_gap.state, Some(AirGapState::NotReady));
        assert_eq!(
            report
                .air_gap
                .reach_outs
                .iter()
                .filter(|r| r.kind == "tunnel")
                .count(),
            1
        );
    }

    #[test]
    fn telemetry_on_and_a_public_connection_are_one_correlated_finding() {
        use crate::model::privacy::Connection;
        use crate::model::{Endpoint, Protocol, Socket, SocketOwner, SocketState};
        let k = Knowledge::embedded().expect("knowledge");
        let mut inv = inventory();
        let mut s = server(10, "gradio");
        s.sockets = vec![0];
        inv.servers.push(s);
        inv.sockets.push(Socket {
            protocol: Protocol::Tcp,
            local: Endpoint {
                addr: "192.168.1.2".parse().expect("addr"),
                port: 40000,
                v4_mapped: false,
            },
            remote: Some(Endpoint {
                addr: "8.8.8.8".parse().expect("addr"),
                port: 443,
                v4_mapped: false,
            }),
            state: SocketState::Established,
            inode: 1,
            uid: 0,
            netns: None,
            source: crate::model::Source::from_v1("sock_diag dump"),
            owner: SocketOwner::Processes {
                pids: vec![10],
                comm: "python3".into(),
            },
        });
        inv.privacy.connections.push(Connection {
            socket: 0,
            pid: 10,
            protocol: Protocol::Tcp,
            remote: "8.8.8.8".parse().expect("addr"),
            port: 443,
            first_seen: "2026-01-01T00:00:00Z".into(),
            hosts_file: None,
        });
        let (_, findings) = super::super::analyse(&inv, &k);
        let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert!(rules.contains(&"privacy.telemetry-egress"), "{rules:?}");
        assert!(!rules.contains(&"privacy.egress-public"), "{rules:?}");
        // With analytics off, the same connection is plain public egress.
        inv.servers[0].env_config = vec![env("GRADIO_ANALYTICS_ENABLED", "False")];
        let (_, findings) = super::super::analyse(&inv, &k);
        let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        assert!(rules.contains(&"privacy.egress-public"), "{rules:?}");
        assert!(!rules.contains(&"privacy.telemetry-egress"), "{rules:?}");
    }
}
