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
    let checks: [Check; 5] = [by_product, by_flags, by_env, by_default, by_files];
    let mut evidence = Vec::new();
    let state = checks
        .iter()
        .find_map(|check| check(&cx, &mut evidence))
        .unwrap_or(AuthState::NotConfigured);
    AuthConfig { state, evidence }
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
    if cx.sig.auth == AuthModel::Unknown || cx.sig.auth_status == "unverified" {
        evidence.push(Evidence::new(
            Source::asset("assets/signatures.toml", None),
            format!(
                "the auth switches of {} are not verified in its source; not guessing",
                cx.sig.name
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
