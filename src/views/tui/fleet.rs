//! `aiposture fleet --tui`: the fleet table, the selected host's detail, and a
//! key to run the fleet again. Rows appear as hosts answer; a host still being
//! read shows as pending, a failed one with its error. Same terminal handling
//! as the dashboard (restore on quit, panic, SIGHUP/SIGTERM/SIGINT).

use crossterm::event::{Event, EventStream, KeyEvent, KeyEventKind};
use futures_util::StreamExt;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::Exit;
use super::terminal;
use super::theme::Theme;
use crate::app::fleet::{FleetOptions, Msg, Target, spawn_run};
use crate::model::Severity;
use crate::model::fleet::{ExposureCounts, FleetHost, FleetReport, HostState};
use crate::model::privacy::AirGapState;
use crate::views::export::fleet::{COLUMNS, age_label, row_cells};

pub struct FleetApp {
    pub targets: Vec<String>,
    /// `None`: still being read.
    pub rows: Vec<Option<FleetHost>>,
    pub report: Option<FleetReport>,
    pub running: bool,
    pub selected: usize,
    pub quit: bool,
    pub refresh_requested: bool,
}

impl FleetApp {
    pub fn new(targets: Vec<String>) -> FleetApp {
        FleetApp {
            rows: vec![None; targets.len()],
            targets,
            report: None,
            running: false,
            selected: 0,
            quit: false,
            refresh_requested: false,
        }
    }

    /// A new run starts: rows go back to pending, the last report stays until replaced.
    pub fn start(&mut self) {
        self.running = true;
        self.rows = vec![None; self.targets.len()];
    }

    pub fn on_msg(&mut self, m: Msg) {
        match m {
            Msg::Host(i, h) => {
                if let Some(slot) = self.rows.get_mut(i) {
                    *slot = Some(*h);
                }
            }
            Msg::Done(r) => {
                self.rows = r.hosts.iter().cloned().map(Some).collect();
                self.report = Some(r);
                self.running = false;
            }
        }
    }

    /// Returns whether anything visible changed. Keys come from the one key
    /// table (`keys.rs`), as in the dashboard.
    pub fn on_key(&mut self, k: KeyEvent) -> bool {
        use super::keys::{Action, action_for};
        let last = self.targets.len().saturating_sub(1);
        match action_for(&k) {
            Some(Action::Quit | Action::Back) => self.quit = true,
            Some(Action::Refresh) => {
                // One run at a time: a refresh during a run is ignored.
                if self.running {
                    return false;
                }
                self.refresh_requested = true;
            }
            Some(Action::Down) => self.selected = (self.selected + 1).min(last),
            Some(Action::Up) => self.selected = self.selected.saturating_sub(1),
            Some(Action::Top) => self.selected = 0,
            Some(Action::Bottom) => self.selected = last,
            Some(Action::PageDown) => self.selected = (self.selected + 10).min(last),
            Some(Action::PageUp) => self.selected = self.selected.saturating_sub(10),
            _ => return false,
        }
        true
    }

    fn done(&self) -> usize {
        self.rows.iter().filter(|r| r.is_some()).count()
    }
}

/// What the fleet table does with keys (see `FleetApp::on_key`); its footer
/// names them from the one key table.
const FLEET_ACTIONS: [super::keys::Action; 4] = {
    use super::keys::Action::*;
    [Quit, Up, Refresh, Back]
};

pub fn draw(f: &mut Frame, app: &FleetApp, theme: &Theme) {
    let [header, table, detail, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Percentage(55),
        Constraint::Min(6),
        Constraint::Length(1),
    ])
    .areas(f.area());

    let failed = app.rows.iter().flatten().filter(|h| !h.is_ok()).count();
    let status = if app.running {
        format!("reading {}/{} hosts…", app.done(), app.targets.len())
    } else if let Some(r) = &app.report {
        format!(
            "{} hosts, {} ok, {failed} failed · collected {} in {} ms",
            r.hosts.len(),
            r.hosts.len() - failed,
            r.collected_at,
            r.duration_ms
        )
    } else {
        "not run yet".into()
    };
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(
                "aiposture fleet ",
                Style::default()
                    .fg(theme.title)
                    .add_modifier(Modifier::BOLD),
            ),
            Span::styled(status, Style::default().fg(theme.text)),
        ])),
        header,
    );

    let head = Row::new(COLUMNS).style(Style::default().add_modifier(Modifier::BOLD));
    let body: Vec<Row> = app
        .targets
        .iter()
        .zip(&app.rows)
        .map(|(target, row)| match row {
            None => Row::new(vec![
                Cell::from(target.clone()),
                Cell::from("…").style(Style::default().fg(theme.muted)),
            ]),
            Some(h) => {
                let cells = row_cells(h);
                let worst = h.summary().and_then(|s| s.worst_exposure);
                let worst_findings = h.summary().and_then(|s| {
                    Severity::ALL
                        .into_iter()
                        .rev()
                        .find(|&sev| s.findings.get(sev) > 0)
                });
                Row::new(cells.into_iter().enumerate().map(|(i, c)| {
                    let cell = Cell::from(c);
                    match (i, &h.state) {
                        (1 | 8, HostState::Error { .. }) => {
                            cell.style(theme.severity(Severity::High))
                        }
                        (4, _) => match worst {
                            Some(r) => cell.style(theme.exposure(r)),
                            None => cell,
                        },
                        (5, _) => match worst_findings {
                            Some(s) => cell.style(theme.severity(s)),
                            None => cell,
                        },
                        _ => cell,
                    }
                }))
            }
        })
        .collect();
    let widths = [
        Constraint::Fill(2),
        Constraint::Length(20),
        Constraint::Fill(2),
        Constraint::Length(14),
        Constraint::Length(18),
        Constraint::Length(12),
        Constraint::Length(6),
        Constraint::Length(12),
        Constraint::Fill(2),
    ];
    let mut state = TableState::default();
    if !app.targets.is_empty() {
        state.select(Some(app.selected.min(app.targets.len() - 1)));
    }
    f.render_stateful_widget(
        Table::new(body, widths)
            .header(head)
            .row_highlight_style(theme.selected())
            .block(block(&format!("Hosts ({})", app.targets.len()), theme)),
        table,
        &mut state,
    );

    let selected = app.rows.get(app.selected).and_then(|r| r.as_ref());
    let title = app
        .targets
        .get(app.selected)
        .map_or("Detail".to_string(), |t| format!("Detail: {t}"));
    f.render_widget(
        Paragraph::new(detail_lines(selected, theme))
            .wrap(Wrap { trim: false })
            .block(block(&title, theme)),
        detail,
    );
    f.render_widget(
        Paragraph::new(Span::styled(
            format!(" {}", super::keys::footer_for(&FLEET_ACTIONS)),
            Style::default().fg(theme.muted),
        )),
        footer,
    );
}

fn block<'a>(title: &str, theme: &Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(Style::default().fg(theme.border))
        .title(Span::styled(
            format!(" {title} "),
            Style::default().fg(theme.title),
        ))
}

fn detail_lines<'a>(h: Option<&FleetHost>, theme: &Theme) -> Vec<Line<'a>> {
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("{k:<14}"), Style::default().fg(theme.muted)),
            Span::raw(v),
        ])
    };
    let Some(h) = h else {
        return vec![Line::from("being read…")];
    };
    let mut lines = match &h.state {
        HostState::Error {
            stage,
            message,
            exit_code,
        } => vec![
            Line::from(Span::styled(
                format!("not read: {}", stage.as_str()),
                theme.severity(Severity::High),
            )),
            kv(
                "ssh exit",
                exit_code.map_or("none (killed)".into(), |c| c.to_string()),
            ),
            kv("message", message.clone()),
        ],
        HostState::Ok { summary: s } => {
            let exposure: Vec<String> = ExposureCounts::ORDER
                .iter()
                .filter(|&&r| s.servers_by_exposure.get(r) > 0)
                .map(|&r| format!("{} {}", s.servers_by_exposure.get(r), r.label()))
                .collect();
            vec![
                kv("host", s.hostname.clone()),
                kv("collected", format!("{} (host clock)", s.collected_at)),
                kv("aiposture", s.tool_version.clone()),
                kv(
                    "ran as",
                    if s.is_root {
                        format!("{} (sees every process)", s.user)
                    } else {
                        format!(
                            "{} (not root: {} blind spots; other users' servers may be missing)",
                            s.user, s.blind_spots
                        )
                    },
                ),
                kv(
                    "servers",
                    if exposure.is_empty() {
                        s.servers.to_string()
                    } else {
                        format!("{}: {}", s.servers, exposure.join(", "))
                    },
                ),
                kv(
                    "findings",
                    format!(
                        "{} critical, {} high, {} medium, {} low, {} info; {} suppressed",
                        s.findings.critical,
                        s.findings.high,
                        s.findings.medium,
                        s.findings.low,
                        s.findings.info,
                        s.suppressed
                    ),
                ),
                kv(
                    "advisory data",
                    format!(
                        "{} old (too old after {}d)",
                        age_label(s.advisory_age_days, s.advisory_max_age_days),
                        s.advisory_max_age_days
                    ),
                ),
                kv(
                    "air gap",
                    s.air_gap.map_or("unknown", AirGapState::as_str).to_string(),
                ),
                kv("score", s.score.to_string()),
            ]
        }
    };
    lines.push(kv("took", format!("{} ms", h.duration_ms)));
    if let Some(p) = &h.kept {
        lines.push(kv("kept", p.clone()));
    }
    if let Some(e) = &h.keep_error {
        lines.push(kv("not kept", e.clone()));
    }
    lines
}

pub fn run(targets: Vec<Target>, opts: FleetOptions, theme: Theme) -> std::io::Result<Exit> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut term = terminal::setup(false)?;
    let result = rt.block_on(event_loop(&mut term, targets, opts, &theme));
    terminal::restore();
    result
}

async fn event_loop(
    term: &mut terminal::Term,
    targets: Vec<Target>,
    opts: FleetOptions,
    theme: &Theme,
) -> std::io::Result<Exit> {
    let mut app = FleetApp::new(targets.iter().map(|t| t.given.clone()).collect());
    let (tx, mut rx) = mpsc::unbounded_channel();
    app.start();
    spawn_run(&targets, &opts, &tx);
    let mut events = EventStream::new();
    let mut hup = signal(SignalKind::hangup())?;
    let mut term_sig = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    term.draw(|f| draw(f, &app, theme))?;
    // A run in flight when the view closes is left to finish on its own: each
    // ssh is bounded by the per-host timeout, and the process exits anyway.
    let exit = loop {
        let dirty = tokio::select! {
            _ = hup.recv() => break Exit::Signal("SIGHUP"),
            _ = term_sig.recv() => break Exit::Signal("SIGTERM"),
            _ = int.recv() => break Exit::Signal("SIGINT"),
            Some(m) = rx.recv() => {
                app.on_msg(m);
                true
            }
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) if k.kind != KeyEventKind::Release => {
                    let changed = app.on_key(k);
                    if app.refresh_requested {
                        app.refresh_requested = false;
                        app.start();
                        spawn_run(&targets, &opts, &tx);
                    }
                    changed
                }
                Some(Ok(Event::Resize(_, _))) => true,
                Some(Ok(_)) => false,
                Some(Err(_)) | None => break Exit::Signal("terminal closed"),
            },
        };
        if app.quit {
            break Exit::Quit;
        }
        if dirty {
            term.draw(|f| draw(f, &app, theme))?;
        }
    };
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEventState, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent {
            code: c,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: KeyEventState::NONE,
        }
    }

    fn screen(app: &FleetApp) -> String {
        let theme = Theme::load("mono", true).expect("theme");
        let mut t = Terminal::new(TestBackend::new(140, 30)).expect("terminal");
        t.draw(|f| draw(f, app, &theme)).expect("draw");
        let buf = t.backend().buffer().clone();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol())
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn pending_then_rows_then_detail_of_the_failed_host() {
        let report = crate::views::export::fleet::sample_report();
        let mut app = FleetApp::new(report.hosts.iter().map(|h| h.target.clone()).collect());
        app.start();
        app.on_msg(Msg::Host(1, Box::new(report.hosts[1].clone())));
        let s = screen(&app);
        assert!(s.contains("reading 1/2 hosts"), "{s}");
        assert!(s.contains("ERROR connect"), "{s}");
        assert!(s.contains("being read"), "{s}");
        app.on_msg(Msg::Done(report));
        assert!(!app.on_key(key(KeyCode::Char('x'))));
        assert!(app.on_key(key(KeyCode::Down)));
        let s = screen(&app);
        assert!(s.contains("2 hosts, 1 ok, 1 failed"), "{s}");
        assert!(s.contains("LAN +1 unknown"), "{s}");
        assert!(s.contains("not read: connect"), "{s}");
        assert!(s.contains("Connection refused"), "{s}");
        // The footer names the keys that work here, from the one key table.
        assert!(s.contains("q quit · ↑↓ move · Ctrl-l refresh"), "{s}");
        assert!(app.on_key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL)));
        assert!(app.refresh_requested);
        app.on_key(key(KeyCode::Char('q')));
        assert!(app.quit);
    }
}
