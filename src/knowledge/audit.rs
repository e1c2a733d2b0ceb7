//! Configuration checks (`assets/config_audit.toml`) and the allowlist of
//! environment variables whose values may be read.

use regex_lite::Regex;
use serde::Deserialize;

use crate::error::Error;
use crate::model::Severity;

const EMBEDDED: &str = include_str!("../../assets/config_audit.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema_version: u32,
    env_value_allowlist: Vec<String>,
    checks: Vec<RawCheck>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: String,
    products: Vec<String>,
    severity: Severity,
    title: String,
    when: RawWhen,
    why: String,
    remediation: String,
    source: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    flag: Option<String>,
    flag_value: Option<RawFlagValue>,
    argv_matches: Option<String>,
    env_value: Option<RawEnvValue>,
    env_set: Option<String>,
    secret_on_cmdline: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlagValue {
    flag: String,
    matches: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnvValue {
    env: String,
    matches: String,
}

pub struct Check {
    pub id: String,
    pub products: Vec<String>,
    pub severity: Severity,
    pub title: String,
    pub why: String,
    pub remediation: String,
    pub source: String,
    pub when: When,
}

#[derive(Default)]
pub struct When {
    pub flag: Option<String>,
    pub flag_value: Option<(String, Regex)>,
    pub argv_matches: Option<Regex>,
    pub env_value: Option<(String, Regex)>,
    pub env_set: Option<String>,
    pub secret_on_cmdline: bool,
}

pub struct Audit {
    pub env_value_allowlist: Vec<String>,
    pub checks: Vec<Check>,
}

impl Audit {
    pub fn embedded() -> Result<Self, Error> {
        let bad = |message: String| Error::Asset {
            path: "assets/config_audit.toml".into(),
            message,
        };
        let f: File = toml::from_str(EMBEDDED).map_err(|e| bad(e.to_string()))?;
        if f.schema_version != 1 {
            return Err(bad(format!(
                "unsupported schema_version {}",
                f.schema_version
            )));
        }
        let re =
            |id: &str, p: &str| Regex::new(p).map_err(|e| bad(format!("{id}: regex {p:?}: {e}")));
        let mut checks = Vec::new();
        for c in f.checks {
            let w = &c.when;
            let when = When {
                flag: w.flag.clone(),
                flag_value: match &w.flag_value {
                    Some(fv) => Some((fv.flag.clone(), re(&c.id, &fv.matches)?)),
                    None => None,
                },
                argv_matches: match &w.argv_matches {
                    Some(p) => Some(re(&c.id, p)?),
                    None => None,
                },
                env_value: match &w.env_value {
                    Some(ev) => {
                        if !f.env_value_allowlist.contains(&ev.env) {
                            return Err(bad(format!(
                                "{}: {} is not in env_value_allowlist",
                                c.id, ev.env
                            )));
                        }
                        Some((ev.env.clone(), re(&c.id, &ev.matches)?))
                    }
                    None => None,
                },
                env_set: w.env_set.clone(),
                secret_on_cmdline: w.secret_on_cmdline.unwrap_or(false),
            };
            let any = when.flag.is_some()
                || when.flag_value.is_some()
                || when.argv_matches.is_some()
                || when.env_value.is_some()
                || when.env_set.is_some()
                || when.secret_on_cmdline;
            if !any || c.source.is_empty() {
                return Err(bad(format!("{}: needs a condition and a source", c.id)));
            }
            checks.push(Check {
                id: c.id,
                products: c.products,
                severity: c.severity,
                title: c.title,
                why: c.why,
                remediation: c.remediation,
                source: c.source,
                when,
            });
        }
        Ok(Audit {
            env_value_allowlist: f.env_value_allowlist,
            checks,
        })
    }
}
