//! Environment variable *names* of a process. Values are dropped the moment
//! they are read: none is kept, logged or exported.

use procfs::process::Process;

use super::procs::describe;

/// Names of the variables set to a non-empty value, sorted; or why unreadable.
pub fn env_names(pid: u32) -> Result<Vec<String>, String> {
    let env = Process::new(pid as i32)
        .and_then(|p| p.environ())
        .map_err(|e| describe(&e))?;
    let mut names: Vec<String> = env
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    names.sort();
    Ok(names)
}
