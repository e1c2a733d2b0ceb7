//! Inference-server signatures (`assets/signatures.toml`): how to recognise a
//! product from a process, and the facts about its binds and auth switches.

use regex_lite::Regex;
use serde::Deserialize;

use crate::error::Error;

const EMBEDDED: &str = include_str!("../../assets/signatures.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    schema_version: u32,
    servers: Vec<RawSignature>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    id: String,
    name: String,
    status: String,
    sources: Vec<String>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    child_of: Option<String>,
    default_bind: String,
    #[serde(default)]
    bind_flags: Vec<String>,
    #[serde(default)]
    bind_env: Vec<String>,
    auth: AuthModel,
    auth_status: String,
    #[serde(default)]
    auth_flags: Vec<String>,
    #[serde(default)]
    auth_env: Vec<String>,
    #[serde(default)]
    auth_files: Vec<String>,
    #[serde(default)]
    auth_off_flags: Vec<String>,
    /// Regex of the access token as the product prints it in its output.
    #[serde(default)]
    prints_token: Option<String>,
    /// Its command line is parsed by Python's argparse with abbreviations on.
    #[serde(default)]
    argparse_abbrev: bool,
    /// A config file, named by a flag, whose key switches auth on.
    #[serde(default)]
    auth_config: Option<AuthConfigKey>,
    /// Settings that let anyone in, whatever auth is on.
    #[serde(default)]
    self_grant_env: Vec<RawSelfGrantEnv>,
    /// Settings whose default lets anyone in on some releases.
    #[serde(default)]
    self_grant_default: Vec<SelfGrantDefault>,
    #[serde(default)]
    secret_flags: Vec<String>,
    #[serde(default)]
    ports: Vec<Port>,
    #[serde(rename = "match")]
    rules: Vec<RawRule>,
    #[serde(default)]
    helpers: Vec<RawHelper>,
    #[serde(default)]
    listening_only: bool,
    /// Why a Python product has no `script_imports` rule (checked by a test).
    #[serde(default)]
    #[allow(dead_code)]
    no_import_rule: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelfGrantEnv {
    env: String,
    matches: String,
    means: String,
}

/// A variable that, left unset, lets anyone in on the releases before
/// `before` of one of `dists` (Langflow's AUTO_LOGIN default before 1.13).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfGrantDefault {
    pub env: String,
    /// PEP 503 names of the distribution that carries the default.
    pub dists: Vec<String>,
    /// First release whose default no longer lets anyone in (PEP 440).
    pub before: String,
    pub means: String,
}

/// A variable whose (allowlisted, plain configuration) value lets anyone in:
/// `LANGFLOW_AUTO_LOGIN=true` signs every visitor in as the superuser.
#[derive(Debug)]
pub struct SelfGrantEnv {
    pub env: String,
    pub matches: Regex,
    pub means: String,
}

/// A key of a YAML config file (named on the command line) that turns auth on
/// when set: read for presence only, its value never kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfigKey {
    /// The flag whose value is the file (`--config`).
    pub flag: String,
    /// The file read without the flag (relative: from the process's working
    /// directory), e.g. `langgraph.json`.
    #[serde(default)]
    pub default_file: Option<String>,
    /// Dotted path of the key (`general_settings.master_key`).
    pub key: String,
    /// A value of this form names the variable holding the secret
    /// (`os.environ/` for LiteLLM).
    #[serde(default)]
    pub env_reference_prefix: Option<String>,
}

/// A kind of process the product starts that is no server of its own.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHelper {
    /// Regex on argv joined with spaces, or on comm when `argv` is absent.
    #[serde(default)]
    argv: Option<String>,
    #[serde(default)]
    comm: Option<String>,
    role: String,
    status: String,
    source: String,
}

/// A helper role: what a process the product started is for.
#[derive(Debug)]
pub struct HelperRole {
    argv: Option<Regex>,
    comm: Option<Regex>,
    pub role: String,
    pub status: String,
    pub source: String,
}

/// A process match rule as written in the assets (also used by `privacy.toml`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    #[serde(default)]
    exe: Vec<String>,
    #[serde(default)]
    argv: Vec<String>,
    #[serde(default)]
    comm: Option<String>,
    /// Python modules the script run by the interpreter imports (`python app.py`
    /// whose app.py says `import gradio`): read from the script, never run.
    #[serde(default)]
    script_imports: Vec<String>,
    /// Distributions installed in the process's Python environment (its venv,
    /// base prefix, user site): any one of them (PEP 503 names).
    #[serde(default)]
    environment: Vec<String>,
    /// npm packages that the package a Node script belongs to is, or depends on
    /// (its nearest `package.json`): any one of them.
    #[serde(default)]
    package: Vec<String>,
    #[serde(default = "strong")]
    strength: Strength,
    #[serde(default)]
    why: Option<String>,
}

fn strong() -> Strength {
    Strength::Strong
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AuthModel {
    None,
    Optional,
    DefaultOn,
    Unknown,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Strength {
    Weak,
    Strong,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Port {
    pub port: u16,
    pub purpose: String,
}

#[derive(Debug)]
pub struct Signature {
    pub id: String,
    pub name: String,
    pub status: String,
    pub sources: Vec<String>,
    pub notes: Option<String>,
    pub child_of: Option<String>,
    pub default_bind: String,
    pub bind_flags: Vec<String>,
    pub bind_env: Vec<String>,
    pub auth: AuthModel,
    pub auth_status: String,
    pub auth_flags: Vec<String>,
    pub auth_env: Vec<String>,
    pub auth_files: Vec<String>,
    /// Flags that switch default-on auth off (`--no-token`).
    pub auth_off_flags: Vec<String>,
    /// The access token as the product prints it to its output (a start-up URL).
    pub prints_token: Option<Regex>,
    /// argparse with `allow_abbrev`: a prefix of a long option is that option.
    pub argparse_abbrev: bool,
    /// A config file key that switches auth on.
    pub auth_config: Option<AuthConfigKey>,
    pub self_grant_env: Vec<SelfGrantEnv>,
    pub self_grant_default: Vec<SelfGrantDefault>,
    pub secret_flags: Vec<String>,
    pub ports: Vec<Port>,
    rules: Vec<Rule>,
    pub helpers: Vec<HelperRole>,
    /// A class of processes, not a product: a match counts only for a process
    /// that listens (or holds a bound UDP socket).
    pub listening_only: bool,
}

impl Signature {
    /// The role a process this product started plays, when the signature names it.
    pub fn helper_role(&self, comm: &str, cmdline: &str) -> Option<&str> {
        self.helpers
            .iter()
            .find(|h| {
                h.argv.as_ref().is_none_or(|r| r.is_match(cmdline))
                    && h.comm.as_ref().is_none_or(|r| r.is_match(comm))
            })
            .map(|h| h.role.as_str())
    }
}

#[derive(Debug)]
pub(crate) struct Rule {
    exe: Vec<String>,
    argv: Vec<ArgvPattern>,
    comm: Option<Regex>,
    script_imports: Vec<String>,
    environment: Vec<String>,
    package: Vec<String>,
    pub(crate) strength: Strength,
    why: Option<String>,
}

/// An argv regex and the literal text every match of it contains: a substring
/// search rules out almost every process before the (much slower) regex runs,
/// which matters on hosts with a thousand long command lines.
#[derive(Debug)]
struct ArgvPattern {
    re: Regex,
    needles: Vec<String>,
}

/// What is known of a process when it is matched against signatures.
pub struct ProcessFacts<'a> {
    /// Basename of `/proc/PID/exe`, when readable.
    pub exe_basename: Option<&'a str>,
    pub argv: &'a [String],
    /// argv joined with single spaces.
    pub cmdline: &'a str,
    pub comm: &'a str,
    /// The start of the script a Python interpreter runs, read on demand.
    pub script: &'a dyn Fn() -> Option<String>,
    /// The distributions of the process's Python environment, read on demand.
    pub python_env: &'a dyn Fn() -> Option<PythonDists>,
    /// The npm package the script a Node process runs belongs to, read on demand.
    pub node_package: &'a dyn Fn() -> Option<NodePackage>,
    /// The process (or a process it started) holds a socket, or its sockets
    /// could not be read: a class of processes that counts only while it
    /// listens is not matched otherwise.
    pub may_listen: bool,
}

/// What a Python process's environment holds: each distribution's PEP 503
/// name and the site directory it is installed in, as the process sees it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PythonDists {
    pub dists: Vec<(String, String)>,
}

/// The npm package a Node script belongs to: the nearest `package.json` above
/// the script, its name and the packages it depends on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodePackage {
    pub manifest: String,
    pub name: Option<String>,
    pub dependencies: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Match<'s> {
    pub signature: &'s Signature,
    pub strength: Strength,
    pub reason: String,
}

pub struct Signatures {
    pub servers: Vec<Signature>,
}

impl Signatures {
    /// The signatures compiled into the binary.
    pub fn embedded() -> Result<Self, Error> {
        Self::parse(EMBEDDED, "assets/signatures.toml")
    }

    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        let file: File = toml::from_str(text).map_err(|e| Error::Asset {
            path: origin.to_string(),
            message: e.to_string(),
        })?;
        if file.schema_version != 1 {
            return Err(Error::Asset {
                path: origin.to_string(),
                message: format!("unsupported schema_version {}", file.schema_version),
            });
        }
        let mut servers = Vec::with_capacity(file.servers.len());
        for raw in file.servers {
            servers.push(compile(raw, origin)?);
        }
        Ok(Signatures { servers })
    }

    pub fn get(&self, id: &str) -> Option<&Signature> {
        self.servers.iter().find(|s| s.id == id)
    }

    /// Variables whose values the self-grant checks read.
    pub fn self_grant_env_names(&self) -> impl Iterator<Item = String> + '_ {
        self.servers.iter().flat_map(|s| {
            s.self_grant_env
                .iter()
                .map(|g| g.env.clone())
                .chain(s.self_grant_default.iter().map(|d| d.env.clone()))
        })
    }

    /// The best match for a process: strong beats weak, then the first in file order.
    pub fn identify(&self, p: &ProcessFacts<'_>) -> Option<Match<'_>> {
        let mut best: Option<Match<'_>> = None;
        for sig in &self.servers {
            if sig.listening_only && !p.may_listen {
                continue;
            }
            for rule in &sig.rules {
                let Some(reason) = rule.matches(p) else {
                    continue;
                };
                if best.as_ref().is_none_or(|b| rule.strength > b.strength) {
                    best = Some(Match {
                        signature: sig,
                        strength: rule.strength,
                        reason,
                    });
                }
            }
        }
        best
    }
}

fn compile(raw: RawSignature, origin: &str) -> Result<Signature, Error> {
    let bad = |message: String| Error::Asset {
        path: origin.to_string(),
        message: format!("server {:?}: {message}", raw.id),
    };
    if raw.sources.is_empty() {
        return Err(bad("no sources".into()));
    }
    if raw.rules.is_empty() {
        return Err(bad("no [[servers.match]] rule".into()));
    }
    let rules = compile_rules(&raw.rules).map_err(bad)?;
    let mut helpers = Vec::new();
    for h in raw.helpers {
        if h.argv.is_none() && h.comm.is_none() {
            return Err(bad(format!(
                "helper {:?} has neither argv nor comm",
                h.role
            )));
        }
        if h.source.is_empty() {
            return Err(bad(format!("helper {:?} has no source", h.role)));
        }
        let re = |p: &Option<String>| {
            p.as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|e| bad(format!("helper {:?}: {e}", h.role)))
        };
        helpers.push(HelperRole {
            argv: re(&h.argv)?,
            comm: re(&h.comm)?,
            role: h.role,
            status: h.status,
            source: h.source,
        });
    }
    let prints_token = match &raw.prints_token {
        Some(p) => Some(compile_regex(p).map_err(|e| bad(format!("prints_token {p:?}: {e}")))?),
        None => None,
    };
    let mut self_grant_env = Vec::new();
    for g in raw.self_grant_env {
        if g.means.is_empty() {
            return Err(bad(format!("self_grant_env {}: needs a `means`", g.env)));
        }
        self_grant_env.push(SelfGrantEnv {
            matches: compile_regex(&g.matches)
                .map_err(|e| bad(format!("self_grant_env {}: {e}", g.env)))?,
            env: g.env,
            means: g.means,
        });
    }
    for d in &raw.self_grant_default {
        if d.means.is_empty()
            || d.dists.is_empty()
            || d.before.parse::<pep440_rs::Version>().is_err()
        {
            return Err(bad(format!(
                "self_grant_default {}: needs dists, a PEP 440 `before` and a `means`",
                d.env
            )));
        }
    }
    Ok(Signature {
        id: raw.id,
        name: raw.name,
        status: raw.status,
        sources: raw.sources,
        notes: raw.notes,
        child_of: raw.child_of,
        default_bind: raw.default_bind,
        bind_flags: raw.bind_flags,
        bind_env: raw.bind_env,
        auth: raw.auth,
        auth_status: raw.auth_status,
        auth_flags: raw.auth_flags,
        auth_env: raw.auth_env,
        auth_files: raw.auth_files,
        auth_off_flags: raw.auth_off_flags,
        prints_token,
        argparse_abbrev: raw.argparse_abbrev,
        auth_config: raw.auth_config,
        self_grant_env,
        self_grant_default: raw.self_grant_default,
        secret_flags: raw.secret_flags,
        ports: raw.ports,
        rules,
        helpers,
        listening_only: raw.listening_only,
    })
}

/// Compiles match rules; the error names the failing rule.
pub(crate) fn compile_rules(raw: &[RawRule]) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for r in raw {
        if r.exe.is_empty() && r.argv.is_empty() && r.comm.is_none() {
            return Err("a match rule needs exe, argv or comm".into());
        }
        if !r.environment.is_empty() && r.exe.is_empty() {
            return Err("an environment rule needs exe (the interpreter)".into());
        }
        let argv = r
            .argv
            .iter()
            .map(|p| {
                compile_regex(p)
                    .map(|re| ArgvPattern {
                        re,
                        needles: required_literals(p),
                    })
                    .map_err(|e| format!("argv regex {p:?}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let comm = match &r.comm {
            Some(p) => Some(compile_regex(p).map_err(|e| format!("comm regex {p:?}: {e}"))?),
            None => None,
        };
        rules.push(Rule {
            exe: r.exe.clone(),
            argv,
            comm,
            script_imports: r.script_imports.clone(),
            environment: r
                .environment
                .iter()
                .map(|d| crate::model::components::pep503(d))
                .collect(),
            package: r.package.clone(),
            strength: r.strength,
            why: r.why.clone(),
        });
    }
    Ok(rules)
}

/// regex-lite, not regex: ~150 patterns are compiled at every start and each runs
/// over short command lines, so compile time (prefilters, Unicode tables) is what
/// counts — it was most of a snapshot's user time with the full crate.
fn compile_regex(p: &str) -> Result<Regex, regex_lite::Error> {
    Regex::new(p)
}

/// Literal runs (3 characters or more) that every match of `pattern` contains.
/// Conservative: only text outside groups and classes counts, a quantified
/// character ends a run, and a top-level alternation, inline flags or an escape
/// other than a character class (`\s`, `\d`, …) give no literals at all.
fn required_literals(pattern: &str) -> Vec<String> {
    if pattern.contains("(?") {
        return Vec::new();
    }
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<String>| {
        if run.chars().count() >= 3 {
            out.push(std::mem::take(run));
        } else {
            run.clear();
        }
    };
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        // One unit: a literal character, or anything else (None).
        let (literal, mut next) = match chars[i] {
            '\\' => match chars.get(i + 1) {
                Some(e) if e.is_ascii_alphanumeric() => {
                    if !"sSdDwWbB".contains(*e) {
                        return Vec::new();
                    }
                    (None, i + 2)
                }
                Some(e) => (Some(*e), i + 2),
                None => return Vec::new(),
            },
            '(' => {
                depth += 1;
                (None, i + 1)
            }
            ')' => {
                depth = depth.saturating_sub(1);
                (None, i + 1)
            }
            '[' => {
                let mut j = i + 1;
                if chars.get(j) == Some(&'^') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                (None, j + 1)
            }
            '|' if depth == 0 => return Vec::new(),
            '.' | '^' | '$' | '|' | '?' | '*' | '+' | '{' | '}' => (None, i + 1),
            c => (if depth == 0 { Some(c) } else { None }, i + 1),
        };
        let literal = if depth > 0 { None } else { literal };
        match chars.get(next) {
            Some('?' | '*' | '{') => {
                flush(&mut run, &mut out);
                if chars[next] == '{' {
                    while next < chars.len() && chars[next] != '}' {
                        next += 1;
                    }
                }
                next += 1;
            }
            Some('+') => {
                if let Some(c) = literal {
                    run.push(c);
                }
                flush(&mut run, &mut out);
                next += 1;
            }
            _ => match literal {
                Some(c) => run.push(c),
                None => flush(&mut run, &mut out),
            },
        }
        // A lazy or possessive suffix of the quantifier just read.
        if matches!(chars.get(next), Some('?' | '+'))
            && next > 0
            && "?*+}".contains(chars[next - 1])
        {
            next += 1;
        }
        i = next;
    }
    flush(&mut run, &mut out);
    out
}

fn basename_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

impl Rule {
    /// `Some(reason)` when every condition of the rule holds.
    pub(crate) fn matches(&self, p: &ProcessFacts<'_>) -> Option<String> {
        let mut why = Vec::new();
        if !self.exe.is_empty() {
            let argv0 = p.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a));
            let hit = [p.exe_basename, argv0]
                .into_iter()
                .flatten()
                .find(|name| self.exe.iter().any(|pat| basename_matches(pat, name)))?;
            why.push(format!("executable {hit:?}"));
        }
        for pat in &self.argv {
            if !pat.needles.iter().all(|n| p.cmdline.contains(n.as_str())) {
                return None;
            }
            let m = pat.re.find(p.cmdline)?;
            why.push(format!("command line {:?}", m.as_str().trim()));
        }
        if let Some(re) = &self.comm {
            if !re.is_match(p.comm) {
                return None;
            }
            why.push(format!("process name {:?}", p.comm));
        }
        if !self.script_imports.is_empty() {
            let text = (p.script)()?;
            let module = self.script_imports.iter().find(|m| imports(&text, m))?;
            why.push(format!("script imports {module}"));
        }
        if !self.environment.is_empty() {
            let env = (p.python_env)()?;
            let held: Vec<&(String, String)> = env
                .dists
                .iter()
                .filter(|(name, _)| self.environment.contains(name))
                .collect();
            let (_, dir) = held.first()?;
            let mut names: Vec<&str> = held.iter().map(|(n, _)| n.as_str()).collect();
            names.dedup();
            why.push(format!(
                "its Python environment holds {} ({dir})",
                names.join(", ")
            ));
        }
        if !self.package.is_empty() {
            let pkg = (p.node_package)()?;
            let dep = self.package.iter().find(|want| {
                pkg.name.as_deref() == Some(want.as_str()) || pkg.dependencies.contains(want)
            })?;
            if pkg.name.as_deref() == Some(dep.as_str()) {
                why.push(format!(
                    "script of the npm package {dep} ({})",
                    pkg.manifest
                ));
            } else {
                why.push(format!("its package depends on {dep} ({})", pkg.manifest));
            }
        }
        let facts = why.join(", ");
        Some(match &self.why {
            Some(w) => format!("{w} ({facts})"),
            None => facts,
        })
    }
}

/// Does Python source import `module` (`import m`, `import m as x`, `from m import`,
/// `import a, m`)? Line-based: enough for the top of an app script.
fn imports(text: &str, module: &str) -> bool {
    let is_module = |name: &str| {
        let name = name.trim();
        let name = name.split_whitespace().next().unwrap_or("");
        name == module
            || name
                .strip_prefix(module)
                .is_some_and(|r| r.starts_with('.'))
    };
    text.lines().map(str::trim_start).any(|line| {
        if let Some(rest) = line.strip_prefix("import ") {
            rest.split(',').any(is_module)
        } else if let Some(rest) = line.strip_prefix("from ") {
            let Some((from, names)) = rest.split_once(" import ") else {
                return false;
            };
            // `from ray import serve` imports the submodule `ray.serve`.
            is_module(from)
                || names
                    .trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace())
                    .split(',')
                    .filter_map(|n| n.split_whitespace().next())
                    .any(|n| is_module(&format!("{}.{n}", from.trim())))
        } else {
            false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_literals_are_only_what_every_match_contains() {
        let lit = |p: &str| required_literals(p);
        assert_eq!(lit(r"(^|/)ollama\s+serve(\s|$)"), ["ollama", "serve"]);
        assert_eq!(
            lit(r"(^|\s)-m\s*vllm\.entrypoints\.openai\.api_server(\s|$)"),
            ["vllm.entrypoints.openai.api_server"]
        );
        assert_eq!(lit(r"\s(-m|--model)\s+\S+\.gguf(\s|$)"), [".gguf"]);
        assert_eq!(lit(r"(^|/)accelerate launch(\s|$)"), ["accelerate launch"]);
        assert_eq!(lit(r"^VLLM::EngineCore"), ["VLLM::EngineCore"]);
        // A quantified character is optional or repeated: the run ends before or at it.
        assert_eq!(lit(r"abcd?efg"), ["abc", "efg"]);
        assert_eq!(lit(r"abcd*efg"), ["abc", "efg"]);
        assert_eq!(lit(r"abcd{0,2}efg"), ["abc", "efg"]);
        assert_eq!(lit(r"abcd+efg"), ["abcd", "efg"]);
        assert_eq!(lit(r"abc(def)?ghi"), ["abc", "ghi"]);
        assert_eq!(lit(r"abc[x|y]ghi"), ["abc", "ghi"]);
        // Nothing can be required of these.
        assert!(lit(r"ollama|vllm").is_empty());
        assert!(lit(r"(?i)^\S*gpt4all\S*/chat(\s|$)").is_empty());
        assert!(lit(r"abc\x41def").is_empty());
    }

    /// Every match the regex finds in a command line also passes the prefilter,
    /// for every argv pattern shipped, on command lines built to match them.
    #[test]
    fn the_prefilter_never_hides_a_match_of_a_shipped_pattern() {
        let file: File =
            toml::from_str(include_str!("../../assets/signatures.toml")).expect("parse");
        let lines = [
            "/usr/bin/ollama serve",
            "/usr/local/lib/ollama/runners/cpu/llama-server --host 127.0.0.1 --port 1",
            "python3 -m vllm.entrypoints.openai.api_server --model x",
            "vllm serve meta/llama --port 8000",
            "llama-server -m /srv/m.gguf --host 0.0.0.0",
            "llama-server -hf org/repo",
            "python -m llama_cpp.server --model a.gguf",
            "VLLM::EngineCore",
            "sglang::scheduler",
            "python -m sglang.launch_server --model-path x",
            "text-generation-launcher --model-id x",
            "/opt/text-generation-server serve x",
            "python /srv/text-generation-webui-main/server.py --listen --api",
            "python main.py --listen 0.0.0.0",
            "python3 launch.py --share",
            "accelerate launch train.py",
            "jupyter lab --ip 0.0.0.0",
            "python -m jupyterlab",
            "ray start --head",
            "ray::ServeReplica",
            "litellm --config c.yaml",
            "open-webui serve",
            "python -m litellm.proxy.proxy_cli",
            "ramalama --debug serve tiny",
            "podman run quay.io/ramalama/ramalama",
            "./model.llamafile --server",
            "sh ./model.llamafile",
            "torchrun --nproc 2 x.py",
            "python -m torch.distributed.run x.py",
            "gradio app.py",
            "python /x/koboldcpp.py",
            "xinference-local",
            "uvicorn open_webui.main:app --host 0.0.0.0",
            "/venv/bin/python3 /venv/bin/langflow run --host 0.0.0.0",
            "/venv/bin/python3 /venv/bin/bentoml serve service:Svc",
            "/usr/bin/java -cp /ts/model-server.jar org.pytorch.serve.ModelServer",
            "/usr/bin/milvus run standalone",
            "/venv/bin/python3 /venv/bin/mlflow server --host 0.0.0.0",
            "/venv/bin/python3 -m uvicorn --workers 4 mlflow.server.fastapi_app:app",
            "/venv/bin/python3 /venv/bin/streamlit run app.py",
            "/venv/bin/python3 /venv/bin/marimo edit nb.py",
            "/venv/bin/python3 /venv/bin/chroma run --path /db",
            "/venv/bin/python3 /venv/bin/aim up --repo /r",
            "/venv/bin/python3 /venv/bin/tensorboard --logdir /runs",
            "/opt/ray/core/src/ray/gcs/gcs_server --gcs_server_port=6379",
        ];
        let mut compared = 0;
        for server in &file.servers {
            for rule in &server.rules {
                for p in &rule.argv {
                    let re = compile_regex(p).expect("compiles");
                    let needles = required_literals(p);
                    for line in lines {
                        if re.is_match(line) {
                            compared += 1;
                            for n in &needles {
                                assert!(
                                    line.contains(n.as_str()),
                                    "{p:?} matched {line:?} without {n:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(compared >= 30, "only {compared} matches compared");
    }

    #[test]
    fn python_import_lines() {
        assert!(imports("import os\nimport gradio as gr\n", "gradio"));
        assert!(imports("from gradio import Blocks", "gradio"));
        assert!(imports("import numpy, gradio.themes", "gradio"));
        assert!(!imports("import gradiox\n# import gradio", "gradio"));
        assert!(!imports("print('import gradio')", "gradio"));
        assert!(imports("from ray import serve\n", "ray.serve"));
        assert!(imports("from ray import (tune, serve as s)\n", "ray.serve"));
        assert!(imports(
            "from mcp.server.fastmcp import FastMCP\n",
            "mcp.server"
        ));
        assert!(!imports("from mcp import ClientSession\n", "mcp.server"));
        assert!(!imports("from ray import serveless\n", "ray.serve"));
    }

    fn facts<'a>(argv: &'a [String], cmdline: &'a str, exe: Option<&'a str>) -> ProcessFacts<'a> {
        ProcessFacts {
            exe_basename: exe,
            argv,
            cmdline,
            comm: argv
                .first()
                .map(|a| a.rsplit('/').next().unwrap_or(a))
                .unwrap_or(""),
            script: &|| None,
            python_env: &|| None,
            node_package: &|| None,
            may_listen: true,
        }
    }

    fn id_of(sigs: &Signatures, cmd: &str, exe: Option<&str>) -> Option<(String, Strength)> {
        let argv: Vec<String> = cmd.split(' ').map(String::from).collect();
        sigs.identify(&facts(&argv, cmd, exe))
            .map(|m| (m.signature.id.clone(), m.strength))
    }

    #[test]
    fn embedded_signatures_load_and_cover_thirty_products() {
        let sigs = Signatures::embedded().expect("embedded signatures parse");
        assert!(sigs.servers.len() >= 30, "{} products", sigs.servers.len());
        for s in &sigs.servers {
            if let Some(parent) = &s.child_of {
                assert!(sigs.get(parent).is_some(), "{}: child_of {parent}", s.id);
            }
        }
    }

    #[test]
    fn real_command_lines_classify() {
        let sigs = Signatures::embedded().expect("embedded signatures parse");
        let cases = [
            (
                "/usr/local/bin/llama-server -m /m.gguf --host 0.0.0.0",
                Some("llama-server"),
                "llama_server",
            ),
            (
                "/opt/venv/bin/python3 /opt/venv/bin/vllm serve facebook/opt-125m",
                Some("python3.11"),
                "vllm",
            ),
            (
                "python3 -m vllm.entrypoints.openai.api_server --model m",
                Some("python3.11"),
                "vllm",
            ),
            ("/usr/local/bin/ollama serve", Some("ollama"), "ollama"),
            ("/usr/local/bin/qdrant", Some("qdrant"), "qdrant"),
            (
                "/bin/weaviate --host 0.0.0.0 --port 8080",
                Some("weaviate"),
                "weaviate",
            ),
            ("milvus run standalone", Some("milvus"), "milvus"),
            (
                "/usr/bin/java -Dmodel_server_home=/ts -cp .:/ts/lib/* org.pytorch.serve.ModelServer",
                Some("java"),
                "torchserve",
            ),
            (
                "/venv/bin/python3 /venv/bin/langflow run",
                Some("python3.11"),
                "langflow",
            ),
            (
                "/venv/bin/python3 /venv/bin/bentoml serve service:Svc",
                Some("python3.11"),
                "bentoml",
            ),
            (
                "/venv/bin/python3 -m uvicorn --workers 1 mlflow.server.fastapi_app:app",
                Some("python3.11"),
                "mlflow",
            ),
            (
                "/venv/bin/python3 -m uvicorn --host 127.0.0.1 aim.web.run:app",
                Some("python3.11"),
                "aim",
            ),
            (
                "/venv/lib/python3.11/site-packages/ray/core/src/ray/raylet/raylet --raylet_socket_name=/tmp/s",
                Some("raylet"),
                "ray_serve",
            ),
        ];
        for (cmd, exe, want) in cases {
            let got = id_of(&sigs, cmd, exe);
            assert_eq!(got.map(|g| g.0), Some(want.to_string()), "{cmd}");
        }
    }

    #[test]
    fn lookalikes_and_ports_do_not_classify() {
        let sigs = Signatures::embedded().expect("embedded signatures parse");
        for cmd in [
            "grep llama-server",
            "vim llama-server.md",
            "/usr/bin/python3 /usr/bin/grep vllm",
            "nc -l 11434",
            "python3 -m http.server 8000",
        ] {
            let exe = cmd
                .split(' ')
                .next()
                .map(|a| a.rsplit('/').next().unwrap_or(a));
            assert_eq!(id_of(&sigs, cmd, exe), None, "{cmd}");
        }
    }

    /// Identify by what runs: every Python product can be recognised from a
    /// script's imports, unless the entry says why it is no importable package.
    #[test]
    fn every_python_product_has_an_import_rule_or_says_why_not() {
        let file: File =
            toml::from_str(include_str!("../../assets/signatures.toml")).expect("parse");
        let mut checked = 0;
        for server in &file.servers {
            let python = server
                .rules
                .iter()
                .any(|r| r.exe.iter().any(|e| e.starts_with("python")));
            if !python || server.listening_only {
                continue;
            }
            checked += 1;
            let has_rule = server.rules.iter().any(|r| !r.script_imports.is_empty());
            assert!(
                has_rule != server.no_import_rule.is_some(),
                "{}: an import rule xor a reason for none",
                server.id
            );
        }
        assert!(checked >= 20, "{checked}");
    }

    #[test]
    fn malformed_signature_file_is_a_clear_error() {
        let err = Signatures::parse("schema_version = 1\n[[servers]]\nid = 1\n", "t.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("t.toml"), "{err}");
    }
}
