//! Environment of a process: variable *names*, plus the values of an allowlist
//! of plain configuration variables (assets/config_audit.toml). Every other value
//! is dropped the moment it is read: none is kept, logged or exported.

use procfs::process::Process;

use crate::collect::procs::describe;
use crate::model::EnvSetting;
use crate::model::redact::{is_secret_name, redact_text};

pub struct Environment {
    /// Names of the variables set to a non-empty value, sorted.
    pub names: Vec<String>,
    /// Allowlisted variables with their values (URL credentials redacted).
    pub config: Vec<EnvSetting>,
}

pub fn read(pid: u32, allowlist: &[String]) -> Result<Environment, String> {
    let env = Process::new(pid as i32)
        .and_then(|p| p.environ())
        .map_err(|e| describe(&e))?;
    let mut names = Vec::new();
    let mut config = Vec::new();
    for (k, v) in env {
        if v.is_empty() {
            continue;
        }
        let name = k.to_string_lossy().into_owned();
        // The allowlist is for configuration; a secret-looking name never qualifies.
        if allowlist.contains(&name) && !is_secret_name(&name) {
            config.push(EnvSetting {
                name: name.clone(),
                value: redact_text(&v.to_string_lossy()),
            });
        }
        names.push(name);
    }
    names.sort();
    config.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Environment { names, config })
}
