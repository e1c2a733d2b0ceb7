//! `assets/pickle_rules.toml`: which globals a pickle may import (allowed),
//! which prefixes can run code or touch files, processes or the network
//! (dangerous), and module aliases, parsed once.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use crate::error::Error;
use crate::model::pickle::GlobalClass;

const EMBEDDED: &str = include_str!("../../assets/pickle_rules.toml");
const ASSET: &str = "assets/pickle_rules.toml";
const LIBRARIES: &str = include_str!("../../assets/pickle_libraries.toml");
const LIBRARIES_ASSET: &str = "assets/pickle_libraries.toml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    aliases: Aliases,
    allowed: Vec<AllowedGroup>,
    dangerous: Vec<DangerousGroup>,
    dangerous_attributes: Attributes,
    reachable_modules: Attributes,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LibrariesFile {
    library: Vec<LibraryGroup>,
}

/// One library's classes and pickling helpers (`assets/pickle_libraries.toml`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LibraryGroup {
    library: String,
    /// PEP 440 specifiers of the releases the lists were read for.
    versions: String,
    /// Key under which the library records its version in a pickled state.
    #[serde(default)]
    version_key: Option<String>,
    read_at: String,
    source: String,
    #[allow(dead_code)]
    why: String,
    /// Only inside this kind of archive (`torchscript`), or anywhere.
    #[serde(default)]
    context: Option<String>,
    modules: Vec<String>,
    #[serde(default)]
    functions: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// Where a pickle is read: a TorchScript archive's pickles are resolved by
/// the TorchScript loader, not by Python's `find_class`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PickleContext {
    #[default]
    Python,
    TorchScript,
}

#[derive(Debug, Clone)]
struct Library {
    name: String,
    versions: pep440_rs::VersionSpecifiers,
    version_key: Option<String>,
    context: PickleContext,
    modules: Vec<String>,
    functions: HashSet<String>,
    exclude: Vec<String>,
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
    reachable_modules: HashSet<String>,
    libraries: Vec<Library>,
}

/// `path` equals `prefix` or lies under it at a `.` boundary.
fn under(path: &str, prefix: &str) -> bool {
    path == prefix || (path.starts_with(prefix) && path.as_bytes().get(prefix.len()) == Some(&b'.'))
}

impl PickleRules {
    /// The rules compiled into the binary.
    pub fn embedded() -> Result<Self, Error> {
        let mut rules = Self::parse(EMBEDDED, ASSET)?;
        rules.add_libraries(LIBRARIES, LIBRARIES_ASSET)?;
        Ok(rules)
    }

    /// Adds the library groups of `text` (the shape of `assets/pickle_libraries.toml`).
    pub fn add_libraries(&mut self, text: &str, path: &str) -> Result<(), Error> {
        let bad = |message: String| Error::Asset {
            path: path.to_string(),
            message,
        };
        let file: LibrariesFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        for g in file.library {
            if g.source.trim().is_empty() || g.read_at.trim().is_empty() {
                return Err(bad(format!("{}: needs a source and read_at", g.library)));
            }
            let versions = g
                .versions
                .parse::<pep440_rs::VersionSpecifiers>()
                .map_err(|e| bad(format!("{}: versions {:?}: {e}", g.library, g.versions)))?;
            let context = match g.context.as_deref() {
                None => PickleContext::Python,
                Some("torchscript") => PickleContext::TorchScript,
                Some(other) => {
                    return Err(bad(format!("{}: unknown context {other:?}", g.library)));
                }
            };
            let lib = Library {
                name: g.library,
                versions,
                version_key: g.version_key,
                context,
                modules: g.modules,
                functions: g.functions.into_iter().collect(),
                exclude: g.exclude,
            };
            // A library's list never vouches for what the dangerous list names.
            for f in &lib.functions {
                let Some((module, name)) = f.rsplit_once('.') else {
                    return Err(bad(format!(
                        "{}: function {f:?} is not module.name",
                        lib.name
                    )));
                };
                if lib.context == PickleContext::Python
                    && self.classify(module, name).0 == GlobalClass::Dangerous
                {
                    return Err(bad(format!("{}: {f} is on the dangerous list", lib.name)));
                }
            }
            for m in &lib.modules {
                if lib.context == PickleContext::Python
                    && self.dangerous.iter().any(|d| under(m, d))
                {
                    return Err(bad(format!(
                        "{}: module {m} is under a dangerous prefix",
                        lib.name
                    )));
                }
            }
            self.libraries.push(lib);
        }
        Ok(())
    }

    pub fn parse(text: &str, path: &str) -> Result<Self, Error> {
        let bad = |message: String| Error::Asset {
            path: path.to_string(),
            message,
        };
        let file: RulesFile = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let no_source = file.aliases.source.trim().is_empty()
            || file.dangerous_attributes.source.trim().is_empty()
            || file.reachable_modules.source.trim().is_empty()
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
            reachable_modules: file.reachable_modules.names.into_iter().collect(),
            libraries: Vec::new(),
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
            if rules.classify(module, name).0 == GlobalClass::Dangerous {
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

    /// Class of the global `module.name` read by Python's unpickler (see the
    /// asset's header comment), with the library it belongs to.
    pub fn classify(&self, module: &str, name: &str) -> (GlobalClass, Option<&str>) {
        self.classify_in(PickleContext::Python, module, name)
    }

    /// As [`Self::classify`], for a pickle read in `context`.
    pub fn classify_in(
        &self,
        context: PickleContext,
        module: &str,
        name: &str,
    ) -> (GlobalClass, Option<&str>) {
        let module = self
            .aliases
            .get(module)
            .map(String::as_str)
            .unwrap_or(module);
        let full = format!("{module}.{name}");
        // TorchScript resolves its own closed set of names; nothing there is
        // a Python import, so its list is consulted first.
        if context == PickleContext::TorchScript
            && let Some(lib) = self.library_of(context, module, name, &full)
        {
            return (GlobalClass::Library, Some(lib));
        }
        // An attribute walk (`pathlib` + `os.system`, `torch` + `os.system`)
        // reaches a module without naming it as the module.
        let walks = name.split('.').any(|c| {
            self.dangerous_attributes.contains(c)
                || (name.contains('.') && self.reachable_modules.contains(c))
        });
        if walks || self.dangerous.iter().any(|p| under(&full, p)) {
            return (GlobalClass::Dangerous, None);
        }
        if self.allowed.contains(&full) {
            return (GlobalClass::Allowed, None);
        }
        match self.library_of(PickleContext::Python, module, name, &full) {
            Some(lib) => (GlobalClass::Library, Some(lib)),
            None => (GlobalClass::Unknown, None),
        }
    }

    /// The library whose class or pickling helper `module.name` is. Classes
    /// only (a capitalised name with no attribute walk), never under an
    /// excluded area; helpers by exact name.
    fn library_of(
        &self,
        context: PickleContext,
        module: &str,
        name: &str,
        full: &str,
    ) -> Option<&str> {
        let class_like = !name.contains('.')
            && name
                .trim_start_matches('_')
                .starts_with(|c: char| c.is_ascii_uppercase());
        self.libraries
            .iter()
            .filter(|l| l.context == context)
            .find(|l| {
                l.functions.contains(full)
                    || (class_like
                        && l.modules.iter().any(|m| under(module, m))
                        && !l.exclude.iter().any(|x| under(full, x) || under(module, x)))
            })
            .map(|l| l.name.as_str())
    }

    /// Whether `library`'s lists were read for `version` (a release the
    /// pickle records under the library's `version_key`). `None`: the library
    /// records no version, or the text is not a version.
    pub fn vetted_release(&self, library: &str, version: &str) -> Option<bool> {
        let lib = self.libraries.iter().find(|l| l.name == library)?;
        let v = version.trim().parse::<pep440_rs::Version>().ok()?;
        Some(lib.versions.contains(&v))
    }

    /// The state key under which `library` records its version.
    pub fn version_key(&self, library: &str) -> Option<&str> {
        self.libraries
            .iter()
            .find(|l| l.name == library)
            .and_then(|l| l.version_key.as_deref())
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
        let class = |m: &str, n: &str| r.classify(m, n).0;
        assert_eq!(class("posixpath", "join"), GlobalClass::Unknown);
        assert_eq!(class("os.path", "join"), GlobalClass::Dangerous);
        assert_eq!(class("cPickle", "loads"), GlobalClass::Dangerous);
        assert_eq!(
            class("torch", "_utils._rebuild_tensor_v2"),
            GlobalClass::Allowed
        );
    }
}
