//! `aiposture fleet`: one row per host reached over SSH, each the summary of the
//! snapshot that host's own aiposture wrote, or the reason there is none. A host
//! that could not be read is a row with its error, never left out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::privacy::AirGapState;
use super::{Reach, Severity, Snapshot};

/// Default remote command. `-o -` writes the JSON snapshot to standard output.
pub const DEFAULT_REMOTE_COMMAND: &str = "aiposture snapshot --format json -o -";
pub const DEFAULT_JOBS: usize = 8;

/// `KEY=VALUE` (or `KEY VALUE`) as ssh's `-o` takes it; nothing that ssh could
/// read as another flag.
pub fn check_ssh_option(o: &str) -> Result<(), String> {
    let key = o.split(['=', ' ']).next().unwrap_or("");
    if key.is_empty() || key.starts_with('-') || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("ssh option {o:?}: expected KEY=VALUE"));
    }
    if !o.contains(['=', ' ']) {
        return Err(format!("ssh option {o:?}: expected KEY=VALUE"));
    }
    Ok(())
}

/// Bumped on any change that breaks readers of the fleet JSON.
pub const FLEET_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct FleetReport {
    pub schema_version: u32,
    /// Version of the aiposture that ran the fleet (each host reports its own).
    pub tool_version: String,
    /// When the fleet run started (RFC 3339, UTC, this machine's clock).
    pub collected_at: String,
    pub duration_ms: u64,
    /// What ran on every host, after `ssh … --`.
    pub remote_command: String,
    /// In the order the hosts were given.
    pub hosts: Vec<FleetHost>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct FleetHost {
    /// As given: `[user@]host[:port]`, `[v6addr]:port` or an ssh_config alias.
    pub target: String,
    #[serde(flatten)]
    pub state: HostState,
    /// From spawning `ssh` to its exit (or to the kill on timeout).
    pub duration_ms: u64,
    /// Where the host's full snapshot was written (`--keep DIR`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
    /// Why it could not be written there (the row itself is still good).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_error: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HostState {
    Ok {
        summary: Box<HostSummary>,
    },
    Error {
        stage: FailStage,
        /// What went wrong, with the tail of ssh's standard error (capped).
        message: String,
        /// Exit status of `ssh` (255: ssh itself failed; else the remote command's).
        exit_code: Option<i32>,
    },
}

/// Where reaching a host stopped.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FailStage {
    /// The `ssh` client could not be started on this machine.
    Local,
    /// No SSH session: name resolution, refused, unreachable, connect timeout.
    Connect,
    /// The session was refused: keys, host key verification, BatchMode prompts.
    Auth,
    /// Logged in, but the remote command failed (not installed, exit status ≠ 0
    /// with nothing usable on standard output).
    RemoteCommand,
    /// No answer within the per-host timeout; `ssh` was killed.
    Timeout,
    /// The output is not a snapshot this aiposture can read (not JSON, another
    /// schema version, too large).
    Parse,
}

impl FailStage {
    pub const ALL: [FailStage; 6] = [
        FailStage::Local,
        FailStage::Connect,
        FailStage::Auth,
        FailStage::RemoteCommand,
        FailStage::Timeout,
        FailStage::Parse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailStage::Local => "local",
            FailStage::Connect => "connect",
            FailStage::Auth => "auth",
            FailStage::RemoteCommand => "remote-command",
            FailStage::Timeout => "timeout",
            FailStage::Parse => "parse",
        }
    }
}

/// What the fleet table shows of one host's snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct HostSummary {
    pub hostname: String,
    /// When the host collected (RFC 3339, its own clock).
    pub collected_at: String,
    pub tool_version: String,
    /// Who aiposture ran as there, and whether it saw everything (root).
    pub user: String,
    pub is_root: bool,
    pub blind_spots: usize,
    pub servers: usize,
    /// The widest reach of any server's listener. `unknown` ranks above
    /// loopback-only and host-only but below LAN: a listener that could not be
    /// judged is never shown as safe, and a known wide one is not hidden by it.
    pub worst_exposure: Option<Reach>,
    /// Servers counted once each, at the widest reach of their listeners
    /// (a server with no listener is not counted).
    pub servers_by_exposure: ExposureCounts,
    pub findings: SeverityCounts,
    /// Findings accepted by `[[suppress]]` entries on that host.
    pub suppressed: usize,
    /// Age of the advisory data the host used, and what it considers too old.
    pub advisory_age_days: Option<u64>,
    pub advisory_max_age_days: u64,
    pub air_gap: Option<AirGapState>,
    /// The host's posture score (its weakest server; 100 with no server).
    pub score: u32,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct SeverityCounts {
    pub critical: usize,
    pub high: usize,
    pub medium: usize,
    pub low: usize,
    pub info: usize,
}

impl SeverityCounts {
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Info => self.info,
        }
    }

    fn add(&mut self, s: Severity) {
        match s {
            Severity::Critical => self.critical += 1,
            Severity::High => self.high += 1,
            Severity::Medium => self.medium += 1,
            Severity::Low => self.low += 1,
            Severity::Info => self.info += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct ExposureCounts {
    pub public: usize,
    pub vpn: usize,
    pub lan: usize,
    pub unknown: usize,
    pub host_only: usize,
    pub loopback_only: usize,
}

impl ExposureCounts {
    /// Widest first, in the fleet's ranking.
    pub const ORDER: [Reach; 6] = [
        Reach::Public,
        Reach::Vpn,
        Reach::Lan,
        Reach::Unknown,
        Reach::HostOnly,
        Reach::LoopbackOnly,
    ];

    pub fn get(&self, r: Reach) -> usize {
        match r {
            Reach::Public => self.public,
            Reach::Vpn => self.vpn,
            Reach::Lan => self.lan,
            Reach::Unknown => self.unknown,
            Reach::HostOnly => self.host_only,
            Reach::LoopbackOnly => self.loopback_only,
        }
    }

    fn add(&mut self, r: Reach) {
        match r {
            Reach::Public => self.public += 1,
            Reach::Vpn => self.vpn += 1,
            Reach::Lan => self.lan += 1,
            Reach::Unknown => self.unknown += 1,
            Reach::HostOnly => self.host_only += 1,
            Reach::LoopbackOnly => self.loopback_only += 1,
        }
    }
}

/// Rank for "worst exposure": higher is wider. See `HostSummary::worst_exposure`.
pub fn exposure_rank(r: Reach) -> u8 {
    match r {
        Reach::LoopbackOnly => 0,
        Reach::HostOnly => 1,
        Reach::Unknown => 2,
        Reach::Lan => 3,
        Reach::Vpn => 4,
        Reach::Public => 5,
    }
}

impl HostSummary {
    pub fn of(snap: &Snapshot) -> HostSummary {
        let inv = &snap.inventory;
        let mut by_exposure = ExposureCounts::default();
        let mut worst: Option<Reach> = None;
        for server in &inv.servers {
            let widest = server
                .sockets
                .iter()
                .filter_map(|&i| snap.exposure_of(i))
                .map(|e| e.reach)
                .max_by_key(|&r| exposure_rank(r));
            if let Some(r) = widest {
                by_exposure.add(r);
                if worst.is_none_or(|w| exposure_rank(r) > exposure_rank(w)) {
                    worst = Some(r);
                }
            }
        }
        let mut findings = SeverityCounts::default();
        for f in &snap.findings {
            findings.add(f.severity);
        }
        HostSummary {
            hostname: inv.host.hostname.clone(),
            collected_at: inv.host.collected_at.clone(),
            tool_version: snap.tool.version.clone(),
            user: inv.privileges.user.clone(),
            is_root: inv.privileges.is_root,
            blind_spots: inv.blind_spots.len(),
            servers: inv.servers.len(),
            worst_exposure: worst,
            servers_by_exposure: by_exposure,
            findings,
            suppressed: snap.suppressed.len(),
            advisory_age_days: snap.patch.data.age_days,
            advisory_max_age_days: snap.patch.data.max_age_days,
            air_gap: snap.privacy.air_gap.state,
            score: snap.scores.host,
        }
    }
}

impl FleetHost {
    pub fn summary(&self) -> Option<&HostSummary> {
        match &self.state {
            HostState::Ok { summary } => Some(summary.as_ref()),
            HostState::Error { .. } => None,
        }
    }

    pub fn is_ok(&self) -> bool {
        self.summary().is_some()
    }
}

impl FleetReport {
    pub fn failed(&self) -> usize {
        self.hosts.iter().filter(|h| !h.is_ok()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ranks_between_host_only_and_lan() {
        let mut all = ExposureCounts::ORDER;
        all.sort_by_key(|&r| std::cmp::Reverse(exposure_rank(r)));
        assert_eq!(all, ExposureCounts::ORDER);
    }

    #[test]
    fn host_state_is_tagged_in_json() {
        let h = FleetHost {
            target: "gpu1".into(),
            state: HostState::Error {
                stage: FailStage::RemoteCommand,
                message: "exit 127".into(),
                exit_code: Some(127),
            },
            duration_ms: 5,
            kept: None,
            keep_error: None,
        };
        let v = serde_json::to_value(&h).expect("json");
        assert_eq!(v["state"], "error");
        assert_eq!(v["stage"], "remote-command");
        let back: FleetHost = serde_json::from_value(v).expect("reads back");
        assert_eq!(back, h);
    }
}
