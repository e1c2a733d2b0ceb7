//! Public tunnels: a server's own flags and variables that open one, and tunnel
//! processes (frpc, cloudflared, ngrok, ssh -R) it started or that run alone.

use crate::knowledge::privacy::{Privacy, TunnelTrigger};
use crate::model::privacy::{Actor, ActorKind, Tunnel};
use crate::model::{Evidence, Server, Source};

use crate::model::argv::presence as flag_value;

pub fn of_server(
    server: &Server,
    triggers: &[TunnelTrigger],
    actors: &[Actor],
    privacy: &Privacy,
) -> Vec<Tunnel> {
    let mut out = Vec::new();
    for t in triggers
        .iter()
        .filter(|t| t.products.contains(&server.product_id))
    {
        let source = format!("{} [{}]", t.source, t.status);
        if let Some(flag) = &t.flag
            && let Some(value) = flag_value(&server.cmdline, flag)
            && (t.values.is_empty() || value.is_some_and(|v| t.values.iter().any(|w| w == v)))
        {
            out.push(Tunnel {
                id: format!("flag {flag}"),
                trigger: flag.clone(),
                target: t.target.clone(),
                evidence: vec![
                    Evidence::new(
                        Source::proc(server.pid, "cmdline"),
                        format!("{flag} on the command line"),
                    ),
                    Evidence::new(
                        Source::asset("assets/privacy.toml", Some("tunnel_triggers".into())),
                        source.clone(),
                    ),
                ],
            });
        }
        if let Some(env) = &t.env
            && let Some(v) = server.env_config.iter().find(|e| e.name == *env)
            && t.values.contains(&v.value)
        {
            out.push(Tunnel {
                id: format!("env {env}"),
                trigger: format!("{env}={}", v.value),
                target: t.target.clone(),
                evidence: vec![
                    Evidence::new(
                        Source::proc(server.pid, "environ"),
                        format!("{env}={:?}", v.value),
                    ),
                    Evidence::new(
                        Source::asset("assets/privacy.toml", Some("tunnel_triggers".into())),
                        source,
                    ),
                ],
            });
        }
    }
    for a in actors
        .iter()
        .filter(|a| a.kind == ActorKind::Tunnel && a.parent_server == Some(server.pid))
    {
        let mut t = of_actor(a, privacy);
        for x in &mut t {
            x.trigger = format!("child process {} (pid {})", a.name, a.pid);
        }
        out.extend(t);
    }
    out
}

/// The tunnel a tunnel process is.
pub fn of_actor(actor: &Actor, privacy: &Privacy) -> Vec<Tunnel> {
    if actor.kind != ActorKind::Tunnel {
        return Vec::new();
    }
    let sig = privacy.actor(&actor.id);
    vec![Tunnel {
        id: actor.id.clone(),
        trigger: format!("process {} (pid {})", actor.name, actor.pid),
        target: sig.map(|s| s.target.clone()).unwrap_or_default(),
        evidence: vec![
            Evidence::new(
                Source::proc(actor.pid, "cmdline"),
                format!("{}: {}", actor.cmdline.join(" "), actor.reason),
            ),
            Evidence::new(
                Source::asset("assets/privacy.toml", Some("actors".into())),
                sig.map(|s| format!("{} [{}]", s.source, s.status))
                    .unwrap_or_default(),
            ),
        ],
    }]
}
