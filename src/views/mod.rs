//! Everything that presents a snapshot: the TUI and the exporters. Views never
//! read the system; they render `model` values.

pub mod export;
pub mod tui;
