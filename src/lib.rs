//! aiposture: the security posture of a local AI stack, read from /proc.
//!
//! Layers, each depending only on the ones before it:
//! `collect` (reads the system) → `model` (plain data) → `rules` (judgements)
//! → `views` (TUI and exporters). `knowledge` holds the embedded asset data.
//!
//! No unsafe code, except one block that states its reason
//! (`collect::hasher::lower_priority`: ioprio_set has no safe wrapper).

pub mod app;
pub mod atomic;
pub mod collect;
pub mod config;
pub mod error;
pub mod formats;
pub mod knowledge;
pub mod model;
pub mod paths;
pub mod rules;
pub mod timeline;
pub mod views;

pub use error::Error;
#[cfg(test)]
mod test_support;
