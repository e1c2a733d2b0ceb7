//! `assets/privacy.toml`: telemetry and phone-home switches, cloud back-ends,
//! tunnels, agents and prompt logs — what makes a "local" process reach out.

use serde::Deserialize;

use super::signatures::{ProcessFacts, RawRule, Rule, Strength, compile_rules};
use crate::error::Error;
use crate::model::privacy::{ActorKind, SwitchKind, SwitchState};

const EMBEDDED: &str = include_str!("../../assets/privacy.toml");
const ORIGIN: &str = "assets/privacy.toml";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema_version: u32,
    switches: Vec<Switch>,
    cloud_keys: Vec<CloudKey>,
    base_urls: Vec<BaseUrl>,
    engines: Vec<Engine>,
    #[serde(default)]
    stored_settings: Vec<StoredSettings>,
    #[serde(default)]
    config_files: Vec<ConfigFile>,
    tunnel_triggers: Vec<TunnelTrigger>,
    actors: Vec<RawActor>,
    logs: Vec<Log>,
    local_names: LocalNames,
    cloud_hosts: Vec<CloudHost>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalNames {
    pub names: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudHost {
    pub hosts: Vec<String>,
    pub provider: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub id: String,
    pub name: String,
    pub kind: SwitchKind,
    #[serde(default)]
    pub products: Vec<String>,
    #[serde(default)]
    pub libraries: Vec<String>,
    pub default: SwitchState,
    #[serde(default)]
    pub container_only: bool,
    #[serde(default)]
    pub fixed: Vec<Fixed>,
    pub endpoint: String,
    pub remediation: String,
    pub status: String,
    pub source: String,
    /// What the product still sends with the switch off (a one-time report, a
    /// lookup of its own address), when its source shows any.
    #[serde(default)]
    pub still_sends: Option<String>,
    #[serde(default)]
    pub when: Vec<Condition>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixed {
    pub product: String,
    pub state: SwitchState,
    pub why: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub first_set: bool,
    #[serde(rename = "match")]
    pub matcher: Option<Matcher>,
    #[serde(default)]
    pub values: Vec<String>,
    pub flag: Option<String>,
    #[serde(default)]
    pub file: Vec<String>,
    pub json_key: Option<String>,
    pub ini_key: Option<String>,
    /// Dotted key of a YAML file (`telemetry_disabled`, `a.b`).
    pub yaml_key: Option<String>,
    pub value: Option<String>,
    pub version_at_least: Option<String>,
    #[serde(default)]
    pub only_for: Vec<String>,
    pub effect: SwitchState,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Matcher {
    Exact,
    Ci,
    TruthyHf,
    #[serde(rename = "not-True")]
    NotTrue,
    PydanticFalse,
    GoTrue,
    ZeroOrOne,
    Set,
}

impl Switch {
    /// Why the switch concerns this server: its product, or a library on its path
    /// (`None`: it does not). A switch that lives in a library needs that library:
    /// when the process's Python environment was read and none of the switch's
    /// libraries is in it, nothing in the process can send what the switch governs.
    pub fn applies(&self, server: &crate::model::Server) -> Option<String> {
        // Read whole: an unreadable site directory could hold the library.
        let env_read = server
            .runtime
            .python
            .as_ref()
            .is_some_and(|p| p.site_dirs.iter().all(|d| d.state != "unreadable"));
        if !self.libraries.is_empty() && env_read && self.library_of(server).is_none() {
            return None;
        }
        if self.products.contains(&server.product_id) {
            return Some(format!(
                "the product ({}) is listed for this switch",
                server.product_id
            ));
        }
        let lib = self.library_of(server)?;
        Some(format!(
            "{} {} is on the process's path ({})",
            lib.name, lib.version, lib.path
        ))
    }

    /// The first of the switch's libraries among the server's Python distributions.
    pub fn library_of<'s>(
        &self,
        server: &'s crate::model::Server,
    ) -> Option<&'s crate::model::components::Component> {
        use crate::model::components::Ecosystem;
        self.libraries.iter().find_map(|lib| {
            server
                .components
                .iter()
                .find(|c| c.ecosystem == Ecosystem::PyPI && c.key == *lib && !c.shadowed)
        })
    }
}

/// What a condition's value match says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueMatch {
    Holds,
    /// Set, and explicitly the opposite.
    Opposite,
    DoesNotHold,
    /// A value the product itself would reject.
    Invalid,
}

impl Matcher {
    pub fn test(self, value: &str, values: &[String]) -> ValueMatch {
        let b = |x: bool| {
            if x {
                ValueMatch::Holds
            } else {
                ValueMatch::DoesNotHold
            }
        };
        match self {
            Matcher::Exact => b(values.iter().any(|v| v == value)),
            Matcher::Ci => b(values.iter().any(|v| v.eq_ignore_ascii_case(value))),
            Matcher::TruthyHf => b(["1", "ON", "YES", "TRUE"]
                .iter()
                .any(|v| v.eq_ignore_ascii_case(value))),
            Matcher::NotTrue => {
                if value == "True" {
                    ValueMatch::Opposite
                } else {
                    ValueMatch::Holds
                }
            }
            Matcher::PydanticFalse => b(["0", "off", "f", "false", "n", "no"]
                .iter()
                .any(|v| v.eq_ignore_ascii_case(value.trim()))),
            Matcher::GoTrue => match value {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => ValueMatch::Holds,
                "0" | "f" | "F" | "FALSE" | "false" | "False" => ValueMatch::Opposite,
                _ => ValueMatch::Invalid,
            },
            Matcher::ZeroOrOne => match value {
                "0" => ValueMatch::Holds,
                "1" => ValueMatch::Opposite,
                _ => ValueMatch::Invalid,
            },
            Matcher::Set => b(!value.is_empty()),
        }
    }

    pub fn describe(self, values: &[String]) -> String {
        match self {
            Matcher::Exact => format!("exactly {}", values.join(" or ")),
            Matcher::Ci => format!("{} (any case)", values.join(" or ")),
            Matcher::TruthyHf => "1, ON, YES or TRUE (any case)".into(),
            Matcher::NotTrue => "anything but the exact string True".into(),
            Matcher::PydanticFalse => "0, off, f, false, n or no".into(),
            Matcher::GoTrue => "1, t or true (Go ParseBool)".into(),
            Matcher::ZeroOrOne => "0 (only 0 and 1 are valid)".into(),
            Matcher::Set => "set to any value".into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudKey {
    pub env: Vec<String>,
    pub provider: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseUrl {
    pub env: Vec<String>,
    pub separator: Option<String>,
    pub provider: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    pub products: Vec<String>,
    pub env: String,
    pub what: String,
    pub remote: Vec<String>,
    pub to: String,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredSettings {
    pub products: Vec<String>,
    pub what: String,
    pub unless_env: Option<EnvValues>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvValues {
    pub env: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub products: Vec<String>,
    pub format: String,
    pub flag: Option<String>,
    pub env: Option<String>,
    #[serde(default)]
    pub local_providers: Vec<String>,
    pub source: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TunnelTrigger {
    pub products: Vec<String>,
    pub flag: Option<String>,
    pub env: Option<String>,
    #[serde(default)]
    pub values: Vec<String>,
    pub target: String,
    pub status: String,
    pub source: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawActor {
    id: String,
    name: String,
    kind: ActorKind,
    target: String,
    /// Talks only to its vendor's cloud API (no local model option).
    #[serde(default)]
    cloud_only: bool,
    status: String,
    source: String,
    #[serde(rename = "match")]
    rules: Vec<RawRule>,
}

pub struct ActorSignature {
    pub id: String,
    pub name: String,
    pub kind: ActorKind,
    pub target: String,
    pub cloud_only: bool,
    pub status: String,
    pub source: String,
    rules: Vec<Rule>,
}

impl ActorSignature {
    /// Why the process matches, if it does (any rule).
    pub fn matches(&self, p: &ProcessFacts<'_>) -> Option<String> {
        self.rules
            .iter()
            .filter(|r| r.strength == Strength::Strong)
            .find_map(|r| r.matches(p))
    }
}

/// One place of a log: exactly one of the keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    pub flag: Option<String>,
    pub env: Option<String>,
    pub join: Option<String>,
    pub cwd: Option<String>,
    pub home: Option<String>,
    pub container: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    File,
    Dir,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Log {
    pub id: String,
    pub products: Vec<String>,
    pub holds: String,
    pub kind: LogKind,
    #[serde(default)]
    pub first: bool,
    pub locations: Vec<Location>,
    pub status: String,
    pub source: String,
}

pub struct Privacy {
    pub switches: Vec<Switch>,
    pub cloud_keys: Vec<CloudKey>,
    pub base_urls: Vec<BaseUrl>,
    pub engines: Vec<Engine>,
    pub stored_settings: Vec<StoredSettings>,
    pub config_files: Vec<ConfigFile>,
    pub tunnel_triggers: Vec<TunnelTrigger>,
    pub actors: Vec<ActorSignature>,
    pub logs: Vec<Log>,
    pub local_names: LocalNames,
    pub cloud_hosts: Vec<CloudHost>,
}

impl Privacy {
    pub fn embedded() -> Result<Self, Error> {
        Self::parse(EMBEDDED, ORIGIN)
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        let bad = |message: String| Error::Asset {
            path: origin.to_string(),
            message,
        };
        let file: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        if file.schema_version != 1 {
            return Err(bad(format!(
                "unsupported schema_version {}",
                file.schema_version
            )));
        }
        for s in &file.switches {
            if s.products.is_empty() && s.libraries.is_empty() {
                return Err(bad(format!("switch {:?}: no products or libraries", s.id)));
            }
            for c in &s.when {
                let kinds = [
                    !c.env.is_empty(),
                    c.flag.is_some(),
                    !c.file.is_empty(),
                    c.version_at_least.is_some(),
                ];
                if kinds.iter().filter(|k| **k).count() != 1 {
                    return Err(bad(format!(
                        "switch {:?}: each condition needs exactly one of env, flag, file, version_at_least",
                        s.id
                    )));
                }
                if !c.env.is_empty() && c.matcher.is_none() {
                    return Err(bad(format!(
                        "switch {:?}: env condition without match",
                        s.id
                    )));
                }
                if c.effect == SwitchState::Unknown {
                    return Err(bad(format!("switch {:?}: effect must be on or off", s.id)));
                }
            }
        }
        for l in &file.logs {
            for loc in &l.locations {
                let n = [
                    loc.flag.is_some(),
                    loc.env.is_some(),
                    loc.cwd.is_some(),
                    loc.home.is_some(),
                    loc.container.is_some(),
                ]
                .iter()
                .filter(|k| **k)
                .count();
                if n != 1 {
                    return Err(bad(format!(
                        "log {:?}: a location needs exactly one of flag, env, cwd, home, container",
                        l.id
                    )));
                }
            }
        }
        let mut actors = Vec::new();
        for a in file.actors {
            let rules =
                compile_rules(&a.rules).map_err(|m| bad(format!("actor {:?}: {m}", a.id)))?;
            actors.push(ActorSignature {
                id: a.id,
                name: a.name,
                kind: a.kind,
                target: a.target,
                cloud_only: a.cloud_only,
                status: a.status,
                source: a.source,
                rules,
            });
        }
        Ok(Privacy {
            switches: file.switches,
            cloud_keys: file.cloud_keys,
            base_urls: file.base_urls,
            engines: file.engines,
            stored_settings: file.stored_settings,
            config_files: file.config_files,
            tunnel_triggers: file.tunnel_triggers,
            actors,
            logs: file.logs,
            local_names: file.local_names,
            cloud_hosts: file.cloud_hosts,
        })
    }

    /// The cloud provider whose API a host name belongs to (suffix on a dot boundary).
    pub fn cloud_host(&self, host: &str) -> Option<&CloudHost> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.cloud_hosts.iter().find(|c| {
            c.hosts.iter().any(|h| {
                host == *h
                    || host
                        .strip_suffix(h.as_str())
                        .is_some_and(|r| r.ends_with('.'))
            })
        })
    }

    pub fn actor(&self, id: &str) -> Option<&ActorSignature> {
        self.actors.iter().find(|a| a.id == id)
    }

    pub fn is_local_name(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host.ends_with(".localhost") || self.local_names.names.contains(&host)
    }

    /// Variables whose values the privacy rules need (plain configuration: the
    /// collector still refuses any secret-looking name).
    pub fn env_value_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.switches {
            for c in &s.when {
                out.extend(c.env.iter().cloned());
                for f in &c.file {
                    out.extend(path_vars(f));
                }
            }
        }
        for b in &self.base_urls {
            out.extend(b.env.iter().cloned());
        }
        for e in &self.engines {
            out.push(e.env.clone());
        }
        for s in &self.stored_settings {
            out.extend(s.unless_env.iter().map(|u| u.env.clone()));
        }
        for c in &self.config_files {
            out.extend(c.env.iter().cloned());
        }
        for t in &self.tunnel_triggers {
            out.extend(t.env.iter().cloned());
        }
        for l in &self.logs {
            out.extend(l.locations.iter().filter_map(|l| l.env.clone()));
        }
        out.sort();
        out.dedup();
        out
    }
}

/// A path template (`~/.config/x`, `$VAR/x`) made concrete, or `None` when a
/// variable it names is not set (the product then checks another one).
pub fn resolve_path(
    template: &str,
    home: Option<&str>,
    var: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    let mut parts = Vec::new();
    for (i, c) in template.split('/').enumerate() {
        if i == 0 && c == "~" {
            parts.push(home?.trim_end_matches('/').to_string());
        } else if let Some(name) = c.strip_prefix('$') {
            parts.push(var(name)?.trim_end_matches('/').to_string());
        } else {
            parts.push(c.to_string());
        }
    }
    Some(parts.join("/"))
}

/// `$NAME` references in a path template.
pub fn path_vars(template: &str) -> Vec<String> {
    template
        .split('/')
        .filter_map(|c| c.strip_prefix('$'))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_privacy_knowledge_loads() {
        let p = Privacy::embedded().expect("assets/privacy.toml parses");
        assert!(p.switches.iter().any(|s| s.id == "gradio-analytics"));
        assert!(p.actors.iter().any(|a| a.kind == ActorKind::Tunnel));
        let names = p.env_value_names();
        for n in [
            "GRADIO_ANALYTICS_ENABLED",
            "HF_HUB_OFFLINE",
            "VLLM_CONFIG_ROOT",
        ] {
            assert!(names.iter().any(|x| x == n), "{n}");
        }
        // Secrets are named in cloud_keys only, never read for their values; and
        // no name whose value is read looks secret (collect/env.rs would drop it
        // anyway, silently turning a switch unknown).
        assert!(!names.iter().any(|n| n.ends_with("_API_KEY")));
        let secretish: Vec<&String> = names
            .iter()
            .filter(|n| crate::model::redact::is_secret_name(n))
            .collect();
        assert!(secretish.is_empty(), "{secretish:?}");
        for k in &p.cloud_keys {
            assert!(
                k.env.iter().all(|n| !names.contains(n)),
                "a credential variable is read for its value: {:?}",
                k.env
            );
        }
    }

    #[test]
    fn matchers_follow_each_products_parser() {
        let none: Vec<String> = Vec::new();
        assert_eq!(Matcher::NotTrue.test("true", &none), ValueMatch::Holds);
        assert_eq!(Matcher::NotTrue.test("True", &none), ValueMatch::Opposite);
        assert_eq!(Matcher::TruthyHf.test("yes", &none), ValueMatch::Holds);
        assert_eq!(Matcher::TruthyHf.test("0", &none), ValueMatch::DoesNotHold);
        assert_eq!(Matcher::ZeroOrOne.test("no", &none), ValueMatch::Invalid);
        assert_eq!(Matcher::GoTrue.test("False", &none), ValueMatch::Opposite);
        let one = vec!["1".to_string()];
        assert_eq!(Matcher::Exact.test("true", &one), ValueMatch::DoesNotHold);
    }

    #[test]
    fn a_condition_with_two_sources_is_refused() {
        let text = r#"schema_version = 1
cloud_keys = []
base_urls = []
engines = []
tunnel_triggers = []
actors = []
logs = []
cloud_hosts = []
[local_names]
names = []
source = ""
[[switches]]
id = "x"
name = "x"
kind = "telemetry"
products = ["p"]
default = "on"
endpoint = "e"
remediation = "r"
status = "src"
source = "s"
[[switches.when]]
env = ["A"]
match = "exact"
flag = "--a"
effect = "off"
"#;
        let err = Privacy::parse(text, "t.toml").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("exactly one")));
    }
}
