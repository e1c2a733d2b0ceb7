//! The detail view of whatever the selection points at: each pane says its own.

use ratatui::text::Line;

use super::panes::{events, findings, models, patch, privacy, servers};
use super::rows::Item;
use super::theme::Theme;
use crate::model::Snapshot;

pub fn detail_lines(s: &Snapshot, item: Item, theme: &Theme) -> Vec<Line<'static>> {
    match item {
        Item::AirGap | Item::PrivacyProcess(_) | Item::PromptLog(_) => {
            privacy::detail_lines(s, item, theme)
        }
        Item::Event(i) => events::detail(s, i, theme),
        Item::Finding(_) | Item::Suppressed(_) => findings::detail_finding(s, item, theme),
        Item::BlindSpot(i) => findings::detail_blind_spot(s, i, theme),
        Item::LoadedModel(si, mi) => models::detail_loaded(s, si, mi, theme),
        Item::StoreModel(i) => models::detail_store(s, i, theme),
        Item::Component(si, ci) => patch::detail(s, si, ci, theme),
        Item::UnknownListener(li) => servers::detail_unknown_listener(s, li, theme),
        Item::Server(si, sock) => servers::detail(s, si, sock, theme),
    }
}
