//! The one key table: dispatch and the help overlay are both generated from it,
//! so the help can never disagree with what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextPane,
    PrevPane,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Open,
    Back,
    Filter,
    Sort,
    Refresh,
    Jump,
    Export,
    ToggleSuppressed,
}

pub struct Binding {
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// How the keys are written in the help overlay.
    pub label: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// The hint the footer shows for it, if any (in table order).
    pub footer: Option<&'static str>,
}

const NONE: KeyModifiers = KeyModifiers::NONE;
const SHIFT: KeyModifiers = KeyModifiers::SHIFT;
const CTRL: KeyModifiers = KeyModifiers::CONTROL;

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &[(KeyCode::Char('q'), NONE), (KeyCode::Char('c'), CTRL)],
        label: "q  Ctrl-c",
        action: Action::Quit,
        help: "quit (the terminal is restored)",
        footer: Some("q quit"),
    },
    Binding {
        keys: &[
            (KeyCode::Char('?'), NONE),
            (KeyCode::Char('?'), SHIFT),
            (KeyCode::F(1), NONE),
        ],
        label: "?  F1",
        action: Action::Help,
        help: "show or hide this help",
        footer: Some("? help"),
    },
    Binding {
        keys: &[(KeyCode::Tab, NONE)],
        label: "Tab",
        action: Action::NextPane,
        help: "next pane: servers, findings, blind spots, models, patch, privacy, events",
        footer: Some("Tab pane"),
    },
    Binding {
        keys: &[(KeyCode::BackTab, SHIFT), (KeyCode::BackTab, NONE)],
        label: "Shift-Tab",
        action: Action::PrevPane,
        help: "previous pane",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::Up, NONE), (KeyCode::Char('k'), NONE)],
        label: "↑  k",
        action: Action::Up,
        help: "move up (scroll up in a detail view)",
        footer: Some("↑↓ move"),
    },
    Binding {
        keys: &[(KeyCode::Down, NONE), (KeyCode::Char('j'), NONE)],
        label: "↓  j",
        action: Action::Down,
        help: "move down (scroll down in a detail view)",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::PageUp, NONE)],
        label: "PgUp",
        action: Action::PageUp,
        help: "page up",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::PageDown, NONE)],
        label: "PgDn",
        action: Action::PageDown,
        help: "page down",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::Home, NONE), (KeyCode::Char('g'), NONE)],
        label: "Home  g",
        action: Action::Top,
        help: "first row",
        footer: None,
    },
    Binding {
        keys: &[
            (KeyCode::End, NONE),
            (KeyCode::Char('G'), SHIFT),
            (KeyCode::Char('G'), NONE),
        ],
        label: "End  G",
        action: Action::Bottom,
        help: "last row",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::Enter, NONE)],
        label: "Enter",
        action: Action::Open,
        help: "open the full detail of the selected row (evidence, remediation)",
        footer: Some("Enter detail"),
    },
    Binding {
        keys: &[(KeyCode::Esc, NONE)],
        label: "Esc",
        action: Action::Back,
        help: "close the detail or help, or clear the filter",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::Char('/'), NONE)],
        label: "/",
        action: Action::Filter,
        help: "filter the focused pane (type, Enter to keep, Esc to clear)",
        footer: Some("/ filter"),
    },
    Binding {
        keys: &[(KeyCode::Char('s'), NONE)],
        label: "s",
        action: Action::Sort,
        help: "sort servers: as found, widest exposure first, lowest score first",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::Char('o'), NONE)],
        label: "o",
        action: Action::Jump,
        help: "in Events: go to the event's subject (its pane, filtered to it)",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::Char('z'), NONE)],
        label: "z",
        action: Action::ToggleSuppressed,
        help: "show or hide suppressed findings (accepted risks)",
        footer: None,
    },
    Binding {
        keys: &[(KeyCode::Char('e'), NONE), (KeyCode::Char('s'), CTRL)],
        label: "e  Ctrl-s",
        action: Action::Export,
        help: "export the current view's snapshot in the configured formats ([export])",
        footer: Some("e export"),
    },
    Binding {
        keys: &[(KeyCode::Char('l'), CTRL)],
        label: "Ctrl-l",
        action: Action::Refresh,
        help: "collect now and redraw the screen",
        footer: Some("Ctrl-l refresh"),
    },
];

/// The key table as plain text (`aiposture --print-keys`): the same rows the
/// help overlay draws.
/// The footer's key hints, from the table: `q quit · ? help · …`.
pub fn footer_hints() -> String {
    BINDINGS
        .iter()
        .filter_map(|b| b.footer)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The footer of a view that handles only `actions` (the fleet table).
pub fn footer_for(actions: &[Action]) -> String {
    BINDINGS
        .iter()
        .filter(|b| actions.contains(&b.action))
        .filter_map(|b| b.footer)
        .collect::<Vec<_>>()
        .join(" · ")
}

pub fn key_table() -> String {
    let width = BINDINGS
        .iter()
        .map(|b| b.label.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for b in BINDINGS {
        let pad = width - b.label.chars().count();
        out.push_str(&format!("{}{}  {}\n", b.label, " ".repeat(pad), b.help));
    }
    out
}

pub fn action_for(key: &KeyEvent) -> Option<Action> {
    BINDINGS
        .iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|(code, mods)| *code == key.code && *mods == key.modifiers)
        })
        .map(|b| b.action)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_key_is_bound_twice() {
        let mut seen = Vec::new();
        for b in BINDINGS {
            for k in b.keys {
                assert!(!seen.contains(k), "{k:?} bound twice");
                seen.push(*k);
            }
        }
    }

    #[test]
    fn htop_habits_hold() {
        let k = |c, m| action_for(&KeyEvent::new(c, m));
        assert_eq!(k(KeyCode::Char('q'), NONE), Some(Action::Quit));
        assert_eq!(k(KeyCode::F(1), NONE), Some(Action::Help));
        assert_eq!(k(KeyCode::Char('j'), NONE), Some(Action::Down));
        assert_eq!(k(KeyCode::Char('l'), CTRL), Some(Action::Refresh));
        assert_eq!(k(KeyCode::Char('x'), NONE), None);
    }
}
