//! What the privacy rules need from the system: tunnel and agent processes,
//! telemetry opt-out files, prompt logs, connections of AI processes and the
//! names `/etc/hosts` gives their peers. Nothing here judges.

pub mod actors;
pub mod config_backends;
pub mod connections;
pub mod etc_hosts;
pub mod prompt_logs;
pub mod switch_files;
