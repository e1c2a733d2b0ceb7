//! Drawing. Pure function of the app state and theme onto a ratatui frame.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Clear, Paragraph, Row as TRow, Table, TableState, Wrap,
};

use super::app::{App, Item, Overlay, Pane};
use super::event_rows;
use super::keys::BINDINGS;
use super::model_rows;
use super::patch_rows;
use super::privacy_rows;
use super::theme::Theme;
use crate::model::{
    AuthState, Drift, FileHash, Integrity, MatchStrength, ProbeAuth, Reach, Severity, Snapshot,
};

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

fn block<'a>(title: &'a str, focused: bool, theme: &Theme) -> Block<'a> {
    let border = if focused {
        theme.border_focused
    } else {
        theme.border
    };
    let mut title_style = Style::default().fg(theme.title);
    if focused {
        title_style = title_style.add_modifier(Modifier::BOLD);
    }
    Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(border))
        .title(Span::styled(format!(" {title} "), title_style))
}

fn inset(r: Rect, dx: u16, dy: u16) -> Rect {
    Rect {
        x: r.x + dx,
        y: r.y + dy,
        width: r.width.saturating_sub(2 * dx),
        height: r.height.saturating_sub(2 * dy),
    }
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
            second.push_str(&format!(" │ air-gap: {}", privacy_rows::verdict_label(s)));
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
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
    let cols = server_columns(area.width);
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
    let (nf, nb) = app
        .snapshot
        .as_ref()
        .map(|s| (s.findings.len(), s.inventory.blind_spots.len()))
        .unwrap_or((0, 0));
    let nm = app.rows(Pane::Models).len();
    let title = match pane {
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
                rows.len(),
                app.snapshot
                    .as_ref()
                    .map(patch_rows::data_label)
                    .unwrap_or_default()
            ),
            app,
            pane,
        ),
        Pane::Events => title_with_filter(
            &format!(
                "Events ({}) │ {} (o: go to subject)",
                rows.len(),
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
                    .map(privacy_rows::verdict_label)
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
    };
    let body: Vec<TRow> = rows
        .iter()
        .map(|r| match (pane, app.snapshot.as_ref(), r.item) {
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
                let sev = r.cells[patch_rows::SEVERITY].parse::<Severity>().ok();
                let style = sev.map_or(Style::default().fg(theme.muted), |s| theme.severity(s));
                let mut cells =
                    vec![Cell::from(r.cells[patch_rows::SEVERITY].clone()).style(style)];
                cells.extend(
                    patch_columns(area.width)
                        .iter()
                        .map(|(i, _)| Cell::from(r.cells[*i].clone())),
                );
                TRow::new(cells)
            }
            (Pane::Events, _, _) => {
                let sev = r.cells[event_rows::SEVERITY].parse::<Severity>().ok();
                let style = sev.map_or(Style::default(), |s| theme.severity(s));
                let mut cells = vec![Cell::from(r.cells[event_rows::TIME].clone())];
                cells.push(Cell::from(r.cells[event_rows::SEVERITY].clone()).style(style));
                cells.extend(
                    event_columns(area.width)
                        .iter()
                        .map(|(i, _)| Cell::from(r.cells[*i].clone())),
                );
                TRow::new(cells)
            }
            (Pane::Privacy, Some(s), item) => {
                let style = match (item, r.cells[privacy_rows::STATE].as_str()) {
                    (Item::AirGap, _) => privacy_rows::verdict_severity(s)
                        .map_or(Style::default().fg(theme.muted), |v| theme.severity(v)),
                    (_, "reaches out" | "read: everyone") => theme.severity(Severity::Medium),
                    (_, "unknown" | "read: group" | "read: unknown") => {
                        theme.severity(Severity::Low)
                    }
                    _ => Style::default().fg(theme.muted),
                };
                let mut cells = vec![Cell::from(r.cells[privacy_rows::STATE].clone()).style(style)];
                cells.extend(
                    privacy_columns(area.width)
                        .iter()
                        .map(|(i, _)| Cell::from(r.cells[*i].clone())),
                );
                TRow::new(cells)
            }
            (Pane::Models, _, _) => {
                let style = if model_rows::is_bad(&r.cells[model_rows::STATE]) {
                    theme.severity(Severity::High)
                } else {
                    Style::default().fg(theme.muted)
                };
                let mut cells = vec![Cell::from(r.cells[model_rows::STATE].clone()).style(style)];
                let cols = model_columns(area.width);
                let name_width = model_name_width(area.width, &cols);
                cells.extend(cols.iter().map(|(i, _)| {
                    if *i == model_rows::NAME {
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
        })
        .collect();
    let empty = body.is_empty();
    let widths: Vec<Constraint> = if pane == Pane::Events {
        [Constraint::Length(14), Constraint::Length(8)]
            .into_iter()
            .chain(event_columns(area.width).iter().map(|(_, w)| *w))
            .collect()
    } else if pane == Pane::Privacy {
        std::iter::once(Constraint::Length(14))
            .chain(privacy_columns(area.width).iter().map(|(_, w)| *w))
            .collect()
    } else if pane == Pane::Patch {
        std::iter::once(Constraint::Length(8))
            .chain(patch_columns(area.width).iter().map(|(_, w)| *w))
            .collect()
    } else if pane == Pane::Models {
        std::iter::once(Constraint::Length(8))
            .chain(model_columns(area.width).iter().map(|(_, w)| *w))
            .collect()
    } else {
        vec![Constraint::Length(8), Constraint::Fill(1)]
    };
    let header = if pane == Pane::Privacy && !empty {
        Some(
            TRow::new(
                std::iter::once("state").chain(privacy_columns(area.width).iter().map(|(i, _)| {
                    match *i {
                        privacy_rows::WHO => "process",
                        privacy_rows::SWITCHES => "switches",
                        privacy_rows::BACKENDS => "back-ends",
                        privacy_rows::TUNNELS => "tunnels",
                        _ => "egress",
                    }
                })),
            )
            .style(Style::default().add_modifier(Modifier::BOLD)),
        )
    } else {
        None
    };
    let header = header.or_else(|| {
        (pane == Pane::Models && !empty).then(|| {
            TRow::new(
                std::iter::once("state").chain(model_columns(area.width).iter().map(|(i, _)| {
                    match *i {
                        model_rows::NAME => "file or reference",
                        model_rows::FORMAT => "format",
                        model_rows::SIZE => "size",
                        model_rows::USED_BY => "used by",
                        model_rows::PROVENANCE => "provenance",
                        _ => "integrity",
                    }
                })),
            )
            .style(Style::default().add_modifier(Modifier::BOLD))
        })
    });
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

/// Server columns that fit `width`: (cell index, header, width). GPU from 120
/// columns, Since from 140.
fn server_columns(width: u16) -> Vec<(usize, &'static str, Constraint)> {
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

/// Event columns that fit `width`, after time and severity.
fn event_columns(width: u16) -> Vec<(usize, Constraint)> {
    use event_rows::*;
    let mut cols = vec![
        (KIND, Constraint::Length(17)),
        (SUBJECT, Constraint::Fill(2)),
    ];
    if width >= 90 {
        cols.push((CHANGE, Constraint::Fill(2)));
    }
    cols
}

/// Privacy columns that fit `width`, after the state column.
fn privacy_columns(width: u16) -> Vec<(usize, Constraint)> {
    use privacy_rows::*;
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

/// Patch columns that fit `width`, after the severity column.
fn patch_columns(width: u16) -> Vec<(usize, Constraint)> {
    use patch_rows::*;
    let mut cols = vec![
        (COMPONENT, Constraint::Fill(2)),
        (VERSION, Constraint::Length(16)),
    ];
    if width >= 70 {
        cols.push((ADVISORIES, Constraint::Length(22)));
    }
    if width >= 95 {
        cols.push((FIXED, Constraint::Fill(1)));
    }
    cols
}

/// Model columns that fit `width`, after the state column: the least needed
/// are dropped first on narrow terminals.
fn model_columns(width: u16) -> Vec<(usize, Constraint)> {
    use model_rows::*;
    let mut cols = vec![(NAME, Constraint::Fill(2))];
    if width >= 70 {
        cols.push((FORMAT, Constraint::Length(14)));
        cols.push((INTEGRITY, Constraint::Length(16)));
    }
    if width >= 95 {
        cols.push((SIZE, Constraint::Length(9)));
        cols.push((USED_BY, Constraint::Length(18)));
    }
    if width >= 110 {
        cols.push((PROVENANCE, Constraint::Fill(1)));
    }
    // Shown in cell order: name, format, size, used by, provenance, integrity.
    cols.sort_by_key(|(i, _)| *i);
    cols
}

/// Width the name column gets: what the fixed columns leave, shared with
/// provenance as their Fill weights say.
fn model_name_width(width: u16, cols: &[(usize, Constraint)]) -> usize {
    let fixed: u16 = cols
        .iter()
        .map(|(_, c)| match c {
            Constraint::Length(n) => *n,
            _ => 0,
        })
        .sum();
    // Borders (2), state column (8) and one space between columns.
    let free = width.saturating_sub(2 + 8 + fixed + cols.len() as u16) as usize;
    let fills: u16 = cols
        .iter()
        .map(|(_, c)| match c {
            Constraint::Fill(n) => *n,
            _ => 0,
        })
        .sum();
    free * 2 / usize::from(fills.max(2))
}

/// The end of a path matters most: keep it and mark what was cut.
fn keep_tail(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width || width < 2 {
        return s.to_string();
    }
    let tail: String = s.chars().skip(n - (width - 1)).collect();
    format!("…{tail}")
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
            " q quit · ? help · Tab pane · ↑↓ move · Enter detail · / filter · e export · Ctrl-l refresh",
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

pub(super) fn heading(text: &str) -> Line<'static> {
    Line::from(Span::styled(
        text.to_string(),
        Style::default().add_modifier(Modifier::BOLD),
    ))
}

pub(super) fn kv(key: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!("{key}: "),
            Style::default().add_modifier(Modifier::BOLD),
        ),
        Span::raw(value),
    ])
}

pub fn detail_lines(s: &Snapshot, item: Item, theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    match item {
        Item::AirGap | Item::PrivacyProcess(_) | Item::PromptLog(_) => {
            return privacy_rows::detail_lines(s, item, theme);
        }
        Item::Event(i) => {
            let Some(e) = event_rows::events(s).get(i) else {
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
        }
        Item::Finding(_) | Item::Suppressed(_) => {
            let fd = match item {
                Item::Suppressed(i) => {
                    let Some(x) = s.suppressed.get(i) else {
                        return out;
                    };
                    suppression_lines(&x.suppression, theme, &mut out);
                    &x.finding
                }
                Item::Finding(i) => match s.findings.get(i) {
                    Some(fd) => fd,
                    None => return out,
                },
                _ => return out,
            };
            out.push(Line::from(vec![
                Span::styled(format!("[{}] ", fd.severity), theme.severity(fd.severity)),
                Span::styled(
                    fd.title.clone(),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
            ]));
            out.push(kv("rule", fd.rule.clone()));
            out.push(kv(
                "subject",
                format!(
                    "{} pid {}{}",
                    fd.subject.product,
                    fd.subject.pid,
                    fd.subject
                        .listener
                        .as_ref()
                        .map(|l| format!(" on {l}"))
                        .unwrap_or_default()
                ),
            ));
            out.push(Line::from(fd.summary.clone()));
            out.push(Line::from(""));
            out.push(heading("Evidence"));
            for e in &fd.evidence {
                out.push(Line::from(format!("• {} — {}", e.source, e.detail)));
            }
            out.push(Line::from(""));
            out.push(heading("Remediation"));
            out.push(Line::from(fd.remediation.clone()));
        }
        Item::LoadedModel(si, mi) => {
            let Some(sv) = s.inventory.servers.get(si) else {
                return out;
            };
            let Some(m) = sv.models.get(mi) else {
                return out;
            };
            out.push(heading(&m.path));
            if let Some(t) = super::app::since_of(s, "model", &m.path) {
                out.push(kv("seen since", t));
            }
            out.push(kv("format", m.format.label()));
            out.push(kv(
                "held by",
                format!("{} pid {} ({:?})", sv.product, sv.pid, m.held_via),
            ));
            if m.deleted {
                out.push(Line::from(
                    "DELETED or REPLACED on disk since the server opened it",
                ));
            }
            if let Some(sz) = m.size_bytes {
                out.push(kv("size", human_bytes(sz)));
            }
            if let Some(d) = &m.dir_owner {
                out.push(kv(
                    "directory",
                    format!("owner uid {} gid {}, mode {:o}", d.uid, d.gid, d.mode),
                ));
            }
            hash_lines(&m.hash, &m.drift, &mut out);
            decision_lines(&m.provenance, &m.decision, &mut out);
            analysis_lines(&m.analysis, &mut out);
        }
        Item::Component(si, ci) => {
            let (owner, pid, c) = match si {
                Some(si) => {
                    let Some(sv) = s.inventory.servers.get(si) else {
                        return out;
                    };
                    (
                        format!("{} pid {}", sv.product, sv.pid),
                        sv.pid,
                        sv.components.get(ci),
                    )
                }
                None => (
                    "the host".to_string(),
                    0,
                    s.inventory.system_software.components.get(ci),
                ),
            };
            let Some(c) = c else {
                return out;
            };
            out.push(heading(&format!("{} {}", c.name, c.version)));
            out.push(kv("used by", owner));
            out.push(kv("read from", format!("{} ({:?})", c.path, c.how)));
            if c.shadowed {
                out.push(Line::from(
                    "shadowed: an earlier copy on sys.path is the one imported",
                ));
            }
            out.push(kv("data", patch_rows::data_label(s)));
            let found = patch_rows::matches_of(s, pid, c);
            if found.is_empty() {
                out.push(Line::from(
                    "No advisory in the data in use matches this version.",
                ));
            }
            for m in found {
                out.push(Line::from(""));
                out.push(Line::from(vec![
                    Span::styled(m.severity.as_str(), theme.severity(m.severity)),
                    Span::raw(format!(" {}", m.ids.join(", "))),
                ]));
                if let Some(cv) = &m.cvss {
                    out.push(kv("cvss", format!("{} {}", cv.score, cv.vector)));
                }
                out.push(Line::from(m.summary.clone()));
                out.push(kv(
                    "fixed in",
                    if m.fixed.is_empty() {
                        "no fixed version recorded".into()
                    } else {
                        m.fixed.join(", ")
                    },
                ));
            }
        }
        Item::StoreModel(i) => {
            let Some(f) = s.inventory.store_files.get(i) else {
                return out;
            };
            out.push(heading(&f.reference));
            out.push(kv("file", f.path.clone()));
            if let Some(t) = super::app::since_of(s, "model", &f.path) {
                out.push(kv("seen since", t));
            }
            if let Some(fmt) = &f.format {
                out.push(kv("format", fmt.label()));
            }
            if let Some(sz) = f.size_bytes {
                out.push(kv("size", human_bytes(sz)));
            }
            let used: Vec<String> = s
                .inventory
                .servers
                .iter()
                .filter(|sv| sv.models.iter().any(|m| m.path == f.path))
                .map(|sv| format!("{} pid {}", sv.product, sv.pid))
                .collect();
            out.push(kv(
                "used by",
                if used.is_empty() {
                    "no running server holds it".into()
                } else {
                    used.join(", ")
                },
            ));
            out.push(kv(
                "integrity",
                match &f.integrity {
                    Integrity::Verified => "verified: hashes to the digest its store names".into(),
                    Integrity::Mismatch { actual_sha256 } => {
                        format!("MISMATCH: hashes to {actual_sha256}")
                    }
                    Integrity::NoDigest => "the store names no digest for it".into(),
                    Integrity::NotChecked { why } => format!("not checked: {why}"),
                },
            ));
            if let Some(d) = &f.expected_sha256 {
                out.push(kv("store digest", d.clone()));
            }
            if let Some(p) = &f.problem {
                out.push(kv("problem", p.clone()));
            }
            hash_lines(&f.hash, &f.drift, &mut out);
            out.push(kv("found in", format!("{} {}", f.store.label(), f.root)));
            decision_lines(&f.provenance, &f.decision, &mut out);
            analysis_lines(&f.analysis, &mut out);
        }
        Item::UnknownListener(li) => {
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
        }
        Item::BlindSpot(i) => {
            let Some(b) = s.inventory.blind_spots.get(i) else {
                return out;
            };
            out.push(Line::from(Span::styled(
                format!("Not seen: {}", b.what),
                Style::default()
                    .fg(theme.blind_spot)
                    .add_modifier(Modifier::BOLD),
            )));
            out.push(kv("path", b.path.clone()));
            out.push(kv("reason", b.reason.clone()));
            out.push(kv("consequence", b.consequence.clone()));
        }
        Item::Server(si, sock) => {
            let Some(sv) = s.inventory.servers.get(si) else {
                return out;
            };
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
            let auth = match sv.auth.state {
                AuthState::Configured => "configured",
                AuthState::NotConfigured => "NOT configured",
                AuthState::Unsupported => "not supported by the product",
                AuthState::Unknown => "unknown",
            };
            out.push(kv("authentication", auth.to_string()));
            for e in &sv.auth.evidence {
                out.push(Line::from(format!("  • {} — {}", e.source, e.detail)));
            }
            for v in s
                .probe_verdicts
                .iter()
                .filter(|v| v.pid == sv.pid && sock.is_none_or(|i| v.socket == i))
            {
                let auth = match v.auth {
                    ProbeAuth::AnswersWithoutCredentials => {
                        "ANSWERS WITHOUT CREDENTIALS".to_string()
                    }
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
                for e in &v.evidence {
                    out.push(Line::from(format!("  • {} — {}", e.source, e.detail)));
                }
            }
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
                let a = &m.analysis;
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
                        "    pickle: {:?}, {} imports",
                        pk.verdict,
                        pk.globals.len()
                    )));
                }
                if let Some(e) = &a.error {
                    out.push(Line::from(format!("    header not read: {e}")));
                }
            }
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
            if sv.sockets.is_empty() {
                out.push(Line::from(
                    "No socket joined to this server: it does not listen, or its fds were not readable (see blind spots).",
                ));
            }
        }
    }
    out
}

/// Why a finding is suppressed: the accepted risk as the config records it.
fn suppression_lines(
    r: &crate::model::SuppressionRef,
    theme: &Theme,
    out: &mut Vec<Line<'static>>,
) {
    out.push(Line::from(Span::styled(
        format!("SUPPRESSED until {} (accepted risk)", r.expires),
        Style::default()
            .fg(theme.muted)
            .add_modifier(Modifier::BOLD),
    )));
    out.push(kv("reason", r.reason.clone()));
    out.push(kv("owner", r.owner.clone()));
    out.push(kv("expires", format!("{} (end of day, UTC)", r.expires)));
    if let Some(t) = &r.ticket {
        out.push(kv("ticket", t.clone()));
    }
    out.push(kv(
        "entry",
        format!("{} [[suppress]] #{}", r.origin, r.index + 1),
    ));
    out.push(kv("matched on", r.matched_on.clone()));
    out.push(Line::from(""));
}

fn hash_lines(h: &FileHash, d: &Drift, out: &mut Vec<Line<'static>>) {
    out.push(kv(
        "sha256",
        match h {
            FileHash::Known { sha256 } => sha256.clone(),
            FileHash::Pending { why } => format!("pending: {why}"),
            FileHash::Unknown { why } => format!("unknown: {why}"),
        },
    ));
    for (what, c) in [("content", &d.content), ("chat template", &d.template)] {
        if let Some(c) = c {
            out.push(kv(
                &format!("{what} CHANGED"),
                format!(
                    "was {} at this path, now {} (first seen {})",
                    c.before_sha256, c.after_sha256, c.seen_at
                ),
            ));
        }
    }
}

/// Where the model came from and what the operator's policy decided about it.
fn decision_lines(
    p: &crate::model::provenance::Provenance,
    d: &crate::model::policy::Decision,
    out: &mut Vec<Line<'static>>,
) {
    out.push(kv("provenance", p.label()));
    for f in p
        .facts
        .iter()
        .filter(|f| f.field == "revision" || f.field == "tag")
    {
        out.push(kv(&format!("  {}", f.field), f.value.clone()));
    }
    out.push(kv("policy", d.label()));
}

fn analysis_lines(a: &crate::model::ModelAnalysis, out: &mut Vec<Line<'static>>) {
    if let Some(m) = &a.metadata {
        for (k, v) in [
            ("architecture", &m.architecture),
            ("name", &m.name),
            ("organization", &m.organization),
            ("license", &m.license),
            ("source", &m.source_url),
            ("quantisation", &m.file_type),
        ] {
            if let Some(v) = v {
                out.push(kv(k, v.clone()));
            }
        }
        if let Some(n) = m.parameter_count {
            out.push(kv("parameters", n.to_string()));
        }
        if let Some(t) = &m.chat_template {
            out.push(kv(
                "chat template",
                format!("sha256 {} ({} bytes)", t.sha256, t.length),
            ));
            if !t.ssti_markers.is_empty() {
                out.push(kv("template markers", t.ssti_markers.join(", ")));
            }
            out.push(Line::from(format!("  {}", t.excerpt)));
        }
    }
    if let Some(p) = &a.pickle {
        out.push(kv(
            "pickle",
            format!("{:?}, {} opcodes", p.verdict, p.opcodes),
        ));
        for g in p.globals.iter().take(30) {
            out.push(Line::from(format!(
                "  {:?} {}.{} at offset {}",
                g.class, g.module, g.name, g.offset
            )));
        }
    }
    if let Some(o) = &a.onnx {
        onnx_lines(o, out);
    }
    if let Some(k) = &a.keras {
        keras_lines(k, out);
    }
    if let Some(e) = &a.error {
        out.push(kv("header not read", e.clone()));
    }
}

fn onnx_lines(o: &crate::model::onnx::OnnxReport, out: &mut Vec<Line<'static>>) {
    out.push(kv(
        "onnx",
        format!(
            "ir_version {}, {} nodes, {} operators, {} local functions{}",
            o.ir_version.map_or("?".into(), |v| v.to_string()),
            o.node_count,
            o.ops.len(),
            o.functions.len(),
            if o.complete { "" } else { " (partial)" }
        ),
    ));
    let opsets: Vec<String> = o
        .opsets
        .iter()
        .map(|s| {
            let d = if s.domain.is_empty() {
                "ai.onnx"
            } else {
                &s.domain
            };
            format!("{d} {}", s.version)
        })
        .collect();
    out.push(kv("opsets", opsets.join(", ")));
    let custom = &o.custom_ops;
    if !custom.is_empty() {
        let names: Vec<String> = custom
            .iter()
            .map(|op| format!("{}::{}", op.domain, op.op_type))
            .collect();
        out.push(kv("custom ops", names.join(", ")));
    }
    for x in o.external_data.iter().take(20) {
        out.push(Line::from(format!(
            "  external data {} → {} ({:?})",
            x.tensor, x.location, x.resolution
        )));
    }
}

fn keras_lines(k: &crate::model::keras::KerasReport, out: &mut Vec<Line<'static>>) {
    let version = [k.keras_version.as_deref(), k.backend.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    out.push(kv(
        "keras",
        format!(
            "{}{} objects; layers {}",
            if version.is_empty() {
                String::new()
            } else {
                format!("{version}; ")
            },
            k.object_count,
            if k.layers_checked {
                "checked"
            } else {
                "NOT checked"
            }
        ),
    ));
    if let Some(src) = &k.config_source {
        out.push(kv("architecture", src.clone()));
    }
    for l in k.lambdas.iter().take(20) {
        out.push(Line::from(format!("  Lambda {}: {}", l.layer, l.detail)));
    }
    for c in k.custom_objects.iter().take(20) {
        out.push(Line::from(format!(
            "  custom {} from {} at {}",
            c.class_name,
            c.module.as_deref().unwrap_or("?"),
            c.at
        )));
    }
    for n in k.notes.iter().take(5) {
        out.push(Line::from(format!("  {n}")));
    }
}

pub(super) fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}
