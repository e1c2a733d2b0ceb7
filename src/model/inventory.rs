//! The inventory: processes identified as AI servers, the sockets of the host
//! joined to their owners, model files those servers hold, and every blind spot.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::model_file::{HashProgress, LoadedModel, ModelRoot, StoreFile};
use super::socket::{Endpoint, Interface, Protocol, Socket};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Inventory {
    pub host: HostInfo,
    pub privileges: Privileges,
    /// Network namespace of aiposture itself, e.g. `net:[4026531840]`.
    pub own_netns: Option<String>,
    pub servers: Vec<Server>,
    /// Every TCP/UDP listener and established connection of every namespace seen.
    pub sockets: Vec<Socket>,
    /// Interfaces and their addresses, per network namespace seen.
    pub interfaces: Vec<Interface>,
    /// Host ports forwarded into containers (docker-proxy).
    pub publishes: Vec<PortPublish>,
    /// Files of the model stores found on the host (Ollama, Hugging Face cache,
    /// LM Studio, llama.cpp cache, ComfyUI, text-generation-webui, configured roots).
    pub store_files: Vec<StoreFile>,
    /// Every place looked at for models, and why.
    #[serde(default)]
    pub model_roots: Vec<ModelRoot>,
    /// The operator's policy file (approvals of models), as read.
    #[serde(default)]
    pub policy: crate::model::policy::PolicyStatus,
    /// Containers the Docker API reported (empty when it is absent or unreadable).
    pub containers: Vec<DockerContainer>,
    /// Inbound firewall of each namespace that holds an AI server's listener.
    pub firewalls: Vec<crate::model::firewall::NamespaceFirewall>,
    /// Loopback HTTP probes of recognised servers (empty in passive mode).
    pub probes: Vec<Probe>,
    /// Whether probes were allowed for this collection (`--passive` turns them off).
    pub probes_enabled: bool,
    /// Where background hashing of large model files stands.
    #[serde(default)]
    pub hashing: HashProgress,
    /// NVIDIA driver, CUDA toolkit and relevant Debian packages of the host.
    #[serde(default)]
    pub system_software: crate::model::components::SystemSoftware,
    /// GPUs and per-process GPU memory (NVML), or why not known.
    #[serde(default)]
    pub gpu: crate::model::gpu::GpuInventory,
    /// Tunnels, agents, opt-out files, prompt logs and connections (privacy rules).
    #[serde(default)]
    pub privacy: crate::model::privacy::PrivacyFacts,
    pub blind_spots: Vec<BlindSpot>,
    /// Number of processes looked at, to put the server count in proportion.
    pub processes_seen: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct HostInfo {
    pub hostname: String,
    pub kernel: Option<String>,
    pub os: Option<String>,
    /// RFC 3339, UTC.
    pub collected_at: String,
    pub collection_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Privileges {
    pub uid: u32,
    pub user: String,
    pub is_root: bool,
    /// Effective capabilities that widen what can be read (e.g. CAP_SYS_PTRACE).
    pub capabilities: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Server {
    /// Signature id from `assets/signatures.toml`.
    pub product_id: String,
    pub product: String,
    pub pid: u32,
    pub ppid: u32,
    pub uid: Option<u32>,
    pub user: Option<String>,
    /// Target of /proc/PID/exe (absent when not readable).
    pub exe: Option<String>,
    /// argv with secret values replaced by `<redacted>`.
    pub cmdline: Vec<String>,
    pub netns: Option<String>,
    pub identification: Identification,
    /// Descendant processes folded into this server (workers, engine cores).
    pub workers: Vec<Worker>,
    /// Other processes the server started that hold sockets of their own (a
    /// kernel, a dashboard, a metrics exporter): part of it, judged per listener.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub helpers: Vec<Helper>,
    /// Indices into `Inventory::sockets` owned by the server, its workers or its
    /// helpers.
    pub sockets: Vec<usize>,
    pub models: Vec<LoadedModel>,
    pub auth: AuthConfig,
    /// Files its output goes to that hold the access token it printed: whoever
    /// can read one holds the key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_outputs: Vec<TokenInOutput>,
    /// Names (never values) of the non-empty environment variables that look secret.
    pub secret_env_names: Vec<String>,
    /// Names of the command-line flags whose values were redacted.
    pub secret_flags: Vec<String>,
    /// Values of allowlisted configuration variables (assets/config_audit.toml,
    /// assets/privacy.toml).
    pub env_config: Vec<EnvSetting>,
    /// Why the environment could not be read (then no variable is known, set or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_unreadable: Option<String>,
    /// What a compromise of the server could reach (user, capabilities, sandbox).
    pub confinement: Confinement,
    /// Versions of what the process runs: its Python distributions, Go modules,
    /// llama.cpp build, the CUDA runtime it maps (read from files, nothing executed).
    #[serde(default)]
    pub components: Vec<crate::model::components::Component>,
    /// The interpreter/binary behind those versions and how they were found.
    #[serde(default)]
    pub runtime: crate::model::components::Runtime,
}

/// A file a server's standard output or error is written to, holding the
/// access token the server printed (the token itself is never read into any
/// output: only where it is).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct TokenInOutput {
    pub pid: u32,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// The file, as the process sees it.
    pub path: String,
    /// 1-based line of the first printed token.
    pub line: u64,
    /// The file and each directory above it: who can read it.
    pub access: Vec<crate::model::PathAccess>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Confinement {
    pub euid: Option<u32>,
    /// Effective gid and supplementary groups.
    pub groups: Vec<u32>,
    /// Effective capabilities (CapEff), by name.
    pub capabilities: Option<Vec<String>>,
    pub no_new_privs: Option<bool>,
    /// seccomp mode: disabled, strict, filter.
    pub seccomp: Option<String>,
    pub container: Option<ContainerInfo>,
    pub systemd_unit: Option<SystemdUnit>,
    /// Files that could not be read, with the reason.
    pub unreadable: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ContainerInfo {
    /// docker, podman, containerd, cri-o, kubernetes, lxc
    pub runtime: String,
    /// Short container id, when the cgroup path carries one.
    pub id: Option<String>,
    pub cgroup: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct SystemdUnit {
    pub name: String,
    /// The unit file and its drop-ins, in the order read.
    pub files: Vec<String>,
    /// Hardening-relevant directives as set (later files win).
    pub directives: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct EnvSetting {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Worker {
    pub pid: u32,
    pub comm: String,
}

/// A process a server started that is no server of its own and holds sockets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Helper {
    pub pid: u32,
    pub comm: String,
    /// argv with secret values replaced by `<redacted>`.
    pub cmdline: Vec<String>,
    /// What it is for the product (`kernel`, `dashboard` …) when the signature
    /// knows; `helper process` otherwise.
    pub role: String,
    /// Indices into `Inventory::sockets` it holds.
    pub sockets: Vec<usize>,
}

impl Server {
    /// The helper holding socket `idx`, when no process of the server itself
    /// (the server or a worker) holds it too.
    pub fn helper_of(&self, idx: usize, socket: &crate::model::Socket) -> Option<&Helper> {
        let own = socket
            .owner_pids()
            .iter()
            .any(|p| *p == self.pid || self.workers.iter().any(|w| w.pid == *p));
        if own {
            return None;
        }
        self.helpers.iter().find(|h| h.sockets.contains(&idx))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Identification {
    pub strength: MatchStrength,
    /// Which facts matched, e.g. `exe basename "llama-server"`.
    pub reason: String,
    /// Evidence status of the signature: src, doc, 2nd, unverified.
    pub signature_status: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MatchStrength {
    Strong,
    /// Matched only by facts an unrelated program could share.
    Weak,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct AuthConfig {
    pub state: AuthState,
    /// How the verdict was reached: flags and variables looked for, where.
    pub evidence: Vec<crate::model::Evidence>,
    /// Auth that anyone can grant themselves, read from the server's settings
    /// (e.g. `LANGFLOW_AUTO_LOGIN=true`: every visitor is signed in as the
    /// superuser): whatever else is switched on, it is no auth in effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_grant: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AuthState {
    /// An auth flag or variable is set, or the product enforces auth by default.
    Configured,
    /// The product has auth but none of its switches is set.
    NotConfigured,
    /// The product has no server-side authentication at all.
    Unsupported,
    /// Could not be determined (unreadable environment, unverified signature).
    Unknown,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct BlindSpot {
    /// What could not be seen, e.g. `environment of pid 812 (ollama)`.
    pub what: String,
    /// What was refused: a file, a /proc file, a command, an API.
    #[serde(deserialize_with = "super::source::v1_or_v2")]
    pub path: super::Source,
    pub reason: String,
    /// What it means for the results and how to lift it.
    pub consequence: String,
}

/// A host port forwarded to an address inside a container.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PortPublish {
    pub protocol: Protocol,
    /// Where the host listens, e.g. 0.0.0.0:8080.
    pub host: Endpoint,
    /// Where it forwards to, e.g. 172.17.0.2:8080.
    pub target: Endpoint,
    /// What showed the mapping, e.g. `docker-proxy pid 812 (/proc/812/cmdline)`.
    #[serde(deserialize_with = "super::source::v1_or_v2")]
    pub via: super::Source,
    pub proxy_pid: Option<u32>,
    /// The namespace it forwards into when the target address is not visible
    /// (rootless Podman); `target.port` 0 means the container port is not visible.
    #[serde(default)]
    pub target_netns: Option<String>,
}

/// Read-only GETs sent to one listener of a recognised server.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Probe {
    /// Index into `Inventory::sockets` of the listener probed.
    pub socket: usize,
    pub pid: u32,
    /// The fingerprint of the round: the product's id, or `generic` for a port
    /// no product fingerprint speaks for.
    pub product_id: String,
    /// Where the requests went, e.g. `127.0.0.1:8080 in net:[4026531840]`.
    pub target: String,
    pub responses: Vec<ProbeResponse>,
    /// Why nothing was sent (e.g. another namespace without root).
    pub skipped: Option<String>,
    /// RFC 3339 time of the round (results are reused for up to a minute).
    pub at: String,
}

/// Facts extracted from one response; bodies themselves are never kept.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ProbeResponse {
    pub path: String,
    pub status: Option<u16>,
    /// Transport failure: refused, timeout, oversized header, not HTTP.
    pub error: Option<String>,
    pub server: Option<String>,
    pub content_type: Option<String>,
    /// Scheme of a WWW-Authenticate challenge, e.g. `Bearer`.
    pub auth_challenge: Option<String>,
    pub body_bytes: u64,
    /// The body was longer than the cap and was not read to its end.
    pub truncated: bool,
    /// Fingerprint markers of the product found in this answer.
    pub markers: Vec<String>,
    pub version: Option<String>,
    /// Length of the model/item list the auth request returned.
    pub list_len: Option<usize>,
    /// An OpenAPI document's answer: does it declare security schemes (the API
    /// it describes asks for credentials)?
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declares_auth: Option<bool>,
    /// The fingerprint's self-grant facts this answer showed (what anyone can
    /// do to get in, e.g. "no account exists yet: …").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub self_grants: Vec<String>,
}

/// A container as the Docker API lists it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct DockerContainer {
    /// First 12 hex digits of the id, as `docker ps` shows it.
    pub id: String,
    pub name: String,
    pub image: String,
    pub addresses: Vec<IpAddr>,
}
