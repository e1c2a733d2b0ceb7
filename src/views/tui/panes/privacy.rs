//! Rows and detail of the Privacy pane: the air-gap verdict first, then one row
//! per AI process (switches, back-ends, tunnels, egress), then prompt logs.

use ratatui::layout::Constraint;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::model::privacy::*;
use crate::model::{Severity, Snapshot};
use crate::views::tui::rows::*;
use crate::views::tui::theme::Theme;
use crate::views::tui::widgets::*;

pub const STATE: usize = 0;
pub const WHO: usize = 1;
pub const SWITCHES: usize = 2;
pub const BACKENDS: usize = 3;
pub const TUNNELS: usize = 4;
pub const EGRESS: usize = 5;

/// Verdict label for the header and the first row.
pub fn verdict_label(s: &Snapshot) -> &'static str {
    match s.privacy.air_gap.state {
        Some(AirGapState::Ready) => "ready",
        Some(AirGapState::NotReady) => "NOT READY",
        Some(AirGapState::Unknown) => "unknown",
        None => "not judged",
    }
}

pub fn verdict_severity(s: &Snapshot) -> Option<Severity> {
    match s.privacy.air_gap.state {
        Some(AirGapState::NotReady) => Some(Severity::Medium),
        Some(AirGapState::Unknown) => Some(Severity::Low),
        _ => None,
    }
}

pub(crate) fn count_states(states: impl Iterator<Item = SwitchState>) -> String {
    let (mut on, mut off, mut unknown) = (0, 0, 0);
    for s in states {
        match s {
            SwitchState::On => on += 1,
            SwitchState::Off => off += 1,
            SwitchState::Unknown => unknown += 1,
        }
    }
    let mut parts = Vec::new();
    if on > 0 {
        parts.push(format!("{on} on"));
    }
    if unknown > 0 {
        parts.push(format!("{unknown} unknown"));
    }
    if off > 0 {
        parts.push(format!("{off} off"));
    }
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(", ")
    }
}

pub(crate) fn process_state(p: &ProcessPrivacy, s: &Snapshot) -> &'static str {
    let reach = s
        .privacy
        .air_gap
        .reach_outs
        .iter()
        .filter(|r| r.pid == p.pid);
    let mut unknown = false;
    for r in reach {
        match r.state {
            SwitchState::On => return "reaches out",
            SwitchState::Unknown => unknown = true,
            SwitchState::Off => {}
        }
    }
    if unknown { "unknown" } else { "local" }
}

pub(crate) fn role(p: &ProcessPrivacy) -> &'static str {
    match p.role {
        PrivacyRole::Server => "",
        PrivacyRole::Tunnel => "tunnel ",
        PrivacyRole::Agent => "agent ",
        PrivacyRole::McpServer => "mcp ",
    }
}

/// Who can read a log, in a word for the state column.
pub fn readers(log: &PromptLog) -> &'static str {
    match log.readers {
        Some(LogReaders::Owner) => "owner",
        Some(LogReaders::Group { .. }) => "group",
        Some(LogReaders::Everyone) => "everyone",
        Some(LogReaders::Unknown) | None => "unknown",
    }
}

pub fn rows(s: &Snapshot) -> Vec<Row> {
    let r = &s.privacy.air_gap;
    let on = r
        .reach_outs
        .iter()
        .filter(|x| x.state == SwitchState::On)
        .count();
    let unknown = r
        .reach_outs
        .iter()
        .filter(|x| x.state == SwitchState::Unknown)
        .count();
    let mut out = vec![Row {
        item: Item::AirGap,
        cells: vec![
            verdict_label(s).into(),
            "air-gap verdict (host)".into(),
            format!("{on} reach out, {unknown} unknown"),
            String::new(),
            String::new(),
            String::new(),
        ],
        scope: None,
    }];
    for (i, p) in s.privacy.processes.iter().enumerate() {
        let leaving = p
            .backends
            .iter()
            .filter(|b| !matches!(b.destination.as_str(), "loopback" | "lan"))
            .count();
        let public = p
            .egress
            .iter()
            .filter(|e| e.destination == Destination::Public)
            .count();
        out.push(Row {
            item: Item::PrivacyProcess(i),
            cells: vec![
                process_state(p, s).into(),
                format!("{}{} {}", role(p), p.product, p.pid),
                count_states(p.switches.iter().map(|x| x.state)),
                if p.backends.is_empty() {
                    "-".into()
                } else {
                    format!("{} ({leaving} remote)", p.backends.len())
                },
                if p.tunnels.is_empty() {
                    "-".into()
                } else {
                    p.tunnels.len().to_string()
                },
                if p.egress.is_empty() {
                    "-".into()
                } else {
                    format!("{} ({public} public)", p.egress.len())
                },
            ],
            scope: None,
        });
    }
    for (i, l) in s.inventory.privacy.prompt_logs.iter().enumerate() {
        out.push(Row {
            item: Item::PromptLog(i),
            cells: vec![
                format!("read: {}", readers(l)),
                format!("log {}", l.path),
                l.holds.clone(),
                String::new(),
                String::new(),
                String::new(),
            ],
            scope: None,
        });
    }
    out
}

pub(crate) fn state_style(state: SwitchState, theme: &Theme) -> Style {
    match state {
        SwitchState::On => theme.severity(Severity::Medium),
        SwitchState::Unknown => theme.severity(Severity::Low),
        SwitchState::Off => Style::default().fg(theme.muted),
    }
}

pub fn detail_lines(s: &Snapshot, item: Item, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match item {
        Item::AirGap => air_gap_detail(s, theme, &mut out),
        Item::PrivacyProcess(i) => process_detail(s, i, theme, &mut out),
        Item::PromptLog(i) => prompt_log_detail(s, i, theme, &mut out),
        _ => {}
    }
    out
}

/// The air-gap verdict with every reach-out behind it.
fn air_gap_detail(s: &Snapshot, theme: &Theme, out: &mut Vec<Line<'static>>) {
    out.push(kv("air-gap readiness", verdict_label(s).into()));
    out.push(Line::from(
            "Every switch, back-end, tunnel, agent and live connection that would reach out; unknown ones keep the host from \"ready\".",
        ));
    out.push(Line::from(""));
    if s.privacy.air_gap.reach_outs.is_empty() {
        out.push(Line::from("Nothing found that reaches out."));
    }
    for r in &s.privacy.air_gap.reach_outs {
        out.push(Line::from(vec![
            Span::styled(
                format!("[{}] ", r.state.as_str()),
                state_style(r.state, theme),
            ),
            Span::raw(format!("{} {} — {}: {}", r.product, r.pid, r.kind, r.what)),
        ]));
    }
}

/// One process of the privacy report: its switches, back-ends, tunnels and egress.
fn process_detail(s: &Snapshot, i: usize, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let Some(p) = s.privacy.processes.get(i) else {
        return;
    };
    out.push(kv(
        "process",
        format!("{}{} (pid {})", role(p), p.product, p.pid),
    ));
    out.push(Line::from(""));
    out.push(heading("Telemetry and phone-home switches"));
    if p.switches.is_empty() {
        out.push(Line::from("none known for this product"));
    }
    for sw in &p.switches {
        out.push(Line::from(vec![
            Span::styled(
                format!("[{}] ", sw.state.as_str()),
                state_style(sw.state, theme),
            ),
            Span::styled(
                format!("{} ({}) → {}", sw.name, sw.kind.as_str(), sw.endpoint),
                Style::default().add_modifier(Modifier::BOLD),
            ),
        ]));
        out.push(Line::from(format!("  applies: {}", sw.applies_because)));
        for e in &sw.evidence {
            out.push(Line::from(format!("  • {} — {}", e.source, e.detail)));
        }
        if sw.state != SwitchState::Off {
            out.push(Line::from(format!("  fix: {}", sw.remediation)));
        }
        if let Some(still) = &sw.still_sends {
            out.push(Line::from(format!("  still sent when off: {still}")));
        }
    }
    out.push(Line::from(""));
    out.push(heading("Cloud back-ends"));
    if p.backends.is_empty() {
        out.push(Line::from(
            "none configured (API-key variables, base URLs, engines)",
        ));
    }
    for b in &p.backends {
        out.push(Line::from(format!(
            "• {} → {} [{}]",
            b.setting,
            b.host
                .clone()
                .or_else(|| b.provider.clone())
                .unwrap_or_default(),
            b.destination
        )));
        for e in &b.evidence {
            out.push(Line::from(format!("  {} — {}", e.source, e.detail)));
        }
    }
    out.push(Line::from(""));
    out.push(heading("Tunnels"));
    if p.tunnels.is_empty() {
        out.push(Line::from("none"));
    }
    for t in &p.tunnels {
        out.push(Line::from(format!("• {} → {}", t.trigger, t.target)));
        for e in &t.evidence {
            out.push(Line::from(format!("  {} — {}", e.source, e.detail)));
        }
    }
    out.push(Line::from(""));
    out.push(heading("Live connections (non-loopback)"));
    if p.egress.is_empty() {
        out.push(Line::from("none seen"));
    }
    let identity = s
        .inventory
        .servers
        .iter()
        .find(|x| x.pid == p.pid)
        .map(crate::model::keys::server_identity);
    for e in &p.egress {
        // The timeline's first sighting (across runs) when there is one.
        let since = identity
            .as_deref()
            .and_then(|id| {
                crate::views::tui::rows::since_of(
                    s,
                    "egress",
                    &crate::model::keys::egress_key(id, e),
                )
            })
            .unwrap_or_else(|| e.first_seen.clone());
        out.push(Line::from(format!(
            "• {:?} {}:{} [{}] {}× since {}{}",
            e.protocol,
            e.remote,
            e.port,
            e.destination.as_str(),
            e.connections,
            since,
            e.attribution
                .as_deref()
                .map(|a| format!(" — {a}"))
                .unwrap_or_default()
        )));
    }
}

/// A prompt log at rest: where, how big, who can read it.
fn prompt_log_detail(s: &Snapshot, i: usize, theme: &Theme, out: &mut Vec<Line<'static>>) {
    let Some(l) = s.inventory.privacy.prompt_logs.get(i) else {
        return;
    };
    out.push(kv("prompt log", l.path.clone()));
    out.push(kv("holds", l.holds.clone()));
    out.push(kv("of", format!("{} (pid {})", l.product, l.pid)));
    out.push(kv("found by", l.located_by.clone()));
    out.push(kv(
        "readable by",
        l.readers.unwrap_or(LogReaders::Unknown).describe(),
    ));
    out.push(kv(
        "size",
        format!(
            "{} bytes in {} file{}",
            l.size_bytes,
            l.files,
            if l.files == 1 { "" } else { "s" }
        ),
    ));
    out.push(kv(
        "modified",
        l.modified.clone().unwrap_or_else(|| "unknown".into()),
    ));
    out.push(Line::from(""));
    out.push(heading("Access (file, then each directory above it)"));
    for a in &l.access {
        out.push(Line::from(format!(
            "• {:04o} {} {} {}",
            a.mode,
            a.owner.clone().unwrap_or_else(|| a.uid.to_string()),
            a.gid,
            a.path
        )));
    }
    if let Some(m) = &l.loosest_member {
        out.push(Line::from(format!(
            "loosest file inside: {:04o} {}",
            m.mode, m.path
        )));
    }
    let related: Vec<_> = s
        .findings
        .iter()
        .filter(|f| f.subject.path.as_deref() == Some(l.path.as_str()))
        .collect();
    for f in related {
        out.push(Line::from(""));
        out.push(Line::from(vec![
            Span::styled(format!("[{}] ", f.severity), theme.severity(f.severity)),
            Span::raw(f.title.clone()),
        ]));
        out.push(Line::from(format!("fix: {}", f.remediation)));
    }
}

/// Privacy columns that fit `width`, after the state column.
pub(crate) fn privacy_columns(width: u16) -> Vec<(usize, Constraint)> {
    let mut cols = vec![
        (WHO, Constraint::Fill(2)),
        (SWITCHES, Constraint::Length(24)),
    ];
    if width >= 95 {
        cols.push((BACKENDS, Constraint::Length(13)));
        cols.push((EGRESS, Constraint::Length(13)));
    }
    if width >= 110 {
        cols.push((TUNNELS, Constraint::Length(8)));
    }
    cols.sort_by_key(|(i, _)| *i);
    cols
}
