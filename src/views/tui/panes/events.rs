//! Rows of the Events pane (newest first) and where an event's subject lives.

use ratatui::layout::Constraint;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::model::Snapshot;
use crate::model::events::{Event, EventKind};
use crate::views::tui::rows::*;
use crate::views::tui::theme::Theme;
use crate::views::tui::widgets::*;

pub const TIME: usize = 0;
pub const SEVERITY: usize = 1;
pub const KIND: usize = 2;
pub const SUBJECT: usize = 3;
pub const CHANGE: usize = 4;

pub fn events(s: &Snapshot) -> &[Event] {
    s.timeline
        .as_ref()
        .map(|t| t.recent.as_slice())
        .unwrap_or_default()
}

/// `2026-11-20T14:02:05Z` → `11-20 14:02:05`.
pub fn short_time(t: &str) -> String {
    match (t.get(5..10), t.get(11..19)) {
        (Some(d), Some(h)) => format!("{d} {h}"),
        _ => t.to_string(),
    }
}

pub fn change(e: &Event) -> String {
    match (&e.before, &e.after) {
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (None, Some(a)) => a.clone(),
        (Some(b), None) => format!("was {b}"),
        (None, None) => String::new(),
    }
}

pub fn rows(s: &Snapshot) -> Vec<Row> {
    events(s)
        .iter()
        .enumerate()
        .map(|(i, e)| Row {
            item: Item::Event(i),
            cells: vec![
                short_time(&e.time),
                e.severity.to_string(),
                e.kind.as_str().to_string(),
                e.subject.label(),
                change(e),
            ],
            scope: None,
        })
        .collect()
}

/// The pane that shows an event's subject, and the filter that finds it there.
pub fn jump_target(e: &Event) -> (Pane, String) {
    let s = &e.subject;
    match e.kind {
        EventKind::FindingOpened | EventKind::FindingClosed => (
            Pane::Findings,
            s.item
                .clone()
                .or_else(|| s.path.clone())
                .unwrap_or_default(),
        ),
        EventKind::ModelAdded
        | EventKind::ModelRemoved
        | EventKind::ModelChanged
        | EventKind::TemplateChanged
        | EventKind::FileChanged => (
            Pane::Models,
            s.path
                .as_deref()
                .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
                .unwrap_or_default(),
        ),
        EventKind::VersionChanged => (Pane::Patch, s.item.clone().unwrap_or_default()),
        EventKind::EgressNew | EventKind::TelemetryChanged => (
            Pane::Privacy,
            s.pid.map(|p| p.to_string()).unwrap_or_default(),
        ),
        _ => (
            Pane::Servers,
            s.listener
                .clone()
                .or_else(|| s.pid.map(|p| p.to_string()))
                .unwrap_or_default(),
        ),
    }
}

/// Event columns that fit `width`, after time and severity.
pub(crate) fn event_columns(width: u16) -> Vec<(usize, Constraint)> {
    let mut cols = vec![
        (KIND, Constraint::Length(17)),
        (SUBJECT, Constraint::Fill(2)),
    ];
    if width >= 90 {
        cols.push((CHANGE, Constraint::Fill(2)));
    }
    cols
}

pub(crate) fn detail(s: &Snapshot, i: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(e) = events(s).get(i) else {
        return out;
    };
    out.push(Line::from(vec![
        Span::styled(format!("[{}] ", e.severity), theme.severity(e.severity)),
        Span::styled(
            e.kind.as_str().to_string(),
            Style::default().add_modifier(Modifier::BOLD),
        ),
    ]));
    out.push(kv("time", e.time.clone()));
    out.push(kv("subject", e.subject.label()));
    if let Some(b) = &e.before {
        out.push(kv("before", b.clone()));
    }
    if let Some(a) = &e.after {
        out.push(kv("after", a.clone()));
    }
    out.push(Line::from(""));
    out.push(heading("Evidence"));
    for ev in &e.evidence {
        out.push(Line::from(format!("• {} — {}", ev.source, ev.detail)));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        "o: go to the subject",
        Style::default().fg(theme.muted),
    )));
    out
}
