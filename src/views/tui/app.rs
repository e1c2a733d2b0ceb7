//! Dashboard state and key handling. No drawing and no I/O here, so behaviour
//! is testable without a terminal.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keys::{Action, action_for};
use super::panes;
use super::rows::{Item, Pane, Row};
use crate::model::{Reach, Snapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    Detail { scroll: u16 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Found,
    Exposure,
    Score,
}

impl SortBy {
    pub fn label(self) -> &'static str {
        match self {
            SortBy::Found => "as found",
            SortBy::Exposure => "widest exposure first",
            SortBy::Score => "lowest score first",
        }
    }
}

pub struct App {
    pub sort: SortBy,
    pub snapshot: Option<Snapshot>,
    /// Last collection error, shown until a collection succeeds.
    pub error: Option<String>,
    pub pane: Pane,
    selected: [usize; 7],
    filter: [String; 7],
    pub editing_filter: bool,
    pub overlay: Overlay,
    pub interval: Duration,
    pub quit: bool,
    pub refresh_requested: bool,
    /// Set by the export key; the event loop writes the files and clears it.
    pub export_requested: bool,
    /// A message for the footer (export written or failed) and when it was set.
    pub toast: Option<(std::time::Instant, String)>,
    /// List suppressed findings after the active ones (key `z`).
    pub show_suppressed: bool,
    /// Rows a page moves; set from the last drawn list height.
    pub page: usize,
}

const PAGE_DEFAULT: usize = 10;

/// Severity column of a suppressed finding.
pub const SUPPRESSED: &str = "suppr.";

impl App {
    pub fn new(interval: Duration) -> Self {
        App {
            sort: SortBy::Found,
            snapshot: None,
            error: None,
            pane: Pane::Servers,
            selected: [0; 7],
            filter: Default::default(),
            editing_filter: false,
            overlay: Overlay::None,
            interval,
            quit: false,
            refresh_requested: false,
            export_requested: false,
            toast: None,
            show_suppressed: false,
            page: PAGE_DEFAULT,
        }
    }

    pub fn set_snapshot(&mut self, s: Snapshot) {
        self.snapshot = Some(s);
        self.error = None;
        for p in Pane::ORDER {
            let n = self.rows(p).len();
            let sel = &mut self.selected[p.index()];
            *sel = (*sel).min(n.saturating_sub(1));
        }
    }

    pub fn filter(&self, pane: Pane) -> &str {
        &self.filter[pane.index()]
    }

    pub fn selected(&self, pane: Pane) -> usize {
        self.selected[pane.index()]
    }

    /// Rows of a pane after the filter, in display order.
    pub fn rows(&self, pane: Pane) -> Vec<Row> {
        let Some(s) = &self.snapshot else {
            return Vec::new();
        };
        let rows = match pane {
            Pane::Servers => {
                let mut rows = panes::servers::server_rows(s);
                // Unknown reach sorts with the widest: never hidden below a known-safe row.
                let rank = |r: &Row| match r.scope {
                    Some(Reach::Unknown) | None => 5,
                    Some(reach) => reach as u8,
                };
                match self.sort {
                    SortBy::Found => {}
                    SortBy::Exposure => rows.sort_by_key(|r| std::cmp::Reverse(rank(r))),
                    SortBy::Score => {
                        rows.sort_by_key(|r| r.cells[6].parse::<u32>().unwrap_or(u32::MAX))
                    }
                }
                rows
            }
            Pane::Findings => s
                .findings
                .iter()
                .enumerate()
                .map(|(i, f)| Row {
                    item: Item::Finding(i),
                    cells: vec![f.severity.to_string(), f.title.clone()],
                    scope: None,
                })
                .chain(
                    s.suppressed
                        .iter()
                        .enumerate()
                        .filter(|_| self.show_suppressed)
                        .map(|(i, x)| Row {
                            item: Item::Suppressed(i),
                            cells: vec![SUPPRESSED.into(), x.finding.title.clone()],
                            scope: None,
                        }),
                )
                .collect(),
            Pane::BlindSpots => s
                .inventory
                .blind_spots
                .iter()
                .enumerate()
                .map(|(i, b)| Row {
                    item: Item::BlindSpot(i),
                    cells: vec![b.what.clone(), b.reason.clone()],
                    scope: None,
                })
                .collect(),
            Pane::Models => panes::models::rows(s),
            Pane::Patch => panes::patch::rows(s),
            Pane::Privacy => panes::privacy::rows(s),
            Pane::Events => panes::events::rows(s),
        };
        let needle = self.filter[pane.index()].to_lowercase();
        if needle.is_empty() {
            return rows;
        }
        rows.into_iter()
            .filter(|r| r.cells.iter().any(|c| c.to_lowercase().contains(&needle)))
            .collect()
    }

    pub fn selected_item(&self) -> Option<Item> {
        let rows = self.rows(self.pane);
        rows.get(self.selected[self.pane.index()]).map(|r| r.item)
    }

    /// Apply a key; returns whether anything visible changed.
    pub fn on_key(&mut self, key: KeyEvent) -> bool {
        if self.editing_filter {
            return self.edit_filter(key);
        }
        let Some(action) = action_for(&key) else {
            return false;
        };
        match (self.overlay, action) {
            (_, Action::Quit) => self.quit = true,
            (Overlay::Help, Action::Help | Action::Back) => self.overlay = Overlay::None,
            (_, Action::Help) => self.overlay = Overlay::Help,
            (_, Action::Refresh) => self.refresh_requested = true,
            // From any view: what is on screen is what gets written.
            (_, Action::Export) => {
                if self.snapshot.is_none() {
                    self.toast = Some((
                        std::time::Instant::now(),
                        "nothing to export yet: the first collection is running".into(),
                    ));
                } else {
                    self.export_requested = true;
                }
            }
            (Overlay::Detail { .. }, Action::Back) => self.overlay = Overlay::None,
            (Overlay::Detail { scroll }, Action::Up) => {
                self.overlay = Overlay::Detail {
                    scroll: scroll.saturating_sub(1),
                }
            }
            (Overlay::Detail { scroll }, Action::Down) => {
                self.overlay = Overlay::Detail {
                    scroll: scroll.saturating_add(1),
                }
            }
            (Overlay::Detail { scroll }, Action::PageUp) => {
                self.overlay = Overlay::Detail {
                    scroll: scroll.saturating_sub(self.page as u16),
                }
            }
            (Overlay::Detail { scroll }, Action::PageDown) => {
                self.overlay = Overlay::Detail {
                    scroll: scroll.saturating_add(self.page as u16),
                }
            }
            (Overlay::Detail { .. }, Action::Top) => self.overlay = Overlay::Detail { scroll: 0 },
            (Overlay::Detail { .. } | Overlay::Help, _) => return false,
            (Overlay::None, a) => return self.on_list_action(a),
        }
        true
    }

    fn on_list_action(&mut self, action: Action) -> bool {
        let n = self.rows(self.pane).len();
        let sel = self.selected[self.pane.index()];
        let last = n.saturating_sub(1);
        let new = match action {
            Action::NextPane | Action::PrevPane => {
                let i = self.pane.index();
                let step = if action == Action::NextPane {
                    1
                } else {
                    Pane::ORDER.len() - 1
                };
                self.pane = Pane::ORDER[(i + step) % Pane::ORDER.len()];
                return true;
            }
            Action::Up => sel.saturating_sub(1),
            Action::Down => (sel + 1).min(last),
            Action::PageUp => sel.saturating_sub(self.page),
            Action::PageDown => (sel + self.page).min(last),
            Action::Top => 0,
            Action::Bottom => last,
            Action::Open => {
                if n == 0 {
                    return false;
                }
                self.overlay = Overlay::Detail { scroll: 0 };
                return true;
            }
            Action::Back => {
                if self.filter[self.pane.index()].is_empty() {
                    return false;
                }
                self.filter[self.pane.index()].clear();
                0
            }
            Action::Filter => {
                self.editing_filter = true;
                return true;
            }
            Action::Sort => {
                self.sort = match self.sort {
                    SortBy::Found => SortBy::Exposure,
                    SortBy::Exposure => SortBy::Score,
                    SortBy::Score => SortBy::Found,
                };
                self.selected[Pane::Servers.index()] = 0;
                return true;
            }
            Action::Jump => {
                let Some(Item::Event(i)) = self.selected_item() else {
                    return false;
                };
                let Some(e) = self
                    .snapshot
                    .as_ref()
                    .and_then(|s| panes::events::events(s).get(i))
                else {
                    return false;
                };
                let (pane, needle) = panes::events::jump_target(e);
                self.pane = pane;
                self.filter[pane.index()] = needle;
                self.selected[pane.index()] = 0;
                return true;
            }
            Action::ToggleSuppressed => {
                self.show_suppressed = !self.show_suppressed;
                let n = self.rows(Pane::Findings).len();
                let sel = &mut self.selected[Pane::Findings.index()];
                *sel = (*sel).min(n.saturating_sub(1));
                return true;
            }
            Action::Quit | Action::Help | Action::Refresh | Action::Export => return false,
        };
        let changed = new != sel;
        self.selected[self.pane.index()] = new;
        changed || action == Action::Back
    }

    fn edit_filter(&mut self, key: KeyEvent) -> bool {
        let i = self.pane.index();
        match key.code {
            KeyCode::Enter => self.editing_filter = false,
            KeyCode::Esc => {
                self.editing_filter = false;
                self.filter[i].clear();
            }
            KeyCode::Backspace => {
                self.filter[i].pop();
            }
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => self.quit = true,
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter[i].push(c)
            }
            _ => return false,
        }
        self.selected[i] = 0;
        true
    }
}
