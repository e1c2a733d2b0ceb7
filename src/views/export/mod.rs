//! Exporters: the snapshot rendered for machines. Each writes atomically.

pub mod events;
pub mod fleet;
pub mod json;
pub mod scan;

pub use crate::atomic::write_atomic;
