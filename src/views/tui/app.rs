//! Dashboard state and key handling. No drawing and no I/O here, so behaviour
//! is testable without a terminal.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keys::{Action, action_for};
use crate::model::{Reach, Snapshot};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Servers,
    Findings,
    BlindSpots,
    Models,
    Patch,
    Privacy,
    Events,
}

impl Pane {
    const ORDER: [Pane; 7] = [
        Pane::Servers,
        Pane::Findings,
        Pane::BlindSpots,
        Pane::Models,
        Pane::Patch,
        Pane::Privacy,
        Pane::Events,
    ];
    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    Detail { scroll: u16 },
}

/// What the selection points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// server index, socket index (None: a server without listeners)
    Server(usize, Option<usize>),
    Finding(usize),
    /// A suppressed finding (index into `suppressed`), listed when toggled on.
    Suppressed(usize),
    BlindSpot(usize),
    /// A listening socket no readable fd table holds (index into sockets).
    UnknownListener(usize),
    /// A model file a server holds (server index, model index).
    LoadedModel(usize, usize),
    /// A model file of a store (index into store_files).
    StoreModel(usize),
    /// A versioned component of a server (server index) or of the host (None).
    Component(Option<usize>, usize),
    /// The host's air-gap verdict.
    AirGap,
    /// A process of the privacy report (index into `privacy.processes`).
    PrivacyProcess(usize),
    /// A prompt log at rest (index into `inventory.privacy.prompt_logs`).
    PromptLog(usize),
    /// An event of the timeline (index into `timeline.recent`).
    Event(usize),
}

pub struct Row {
    pub item: Item,
    pub cells: Vec<String>,
    pub scope: Option<Reach>,
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
                let mut rows = server_rows(s);
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
            Pane::Models => super::model_rows::rows(s),
            Pane::Patch => super::patch_rows::rows(s),
            Pane::Privacy => super::privacy_rows::rows(s),
            Pane::Events => super::event_rows::rows(s),
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
                    .and_then(|s| super::event_rows::events(s).get(i))
                else {
                    return false;
                };
                let (pane, needle) = super::event_rows::jump_target(e);
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

/// Auth as the table shows it: what the probe saw wins over what flags suggest.
fn auth_cell(s: &Snapshot, srv: &crate::model::Server, socket: Option<usize>) -> String {
    use crate::model::{AuthState, ProbeAuth};
    let probed = s
        .probe_verdicts
        .iter()
        .find(|v| v.pid == srv.pid && socket.is_none_or(|i| v.socket == i))
        .map(|v| v.auth);
    match (probed, srv.auth.state) {
        (Some(ProbeAuth::AnswersWithoutCredentials), _) => "OPEN".into(),
        (Some(ProbeAuth::DemandsAuth), _) => "key".into(),
        (_, AuthState::Configured) => "on".into(),
        (_, AuthState::NotConfigured) => "off".into(),
        (_, AuthState::Unsupported) => "none".into(),
        (_, AuthState::Unknown) => "?".into(),
    }
}

fn server_rows(s: &Snapshot) -> Vec<Row> {
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

/// GPU memory (and SM %) held by the server and its workers: "-" for none,
/// "?" when NVML is not available.
fn gpu_cell(s: &Snapshot, srv: &crate::model::Server) -> String {
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

/// When a listener, model file or egress peer was first seen, from the timeline.
pub fn since_of(s: &Snapshot, kind: &str, key: &str) -> Option<String> {
    s.timeline
        .as_ref()?
        .since
        .iter()
        .find(|x| x.kind == kind && x.key == key)
        .map(|x| super::event_rows::since_label(&x.first_seen))
}

fn listener_cells(s: &Snapshot, li: usize) -> (String, String, Option<Reach>) {
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

pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}
