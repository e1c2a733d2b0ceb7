//! The application: the one collection loop (dashboard, `watch`, fleet), the
//! commands built on it (`scan`, `fleet`, `diff`), and the baseline they read.

pub mod baseline;
pub mod fleet;
pub mod live;
pub mod runner;
pub mod scan;
