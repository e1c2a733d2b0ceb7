//! Is authentication configured for a server? Read from its command line and the
//! names of its environment variables, against the product's known switches.

use crate::knowledge::Signature;
use crate::knowledge::signatures::AuthModel;
use crate::model::{AuthConfig, AuthState, Evidence, Source};

fn flag_present(argv: &[String], flag: &str) -> bool {
    argv.iter().any(|a| {
        a == flag
            || a.strip_prefix(flag)
                .is_some_and(|rest| rest.starts_with('='))
    })
}

/// What one server's auth is read from.
struct Cx<'a> {
    sig: &'a Signature,
    pid: u32,
    argv: &'a [String],
    env_names: &'a Result<Vec<String>, String>,
    /// Home directory of the process owner, for `~/` auth files.
    home: Option<&'a str>,
}

/// One check: the state when it can tell (its evidence added either way).
type Check = fn(&Cx, &mut Vec<Evidence>) -> Option<AuthState>;

/// `env_names`: `Err(reason)` when /proc/PID/environ was unreadable. The checks
/// run in order; the first that can tell decides, with the evidence of all
/// that ran.
pub fn auth_config(
    sig: &Signature,
    pid: u32,
    argv: &[String],
    env_names: &Result<Vec<String>, String>,
    home: Option<&str>,
) -> AuthConfig {
    let cx = Cx {
        sig,
        pid,
        argv,
        env_names,
        home,
    };
    let checks: [Check; 6] = [
        by_product, by_flags, by_env, by_default, by_config, by_files,
    ];
    let mut evidence = Vec::new();
    let state = checks
        .iter()
        .find_map(|check| check(&cx, &mut evidence))
        .unwrap_or(AuthState::NotConfigured);
    AuthConfig {
        state,
        evidence,
        self_grant: Vec::new(),
    }
}

/// Settings of the server that let anyone in (an allowlisted variable's value):
/// noted on `auth` with their evidence, whatever its state.
pub fn self_grants(
    sig: &Signature,
    pid: u32,
    env_config: &[crate::model::EnvSetting],
    auth: &mut AuthConfig,
) {
    for g in &sig.self_grant_env {
        if let Some(set) = env_config
            .iter()
            .find(|e| e.name == g.env && g.matches.is_match(e.value.trim()))
        {
            auth.evidence.push(Evidence::new(
                Source::proc(pid, "environ"),
                format!("{}={}: {}", set.name, set.value, g.means),
            ));
            auth.self_grant.push(g.means.clone());
        }
    }
}

/// Products without server-side auth, and those whose switches are not verified.
fn by_product(cx: &Cx, evidence: &mut Vec<Evidence>) -> Option<AuthState> {
    if cx.sig.auth == AuthModel::None {
        evidence.push(Evidence::new(
            Source::asset("assets/signatures.toml", None),
            format!(
                "{} has no server-side authentication (source status: {}; {})",
                cx.sig.name,
                cx.sig.auth_status,
                cx.sig.sources.join(", ")
            ),
        ));
        return Some(AuthState::Unsupported);
    }
    if cx.sig.auth_status == "unverified" {
        evidence.push(Evidence::new(
            Source::asset("assets/signatures.toml", None),
            format!(
                "the auth switches of {} are not verified in its source; not guessing",
                cx.sig.name
            ),
        ));
        return Some(AuthState::Unknown);
    }
    if cx.sig.auth == AuthModel::Unknown {
        evidence.push(Evidence::new(
            Source::asset("assets/signatures.toml", None),
            format!(
                "{} leaves authentication to what runs on it ({}): only an answer of the listener can tell",
                cx.sig.name,
                cx.sig.sources.join(", ")
            ),
        ));
        return Some(AuthState::Unknown);
    }
    None
}

/// An auth flag on the command line; or none of them (noted).
fn by_flags(cx: &Cx, evidence: &mut Vec<Evidence>) -> Option<AuthState> {
    let pid = cx.pid;
    let flags: Vec<&String> = cx
        .sig
        .auth_flags
        .iter()
        .filter(|f| flag_present(cx.argv, f))
        .collect();
    if !flags.is_empty() {
        evidence.push(Evidence::new(
            Source::proc(pid, "cmdline"),
            format!(
                "{} given",
                flags
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
        return Some(AuthState::Configured);
    }
    if !cx.sig.auth_flags.is_empty() {
        evidence.push(Evidence::new(
            Source::proc(pid, "cmdline"),
            format!("none of {} given", cx.sig.auth_flags.join(", ")),
        ));
    }
    None
}

/// An auth variable set (by name); an unreadable environment is unknown, never "off".
fn by_env(cx: &Cx, evidence: &mut Vec<Evidence>) -> Option<AuthState> {
    let pid = cx.pid;
    if !cx.sig.auth_env.is_empty() {
        match cx.env_names {
            Ok(names) => {
                let set: Vec<&String> = cx
                    .sig
                    .auth_env
                    .iter()
                    .filter(|v| names.iter().any(|n| n == *v))
                    .collect();
                if !set.is_empty() {
                    evidence.push(Evidence::new(
                        Source::proc(pid, "environ"),
                        format!(
                            "{} set (value not kept)",
                            set.iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                    return Some(AuthState::Configured);
                }
                evidence.push(Evidence::new(
                    Source::proc(pid, "environ"),
                    format!("none of {} set", cx.sig.auth_env.join(", ")),
                ));
            }
            Err(reason) => {
                evidence.push(Evidence::new(
                    Source::proc(pid, "environ"),
                    format!(
                        "unreadable ({reason}): {} may be set",
                        cx.sig.auth_env.join(", ")
                    ),
                ));
                return Some(AuthState::Unknown);
            }
        }
    }
    None
}

/// Auth on by default, unless a secret flag is given an empty value.
fn by_default(cx: &Cx, evidence: &mut Vec<Evidence>) -> Option<AuthState> {
    let pid = cx.pid;
    if cx.sig.auth == AuthModel::DefaultOn {
        let off: Vec<&String> = cx
            .sig
            .auth_off_flags
            .iter()
            .filter(|f| flag_present(cx.argv, f))
            .collect();
        if !off.is_empty() {
            evidence.push(Evidence::new(
                Source::proc(pid, "cmdline"),
                format!(
                    "{} given: authentication is off",
                    off.iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            return Some(AuthState::NotConfigured);
        }
        // Default-on auth that is switched off with an empty secret (Jupyter's
        // --IdentityProvider.token=): redaction leaves empty values visible.
        let emptied: Vec<&String> = cx
            .sig
            .secret_flags
            .iter()
            .filter(|f| {
                cx.argv.iter().enumerate().any(|(i, a)| {
                    a.strip_prefix(f.as_str()) == Some("=")
                        || (a == *f && cx.argv.get(i + 1).is_some_and(|n| n.is_empty()))
                })
            })
            .collect();
        if !emptied.is_empty() {
            evidence.push(Evidence::new(
                Source::proc(pid, "cmdline"),
                format!(
                    "{} set to an empty value: authentication is off",
                    emptied
                        .iter()
                        .map(|f| f.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
            return Some(AuthState::NotConfigured);
        }
        evidence.push(Evidence::new(
            Source::asset("assets/signatures.toml", None),
            format!("{} enforces authentication by default", cx.sig.name),
        ));
        return Some(AuthState::Configured);
    }
    None
}

/// Bytes of a config file read for its auth key.
const MAX_CONFIG: u64 = 1 << 20;

/// The config file named on the command line (or the one the product reads
/// without the flag), read for the key that switches auth on: set (a value, or a reference to a variable that is set) is
/// configured, absent is not; the value is never kept.
fn by_config(cx: &Cx, evidence: &mut Vec<Evidence>) -> Option<AuthState> {
    use std::io::Read;
    let ac = cx.sig.auth_config.as_ref()?;
    let file = crate::model::argv::value(cx.argv, &ac.flag).or(ac.default_file.as_deref())?;
    let seen = match file.strip_prefix('/') {
        Some(abs) => format!("/proc/{}/root/{abs}", cx.pid),
        None => format!("/proc/{}/cwd/{file}", cx.pid),
    };
    let source = || Source::Config {
        file: Some(file.to_string()),
        key: ac.key.clone(),
        line: None,
    };
    let key_at = source();
    let unknown = |why: String, evidence: &mut Vec<Evidence>| {
        evidence.push(Evidence::new(
            source(),
            format!("not read ({why}): it may switch auth on"),
        ));
        Some(AuthState::Unknown)
    };
    let mut bytes = Vec::new();
    if let Err(e) =
        std::fs::File::open(&seen).and_then(|f| f.take(MAX_CONFIG + 1).read_to_end(&mut bytes))
    {
        return unknown(crate::collect::procs::describe_io(&e), evidence);
    }
    if bytes.len() as u64 > MAX_CONFIG {
        return unknown(format!("larger than {MAX_CONFIG} bytes"), evidence);
    }
    let text = String::from_utf8_lossy(&bytes);
    let docs = match yaml_rust2::YamlLoader::load_from_str(&text) {
        Ok(d) => d,
        Err(e) => return unknown(format!("not valid YAML: {e}"), evidence),
    };
    let mut node = docs.first().cloned().unwrap_or(yaml_rust2::Yaml::Null);
    for part in ac.key.split('.') {
        node = node[part].clone();
    }
    let set = match &node {
        yaml_rust2::Yaml::String(v) if !v.trim().is_empty() => {
            match ac
                .env_reference_prefix
                .as_deref()
                .and_then(|p| v.strip_prefix(p))
            {
                // A reference: set only when the variable it names is.
                Some(var) => match cx.env_names {
                    Ok(names) => names.iter().any(|n| n == var),
                    Err(reason) => {
                        return unknown(format!("{var} named, environment {reason}"), evidence);
                    }
                },
                None => true,
            }
        }
        yaml_rust2::Yaml::Integer(_) => true,
        _ => false,
    };
    drop(bytes);
    if set {
        evidence.push(Evidence::new(key_at, "set (value not kept)"));
        Some(AuthState::Configured)
    } else {
        evidence.push(Evidence::new(key_at, "not set"));
        Some(AuthState::NotConfigured)
    }
}

/// Config files that can switch auth on. Their contents are not parsed: one
/// that exists leaves auth unknown. When every such file has a fixed place
/// (absolute, or in the owner's home) and none exists, none can switch auth on.
fn by_files(cx: &Cx, evidence: &mut Vec<Evidence>) -> Option<AuthState> {
    // A file named by a variable (`$CONFIG_FILE`) only matters when the variable is
    // set; the environment was readable to get here.
    let names = cx.env_names.as_ref().map(Vec::as_slice).unwrap_or(&[]);
    let relevant: Vec<&String> = cx
        .sig
        .auth_files
        .iter()
        .filter(|f| match f.strip_prefix('$') {
            Some(var) => {
                let var = var.split('/').next().unwrap_or(var);
                names.iter().any(|n| n == var)
            }
            None => true,
        })
        .collect();
    if relevant.is_empty() {
        return None;
    }
    let listed = || {
        relevant
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Where each file is, as the process sees it: None when it cannot be told.
    let placed: Vec<Option<(String, std::path::PathBuf)>> = relevant
        .iter()
        .map(|f| {
            let inside = if let Some(rest) = f.strip_prefix("~/") {
                format!("{}/{rest}", cx.home?.trim_end_matches('/'))
            } else if f.starts_with('/') {
                f.to_string()
            } else {
                return None;
            };
            let seen = crate::collect::versions::python::resolve_in_root(
                std::path::Path::new(&format!("/proc/{}/root", cx.pid)),
                std::path::Path::new(&inside),
            );
            Some((inside, seen))
        })
        .collect();
    if placed.iter().all(Option::is_some) {
        let mut present = Vec::new();
        for (inside, seen) in placed.into_iter().flatten() {
            match std::fs::symlink_metadata(&seen) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Ok(_) => present.push(inside),
                Err(e) => {
                    evidence.push(Evidence::new(
                        Source::path(inside),
                        format!("cannot tell whether it exists ({e}): it may enable auth"),
                    ));
                    return Some(AuthState::Unknown);
                }
            }
        }
        if present.is_empty() {
            evidence.push(Evidence::new(
                Source::note(listed()),
                "none of these files exists: none can enable auth",
            ));
            return None;
        }
        evidence.push(Evidence::new(
            Source::note(present.join(", ")),
            "exists and can enable auth (not parsed)",
        ));
        return Some(AuthState::Unknown);
    }
    evidence.push(Evidence::new(
        Source::note(listed()),
        "config files that can enable auth were not read",
    ));
    Some(AuthState::Unknown)
}

/// Defaults that let anyone in on the release the server runs: the variable is
/// not set (its environment was read) and the distribution that carries the
/// default is older than the release that changed it. Needs the server's
/// components (collect/versions); a release not read says nothing.
pub fn self_grant_defaults(sig: &Signature, server: &mut crate::model::Server) {
    if server.env_unreadable.is_some() {
        return;
    }
    for d in &sig.self_grant_default {
        if server.env_config.iter().any(|e| e.name == d.env) {
            continue;
        }
        let Ok(before) = d.before.parse::<pep440_rs::Version>() else {
            continue;
        };
        let Some((c, _)) = server
            .components
            .iter()
            .filter(|c| !c.shadowed && d.dists.contains(&c.key))
            .find_map(|c| Some((c, c.version.parse::<pep440_rs::Version>().ok()?)))
            .filter(|(_, v)| *v < before)
        else {
            continue;
        };
        server.auth.evidence.push(Evidence::new(
            Source::proc(server.pid, "environ"),
            format!("{} not set", d.env),
        ));
        server.auth.evidence.push(Evidence::new(
            Source::from_v1(&c.path),
            format!(
                "{} {} (before {}): {}",
                c.name, c.version, d.before, d.means
            ),
        ));
        server.auth.self_grant.push(d.means.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Signatures;

    fn state(product: &str, argv: &str, env: Result<Vec<String>, String>) -> AuthState {
        let sigs = Signatures::embedded().expect("signatures");
        let sig = sigs.get(product).expect("product");
        let argv: Vec<String> = argv.split(' ').map(String::from).collect();
        auth_config(sig, 1, &argv, &env, None).state
    }

    /// `langgraph dev` reads langgraph.json from its working directory when no
    /// --config is given: its `auth.path` is auth on, its absence is off.
    #[test]
    fn a_default_config_file_is_read_from_the_process_working_directory() {
        let sigs = Signatures::embedded().expect("signatures");
        let sig = sigs.get("langgraph_dev").expect("langgraph_dev");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .current_dir(dir.path())
            .spawn()
            .expect("sleep");
        let argv: Vec<String> = ["langgraph", "dev", "--host", "0.0.0.0"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let run = |text: &str| {
            std::fs::write(dir.path().join("langgraph.json"), text).expect("write");
            auth_config(sig, child.id(), &argv, &Ok(vec![]), None).state
        };
        let open = run(r#"{"dependencies": ["."], "graphs": {"agent": "./agent.py:graph"}}"#);
        let guarded = run(
            r#"{"dependencies": ["."], "graphs": {"agent": "./agent.py:graph"}, "auth": {"path": "./auth.py:auth"}}"#,
        );
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(open, AuthState::NotConfigured);
        assert_eq!(guarded, AuthState::Configured);
    }

    /// Langflow before 1.13 signs every visitor in unless LANGFLOW_AUTO_LOGIN
    /// says otherwise; from 1.13 it does not. Read from the release the
    /// server's own environment holds.
    #[test]
    fn a_default_that_lets_anyone_in_follows_the_release() {
        use crate::model::EnvSetting;
        let sigs = Signatures::embedded().expect("signatures");
        let sig = sigs.get("langflow").expect("langflow");
        let judge = |version: &str, env: Vec<EnvSetting>, readable: bool| {
            let mut s = crate::model::testing::server(9, "langflow");
            s.components = vec![crate::model::testing::pypi_component(
                "langflow-base",
                version,
            )];
            s.env_config = env;
            s.env_unreadable = (!readable).then(|| "permission denied".to_string());
            self_grant_defaults(sig, &mut s);
            s.auth.self_grant.len()
        };
        let off = || {
            vec![EnvSetting {
                name: "LANGFLOW_AUTO_LOGIN".into(),
                value: "false".into(),
            }]
        };
        assert_eq!(judge("1.12.8", vec![], true), 1);
        assert_eq!(judge("0.6.0", vec![], true), 1);
        assert_eq!(
            judge("1.13.0.dev3", vec![], true),
            1,
            "dev builds default on"
        );
        assert_eq!(judge("1.13.0", vec![], true), 0);
        assert_eq!(judge("1.12.8", off(), true), 0);
        assert_eq!(judge("1.12.8", vec![], false), 0, "unread is not unset");
    }

    /// LiteLLM's master key in the config file --config names: set, a
    /// reference to a variable (set or not), absent; never its value.
    #[test]
    fn a_config_key_switches_auth_on_by_presence() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("config.yaml");
        let sigs = Signatures::embedded().expect("signatures");
        let sig = sigs.get("litellm").expect("litellm");
        let run = |text: &str, env: Vec<String>| {
            std::fs::write(&cfg, text).expect("write");
            let argv: Vec<String> = ["litellm", "--config", cfg.to_str().expect("utf-8")]
                .iter()
                .map(|s| s.to_string())
                .collect();
            auth_config(sig, std::process::id(), &argv, &Ok(env), None)
        };
        let set = run("general_settings:\n  master_key: sk-secret-value\n", vec![]);
        assert_eq!(set.state, AuthState::Configured);
        assert!(!format!("{:?}", set.evidence).contains("sk-secret-value"));
        let reference = "general_settings:\n  master_key: os.environ/MK\n";
        assert_eq!(run(reference, vec![]).state, AuthState::NotConfigured);
        assert_eq!(
            run(reference, vec!["MK".into()]).state,
            AuthState::Configured
        );
        assert_eq!(
            run("model_list: []\n", vec![]).state,
            AuthState::NotConfigured
        );
        assert_eq!(run("model_list: [\n", vec![]).state, AuthState::Unknown);
    }

    #[test]
    fn flags_env_defaults_and_empty_secrets() {
        let none = || Ok(Vec::new());
        assert_eq!(
            state(
                "marimo_edit",
                "/v/bin/python3 /v/bin/marimo edit nb.py",
                none()
            ),
            AuthState::Configured
        );
        assert_eq!(
            state(
                "marimo_edit",
                "/v/bin/python3 /v/bin/marimo edit --no-token nb.py",
                none()
            ),
            AuthState::NotConfigured
        );
        assert_eq!(
            state("llama_server", "llama-server --api-key <redacted>", none()),
            AuthState::Configured
        );
        assert_eq!(
            state(
                "llama_server",
                "llama-server --port 1",
                Ok(vec!["LLAMA_API_KEY".into()])
            ),
            AuthState::Configured
        );
        assert_eq!(
            state("llama_server", "llama-server --port 1", none()),
            AuthState::NotConfigured
        );
        assert_eq!(
            state(
                "llama_server",
                "llama-server",
                Err("permission denied".into())
            ),
            AuthState::Unknown
        );
        assert_eq!(
            state("ollama", "ollama serve", none()),
            AuthState::Unsupported
        );
        assert_eq!(
            state("jupyter", "jupyter-lab --ip 0.0.0.0", none()),
            AuthState::Configured
        );
        assert_eq!(
            state("jupyter", "jupyter-lab --IdentityProvider.token=", none()),
            AuthState::NotConfigured
        );
        assert_eq!(
            state(
                "jupyter",
                "jupyter-lab --IdentityProvider.token=<redacted>",
                none()
            ),
            AuthState::Configured
        );
    }
}
