//! Exporters: the snapshot rendered for machines. Each writes atomically.

pub mod json;

pub use crate::atomic::write_atomic;
