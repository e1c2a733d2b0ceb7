//! Configuration: defaults, overridden by a TOML file (XDG or `--config`),
//! overridden by command-line flags. Unknown keys are errors with file:line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::Suppression;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Refresh cadence of the dashboard, e.g. "2s", "500ms", "1m".
    pub interval: String,
    /// Colour theme: "default" or "mono". NO_COLOR in the environment forces "mono".
    pub theme: String,
    /// Capture the mouse in the dashboard (off: the terminal keeps text selection).
    pub mouse: bool,
    /// Append diagnostics here; empty string: no log file.
    pub log_file: String,
    /// Log level for the log file: error, warn, info, debug.
    pub log_level: String,
    /// Send read-only loopback HTTP probes to recognised servers (false = passive).
    pub probes: bool,
    /// Where model files are looked for, and the policy that approves them.
    pub models: ModelsConfig,
    /// Advisory data for patch status: an osv.dev export, and how old is too old.
    pub advisories: AdvisoriesConfig,
    /// Accepted risks: `[[suppress]]` entries, each with reason, owner and expiry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppress: Vec<Suppression>,
    /// History: where events are kept, for how long, and what is watched.
    pub timeline: TimelineConfig,
    /// The accepted state of the host that changes are reported against.
    pub baseline: BaselineConfig,
    /// What the dashboard's export key and `snapshot --output-dir` write, and where.
    pub export: ExportConfig,
    /// `aiposture fleet`: hosts read over the system ssh client.
    pub fleet: FleetConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ExportConfig {
    /// Formats written (json, jsonl, markdown, prometheus, ...), each to a
    /// fixed name in `dir` (`aiposture.json`, `aiposture.md`, ...).
    pub formats: Vec<String>,
    /// Directory written to; "" = $XDG_STATE_HOME/aiposture/exports
    /// (~/.local/state/aiposture/exports).
    pub dir: String,
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            formats: vec!["json".into(), "markdown".into()],
            dir: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct FleetConfig {
    /// Hosts file used when no host is named (one per line, `#` comments); "" = none.
    pub hosts_file: String,
    /// What runs on each host; it must print one snapshot as JSON on stdout.
    pub remote_command: String,
    /// Hosts reached at the same time.
    pub jobs: usize,
    /// Per host, from starting ssh to the last byte; ssh is killed after it.
    pub timeout: String,
    /// `ssh -F FILE`; "" = ssh's own (~/.ssh/config, /etc/ssh/ssh_config).
    pub ssh_config: String,
    /// Extra `ssh -o KEY=VALUE` options.
    pub ssh_options: Vec<String>,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            hosts_file: String::new(),
            remote_command: crate::model::fleet::DEFAULT_REMOTE_COMMAND.into(),
            jobs: crate::model::fleet::DEFAULT_JOBS,
            timeout: "60s".into(),
            ssh_config: String::new(),
            ssh_options: Vec::new(),
        }
    }
}

impl ExportConfig {
    /// The directory exports go to, when one can be named.
    pub fn dir(&self) -> Option<PathBuf> {
        if self.dir.is_empty() {
            crate::paths::state_dir().map(|d| d.join("exports"))
        } else {
            Some(PathBuf::from(&self.dir))
        }
    }

    /// At least one format is named; the names themselves are the exporters'
    /// to check (the edge does, with the same message shape).
    fn check_formats(&self) -> Result<(), String> {
        if self.formats.is_empty() {
            return Err("export.formats: name at least one format".into());
        }
        Ok(())
    }
}

impl FleetConfig {
    pub fn timeout_duration(&self) -> Result<Duration, String> {
        let d = humantime::parse_duration(&self.timeout)
            .map_err(|e| format!("fleet.timeout {:?}: {e}", self.timeout))?;
        if d < Duration::from_secs(1) {
            return Err(format!("fleet.timeout {:?}: at least 1s", self.timeout));
        }
        Ok(d)
    }

    fn check(&self) -> Result<(), String> {
        self.timeout_duration()?;
        if !(1..=256).contains(&self.jobs) {
            return Err(format!("fleet.jobs {}: must be 1-256", self.jobs));
        }
        if self.remote_command.trim().is_empty() {
            return Err("fleet.remote_command is empty".into());
        }
        for o in &self.ssh_options {
            crate::model::fleet::check_ssh_option(o).map_err(|e| format!("fleet.{e}"))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TimelineConfig {
    /// Directory of the timeline store; "" = $XDG_STATE_HOME/aiposture
    /// (~/.local/state/aiposture).
    pub dir: String,
    /// Events and samples older than this many days are dropped.
    pub retention_days: u32,
    /// At most this many events are kept (the oldest go first).
    pub max_events: u64,
    /// Watch model directories, unit and configuration files with inotify.
    pub watch: bool,
    /// Changes within this window are one batch (one refresh, one event per path).
    pub debounce: String,
}

impl Default for TimelineConfig {
    fn default() -> Self {
        TimelineConfig {
            dir: String::new(),
            retention_days: 90,
            max_events: 100_000,
            watch: true,
            debounce: "500ms".into(),
        }
    }
}

impl TimelineConfig {
    pub fn debounce_duration(&self) -> Result<Duration, String> {
        humantime::parse_duration(&self.debounce)
            .map_err(|e| format!("timeline.debounce {:?}: {e}", self.debounce))
    }

    /// The watcher's debounce, or `None` when watching is off.
    pub fn watch_debounce(&self) -> Result<Option<Duration>, String> {
        if self.watch {
            self.debounce_duration().map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn retention(&self) -> crate::model::events::Retention {
        crate::model::events::Retention {
            days: self.retention_days,
            max_events: self.max_events,
        }
    }

    /// The store's directory, when one can be named.
    pub fn dir(&self) -> Option<PathBuf> {
        if self.dir.is_empty() {
            crate::paths::state_dir()
        } else {
            Some(PathBuf::from(&self.dir))
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BaselineConfig {
    /// Snapshot written by `aiposture baseline save`; "" = the state directory's
    /// `baseline.json`. When the file exists, changes since it are findings.
    pub path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdvisoriesConfig {
    /// An osv.dev export (`all.zip` or a directory of OSV JSON / per-ecosystem
    /// zips); "" = the set embedded in the binary. Overridden by `--advisories`.
    pub path: String,
    /// Advisory data whose newest record is older than this many days is a finding.
    pub max_age_days: u64,
}

impl Default for AdvisoriesConfig {
    fn default() -> Self {
        AdvisoriesConfig {
            path: String::new(),
            max_age_days: crate::model::advisory::DEFAULT_MAX_AGE_DAYS,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ModelsConfig {
    /// Extra directories searched for model files (by content), absolute paths.
    pub roots: Vec<String>,
    /// Policy file of model approvals; "" = $XDG_CONFIG_HOME/aiposture/policy.toml.
    pub policy: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            interval: "2s".into(),
            theme: "default".into(),
            mouse: false,
            log_file: String::new(),
            log_level: "info".into(),
            probes: true,
            models: ModelsConfig::default(),
            advisories: AdvisoriesConfig::default(),
            timeline: TimelineConfig::default(),
            suppress: Vec::new(),
            baseline: BaselineConfig::default(),
            export: ExportConfig::default(),
            fleet: FleetConfig::default(),
        }
    }
}

pub const MIN_INTERVAL: Duration = Duration::from_millis(200);

impl Config {
    /// Parse a config file's text; errors carry `path:line:column`.
    pub fn parse(text: &str, path: &Path) -> Result<Config, Error> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            Error::Config {
                path: path.to_path_buf(),
                message: format!("{}:{line}:{col}: {}", path.display(), e.message()),
            }
        })?;
        let mut cfg = cfg;
        for (s, line) in cfg.suppress.iter_mut().zip(suppress_lines(text)) {
            s.file = path.display().to_string();
            s.line = line as u64;
        }
        cfg.validate(path)?;
        Ok(cfg)
    }

    pub fn validate(&self, path: &Path) -> Result<(), Error> {
        let bad = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        self.interval_duration().map_err(bad)?;
        if !matches!(self.theme.as_str(), "default" | "mono") {
            return Err(bad(format!(
                "theme {:?}: expected \"default\" or \"mono\"",
                self.theme
            )));
        }
        if !matches!(self.log_level.as_str(), "error" | "warn" | "info" | "debug") {
            return Err(bad(format!(
                "log_level {:?}: expected error, warn, info or debug",
                self.log_level
            )));
        }
        if let Some(r) = self.models.roots.iter().find(|r| !r.starts_with('/')) {
            return Err(bad(format!("models.roots: {r:?} is not an absolute path")));
        }
        if !self.advisories.path.is_empty() && !self.advisories.path.starts_with('/') {
            return Err(bad(format!(
                "advisories.path: {:?} is not an absolute path",
                self.advisories.path
            )));
        }
        let debounce = self.timeline.debounce_duration().map_err(bad)?;
        if debounce < Duration::from_millis(50) || debounce > Duration::from_secs(60) {
            return Err(bad(format!(
                "timeline.debounce {:?}: must be between 50ms and 60s",
                self.timeline.debounce
            )));
        }
        if !self.timeline.dir.is_empty() && !self.timeline.dir.starts_with('/') {
            return Err(bad(format!(
                "timeline.dir: {:?} is not an absolute path",
                self.timeline.dir
            )));
        }
        if self.timeline.retention_days == 0 || self.timeline.max_events == 0 {
            return Err(bad(
                "timeline.retention_days and timeline.max_events must be at least 1".into(),
            ));
        }
        if !self.baseline.path.is_empty() && !self.baseline.path.starts_with('/') {
            return Err(bad(format!(
                "baseline.path: {:?} is not an absolute path",
                self.baseline.path
            )));
        }
        self.export.check_formats().map_err(bad)?;
        if !self.export.dir.is_empty() && !self.export.dir.starts_with('/') {
            return Err(bad(format!(
                "export.dir: {:?} is not an absolute path",
                self.export.dir
            )));
        }
        self.fleet.check().map_err(bad)?;
        if self.advisories.max_age_days == 0 {
            return Err(bad("advisories.max_age_days: must be at least 1".into()));
        }
        for s in &self.suppress {
            check_suppression(s).map_err(|e| bad(format!("{}: [[suppress]]: {e}", s.origin())))?;
        }
        Ok(())
    }

    /// The policy file: `models.policy`, else next to the XDG config file.
    pub fn policy_path(&self) -> Option<PathBuf> {
        if self.models.policy.is_empty() {
            Self::xdg_path().map(|p| p.with_file_name("policy.toml"))
        } else {
            Some(PathBuf::from(&self.models.policy))
        }
    }

    /// The baseline file: `baseline.path`, else `$XDG_STATE_HOME/aiposture/baseline.json`.
    pub fn baseline_path(&self) -> Option<PathBuf> {
        if self.baseline.path.is_empty() {
            crate::paths::state_dir().map(|d| d.join("baseline.json"))
        } else {
            Some(PathBuf::from(&self.baseline.path))
        }
    }

    pub fn interval_duration(&self) -> Result<Duration, String> {
        let d = humantime::parse_duration(&self.interval)
            .map_err(|e| format!("interval {:?}: {e}", self.interval))?;
        if d < MIN_INTERVAL {
            return Err(format!(
                "interval {:?} is below the minimum of 200ms",
                self.interval
            ));
        }
        Ok(d)
    }

    /// `$XDG_CONFIG_HOME/aiposture/config.toml`, else `~/.config/aiposture/config.toml`.
    pub fn xdg_path() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(base.join("aiposture").join("config.toml"))
    }

    /// Load from an explicit path (must exist) or the XDG path (may be absent).
    pub fn load(explicit: Option<&Path>) -> Result<(Config, Option<PathBuf>), Error> {
        let (path, required) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => match Self::xdg_path() {
                Some(p) => (p, false),
                None => return Ok((Config::default(), None)),
            },
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((Config::parse(&text, &path)?, Some(path))),
            Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => {
                Ok((Config::default(), None))
            }
            // Common under `sudo -u` with HOME still pointing at the caller's home:
            // the default location is not ours to read, so run on defaults and say so.
            Err(e) if !required && e.kind() == std::io::ErrorKind::PermissionDenied => {
                eprintln!(
                    "aiposture: {} is not readable ({e}); using the default configuration",
                    path.display()
                );
                Ok((Config::default(), None))
            }
            Err(source) => Err(Error::Read { path, source }),
        }
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// Line of each `[[suppress]]` header, in order, so errors and findings can name it.
fn suppress_lines(text: &str) -> Vec<usize> {
    #[derive(Deserialize)]
    struct Spans {
        #[serde(default)]
        suppress: Vec<toml::Spanned<toml::Table>>,
    }
    toml::from_str::<Spans>(text)
        .map(|s| {
            s.suppress
                .iter()
                .map(|t| line_col(text, t.span().start).0)
                .collect()
        })
        .unwrap_or_default()
}

/// What the parser cannot say: non-empty text, strict dates, `*` only at the end,
/// and a subject, so that no entry hides a rule everywhere unless it says so.
fn check_suppression(s: &Suppression) -> Result<(), String> {
    let pattern = |name: &str, v: &str| -> Result<(), String> {
        if v.trim().is_empty() {
            return Err(format!("{name} is empty"));
        }
        if v.trim_end_matches('*').contains('*') || v.ends_with("**") {
            return Err(format!(
                "{name} {v:?}: `*` is allowed only once, at the end"
            ));
        }
        Ok(())
    };
    pattern("rule", &s.rule)?;
    for (name, v) in [("product", &s.product), ("listener", &s.listener)] {
        if v.as_ref().is_some_and(|v| v.trim().is_empty()) {
            return Err(format!("{name} is empty"));
        }
    }
    if let Some(p) = &s.path {
        pattern("path", p)?;
    }
    let has_subject = s.product.is_some() || s.listener.is_some() || s.path.is_some();
    match (has_subject, s.any_subject) {
        (false, false) => {
            return Err("needs product, listener or path to say what it covers \
                        (or any_subject = true to cover the rule everywhere)"
                .into());
        }
        (true, true) => {
            return Err("any_subject = true contradicts product, listener or path".into());
        }
        _ => {}
    }
    for (name, v) in [("reason", &s.reason), ("owner", &s.owner)] {
        if v.trim().is_empty() {
            return Err(format!("{name} is empty"));
        }
    }
    crate::model::date::parse_date(&s.expires).map_err(|e| format!("expires {e}"))?;
    if s.ticket.as_ref().is_some_and(|t| t.trim().is_empty()) {
        return Err("ticket is empty (leave it out instead)".into());
    }
    Ok(())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map(|i| before.len() - i)
        .unwrap_or(before.len() + 1);
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_rejected_with_line() {
        let e = Config::parse(
            "theme = \"mono\"\n\nintervall = \"1s\"\n",
            Path::new("c.toml"),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(e.contains("c.toml:3:1"), "{e}");
        assert!(e.contains("intervall"), "{e}");
    }

    #[test]
    fn example_config_is_the_default_config() {
        let text = include_str!("../config.example.toml");
        let cfg = Config::parse(text, Path::new("config.example.toml")).expect("example parses");
        assert_eq!(cfg, Config::default());
        // Every key of the config is documented in the example.
        let table: toml::Table = toml::from_str(&Config::default().to_toml()).expect("toml");
        for (key, value) in &table {
            match value.as_table() {
                Some(inner) => {
                    assert!(
                        text.contains(&format!("[{key}]")),
                        "[{key}] missing from config.example.toml"
                    );
                    for k in inner.keys() {
                        assert!(
                            text.contains(&format!("{k} =")),
                            "{key}.{k} missing from config.example.toml"
                        );
                    }
                }
                None => assert!(
                    text.contains(&format!("{key} =")),
                    "{key} missing from config.example.toml"
                ),
            }
        }
        // The policy example in the comments parses as a policy file.
        let policy: String = text
            .lines()
            .skip_while(|l| !l.starts_with("# --- policy.toml example"))
            .skip(1)
            .take_while(|l| !l.starts_with("# --- end"))
            .map(|l| {
                format!(
                    "{}\n",
                    l.strip_prefix("# ").or(l.strip_prefix("#")).unwrap_or(l)
                )
            })
            .collect();
        let approvals = crate::knowledge::policy::parse(&policy, Path::new("example"))
            .expect("policy example parses");
        assert!(approvals.len() >= 2, "{policy}");
        // So does the suppress example, as config.
        let suppress: String = text
            .lines()
            .skip_while(|l| !l.starts_with("# --- suppress example"))
            .skip(1)
            .take_while(|l| !l.starts_with("# --- end"))
            .map(|l| format!("{}\n", l.strip_prefix('#').unwrap_or(l).trim_start()))
            .collect();
        let cfg = Config::parse(&suppress, Path::new("example")).expect("suppress example parses");
        assert_eq!(cfg.suppress.len(), 2, "{suppress}");
    }

    const SUPPRESS: &str = "theme = \"mono\"\n\n[[suppress]]\nrule = \"exposure.unauthenticated-listener\"\nlistener = \"0.0.0.0:8080/tcp\"\nreason = \"lab box on an isolated VLAN\"\nowner = \"alice\"\nexpires = \"2026-09-30\"\n\n[[suppress]]\nrule = \"privacy.*\"\nany_subject = true\nreason = \"r\"\nowner = \"bob\"\nexpires = \"2026-12-31\"\nticket = \"SEC-1\"\n";

    fn suppress_error(text: &str) -> String {
        Config::parse(text, Path::new("c.toml"))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn suppressions_parse_and_name_their_line() {
        let cfg = Config::parse(SUPPRESS, Path::new("c.toml")).expect("parses");
        assert_eq!(cfg.suppress.len(), 2);
        assert_eq!(cfg.suppress[0].origin(), "c.toml:3");
        assert_eq!(
            cfg.suppress[0].listener.as_deref(),
            Some("0.0.0.0:8080/tcp")
        );
        assert_eq!(cfg.suppress[1].origin(), "c.toml:10");
        assert!(cfg.suppress[1].any_subject);
        assert_eq!(cfg.suppress[1].ticket.as_deref(), Some("SEC-1"));
        // --print-config shows them, and what it prints reads back the same.
        let again = Config::parse(&cfg.to_toml(), Path::new("c.toml")).expect("round trip");
        assert_eq!(again.suppress.len(), 2);
        assert_eq!(again.suppress[1].rule, "privacy.*");
    }

    #[test]
    fn bad_suppressions_are_rejected_with_their_line() {
        let e = suppress_error(&SUPPRESS.replace("2026-09-30", "2026-02-30"));
        assert!(e.contains("c.toml:3: [[suppress]]: expires"), "{e}");
        assert!(e.contains("day 30 does not exist"), "{e}");
        let e = suppress_error(&SUPPRESS.replace("2026-12-31", "31/12/2026"));
        assert!(e.contains("c.toml:10: [[suppress]]: expires"), "{e}");
        let e = suppress_error(&SUPPRESS.replace("reason = \"r\"\n", ""));
        assert!(e.contains("c.toml:10:") && e.contains("reason"), "{e}");
        let e = suppress_error(&SUPPRESS.replace("reason = \"r\"", "reason = \" \""));
        assert!(
            e.contains("c.toml:10: [[suppress]]: reason is empty"),
            "{e}"
        );
        let e = suppress_error(&SUPPRESS.replace("owner = \"alice\"\n", ""));
        assert!(e.contains("c.toml:3:") && e.contains("owner"), "{e}");
        let e = suppress_error(&SUPPRESS.replace("any_subject = true\n", ""));
        assert!(e.contains("c.toml:10: [[suppress]]: needs product"), "{e}");
        let e = suppress_error(&SUPPRESS.replace(
            "any_subject = true",
            "any_subject = true\nproduct = \"ollama\"",
        ));
        assert!(e.contains("contradicts"), "{e}");
        let e = suppress_error(&SUPPRESS.replace("privacy.*", "privacy.*.x"));
        assert!(e.contains("only once, at the end"), "{e}");
        let e = suppress_error(&SUPPRESS.replace("listener =", "pid = 7\nlistener ="));
        assert!(e.contains("c.toml:5:") && e.contains("pid"), "{e}");
    }

    #[test]
    fn bad_values_are_rejected() {
        for bad in [
            "interval = \"fast\"",
            "interval = \"10ms\"",
            "theme = \"neon\"",
            "log_level = \"loud\"",
            "[models]\nroots = [\"relative/dir\"]",
            "[models]\nrootz = []",
        ] {
            assert!(Config::parse(bad, Path::new("c.toml")).is_err(), "{bad}");
        }
    }
}
