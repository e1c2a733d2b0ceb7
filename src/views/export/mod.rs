//! Exporters: the snapshot rendered for machines. Each writes atomically.

pub mod atomic;
pub mod json;

pub use atomic::write_atomic;
