//! Telemetry, update-check, hub-pull and cloud-feature switches of one process
//! resolved to on / off / unknown, with what was read to decide.

use crate::knowledge::privacy::{Condition, Switch as SwitchFacts, ValueMatch};
use crate::model::argv::presence as flag_value;
use crate::model::privacy::{FileState, Switch, SwitchFile, SwitchState};
use crate::model::{Evidence, Server, Source};
use crate::rules::versions::pep440;

/// Every switch that concerns the server, resolved.
pub fn resolve_all(server: &Server, switches: &[SwitchFacts], files: &[SwitchFile]) -> Vec<Switch> {
    switches
        .iter()
        .filter_map(|sw| {
            let why = sw.applies(server)?;
            Some(resolve(server, sw, files, why))
        })
        .collect()
}

/// What one condition says: the state it pushes towards (`None`: nothing) and why.
struct Said {
    state: Option<SwitchState>,
    source: Source,
    detail: String,
}

pub fn resolve(server: &Server, sw: &SwitchFacts, files: &[SwitchFile], why: String) -> Switch {
    let mut evidence = Vec::new();
    let state = if let Some(f) = sw.fixed.iter().find(|f| f.product == server.product_id) {
        evidence.push(Evidence::new(
            Source::asset("assets/privacy.toml", Some(format!("switch {}", sw.id))),
            format!("{}: always {}", f.why, f.state.as_str()),
        ));
        f.state
    } else if sw.container_only && server.confinement.container.is_none() {
        evidence.push(Evidence::new(
            Source::proc(server.pid, "cgroup"),
            "not in a container, and the product reports only from containers",
        ));
        SwitchState::Off
    } else {
        let mut file_rows = files
            .iter()
            .filter(|f| f.pid == server.pid && f.switch == sw.id);
        let mut said = Vec::new();
        for c in &sw.when {
            if !c.only_for.is_empty() && !c.only_for.contains(&server.product_id) {
                continue;
            }
            if !c.env.is_empty() {
                said.extend(env_condition(server, c));
            } else if let Some(flag) = &c.flag {
                said.push(flag_condition(server, c, flag));
            } else if !c.file.is_empty() {
                said.push(file_condition(c, file_rows.next()));
            } else if let Some(min) = &c.version_at_least {
                said.push(version_condition(server, sw, c, min));
            }
        }
        let has = |s: SwitchState| said.iter().any(|x| x.state == Some(s));
        let state = if has(SwitchState::Off) {
            SwitchState::Off
        } else if has(SwitchState::On) {
            SwitchState::On
        } else if has(SwitchState::Unknown) {
            SwitchState::Unknown
        } else {
            sw.default
        };
        evidence.extend(said.into_iter().map(|s| Evidence::new(s.source, s.detail)));
        if state == sw.default && !evidence.is_empty() {
            evidence.push(Evidence::new(
                Source::asset("assets/privacy.toml", Some(format!("switch {}", sw.id))),
                format!("default: {}", sw.default.as_str()),
            ));
        }
        state
    };
    Switch {
        id: sw.id.clone(),
        name: sw.name.clone(),
        kind: sw.kind,
        state,
        endpoint: sw.endpoint.clone(),
        applies_because: why,
        evidence,
        remediation: sw.remediation.clone(),
        source: format!("{} [{}]", sw.source, sw.status),
        still_sends: sw.still_sends.clone(),
    }
}

fn opposite(s: SwitchState) -> SwitchState {
    match s {
        SwitchState::On => SwitchState::Off,
        SwitchState::Off => SwitchState::On,
        SwitchState::Unknown => SwitchState::Unknown,
    }
}

fn value_of<'s>(server: &'s Server, name: &str) -> Option<&'s str> {
    server
        .env_config
        .iter()
        .find(|e| e.name == name)
        .map(|e| e.value.as_str())
}

fn env_condition(server: &Server, c: &Condition) -> Vec<Said> {
    let source = Source::proc(server.pid, "environ");
    if let Some(reason) = &server.env_unreadable {
        return vec![Said {
            state: Some(SwitchState::Unknown),
            source,
            detail: format!("{}: environment not readable ({reason})", c.env.join(", ")),
        }];
    }
    let set: Vec<(&String, &str)> = c
        .env
        .iter()
        .filter_map(|n| value_of(server, n).map(|v| (n, v)))
        .collect();
    let Some(matcher) = c.matcher else {
        return Vec::new();
    };
    if set.is_empty() {
        return vec![Said {
            state: None,
            source,
            detail: format!("{} not set", c.env.join(", ")),
        }];
    }
    let looked = if c.first_set { &set[..1] } else { &set[..] };
    let mut out = Vec::new();
    if c.first_set && c.env.len() > 1 {
        let hidden: Vec<&str> = set[1..].iter().map(|(n, _)| n.as_str()).collect();
        if !hidden.is_empty() {
            out.push(Said {
                state: None,
                source: source.clone(),
                detail: format!(
                    "{} is set, so {} is not looked at (the first set of {} wins)",
                    set[0].0,
                    hidden.join(", "),
                    c.env.join(", ")
                ),
            });
        }
    }
    for (name, value) in looked {
        let want = matcher.describe(&c.values);
        let (state, verdict) = match matcher.test(value, &c.values) {
            ValueMatch::Holds => (Some(c.effect), format!("turns it {}", c.effect.as_str())),
            ValueMatch::Opposite => (
                Some(opposite(c.effect)),
                format!("explicitly {}", opposite(c.effect).as_str()),
            ),
            ValueMatch::DoesNotHold => (
                None,
                format!("does not turn it {} (needs {want})", c.effect.as_str()),
            ),
            ValueMatch::Invalid => (
                Some(SwitchState::Unknown),
                format!("not a value the product accepts (expects {want})"),
            ),
        };
        let shown = if matches!(matcher, crate::knowledge::privacy::Matcher::Set) {
            format!("{name} is set")
        } else {
            format!("{name}={value:?}")
        };
        out.push(Said {
            state,
            source: source.clone(),
            detail: format!("{shown}: {verdict}"),
        });
    }
    out
}

fn flag_condition(server: &Server, c: &Condition, flag: &str) -> Said {
    let source = Source::proc(server.pid, "cmdline");
    match flag_value(&server.cmdline, flag) {
        None => Said {
            state: None,
            source,
            detail: format!("{flag} not on the command line"),
        },
        Some(v) if c.values.is_empty() || v.is_some_and(|v| c.values.iter().any(|w| w == v)) => {
            Said {
                state: Some(c.effect),
                source,
                detail: match v {
                    Some(v) if !c.values.is_empty() => {
                        format!("{flag} {v}: turns it {}", c.effect.as_str())
                    }
                    _ => format!("{flag} given: turns it {}", c.effect.as_str()),
                },
            }
        }
        Some(v) => Said {
            state: None,
            source,
            detail: format!(
                "{flag} {}: does not turn it {}",
                v.unwrap_or(""),
                c.effect.as_str()
            ),
        },
    }
}

fn file_condition(c: &Condition, row: Option<&SwitchFile>) -> Said {
    let Some(row) = row else {
        return Said {
            state: Some(SwitchState::Unknown),
            source: Source::note(c.file.join(" | ")),
            detail: "not looked up".into(),
        };
    };
    let key = c
        .json_key
        .as_deref()
        .or(c.ini_key.as_deref())
        .or(c.yaml_key.as_deref())
        .map(|k| format!("{k} = {}", c.value.as_deref().unwrap_or("")));
    let (state, detail) = match &row.state {
        FileState::Absent => (None, "absent".to_string()),
        FileState::Present { matches: None } => (
            Some(c.effect),
            format!("present: turns it {}", c.effect.as_str()),
        ),
        FileState::Present {
            matches: Some(true),
        } => (
            Some(c.effect),
            format!(
                "{}: turns it {}",
                key.unwrap_or_default(),
                c.effect.as_str()
            ),
        ),
        FileState::Present {
            matches: Some(false),
        } => (
            None,
            format!("present, without {}", key.unwrap_or_default()),
        ),
        FileState::Unreadable { reason } => (
            Some(SwitchState::Unknown),
            format!("not readable: {reason}"),
        ),
    };
    Said {
        state,
        source: Source::path(row.path.clone()),
        detail,
    }
}

fn version_condition(server: &Server, sw: &SwitchFacts, c: &Condition, min: &str) -> Said {
    let Some(lib) = sw.library_of(server) else {
        return Said {
            state: None,
            source: Source::note(format!("site directories of pid {}", server.pid)),
            detail: format!(
                "{} not found on the process's path",
                sw.libraries.join(", ")
            ),
        };
    };
    let newer = match (
        pep440::parse_public(&lib.version),
        pep440::parse_public(min),
    ) {
        (Ok(have), Ok(min)) => Some(have >= min),
        _ => None,
    };
    Said {
        state: match newer {
            Some(true) => Some(c.effect),
            Some(false) => None,
            None => Some(SwitchState::Unknown),
        },
        source: Source::path(lib.path.clone()),
        detail: match newer {
            Some(true) => format!(
                "{} {} (≥ {min}): turns it {}",
                lib.name,
                lib.version,
                c.effect.as_str()
            ),
            Some(false) => format!("{} {} (< {min})", lib.name, lib.version),
            None => format!("{} {}: version not comparable", lib.name, lib.version),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::privacy::Privacy;
    use crate::model::testing::server;

    fn with_env(product: &str, env: &[(&str, &str)]) -> Server {
        let mut s = server(100, product);
        s.env_config = crate::model::testing::env_settings(env);
        s
    }

    fn state_of(s: &Server, id: &str, files: &[SwitchFile]) -> SwitchState {
        let p = Privacy::embedded().expect("privacy.toml");
        let sw = p.switches.iter().find(|x| x.id == id).expect("switch");
        resolve(s, sw, files, String::new()).state
    }

    #[test]
    fn gradio_analytics_is_off_for_anything_but_exact_true() {
        assert_eq!(
            state_of(&with_env("gradio", &[]), "gradio-analytics", &[]),
            SwitchState::On
        );
        for v in ["False", "false", "0", "true"] {
            let s = with_env("gradio", &[("GRADIO_ANALYTICS_ENABLED", v)]);
            assert_eq!(
                state_of(&s, "gradio-analytics", &[]),
                SwitchState::Off,
                "{v}"
            );
        }
        let s = with_env("gradio", &[("GRADIO_ANALYTICS_ENABLED", "True")]);
        assert_eq!(state_of(&s, "gradio-analytics", &[]), SwitchState::On);
        // text-generation-webui forces it off whatever its environment says.
        let s = with_env(
            "text_generation_webui",
            &[("GRADIO_ANALYTICS_ENABLED", "True")],
        );
        assert_eq!(state_of(&s, "gradio-analytics", &[]), SwitchState::Off);
    }

    /// A switch that lives in a library concerns a process only when that
    /// library is in its environment; an environment not read (or read in
    /// part) proves nothing either way.
    #[test]
    fn a_library_switch_needs_its_library() {
        use crate::model::components::{Ecosystem, PythonEnv, SiteDir};
        let p = Privacy::embedded().expect("privacy.toml");
        let sw = p
            .switches
            .iter()
            .find(|x| x.id == "gradio-analytics")
            .expect("switch");
        let env = |state: &str| PythonEnv {
            executable: "/v/bin/python3".into(),
            real_executable: None,
            version: Some("3.11".into()),
            venv: Some("/v".into()),
            base_prefix: None,
            system_site_packages: false,
            conda: false,
            site_dirs: vec![SiteDir {
                path: "/v/lib/python3.11/site-packages".into(),
                why: "venv".into(),
                state: state.into(),
                distributions: 1,
            }],
        };
        let mut s = server(7, "gradio");
        assert!(
            sw.applies(&s).is_some(),
            "environment not read: the product decides"
        );
        s.runtime.python = Some(env("found"));
        s.components = vec![crate::model::advisory::component(
            Ecosystem::PyPI,
            "fastapi",
            "0.115.0",
            "/v/lib/python3.11/site-packages",
        )];
        assert!(
            sw.applies(&s).is_none(),
            "no gradio in the environment read"
        );
        s.runtime.python = Some(env("unreadable"));
        assert!(sw.applies(&s).is_some(), "read in part: it may be there");
        s.runtime.python = Some(env("found"));
        s.components.push(crate::model::advisory::component(
            Ecosystem::PyPI,
            "gradio",
            "5.0.0",
            "/v/lib/python3.11/site-packages",
        ));
        assert!(sw.applies(&s).is_some());
    }

    #[test]
    fn vllm_do_not_track_first_set_wins() {
        let s = with_env("vllm", &[("VLLM_DO_NOT_TRACK", "0"), ("DO_NOT_TRACK", "1")]);
        let files = [SwitchFile {
            pid: 100,
            switch: "vllm-usage-stats".into(),
            path: "/root/.config/vllm/do_not_track".into(),
            state: FileState::Absent,
        }];
        assert_eq!(state_of(&s, "vllm-usage-stats", &files), SwitchState::On);
        let s = with_env("vllm", &[("DO_NOT_TRACK", "1")]);
        assert_eq!(state_of(&s, "vllm-usage-stats", &files), SwitchState::Off);
        let present = [SwitchFile {
            state: FileState::Present { matches: None },
            ..files[0].clone()
        }];
        assert_eq!(
            state_of(&with_env("vllm", &[]), "vllm-usage-stats", &present),
            SwitchState::Off
        );
    }

    #[test]
    fn unreadable_environment_is_unknown_not_a_pass() {
        let mut s = with_env("vllm", &[]);
        s.env_unreadable = Some("permission denied".into());
        let files = [SwitchFile {
            pid: 100,
            switch: "vllm-usage-stats".into(),
            path: "~/.config/vllm/do_not_track".into(),
            state: FileState::Unreadable {
                reason: "permission denied".into(),
            },
        }];
        assert_eq!(
            state_of(&s, "vllm-usage-stats", &files),
            SwitchState::Unknown
        );
    }

    #[test]
    fn ray_rejects_values_other_than_zero_and_one() {
        let s = with_env("ray_serve", &[("RAY_USAGE_STATS_ENABLED", "false")]);
        assert_eq!(state_of(&s, "ray-usage-stats", &[]), SwitchState::Unknown);
        let s = with_env("ray_serve", &[("RAY_USAGE_STATS_ENABLED", "0")]);
        assert_eq!(state_of(&s, "ray-usage-stats", &[]), SwitchState::Off);
    }

    #[test]
    fn flags_turn_switches_on_and_off() {
        let mut s = with_env("llama_server", &[]);
        s.cmdline = vec!["llama-server".into(), "-hf".into(), "org/model".into()];
        assert_eq!(state_of(&s, "llama-cpp-hub-download", &[]), SwitchState::On);
        s.cmdline = vec!["llama-server".into(), "-m".into(), "/m.gguf".into()];
        assert_eq!(
            state_of(&s, "llama-cpp-hub-download", &[]),
            SwitchState::Off
        );
        let mut t = with_env("tgi", &[]);
        t.cmdline = vec![
            "text-generation-launcher".into(),
            "--usage-stats=off".into(),
        ];
        t.confinement.container = Some(crate::model::ContainerInfo {
            runtime: "docker".into(),
            id: None,
            cgroup: "/docker/abc".into(),
        });
        assert_eq!(state_of(&t, "tgi-usage-stats", &[]), SwitchState::Off);
        t.cmdline.pop();
        assert_eq!(state_of(&t, "tgi-usage-stats", &[]), SwitchState::On);
    }
}
