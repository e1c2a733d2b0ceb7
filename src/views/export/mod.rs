//! Exporters: the snapshot rendered for machines. Each writes atomically.

pub mod cyclonedx;
pub mod events;
pub mod json;
pub mod sarif;
pub mod scan;

pub use crate::atomic::write_atomic;
