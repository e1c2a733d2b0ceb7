//! Exporters: the snapshot rendered for machines. Each writes atomically.

pub mod json;
pub mod scan;

pub use crate::atomic::write_atomic;
