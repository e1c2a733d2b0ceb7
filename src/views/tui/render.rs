//! Drawing. Pure function of the app state and theme onto a ratatui frame.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row as TRow, Table, TableState, Wrap};

use super::app::{App, Overlay};
use super::detail::detail_lines;
use super::keys::BINDINGS;
use super::panes::{events, models, patch, privacy, servers};
use super::rows::{Item, Pane, Row};
use super::theme::Theme;
use super::widgets::*;
use crate::model::{Reach, Severity, Snapshot};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn draw(f: &mut Frame, app: &mut App, theme: &Theme) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        too_small(f, area);
        return;
    }
    let [header, servers, bottom, footer] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Percentage(40),
        Constraint::Min(8),
        Constraint::Length(1),
    ])
    .areas(area);
    // The model table has more columns than the other lists: it gets more room.
    let list_share = if matches!(
        app.pane,
        Pane::Models | Pane::Patch | Pane::Privacy | Pane::Events
    ) {
        70
    } else {
        45
    };
    let [list, detail] = Layout::horizontal([
        Constraint::Percentage(list_share),
        Constraint::Percentage(100 - list_share),
    ])
    .areas(bottom);

    draw_header(f, header, app, theme);
    draw_servers(f, servers, app, theme);
    draw_lower_list(f, list, app, theme);
    draw_detail(f, detail, app, theme);
    draw_footer(f, footer, app, theme);
    app.page = usize::from(servers.height.saturating_sub(3)).max(1);

    match app.overlay {
        Overlay::None => {}
        Overlay::Help => draw_help(f, area, theme),
        Overlay::Detail { scroll } => {
            let r = inset(area, 2, 1);
            f.render_widget(Clear, r);
            let lines = app
                .snapshot
                .as_ref()
                .zip(app.selected_item())
                .map(|(s, item)| detail_lines(s, item, theme))
                .unwrap_or_default();
            let p = Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0))
                .block(block("Detail — ↑/↓ scroll, Esc close", true, theme));
            f.render_widget(p, r);
        }
    }
}

fn too_small(f: &mut Frame, area: Rect) {
    let msg = vec![
        Line::from("Terminal too small"),
        Line::from(format!(
            "{}×{} — aiposture needs at least {MIN_WIDTH}×{MIN_HEIGHT}",
            area.width, area.height
        )),
        Line::from("Enlarge the window, or run `aiposture snapshot` for text output. q quits."),
    ];
    f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
}

fn draw_header(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let style = Style::default().bg(theme.header_bg).fg(theme.header_fg);
    let lines = match &app.snapshot {
        None => vec![
            Line::from(format!(
                " aiposture {} │ collecting…",
                env!("CARGO_PKG_VERSION")
            )),
            Line::from(app.error.clone().unwrap_or_default()),
        ],
        Some(s) => {
            let inv = &s.inventory;
            let p = &inv.privileges;
            let privs = if p.is_root {
                "full view".to_string()
            } else if p.capabilities.is_empty() {
                "unprivileged: partial view".to_string()
            } else {
                format!("unprivileged + {}", p.capabilities.join(","))
            };
            // RFC 3339 UTC → "HH:MM:SS UTC": the date is rarely news on a live screen.
            let time = inv
                .host
                .collected_at
                .split('T')
                .nth(1)
                .map(|t| format!("{} UTC", t.trim_end_matches('Z')))
                .unwrap_or_else(|| inv.host.collected_at.clone());
            let top = format!(
                " aiposture {} │ {} │ {} (uid {}, {privs}) │ {time}, every {}",
                s.tool.version,
                inv.host.hostname,
                p.user,
                p.uid,
                humantime::format_duration(app.interval),
            );
            let mut counts = Vec::new();
            for sev in Severity::ALL.iter().rev() {
                let n = s.findings.iter().filter(|x| x.severity == *sev).count();
                if n > 0 {
                    counts.push(format!("{n} {sev}"));
                }
            }
            let exposed = s
                .exposures
                .iter()
                .filter(|e| e.reach != Reach::LoopbackOnly)
                .filter(|e| inv.servers.iter().any(|sv| sv.sockets.contains(&e.socket)))
                .count();
            let mut second = format!(
                " score {} │ {} AI server{} │ {} exposed │ findings: {} │ {} blind spot{}{}",
                s.scores.host,
                inv.servers.len(),
                plural(inv.servers.len()),
                exposed,
                if counts.is_empty() {
                    "none".to_string()
                } else {
                    counts.join(", ")
                } + &suppressed_count(s),
                inv.blind_spots.len(),
                plural(inv.blind_spots.len()),
                if inv.probes_enabled {
                    ""
                } else {
                    " │ passive"
                },
            );
            second.push_str(&format!(" │ air-gap: {}", privacy::verdict_label(s)));
            if let Some(why) = s.timeline.as_ref().and_then(|t| t.memory_only.as_deref()) {
                second.push_str(&format!(" │ history in memory only: {why}"));
            }
            let h = &inv.hashing;
            if h.files_pending > 0 {
                let done: u64 = h.current.iter().map(|c| c.done_bytes).sum();
                let size: u64 = h.current.iter().map(|c| c.size_bytes).sum();
                second.push_str(&format!(
                    " │ hashing {} file{} ({} left{})",
                    h.files_pending,
                    plural(h.files_pending),
                    human_bytes(h.bytes_pending),
                    (done * 100)
                        .checked_div(size)
                        .map(|p| format!(", current {p}%"))
                        .unwrap_or_default()
                ));
            }
            if let Some(e) = &app.error {
                second = format!(" last refresh failed: {e}");
            }
            vec![Line::from(top), Line::from(second)]
        }
    };
    // The sparklines take the right end of the header; the text never runs under them.
    let text_area = if draw_sparklines(f, area, app, theme) {
        Rect {
            width: area.width - SPARK_WIDTH - 1,
            ..area
        }
    } else {
        area
    };
    f.render_widget(Block::default().style(style), area);
    f.render_widget(Paragraph::new(lines).style(style), text_area);
}

const SPARK_WIDTH: u16 = 40;

/// Open findings and egress connections over the last hours, at the right of
/// the header, when the terminal is wide enough and there is history to draw.
/// Returns whether it drew them.
fn draw_sparklines(f: &mut Frame, area: Rect, app: &App, theme: &Theme) -> bool {
    const LABEL: u16 = 10;
    let Some(t) = app.snapshot.as_ref().and_then(|s| s.timeline.as_ref()) else {
        return false;
    };
    if area.width < 160 || t.samples.len() < 2 || area.height < 2 {
        return false;
    }
    let spark_w = usize::from(SPARK_WIDTH - LABEL);
    let tail = &t.samples[t.samples.len().saturating_sub(spark_w)..];
    let style = Style::default().bg(theme.header_bg).fg(theme.header_fg);
    let x = area.x + area.width - SPARK_WIDTH;
    let series: [(&str, Vec<u64>); 2] = [
        ("findings ", tail.iter().map(|s| s.open_findings).collect()),
        ("egress   ", tail.iter().map(|s| s.egress).collect()),
    ];
    for (row, (label, data)) in series.iter().enumerate() {
        let y = area.y + row as u16;
        f.render_widget(
            Paragraph::new(*label).style(style),
            Rect::new(x, y, LABEL, 1),
        );
        f.render_widget(
            ratatui::widgets::Sparkline::default()
                .data(data)
                .style(style),
            Rect::new(x + LABEL, y, SPARK_WIDTH - LABEL, 1),
        );
    }
    true
}

/// ` │ 2 suppressed` after the header's finding counts; nothing when none are.
fn suppressed_count(s: &Snapshot) -> String {
    match s.suppressed.len() {
        0 => String::new(),
        n => format!(" │ {n} suppressed"),
    }
}

/// ` + 2 suppressed (z: show)` in the findings title; nothing when none are.
fn suppressed_label(app: &App) -> String {
    let n = app.snapshot.as_ref().map_or(0, |s| s.suppressed.len());
    match (n, app.show_suppressed) {
        (0, _) => String::new(),
        (n, true) => format!(" + {n} suppressed (z: hide)"),
        (n, false) => format!(" + {n} suppressed (z: show)"),
    }
}

fn title_with_filter(base: &str, app: &App, pane: Pane) -> String {
    let f = app.filter(pane);
    if f.is_empty() {
        base.to_string()
    } else {
        format!("{base} — filter: {f}")
    }
}

fn draw_servers(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let rows = app.rows(Pane::Servers);
    let focused = app.pane == Pane::Servers;
    let title = title_with_filter(
        &format!(
            "AI servers and listeners ({}) — sorted {} (s)",
            rows.len(),
            app.sort.label()
        ),
        app,
        Pane::Servers,
    );
    // "Since" needs room: shown from 110 columns.
    let cols = servers::server_columns(area.width);
    let header = TRow::new(cols.iter().map(|(_, name, _)| *name))
        .style(Style::default().add_modifier(Modifier::BOLD));
    let body: Vec<TRow> = rows
        .iter()
        .map(|r| {
            let cells = cols.iter().map(|(i, _, _)| {
                let c = r.cells.get(*i).cloned().unwrap_or_default();
                let cell = Cell::from(c.clone());
                match (*i, r.scope) {
                    (4, Some(scope)) => cell.style(theme.exposure(scope)),
                    (5, _) if c == "OPEN" => cell.style(theme.severity(Severity::High)),
                    _ => cell,
                }
            });
            TRow::new(cells)
        })
        .collect();
    let empty = body.is_empty();
    let widths: Vec<Constraint> = cols.iter().map(|(_, _, w)| *w).collect();
    let table = Table::new(body, widths)
        .header(header)
        .row_highlight_style(theme.selected())
        .block(block(&title, focused, theme));
    let mut state = TableState::default();
    if !empty {
        state.select(Some(app.selected(Pane::Servers)));
    }
    f.render_stateful_widget(table, area, &mut state);
    if empty && app.snapshot.is_some() {
        let msg = if app.filter(Pane::Servers).is_empty() {
            "No AI server process recognised. Blind spots (Tab) say what could not be seen."
        } else {
            "No row matches the filter (Esc clears it)."
        };
        f.render_widget(
            Paragraph::new(msg).style(Style::default().fg(theme.muted)),
            inset(area, 2, 2),
        );
    }
}

fn draw_lower_list(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let pane = match app.pane {
        Pane::BlindSpots | Pane::Models | Pane::Patch | Pane::Privacy | Pane::Events => app.pane,
        _ => Pane::Findings,
    };
    let focused = app.pane == pane;
    let rows = app.rows(pane);
    let title = lower_title(app, pane, rows.len());
    let body: Vec<TRow> = rows
        .iter()
        .map(|r| lower_row(app, pane, r, area.width, theme))
        .collect();
    let empty = body.is_empty();
    let widths = lower_widths(pane, area.width);
    let header = (!empty).then(|| lower_header(pane, area.width)).flatten();
    let mut table = Table::new(body, widths)
        .row_highlight_style(theme.selected())
        .block(block(&title, focused, theme));
    if let Some(h) = header {
        table = table.header(h);
    }
    let mut state = TableState::default();
    if !empty {
        state.select(Some(app.selected(pane)));
    }
    f.render_stateful_widget(table, area, &mut state);
    if empty && app.snapshot.is_some() {
        let msg = match pane {
            Pane::BlindSpots => "Nothing was refused: this view is complete.",
            Pane::Models => "No model file held by a server or found in a store.",
            Pane::Patch => {
                "No versioned component read (see blind spots for what was not readable)."
            }
            Pane::Events => "No event yet: changes since the first refresh appear here.",
            _ => "No finding.",
        };
        f.render_widget(
            Paragraph::new(msg).style(Style::default().fg(theme.muted)),
            inset(area, 2, 1),
        );
    }
}

/// The lower list's title: its pane's name and counts, the others' counts.
fn lower_title(app: &App, pane: Pane, rows: usize) -> String {
    let (nf, nb) = app
        .snapshot
        .as_ref()
        .map(|s| (s.findings.len(), s.inventory.blind_spots.len()))
        .unwrap_or((0, 0));
    let nm = app.rows(Pane::Models).len();
    match pane {
        Pane::BlindSpots => title_with_filter(
            &format!("Blind spots ({nb}) │ findings ({nf}) │ models ({nm})"),
            app,
            pane,
        ),
        Pane::Models => title_with_filter(
            &format!("Models ({nm}) │ findings ({nf}) │ blind spots ({nb})"),
            app,
            pane,
        ),
        Pane::Patch => title_with_filter(
            &format!(
                "Patch status ({}) │ {}",
                rows,
                app.snapshot
                    .as_ref()
                    .map(patch::data_label)
                    .unwrap_or_default()
            ),
            app,
            pane,
        ),
        Pane::Events => title_with_filter(
            &format!(
                "Events ({}) │ {} (o: go to subject)",
                rows,
                app.snapshot
                    .as_ref()
                    .and_then(|s| s.timeline.as_ref())
                    .map(|t| match &t.memory_only {
                        Some(why) => format!("history in memory only: {why}"),
                        None => format!("history: {}", t.store),
                    })
                    .unwrap_or_else(|| "no history".into())
            ),
            app,
            pane,
        ),
        Pane::Privacy => title_with_filter(
            &format!(
                "Privacy │ air-gap: {} │ {} process{}",
                app.snapshot
                    .as_ref()
                    .map(privacy::verdict_label)
                    .unwrap_or("not judged"),
                app.snapshot
                    .as_ref()
                    .map_or(0, |s| s.privacy.processes.len()),
                if app
                    .snapshot
                    .as_ref()
                    .is_some_and(|s| s.privacy.processes.len() == 1)
                {
                    ""
                } else {
                    "es"
                }
            ),
            app,
            pane,
        ),
        _ => title_with_filter(
            &format!(
                "Findings ({nf}){} │ blind spots ({nb}) │ models ({nm})",
                suppressed_label(app)
            ),
            app,
            pane,
        ),
    }
}

/// One row of the lower list, styled as its pane shows it.
fn lower_row(app: &App, pane: Pane, r: &Row, width: u16, theme: &Theme) -> TRow<'static> {
    match (pane, app.snapshot.as_ref(), r.item) {
        (Pane::Findings, Some(s), Item::Finding(i)) => {
            let sev = s.findings[i].severity;
            TRow::new([
                Cell::from(sev.as_str()).style(theme.severity(sev)),
                Cell::from(r.cells[1].clone()),
            ])
        }
        (Pane::Findings, Some(_), Item::Suppressed(_)) => TRow::new([
            Cell::from(r.cells[0].clone()).style(Style::default().fg(theme.muted)),
            Cell::from(r.cells[1].clone()).style(Style::default().fg(theme.muted)),
        ]),
        (Pane::Patch, _, _) => {
            let sev = r.cells[patch::SEVERITY].parse::<Severity>().ok();
            let style = sev.map_or(Style::default().fg(theme.muted), |s| theme.severity(s));
            let mut cells = vec![Cell::from(r.cells[patch::SEVERITY].clone()).style(style)];
            cells.extend(
                patch::patch_columns(width)
                    .iter()
                    .map(|(i, _)| Cell::from(r.cells[*i].clone())),
            );
            TRow::new(cells)
        }
        (Pane::Events, _, _) => {
            let sev = r.cells[events::SEVERITY].parse::<Severity>().ok();
            let style = sev.map_or(Style::default(), |s| theme.severity(s));
            let mut cells = vec![Cell::from(r.cells[events::TIME].clone())];
            cells.push(Cell::from(r.cells[events::SEVERITY].clone()).style(style));
            cells.extend(
                events::event_columns(width)
                    .iter()
                    .map(|(i, _)| Cell::from(r.cells[*i].clone())),
            );
            TRow::new(cells)
        }
        (Pane::Privacy, Some(s), item) => {
            let style = match (item, r.cells[privacy::STATE].as_str()) {
                (Item::AirGap, _) => privacy::verdict_severity(s)
                    .map_or(Style::default().fg(theme.muted), |v| theme.severity(v)),
                (_, "reaches out" | "read: everyone") => theme.severity(Severity::Medium),
                (_, "unknown" | "read: group" | "read: unknown") => theme.severity(Severity::Low),
                _ => Style::default().fg(theme.muted),
            };
            let mut cells = vec![Cell::from(r.cells[privacy::STATE].clone()).style(style)];
            cells.extend(
                privacy::privacy_columns(width)
                    .iter()
                    .map(|(i, _)| Cell::from(r.cells[*i].clone())),
            );
            TRow::new(cells)
        }
        (Pane::Models, _, _) => {
            let style = if models::is_bad(&r.cells[models::STATE]) {
                theme.severity(Severity::High)
            } else {
                Style::default().fg(theme.muted)
            };
            let mut cells = vec![Cell::from(r.cells[models::STATE].clone()).style(style)];
            let cols = models::model_columns(width);
            let name_width = models::model_name_width(width, &cols);
            cells.extend(cols.iter().map(|(i, _)| {
                if *i == models::NAME {
                    Cell::from(keep_tail(&r.cells[*i], name_width))
                } else {
                    Cell::from(r.cells[*i].clone())
                }
            }));
            TRow::new(cells)
        }
        _ => TRow::new([
            Cell::from("blind").style(Style::default().fg(theme.blind_spot)),
            Cell::from(r.cells[0].clone()),
        ]),
    }
}

/// Column widths of the lower list for its pane.
fn lower_widths(pane: Pane, width: u16) -> Vec<Constraint> {
    if pane == Pane::Events {
        [Constraint::Length(14), Constraint::Length(8)]
            .into_iter()
            .chain(events::event_columns(width).iter().map(|(_, w)| *w))
            .collect()
    } else if pane == Pane::Privacy {
        std::iter::once(Constraint::Length(14))
            .chain(privacy::privacy_columns(width).iter().map(|(_, w)| *w))
            .collect()
    } else if pane == Pane::Patch {
        std::iter::once(Constraint::Length(8))
            .chain(patch::patch_columns(width).iter().map(|(_, w)| *w))
            .collect()
    } else if pane == Pane::Models {
        std::iter::once(Constraint::Length(8))
            .chain(models::model_columns(width).iter().map(|(_, w)| *w))
            .collect()
    } else {
        vec![Constraint::Length(8), Constraint::Fill(1)]
    }
}

/// The header row of the panes whose columns need names (privacy, models).
fn lower_header(pane: Pane, width: u16) -> Option<TRow<'static>> {
    let header = if pane == Pane::Privacy {
        Some(
            TRow::new(
                std::iter::once("state").chain(privacy::privacy_columns(width).iter().map(
                    |(i, _)| match *i {
                        privacy::WHO => "process",
                        privacy::SWITCHES => "switches",
                        privacy::BACKENDS => "back-ends",
                        privacy::TUNNELS => "tunnels",
                        _ => "egress",
                    },
                )),
            )
            .style(Style::default().add_modifier(Modifier::BOLD)),
        )
    } else {
        None
    };
    header.or_else(|| {
        (pane == Pane::Models).then(|| {
            TRow::new(
                std::iter::once("state").chain(models::model_columns(width).iter().map(
                    |(i, _)| match *i {
                        models::NAME => "file or reference",
                        models::FORMAT => "format",
                        models::SIZE => "size",
                        models::USED_BY => "used by",
                        models::PROVENANCE => "provenance",
                        _ => "integrity",
                    },
                )),
            )
            .style(Style::default().add_modifier(Modifier::BOLD))
        })
    })
}

fn draw_detail(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let lines = app
        .snapshot
        .as_ref()
        .zip(app.selected_item())
        .map(|(s, item)| detail_lines(s, item, theme))
        .unwrap_or_else(|| vec![Line::from("Select a row to see its evidence.")]);
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block("Detail (Enter: full screen)", false, theme));
    f.render_widget(p, area);
}

fn draw_footer(f: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = if app.editing_filter {
        Line::from(vec![
            Span::styled(" filter: ", Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(format!("{}▏", app.filter(app.pane))),
            Span::styled("  Enter keep · Esc clear", Style::default().fg(theme.muted)),
        ])
    } else if let Some((_, msg)) = &app.toast {
        let style = if msg.starts_with("export failed") || msg.starts_with("nothing") {
            theme.severity(Severity::High)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        };
        Line::from(Span::styled(format!(" {msg}"), style))
    } else {
        Line::from(Span::styled(
            format!(" {}", super::keys::footer_hints()),
            Style::default().fg(theme.muted),
        ))
    };
    f.render_widget(Paragraph::new(line), area);
}

fn draw_help(f: &mut Frame, area: Rect, theme: &Theme) {
    let height = (BINDINGS.len() as u16 + 4).min(area.height);
    let width = 86.min(area.width.saturating_sub(2));
    let r = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    f.render_widget(Clear, r);
    let rows: Vec<TRow> = BINDINGS
        .iter()
        .map(|b| {
            TRow::new([
                Cell::from(b.label).style(Style::default().add_modifier(Modifier::BOLD)),
                Cell::from(b.help),
            ])
        })
        .collect();
    let t = Table::new(rows, [Constraint::Length(12), Constraint::Fill(1)]).block(block(
        "Keys — ? or Esc closes",
        true,
        theme,
    ));
    f.render_widget(t, r);
}
