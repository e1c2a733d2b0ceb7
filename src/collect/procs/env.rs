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

/// A boolean switch's value: nothing else of a secret-looking variable is read.
fn is_switch_value(v: &str) -> bool {
    const WORDS: [&str; 8] = ["true", "false", "1", "0", "yes", "no", "on", "off"];
    WORDS.iter().any(|w| v.trim().eq_ignore_ascii_case(w))
}

/// `allowlist`: variables whose values are plain configuration. `switches`:
/// variables declared as on/off settings (the signatures' self-grant ones); a
/// secret-looking name is read only from there, and only as a switch word.
pub fn read(pid: u32, allowlist: &[String], switches: &[String]) -> Result<Environment, String> {
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
        let value = v.to_string_lossy();
        let kept = if is_secret_name(&name) {
            // Only the switch word itself, lowercased: nothing else of the value.
            (switches.contains(&name) && is_switch_value(&value))
                .then(|| value.trim().to_ascii_lowercase())
        } else {
            allowlist.contains(&name).then(|| redact_text(&value))
        };
        if let Some(value) = kept {
            config.push(EnvSetting {
                name: name.clone(),
                value,
            });
        }
        names.push(name);
    }
    names.sort();
    config.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Environment { names, config })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_switch_value_of_a_secret_looking_variable_is_read() {
        for v in ["False", " true ", "0", "OFF"] {
            assert!(is_switch_value(v), "{v}");
        }
        for v in ["sk-live-123", "truee", "", "admin:admin"] {
            assert!(!is_switch_value(v), "{v}");
        }
    }

    #[test]
    fn a_secret_looking_switch_is_read_from_a_real_process_only_as_a_switch() {
        let spawn = |value: &str| {
            std::process::Command::new("sleep")
                .arg("30")
                .env("WEBUI_AUTH", value)
                .spawn()
                .expect("sleep")
        };
        let allow = vec!["WEBUI_AUTH".to_string()];
        let unlisted: Vec<String> = Vec::new();
        for (value, kept) in [("False", true), ("s3cr3t-canary", false)] {
            let mut child = spawn(value);
            // Until exec, the child's environ is still ours.
            for _ in 0..200 {
                let cmd =
                    std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
                if cmd.starts_with(b"sleep") {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let env = read(child.id(), &allow, &allow).expect("own child's environ");
            // Allowlisted but not declared a switch: a secret-looking name's value is never read.
            let plain = read(child.id(), &allow, &unlisted).expect("own child's environ");
            assert!(plain.config.is_empty(), "{:?}", plain.config.len());
            let _ = child.kill();
            let _ = child.wait();
            assert!(env.names.contains(&"WEBUI_AUTH".to_string()));
            let got: Vec<&str> = env.config.iter().map(|e| e.value.as_str()).collect();
            assert_eq!(got == ["false"], kept, "{got:?}");
            assert!(!got.contains(&"s3cr3t-canary"));
        }
    }
}
