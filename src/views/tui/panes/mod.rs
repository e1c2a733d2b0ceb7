//! One file per pane: its rows, its columns at a given width, and the detail
//! of what it lists.

pub mod events;
pub mod findings;
pub mod models;
pub mod patch;
pub mod privacy;
pub mod servers;
