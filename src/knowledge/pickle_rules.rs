//! `assets/pickle_rules.toml`: which globals a pickle may import (allowed),
//! which prefixes can run code or touch files, processes or the network
//! (dangerous), and module aliases, parsed once.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use crate::error::Error;
use crate::model::pickle::GlobalClass;

const EMBEDDED: &str = include_str!("../../assets/pickle_rules.toml");
const ASSET: &str = "assets/pickle_rules.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    aliases: Aliases,
    allowed: Vec<AllowedGroup>,
    dangerous: Vec<DangerousGroup>,
    dangerous_attributes: Attributes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Aliases {
    source: String,
    modules: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowedGroup {
    source: String,
    #[allow(dead_code)]
    why: String,
    globals: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DangerousGroup {
    source: String,
    #[allow(dead_code)]
    why: String,
    prefixes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Attributes {
    source: String,
    #[allow(dead_code)]
    why: String,
    names: Vec<String>,
}

/// The allowlist and the dangerous list of `assets/pickle_rules.toml`.
#[derive(Debug, Clone)]
pub struct PickleRules {
    aliases: HashMap<String, String>,
    allowed: HashSet<String>,
    dangerous: Vec<String>,
    dangerous_attributes: HashSet<String>,
}

impl PickleRules {
    /// The rules compiled into the binary.
    pub fn embedded() -> Result<Self, Error> {
        Self::parse(EMBEDDED, ASSET)
    }

    pub fn parse(text: &str, path: &str) -> Result<Self, Error> {
        let bad = |message: String| Error::Asset {
            path: path.to_string(),
            message,
        };
        let file: RulesFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let no_source = file.aliases.source.trim().is_empty()
            || file.dangerous_attributes.source.trim().is_empty()
            || file.allowed.iter().any(|g| g.source.trim().is_empty())
            || file.dangerous.iter().any(|g| g.source.trim().is_empty());
        if no_source {
            return Err(bad("every group needs a non-empty `source`".into()));
        }
        let valid = |p: &str| !p.is_empty() && p.split('.').all(|c| !c.is_empty());
        let mut rules = PickleRules {
            aliases: file.aliases.modules.into_iter().collect(),
            allowed: HashSet::new(),
            dangerous: Vec::new(),
            dangerous_attributes: file.dangerous_attributes.names.into_iter().collect(),
        };
        for p in file.dangerous.into_iter().flat_map(|g| g.prefixes) {
            if !valid(&p) {
                return Err(bad(format!("dangerous prefix {p:?} is not a dotted path")));
            }
            rules.dangerous.push(p);
        }
        for g in file.allowed.into_iter().flat_map(|g| g.globals) {
            let Some((module, name)) = g.rsplit_once('.').filter(|_| valid(&g)) else {
                return Err(bad(format!("allowed global {g:?} is not module.name")));
            };
            if rules.classify(module, name) == GlobalClass::Dangerous {
                return Err(bad(format!("{g} is both allowed and dangerous")));
            }
            rules.allowed.insert(g);
        }
        Ok(rules)
    }

    /// Class of an import whose module and name are computed at load time
    /// (`STACK_GLOBAL` of operands that are not constants): it can be anything,
    /// so it counts as dangerous.
    pub fn computed(&self) -> GlobalClass {
        GlobalClass::Dangerous
    }

    /// Class of an extension-code import (`EXT1/2/4`): whatever the loading
    /// process registered with `copyreg.add_extension`, on no list.
    pub fn extension(&self) -> GlobalClass {
        GlobalClass::Unknown
    }

    /// Class of the global `module.name` (see the asset's header comment).
    pub fn classify(&self, module: &str, name: &str) -> GlobalClass {
        let module = self
            .aliases
            .get(module)
            .map(String::as_str)
            .unwrap_or(module);
        if name
            .split('.')
            .any(|c| self.dangerous_attributes.contains(c))
        {
            return GlobalClass::Dangerous;
        }
        let full = format!("{module}.{name}");
        let under = |p: &String| {
            full == *p || (full.starts_with(p.as_str()) && full.as_bytes()[p.len()] == b'.')
        };
        if self.dangerous.iter().any(under) {
            GlobalClass::Dangerous
        } else if self.allowed.contains(&full) {
            GlobalClass::Allowed
        } else {
            GlobalClass::Unknown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_reject_contradictions_and_missing_sources() {
        let text = EMBEDDED.replace(
            "\"builtins.complex\",",
            "\"builtins.complex\",\n    \"os.system\",",
        );
        assert!(PickleRules::parse(&text, "t").is_err());
        let text = EMBEDDED.replacen("source = \"pytorch", "source = \"\" # ", 1);
        assert!(PickleRules::parse(&text, "t").is_err());
        let r = PickleRules::embedded().expect("embedded rules");
        assert_eq!(r.classify("posixpath", "join"), GlobalClass::Unknown);
        assert_eq!(r.classify("os.path", "join"), GlobalClass::Dangerous);
        assert_eq!(r.classify("cPickle", "loads"), GlobalClass::Dangerous);
        assert_eq!(
            r.classify("torch", "_utils._rebuild_tensor_v2"),
            GlobalClass::Allowed
        );
    }
}
