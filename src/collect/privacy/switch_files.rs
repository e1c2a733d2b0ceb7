//! Files that turn a telemetry switch off or on (`~/.config/vllm/do_not_track`,
//! `~/.ollama/server.json`), looked up as the server would: its owner's home,
//! its variables, inside its container.

use std::io::Read;

use crate::collect::host::UserNames;
use crate::knowledge::privacy::{Condition, Privacy, resolve_path};
use crate::model::Server;
use crate::model::privacy::{FileState, SwitchFile};

/// Settings files are small; anything bigger is not what the product wrote.
const MAX_SETTINGS: u64 = 1024 * 1024;

pub fn read(servers: &[Server], privacy: &Privacy, users: &UserNames) -> Vec<SwitchFile> {
    let mut out = Vec::new();
    for s in servers {
        let applicable = privacy.switches.iter().filter(|sw| sw.applies(s).is_some());
        for sw in applicable {
            for c in sw.when.iter().filter(|c| !c.file.is_empty()) {
                out.push(look_up(s, &sw.id, c, users));
            }
        }
    }
    out
}

fn look_up(s: &Server, switch: &str, c: &Condition, users: &UserNames) -> SwitchFile {
    let unreadable = |path: String, reason: String| SwitchFile {
        pid: s.pid,
        switch: switch.to_string(),
        path,
        state: FileState::Unreadable { reason },
    };
    let template = c.file.join(" | ");
    if let Some(reason) = &s.env_unreadable {
        return unreadable(
            template,
            format!("the environment naming its location is not readable ({reason})"),
        );
    }
    let in_container = s.confinement.container.is_some();
    let home = s.uid.and_then(|uid| {
        if in_container {
            let passwd =
                std::fs::read_to_string(format!("/proc/{}/root/etc/passwd", s.pid)).ok()?;
            UserNames::parse(&passwd).home(uid)
        } else {
            users.home(uid)
        }
    });
    let var = |name: &str| {
        s.env_config
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.value.clone())
    };
    let Some(path) = c
        .file
        .iter()
        .find_map(|t| resolve_path(t, home.as_deref(), &var))
    else {
        return unreadable(
            template,
            "no home directory known for the server's user".into(),
        );
    };
    // A relative path is where the product looks from its working directory.
    let (path, seen_at) = if !path.starts_with('/') {
        let cwd = std::fs::read_link(format!("/proc/{}/cwd", s.pid))
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_else(|_| ".".into());
        (
            format!("{}/{path}", cwd.trim_end_matches('/')),
            format!("/proc/{}/cwd/{path}", s.pid),
        )
    } else if in_container {
        (path.clone(), format!("/proc/{}/root{}", s.pid, path))
    } else {
        (path.clone(), path)
    };
    let state = match std::fs::File::open(&seen_at) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => FileState::Absent,
        Err(e) => FileState::Unreadable {
            reason: e.to_string(),
        },
        Ok(f) => match (&c.json_key, &c.ini_key, &c.yaml_key, &c.value) {
            (None, None, None, _) | (_, _, _, None) => FileState::Present { matches: None },
            (json_key, ini_key, yaml_key, Some(want)) => {
                let mut text = String::new();
                match f.take(MAX_SETTINGS).read_to_string(&mut text) {
                    Err(e) => FileState::Unreadable {
                        reason: e.to_string(),
                    },
                    Ok(_) => FileState::Present {
                        matches: Some(match (json_key, ini_key, yaml_key) {
                            (Some(k), _, _) => json_holds(&text, k, want),
                            (_, Some(k), _) => ini_holds(&text, k, want),
                            (_, _, Some(k)) => yaml_holds(&text, k, want),
                            _ => false,
                        }),
                    },
                }
            }
        },
    };
    SwitchFile {
        pid: s.pid,
        switch: switch.to_string(),
        path,
        state,
    }
}

/// A top-level key of a JSON object holds `want` (`true`, `false`, a string).
fn json_holds(text: &str, key: &str, want: &str) -> bool {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return false;
    };
    match map.get(key) {
        Some(serde_json::Value::String(s)) => s == want,
        Some(v) => serde_json::from_str::<serde_json::Value>(want).is_ok_and(|w| *v == w),
        None => false,
    }
}

/// A dotted key of a YAML document holds `want` (a scalar, compared as YAML
/// writes it: `true`, `3`, `off`).
fn yaml_holds(text: &str, key: &str, want: &str) -> bool {
    use yaml_rust2::Yaml;
    let Ok(docs) = yaml_rust2::YamlLoader::load_from_str(text) else {
        return false;
    };
    let Some(mut node) = docs.into_iter().next() else {
        return false;
    };
    for part in key.split('.') {
        node = node[part].clone();
    }
    match node {
        Yaml::Boolean(b) => b.to_string() == want,
        Yaml::Integer(i) => i.to_string() == want,
        Yaml::String(s) | Yaml::Real(s) => s == want,
        _ => false,
    }
}

/// `key=value` on a line of an INI file (Qt QSettings), any section.
fn ini_holds(text: &str, key: &str, want: &str) -> bool {
    text.lines().any(|l| {
        l.split_once('=')
            .is_some_and(|(k, v)| k.trim() == key && v.trim() == want)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_values() {
        let qdrant = "service:\n  host: 0.0.0.0\ntelemetry_disabled: true\n";
        assert!(yaml_holds(qdrant, "telemetry_disabled", "true"));
        assert!(!yaml_holds(
            "telemetry_disabled: false\n",
            "telemetry_disabled",
            "true"
        ));
        assert!(yaml_holds(qdrant, "service.host", "0.0.0.0"));
        assert!(!yaml_holds(
            "telemetry_disabled: [\n",
            "telemetry_disabled",
            "true"
        ));
        assert!(!yaml_holds("", "telemetry_disabled", "true"));
    }

    #[test]
    fn settings_values() {
        assert!(json_holds(
            r#"{"disable_ollama_cloud": true}"#,
            "disable_ollama_cloud",
            "true"
        ));
        assert!(!json_holds(
            r#"{"disable_ollama_cloud": false}"#,
            "disable_ollama_cloud",
            "true"
        ));
        assert!(!json_holds("not json", "k", "true"));
        assert!(ini_holds(
            "[network]\nusageStatsActive=true\n",
            "usageStatsActive",
            "true"
        ));
        assert!(!ini_holds(
            "[network]\nisActive=false\n",
            "isActive",
            "true"
        ));
    }
}
