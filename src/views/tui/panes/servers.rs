//! The servers pane: one row per listener of each AI server (or one for a
//! server without listeners), its columns, and a server's detail.

use ratatui::layout::Constraint;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::model::{AuthState, MatchStrength, ProbeAuth, Reach, Snapshot};
use crate::views::tui::rows::*;
use crate::views::tui::theme::Theme;
use crate::views::tui::widgets::*;

pub(crate) fn server_rows(s: &Snapshot) -> Vec<Row> {
    let mut rows = Vec::new();
    for (si, srv) in s.inventory.servers.iter().enumerate() {
        let model = match srv.models.as_slice() {
            [] => "-".to_string(),
            [m] => basename(&m.path).to_string(),
            [m, rest @ ..] => format!("{} (+{})", basename(&m.path), rest.len()),
        };
        let user = srv
            .user
            .clone()
            .or_else(|| srv.uid.map(|u| u.to_string()))
            .unwrap_or_else(|| "?".into());
        let product = match srv.identification.strength {
            crate::model::MatchStrength::Strong => srv.product.clone(),
            crate::model::MatchStrength::Weak => format!("{} (weak)", srv.product),
        };
        let score = s
            .scores
            .servers
            .iter()
            .find(|x| x.pid == srv.pid)
            .map(|x| x.score.to_string())
            .unwrap_or_else(|| "?".into());
        let gpu = gpu_cell(s, srv);
        let listeners: Vec<usize> = srv
            .sockets
            .iter()
            .copied()
            .filter(|&i| s.inventory.sockets.get(i).is_some_and(|x| x.is_listener()))
            .collect();
        if listeners.is_empty() {
            // Without its fd table "no listener" would be a guess: say unknown.
            let hidden = s.findings.iter().any(|f| {
                f.subject.pid == srv.pid && f.rule == crate::model::finding::NOT_INSPECTABLE_RULE
            });
            let (listen, exposure, scope) = if hidden {
                (
                    "?".to_string(),
                    "unknown (no access)".to_string(),
                    Some(Reach::Unknown),
                )
            } else {
                ("-".to_string(), "no listener".to_string(), None)
            };
            rows.push(Row {
                item: Item::Server(si, None),
                cells: vec![
                    product,
                    srv.pid.to_string(),
                    user,
                    listen,
                    exposure,
                    auth_cell(s, srv, None),
                    score,
                    model,
                    "-".into(),
                    gpu,
                ],
                scope,
            });
            continue;
        }
        let identity = crate::model::keys::server_identity(srv);
        for li in listeners {
            let (listen, exposure, scope) = listener_cells(s, li);
            let since = s
                .inventory
                .sockets
                .get(li)
                .and_then(|sock| {
                    since_of(
                        s,
                        "listener",
                        &crate::model::keys::listener_key(&identity, sock),
                    )
                })
                .unwrap_or_else(|| "-".into());
            rows.push(Row {
                item: Item::Server(si, Some(li)),
                cells: vec![
                    product.clone(),
                    srv.pid.to_string(),
                    user.clone(),
                    listen,
                    exposure,
                    auth_cell(s, srv, Some(li)),
                    score.clone(),
                    model.clone(),
                    since,
                    gpu.clone(),
                ],
                scope,
            });
        }
    }
    // Listeners nobody visible holds: possibly an AI server of another user.
    for (li, sock) in s.inventory.sockets.iter().enumerate() {
        if sock.is_listener() && matches!(sock.owner, crate::model::SocketOwner::Unknown { .. }) {
            let (listen, exposure, scope) = listener_cells(s, li);
            rows.push(Row {
                item: Item::UnknownListener(li),
                cells: vec![
                    "? owner unknown".into(),
                    "-".into(),
                    format!("uid {}", sock.uid),
                    listen,
                    exposure,
                    "?".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ],
                scope,
            });
        }
    }
    rows
}

/// Auth as the table shows it: what the probe saw wins over what flags suggest.
pub(crate) fn auth_cell(s: &Snapshot, srv: &crate::model::Server, socket: Option<usize>) -> String {
    use crate::model::{AuthState, ProbeAuth};
    let probed = s
        .probe_verdicts
        .iter()
        .find(|v| v.pid == srv.pid && socket.is_none_or(|i| v.socket == i))
        .map(|v| v.auth);
    if !srv.auth.self_grant.is_empty() {
        return "OPEN".into();
    }
    match (probed, srv.auth.state) {
        (Some(ProbeAuth::AnswersWithoutCredentials), _) => "OPEN".into(),
        (Some(ProbeAuth::DemandsAuth), _) => "key".into(),
        (_, AuthState::Configured) => "on".into(),
        (_, AuthState::NotConfigured) => "off".into(),
        (_, AuthState::Unsupported) => "none".into(),
        (_, AuthState::Unknown) => "?".into(),
    }
}

/// GPU memory (and SM %) held by the server and its workers: "-" for none,
/// "?" when NVML is not available.
pub(crate) fn gpu_cell(s: &Snapshot, srv: &crate::model::Server) -> String {
    let gpu = &s.inventory.gpu;
    if gpu.unavailable.is_some() {
        return "?".into();
    }
    let pids: Vec<u32> = std::iter::once(srv.pid)
        .chain(srv.workers.iter().map(|w| w.pid))
        .collect();
    match gpu.usage_of(&pids) {
        None => "-".into(),
        Some((mem, util)) => {
            let mem = mem.map_or_else(|| "? MiB".into(), |b| format!("{} MiB", b / (1024 * 1024)));
            match util {
                Some(u) => format!("{mem} {u}%"),
                None => mem,
            }
        }
    }
}

pub(crate) fn listener_cells(s: &Snapshot, li: usize) -> (String, String, Option<Reach>) {
    let sock = &s.inventory.sockets[li];
    let exp = s.exposure_of(li);
    let mut exposure = exp.map(|e| e.reach.label()).unwrap_or("?").to_string();
    if exp.is_some_and(|e| !e.published_on.is_empty()) {
        exposure.push_str(" (pub)");
    } else if exp.is_some_and(|e| e.other_netns) {
        exposure.push_str(" (ns)");
    }
    let proto = match sock.protocol {
        crate::model::Protocol::Tcp => "tcp",
        crate::model::Protocol::Udp => "udp",
    };
    (
        format!("{}/{proto}", sock.local),
        exposure,
        exp.map(|e| e.reach),
    )
}

/// Server columns that fit `width`: (cell index, header, width). GPU from 120
/// columns, Since from 140.
pub(crate) fn server_columns(width: u16) -> Vec<(usize, &'static str, Constraint)> {
    let mut cols = vec![
        (0, "Product", Constraint::Fill(3)),
        (1, "PID", Constraint::Length(7)),
        (2, "User", Constraint::Length(8)),
        (3, "Listen", Constraint::Length(21)),
        (4, "Exposure", Constraint::Length(18)),
        (5, "Auth", Constraint::Length(5)),
        (6, "Score", Constraint::Length(5)),
        (7, "Model", Constraint::Fill(2)),
    ];
    if width >= 120 {
        cols.push((9, "GPU", Constraint::Length(12)));
    }
    if width >= 140 {
        cols.push((8, "Since", Constraint::Length(11)));
    }
    cols
}

pub(crate) fn detail_unknown_listener(
    s: &Snapshot,
    li: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(sk) = s.inventory.sockets.get(li) else {
        return out;
    };
    out.push(heading(&format!(
        "Listener {} with no visible owner",
        sk.local
    )));
    if let Some(e) = s.exposure_of(li) {
        out.push(Line::from(vec![
            Span::styled("exposure: ", Style::default().add_modifier(Modifier::BOLD)),
            Span::styled(e.summary.clone(), theme.exposure(e.reach)),
        ]));
        for step in e.chain.iter().skip(1) {
            out.push(Line::from(format!("  → {} — {}", step.source, step.detail)));
        }
    }
    out.push(kv(
        "read from",
        format!("{} (inode {}, uid {})", sk.source, sk.inode, sk.uid),
    ));
    if let crate::model::SocketOwner::Unknown { reason } = &sk.owner {
        out.push(kv("why unknown", reason.clone()));
    }
    out.push(Line::from(
        "It may belong to an AI server of another user; run as root to join it to a process.",
    ));
    out
}

pub(crate) fn detail(
    s: &Snapshot,
    si: usize,
    sock: Option<usize>,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(sv) = s.inventory.servers.get(si) else {
        return out;
    };
    identity_lines(sv, &mut out);
    listener_lines(s, sock, theme, &mut out);
    auth_lines(s, sv, sock, &mut out);
    finding_lines(s, sv, sock, theme, &mut out);
    confinement_line(sv, &mut out);
    model_lines(sv, &mut out);
    if !sv.workers.is_empty() {
        out.push(kv(
            "workers",
            sv.workers
                .iter()
                .map(|w| format!("{} ({})", w.pid, w.comm))
                .collect::<Vec<_>>()
                .join(", "),
        ));
    }
    for h in &sv.helpers {
        let ports: Vec<String> = h
            .sockets
            .iter()
            .filter_map(|i| s.inventory.sockets.get(*i))
            .map(|k| k.local.to_string())
            .collect();
        out.push(kv(
            "started",
            format!(
                "{} (pid {}): {} — {}",
                h.comm,
                h.pid,
                h.role,
                ports.join(", ")
            ),
        ));
    }
    if sv.sockets.is_empty() {
        out.push(Line::from(
                "No socket joined to this server: it does not listen, or its fds were not readable (see blind spots).",
            ));
    }
    out
}

/// Who the server is: product, match, user, program, secrets by name, namespace.
fn identity_lines(sv: &crate::model::Server, out: &mut Vec<Line<'static>>) {
    out.push(Line::from(Span::styled(
        format!("{} — pid {}", sv.product, sv.pid),
        Style::default().add_modifier(Modifier::BOLD),
    )));
    let strength = match sv.identification.strength {
        MatchStrength::Strong => "strong match",
        MatchStrength::Weak => "WEAK match: an unrelated program could look like this",
    };
    out.push(kv(
        "identified",
        format!("{strength}; {}", sv.identification.reason),
    ));
    out.push(kv(
        "user",
        format!(
            "{} (uid {})",
            sv.user.clone().unwrap_or_else(|| "?".into()),
            sv.uid.map(|u| u.to_string()).unwrap_or_else(|| "?".into())
        ),
    ));
    if let Some(exe) = &sv.exe {
        out.push(kv("exe", exe.clone()));
    }
    out.push(kv("cmdline", sv.cmdline.join(" ")));
    if !sv.secret_env_names.is_empty() || !sv.secret_flags.is_empty() {
        let mut names = sv.secret_env_names.clone();
        names.extend(sv.secret_flags.iter().cloned());
        out.push(kv("secrets present (values hidden)", names.join(", ")));
    }
    if let Some(ns) = &sv.netns {
        out.push(kv("netns", ns.clone()));
    }
}

/// The selected listener and the chain of evidence behind its reach.
fn listener_lines(s: &Snapshot, sock: Option<usize>, theme: &Theme, out: &mut Vec<Line<'static>>) {
    if let Some(li) = sock
        && let Some(sk) = s.inventory.sockets.get(li)
    {
        let exp = s.exposure_of(li);
        let mut spans = vec![
            Span::styled("listener: ", Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(format!("{} ", sk.local)),
        ];
        if let Some(e) = exp {
            spans.push(Span::styled(e.summary.clone(), theme.exposure(e.reach)));
        }
        out.push(Line::from(spans));
        out.push(Line::from(format!(
            "  read from {} (inode {})",
            sk.source, sk.inode
        )));
        for step in exp
            .map(|e| e.chain.as_slice())
            .unwrap_or(&[])
            .iter()
            .skip(1)
        {
            out.push(Line::from(format!("  → {} — {}", step.source, step.detail)));
        }
    }
}

/// Auth as configured, and as the probes found it.
fn auth_lines(
    s: &Snapshot,
    sv: &crate::model::Server,
    sock: Option<usize>,
    out: &mut Vec<Line<'static>>,
) {
    let auth = match sv.auth.state {
        AuthState::Configured => "configured",
        AuthState::NotConfigured => "NOT configured",
        AuthState::Unsupported => "not supported by the product",
        AuthState::Unknown => "unknown",
    };
    out.push(kv("authentication", auth.to_string()));
    for g in &sv.auth.self_grant {
        out.push(kv("ANYONE CAN GET IN", g.clone()));
    }
    for e in &sv.auth.evidence {
        out.push(Line::from(format!("  • {} — {}", e.source, e.detail)));
    }
    for v in s
        .probe_verdicts
        .iter()
        .filter(|v| v.pid == sv.pid && sock.is_none_or(|i| v.socket == i))
    {
        let auth = match v.auth {
            ProbeAuth::AnswersWithoutCredentials => "ANSWERS WITHOUT CREDENTIALS".to_string(),
            ProbeAuth::DemandsAuth => "demands credentials".to_string(),
            ProbeAuth::Unknown => "auth not determined".to_string(),
        };
        let mut line = format!("{:?}", v.identity).to_lowercase();
        if let Some(ver) = &v.version {
            line.push_str(&format!(", version {ver}"));
        }
        line.push_str(&format!(", {auth}"));
        if let Some(n) = v.listed {
            line.push_str(&format!(", lists {n} model(s)"));
        }
        if !v.open_paths.is_empty() {
            line.push_str(&format!(", open anyway: {}", v.open_paths.join(" ")));
        }
        out.push(kv("probe", line));
        for g in &v.self_grant {
            out.push(kv("ANYONE CAN GET IN", g.clone()));
        }
        for e in &v.evidence {
            out.push(Line::from(format!("  • {} — {}", e.source, e.detail)));
        }
    }
}

/// The score's arithmetic and the findings about this server (and listener).
fn finding_lines(
    s: &Snapshot,
    sv: &crate::model::Server,
    sock: Option<usize>,
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    if let Some(sc) = s.scores.servers.iter().find(|x| x.pid == sv.pid) {
        out.push(kv("score", sc.arithmetic()));
    }
    let listener = sock
        .and_then(|li| s.inventory.sockets.get(li))
        .map(|k| format!("{}/tcp", k.local));
    let relevant: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f.subject.pid == sv.pid)
        .filter(|f| f.subject.listener.is_none() || f.subject.listener == listener)
        .collect();
    if !relevant.is_empty() {
        out.push(heading(&format!("Findings and fixes ({})", relevant.len())));
        for f in relevant {
            out.push(Line::from(vec![
                Span::styled(format!("  [{}] ", f.severity), theme.severity(f.severity)),
                Span::raw(f.title.clone()),
            ]));
            out.push(Line::from(format!("    fix: {}", f.remediation)));
        }
    }
}

/// How the server runs: euid, capabilities, container, unit, no_new_privs, seccomp.
fn confinement_line(sv: &crate::model::Server, out: &mut Vec<Line<'static>>) {
    let c = &sv.confinement;
    let mut runs = vec![format!(
        "euid {}",
        c.euid.map(|u| u.to_string()).unwrap_or_else(|| "?".into())
    )];
    if let Some(caps) = &c.capabilities {
        runs.push(format!("{} capabilities", caps.len()));
    }
    if let Some(ct) = &c.container {
        runs.push(format!(
            "in {} container {}",
            ct.runtime,
            ct.id.as_deref().unwrap_or("?")
        ));
    }
    if let Some(u) = &c.systemd_unit {
        runs.push(format!("unit {}", u.name));
    }
    runs.push(format!(
        "no_new_privs {}, seccomp {}",
        c.no_new_privs
            .map(|b| b.to_string())
            .unwrap_or_else(|| "?".into()),
        c.seccomp.as_deref().unwrap_or("?")
    ));
    out.push(kv("runs", runs.join(", ")));
}

/// The model files it holds, with what their headers say.
fn model_lines(sv: &crate::model::Server, out: &mut Vec<Line<'static>>) {
    out.push(heading(&format!("Models ({})", sv.models.len())));
    if sv.models.is_empty() {
        out.push(Line::from(
            "  none mapped or open (models may load later or live in a worker not seen)",
        ));
    }
    for m in &sv.models {
        out.push(Line::from(format!(
            "  {} — {}{}{} via {}",
            m.path,
            m.format.label(),
            m.size_bytes
                .map(|b| format!(", {}", human_bytes(b)))
                .unwrap_or_default(),
            if m.deleted {
                ", DELETED/REPLACED on disk"
            } else {
                ""
            },
            m.held_via
                .iter()
                .map(|v| format!("{v:?}").to_lowercase())
                .collect::<Vec<_>>()
                .join("+"),
        )));
        let a = &m.facts.analysis;
        if let Some(md) = &a.metadata {
            let mut parts: Vec<String> = [
                &md.architecture,
                &md.name,
                &md.file_type,
                &md.license,
                &md.source_url,
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
            if let Some(t) = &md.chat_template {
                parts.push(format!(
                    "template {}…{}",
                    &t.sha256[..t.sha256.len().min(12)],
                    if t.ssti_markers.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", t.ssti_markers.join(", "))
                    }
                ));
            }
            out.push(Line::from(format!("    {}", parts.join(" · "))));
        }
        if let Some(pk) = &a.pickle {
            out.push(Line::from(format!(
                "    pickle: {}, {} imports",
                crate::views::tui::rows::pickle_verdict(pk),
                pk.globals.len()
            )));
        }
        if let Some(e) = &a.error {
            out.push(Line::from(format!("    header not read: {e}")));
        }
    }
}
