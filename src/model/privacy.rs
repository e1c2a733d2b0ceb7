//! Privacy: whether the "local" stack stays local. Collected facts (actors,
//! opt-out files, prompt logs, connections, /etc/hosts names) live in the
//! inventory; the judged report (switch states, back-ends, egress, verdict)
//! in the snapshot.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Evidence, PathAccess, Protocol};

// ---------------------------------------------------------------- collected

/// What the collectors read for the privacy rules (`Inventory::privacy`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PrivacyFacts {
    /// Processes that move data off the host or act on their own: tunnel
    /// clients, AI agents, MCP servers (`assets/privacy.toml` `[[actors]]`).
    pub actors: Vec<Actor>,
    /// Opt-out and evidence files of telemetry switches, looked up per server.
    pub switch_files: Vec<SwitchFile>,
    /// Back-ends named in known configuration files (LiteLLM `--config`).
    pub config_backends: Vec<ConfigBackend>,
    /// Prompt and response logs at rest in known locations.
    pub prompt_logs: Vec<PromptLog>,
    /// Connections of AI processes to non-loopback peers, with first-seen time.
    pub connections: Vec<Connection>,
    /// Address → names from `/etc/hosts` (the host's, and each container's).
    pub hosts_names: Vec<HostsName>,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// Opens a public URL to a local port (ngrok, cloudflared, frpc, ssh -R).
    Tunnel,
    /// Acts on its own with a model: coding agents, autonomous agents.
    Agent,
    /// Model Context Protocol server: tools a model can call.
    McpServer,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Tunnel => "tunnel",
            ActorKind::Agent => "agent",
            ActorKind::McpServer => "mcp server",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Actor {
    /// Id from `assets/privacy.toml`.
    pub id: String,
    pub name: String,
    pub kind: ActorKind,
    pub pid: u32,
    pub ppid: u32,
    pub uid: Option<u32>,
    pub user: Option<String>,
    /// argv with secret values replaced by `<redacted>`.
    pub cmdline: Vec<String>,
    /// Which facts matched.
    pub reason: String,
    /// Evidence status of the entry: src, doc, 2nd, unverified.
    pub status: String,
    /// The AI server it is a child of, when one is an ancestor.
    pub parent_server: Option<u32>,
    /// Indices into `Inventory::sockets` it holds.
    pub sockets: Vec<usize>,
}

/// A file whose presence (or content) turns a telemetry switch off or shows it ran.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SwitchFile {
    /// Server pid the file was resolved for (its owner's home, its root).
    pub pid: u32,
    /// Switch id from `assets/privacy.toml`.
    pub switch: String,
    /// Path as the process sees it.
    pub path: String,
    pub state: FileState,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum FileState {
    Absent,
    /// Present; `matches` tells whether the expected `key=value` is in it
    /// (`None` when only presence counts).
    Present {
        matches: Option<bool>,
    },
    /// Could not be looked at: the switch state stays unknown.
    Unreadable {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ConfigBackend {
    pub pid: u32,
    /// The configuration file, as the process sees it.
    pub file: String,
    /// Where in the file, e.g. `model_list[2].litellm_params.api_base`.
    pub key: String,
    /// Provider named by the entry (`openai`, `anthropic`, `ollama`), if any.
    pub provider: Option<String>,
    /// Host of a base URL (userinfo, path and query dropped).
    pub host: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PromptLog {
    pub pid: u32,
    pub product: String,
    /// Entry id from `assets/privacy.toml` `[[logs]]`.
    pub log: String,
    /// What it holds, e.g. "chats, prompts and responses (SQLite)".
    pub holds: String,
    /// Path as the process sees it.
    pub path: String,
    /// How the location was found, e.g. `--log-file of pid 812`, `default under the cwd`.
    pub located_by: String,
    pub is_dir: bool,
    /// Bytes (a directory: sum of the files under it, bounded walk).
    pub size_bytes: u64,
    /// Files under a directory (1 for a file).
    pub files: u64,
    /// Last modification, RFC 3339 UTC.
    pub modified: Option<String>,
    /// The file and each directory above it: who can read it.
    pub access: Vec<PathAccess>,
    /// A file under a directory readable by more users than the directory suggests.
    pub loosest_member: Option<PathAccess>,
    /// Who besides root can read what it holds, from the access chain; set by `rules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readers: Option<LogReaders>,
}

/// Who besides root can read what a prompt log holds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "who")]
pub enum LogReaders {
    /// Its owner only.
    Owner,
    /// The other members of group `gid`.
    Group { gid: u32 },
    /// Every local user.
    Everyone,
    /// Readable past its owner as far as could be seen, but a directory above it
    /// could not be looked at.
    Unknown,
}

impl LogReaders {
    pub fn describe(self) -> String {
        match self {
            LogReaders::Owner => "owner only".into(),
            LogReaders::Group { gid } => format!("members of group {gid}"),
            LogReaders::Everyone => "every local user".into(),
            LogReaders::Unknown => "unknown (a directory above it could not be read)".into(),
        }
    }
}

/// A connection of an AI process to a peer that is not loopback.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Connection {
    /// Index into `Inventory::sockets`.
    pub socket: usize,
    pub pid: u32,
    pub protocol: Protocol,
    pub remote: IpAddr,
    pub port: u16,
    /// First collection of this aiposture process that saw it (RFC 3339 UTC).
    pub first_seen: String,
    /// The hosts file the process resolves names with, as aiposture reads it
    /// (`/etc/hosts`, or `/proc/PID/root/etc/hosts` when its root differs);
    /// `None` when that could not be told. `hosts_names` rows of this file apply.
    #[serde(default)]
    pub hosts_file: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct HostsName {
    pub addr: IpAddr,
    pub names: Vec<String>,
    /// The hosts file, e.g. `/etc/hosts` or `/proc/812/root/etc/hosts`.
    pub file: String,
}

// ---------------------------------------------------------------- judged

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum SwitchState {
    /// Will reach out.
    On,
    Off,
    /// Could not be told (unreadable environment or file, an invalid value).
    Unknown,
}

impl SwitchState {
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchState::On => "on",
            SwitchState::Off => "off",
            SwitchState::Unknown => "unknown",
        }
    }
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum SwitchKind {
    Telemetry,
    UpdateCheck,
    /// Downloads models or catalogs from a hub when asked for one not cached.
    HubPull,
    /// Cloud features of a local product (Ollama cloud models).
    CloudFeatures,
}

impl SwitchKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SwitchKind::Telemetry => "telemetry",
            SwitchKind::UpdateCheck => "update check",
            SwitchKind::HubPull => "hub pull",
            SwitchKind::CloudFeatures => "cloud features",
        }
    }
}

/// One telemetry / phone-home switch of one process, resolved.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Switch {
    /// Id from `assets/privacy.toml`.
    pub id: String,
    pub name: String,
    pub kind: SwitchKind,
    pub state: SwitchState,
    /// Where it would send data.
    pub endpoint: String,
    /// Why it applies to this process (product, or a library on its path).
    pub applies_because: String,
    /// What was read to decide, in order.
    pub evidence: Vec<Evidence>,
    /// How to turn it off.
    pub remediation: String,
    pub source: String,
    /// What the product still sends with the switch off, from its source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub still_sends: Option<String>,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    /// A credential for a cloud API is in the environment (named, never shown).
    ApiKey,
    /// A base URL pointing away from this host.
    BaseUrl,
    /// A feature set to a remote engine (RAG embeddings, web search, speech).
    RemoteEngine,
    /// An entry of a configuration file (LiteLLM model list).
    ConfigEntry,
}

/// A way data can leave through a configured cloud back-end.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Backend {
    pub kind: BackendKind,
    /// Variable name or config key (never a value of a secret).
    pub setting: String,
    pub provider: Option<String>,
    /// Host only; userinfo, path and query are never kept.
    pub host: Option<String>,
    /// `loopback`, `private`, `public`, or `name` (not resolved: no DNS).
    pub destination: String,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Tunnel {
    /// Entry id from `assets/privacy.toml`.
    pub id: String,
    /// The flag or variable that opens it, or the tunnel process.
    pub trigger: String,
    /// Where the public end is, e.g. `*.gradio.live`.
    pub target: String,
    pub evidence: Vec<Evidence>,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// RFC 1918 / ULA / link-local: stays on the local network.
    Lan,
    /// Through a VPN or overlay (tailnet CGNAT range, wg/tun interface).
    Vpn,
    /// Anything else: the internet.
    Public,
}

impl Destination {
    pub fn as_str(self) -> &'static str {
        match self {
            Destination::Lan => "lan",
            Destination::Vpn => "vpn",
            Destination::Public => "public",
        }
    }
}

/// Connections of one process to one peer, grouped.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Egress {
    pub protocol: Protocol,
    pub remote: IpAddr,
    pub port: u16,
    pub destination: Destination,
    /// Names for the address, without DNS: `/etc/hosts`, or a published range.
    pub attribution: Option<String>,
    /// How many sockets go there.
    pub connections: usize,
    pub first_seen: String,
    pub evidence: Vec<Evidence>,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyRole {
    Server,
    Tunnel,
    Agent,
    McpServer,
}

/// Everything privacy-relevant about one process.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ProcessPrivacy {
    pub pid: u32,
    pub product: String,
    pub role: PrivacyRole,
    pub switches: Vec<Switch>,
    pub backends: Vec<Backend>,
    pub tunnels: Vec<Tunnel>,
    pub egress: Vec<Egress>,
    /// What could not be assessed for this process (its open sockets, hence its
    /// connections): the air-gap verdict cannot be "ready" while anything is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_assessed: Vec<String>,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum AirGapState {
    /// Nothing found that would reach out, and nothing left unknown.
    Ready,
    NotReady,
    /// Nothing found that reaches out, but something could not be read or
    /// assessed (a switch, a process's connections).
    Unknown,
}

impl AirGapState {
    pub fn as_str(self) -> &'static str {
        match self {
            AirGapState::Ready => "ready",
            AirGapState::NotReady => "not ready",
            AirGapState::Unknown => "unknown",
        }
    }
}

/// One thing that would reach out (or might: `state` unknown).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ReachOut {
    pub pid: u32,
    pub product: String,
    /// `telemetry`, `update check`, `hub pull`, `cloud features`, `backend`,
    /// `tunnel`, `agent`, `mcp server`, `egress`, `not assessed`.
    pub kind: String,
    pub what: String,
    pub state: SwitchState,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AirGap {
    pub state: Option<AirGapState>,
    pub reach_outs: Vec<ReachOut>,
}

/// The privacy report of a snapshot.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PrivacyReport {
    pub air_gap: AirGap,
    pub processes: Vec<ProcessPrivacy>,
}
