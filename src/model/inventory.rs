//! The inventory: processes identified as AI servers, the sockets of the host
//! joined to their owners, model files those servers hold, and every blind spot.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Indices into `Inventory::sockets` owned by the server or its workers.
    pub sockets: Vec<usize>,
    pub models: Vec<LoadedModel>,
    pub auth: AuthConfig,
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
pub struct LoadedModel {
    /// Path as the process sees it.
    pub path: String,
    /// The path's bytes where they are not UTF-8 (`path` then shows U+FFFD):
    /// what the file is opened by. Not exported; a snapshot has `path` only.
    #[serde(skip)]
    pub raw_path: Option<std::path::PathBuf>,
    pub format: ModelFormat,
    pub size_bytes: Option<u64>,
    /// How the server holds it: mapped into memory, open fd, or both.
    pub held_via: Vec<HeldVia>,
    /// The file was deleted or replaced on disk while the process kept it.
    pub deleted: bool,
    pub pid: u32,
    /// Owner and mode of the directory holding it (as the process sees it).
    pub dir_owner: Option<DirOwner>,
    /// What its header says (metadata, chat template, pickle imports).
    #[serde(default)]
    pub analysis: ModelAnalysis,
    /// sha256 of its content (as the process sees the path).
    #[serde(default)]
    pub hash: FileHash,
    /// Content or chat template changed at this path since an earlier run.
    #[serde(default)]
    pub drift: Drift,
    /// Owner and mode of the file and of every directory up to `/`, as the process sees them.
    #[serde(default)]
    pub access: Vec<PathAccess>,
    /// Where it came from (filled by the rules from what was collected).
    #[serde(default)]
    pub provenance: crate::model::provenance::Provenance,
    /// What the operator's policy says about it (filled by the rules).
    #[serde(default)]
    pub decision: crate::model::policy::Decision,
    /// What `aiposture scan` says of the content, from `analysis`; set by `rules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_verdict: Option<crate::model::scan::FileVerdict>,
}

/// sha256 of a model file, or why it is not known (yet).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum FileHash {
    Known {
        sha256: String,
    },
    /// Queued for, or being hashed by, the background hasher.
    Pending {
        why: String,
    },
    /// Not hashed, and why (unreadable, deleted, changed while hashed).
    Unknown {
        why: String,
    },
}

impl Default for FileHash {
    fn default() -> Self {
        FileHash::Unknown {
            why: "not hashed".into(),
        }
    }
}

impl FileHash {
    pub fn sha256(&self) -> Option<&str> {
        match self {
            FileHash::Known { sha256 } => Some(sha256),
            _ => None,
        }
    }
}

/// What changed at a model's path since it was first seen by an earlier run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct Drift {
    /// The content hash changed (same path, new hash).
    pub content: Option<Change>,
    /// The GGUF chat template changed (its sha256).
    pub template: Option<Change>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct Change {
    pub before_sha256: String,
    pub after_sha256: String,
    /// When this run (or an earlier one) first saw the new value (RFC 3339, UTC).
    pub seen_at: String,
}

/// Background hashing of model files too large to hash during a refresh.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct HashProgress {
    pub files_pending: usize,
    pub bytes_pending: u64,
    /// Hashed by the background hasher since it started.
    pub files_done: u64,
    pub bytes_done: u64,
    /// Files being hashed now.
    pub current: Vec<HashingNow>,
}

impl LoadedModel {
    /// The path to open, as the process sees it.
    pub fn fs_path(&self) -> std::path::PathBuf {
        self.raw_path
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from(&self.path))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct HashingNow {
    pub path: String,
    pub done_bytes: u64,
    pub size_bytes: u64,
}

/// Owner and permission bits of one path on the way to a model file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct PathAccess {
    pub path: String,
    pub is_dir: bool,
    pub uid: u32,
    pub gid: u32,
    /// Owner's user name, when /etc/passwd has one.
    pub owner: Option<String>,
    /// Permission bits including setuid/setgid/sticky, e.g. 0o1777.
    pub mode: u32,
    /// Does any user other than the owner belong to the group (members or primary
    /// group in /etc/group, /etc/passwd)? `None` when the group is not listed.
    pub group_shared: Option<bool>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RootState {
    Found,
    /// Nothing there: not an error, most places are empty on most hosts.
    Absent,
    /// There but not readable: a blind spot says why.
    Unreadable,
}

/// A place looked at for model files.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ModelRoot {
    pub kind: StoreKind,
    pub path: String,
    /// Why it was looked at, e.g. `LLAMA_CACHE of pid 812`, `[models] roots in the config`.
    pub why: String,
    pub state: RootState,
    /// Model files listed under it.
    pub files: usize,
}

/// What a model file's header holds, read without loading it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ModelAnalysis {
    pub metadata: Option<crate::model::metadata::ModelMetadata>,
    pub pickle: Option<crate::model::pickle::PickleReport>,
    /// Why the header could not be read (truncated, malformed, over a cap).
    pub error: Option<String>,
    /// ONNX: operator domains, model-local functions, external data.
    #[serde(default)]
    pub onnx: Option<crate::model::onnx::OnnxReport>,
    /// Keras (`.keras`, legacy `.h5`): Lambda layers and custom objects.
    #[serde(default)]
    pub keras: Option<crate::model::keras::KerasReport>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct DirOwner {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits, e.g. 0o755.
    pub mode: u32,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum HeldVia {
    Mmap,
    Fd,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ModelFormat {
    Gguf {
        version: u32,
    },
    Safetensors,
    /// A zip archive with a `data.pkl` member (torch.save >= 1.6).
    PytorchZip,
    Pickle {
        protocol: u8,
    },
    Numpy,
    /// A protobuf ModelProto (no magic: recognised by its first fields).
    Onnx,
    /// A Keras 3 `.keras` zip (config.json, metadata.json, model.weights.h5).
    Keras,
    /// An HDF5 container (legacy Keras `.h5` and others).
    Hdf5,
    /// torch.save with `_use_new_zipfile_serialization=False`: five pickles,
    /// then raw storage bytes.
    PytorchLegacy,
    /// A compressed pickle as joblib.dump(compress=...) writes it.
    Joblib {
        compression: Compression,
    },
    /// A zip of .npy members (numpy.savez, savez_compressed).
    Npz,
}

/// Whole-file compression of a pickle (joblib's compressors).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    Zlib,
    Gzip,
    Bz2,
    Lzma,
    Xz,
    Lz4,
}

impl Compression {
    pub fn label(self) -> &'static str {
        match self {
            Compression::Zlib => "zlib",
            Compression::Gzip => "gzip",
            Compression::Bz2 => "bz2",
            Compression::Lzma => "lzma",
            Compression::Xz => "xz",
            Compression::Lz4 => "lz4",
        }
    }
}

impl ModelFormat {
    pub fn label(&self) -> String {
        match self {
            ModelFormat::Gguf { version } => format!("GGUF v{version}"),
            ModelFormat::Safetensors => "safetensors".into(),
            ModelFormat::PytorchZip => "PyTorch zip (pickle inside)".into(),
            ModelFormat::Pickle { protocol } => format!("pickle (protocol {protocol})"),
            ModelFormat::Numpy => "NumPy .npy".into(),
            ModelFormat::Onnx => "ONNX".into(),
            ModelFormat::Keras => "Keras 3 archive (.keras)".into(),
            ModelFormat::Hdf5 => "HDF5 (legacy Keras .h5)".into(),
            ModelFormat::PytorchLegacy => {
                "PyTorch legacy checkpoint (pickles + raw storages)".into()
            }
            ModelFormat::Joblib { compression } => {
                format!("joblib ({}-compressed pickle)", compression.label())
            }
            ModelFormat::Npz => "NumPy .npz (zip of .npy)".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Socket {
    pub protocol: Protocol,
    pub local: Endpoint,
    pub remote: Option<Endpoint>,
    pub state: SocketState,
    pub inode: u64,
    pub uid: u32,
    /// Namespace the socket lives in; `None` when it could not be told.
    pub netns: Option<String>,
    /// Where the row was read, e.g. `/proc/net/tcp6`.
    pub source: String,
    pub owner: SocketOwner,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// IPv4-mapped IPv6 addresses are shown as the IPv4 address they carry.
    pub addr: IpAddr,
    pub port: u16,
    /// The kernel row was IPv6 carrying an IPv4-mapped address (`::ffff:a.b.c.d`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub v4_mapped: bool,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.port),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.port),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SocketState {
    Listen,
    /// A bound UDP socket with no fixed peer: it receives from anyone.
    UdpBound,
    Established,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SocketOwner {
    /// Processes holding an fd to the socket (several after fork).
    Processes { pids: Vec<u32>, comm: String },
    /// No readable fd table holds it: another user's process, or a kernel socket.
    Unknown { reason: String },
}

impl Socket {
    pub fn is_listener(&self) -> bool {
        matches!(self.state, SocketState::Listen | SocketState::UdpBound)
    }
    pub fn owner_pids(&self) -> &[u32] {
        match &self.owner {
            SocketOwner::Processes { pids, .. } => pids,
            SocketOwner::Unknown { .. } => &[],
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct BlindSpot {
    /// What could not be seen, e.g. `environment of pid 812 (ollama)`.
    pub what: String,
    /// The path that was refused.
    pub path: String,
    pub reason: String,
    /// What it means for the results and how to lift it.
    pub consequence: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Interface {
    pub name: String,
    pub netns: Option<String>,
    pub kind: InterfaceKind,
    pub addrs: Vec<IfAddr>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InterfaceKind {
    Loopback,
    /// A VPN or overlay tunnel (WireGuard, Tailscale, OpenVPN, point-to-point).
    Vpn,
    /// A bridge joining containers or VMs to the host (docker0, virbr0).
    Bridge,
    /// Anything else: Ethernet, Wi-Fi, a veth into another namespace.
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub prefix: u8,
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
    pub via: String,
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

/// Which kind of store a model file was found in.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum StoreKind {
    Ollama,
    HuggingFace,
    /// `~/.lmstudio/models`, `~/.cache/lm-studio/models`, its settings' downloads folder.
    LmStudio,
    /// llama.cpp's download cache (`LLAMA_CACHE`, `~/.cache/llama.cpp`).
    LlamaCpp,
    /// `models/` of a ComfyUI install (its cwd, script directory or `--base-directory`).
    ComfyUi,
    /// `models/` of text-generation-webui (its cwd, script directory or `--model-dir`).
    TextGenerationWebui,
    /// A directory the operator listed in `[models] roots`.
    Configured,
}

impl StoreKind {
    pub fn label(self) -> &'static str {
        match self {
            StoreKind::Ollama => "Ollama store",
            StoreKind::HuggingFace => "Hugging Face cache",
            StoreKind::LmStudio => "LM Studio models",
            StoreKind::LlamaCpp => "llama.cpp cache",
            StoreKind::ComfyUi => "ComfyUI models",
            StoreKind::TextGenerationWebui => "text-generation-webui models",
            StoreKind::Configured => "configured model root",
        }
    }
}

/// A file of a model store, with the digest its store named it by.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct StoreFile {
    pub store: StoreKind,
    pub root: String,
    /// `registry.ollama.ai/library/llama3:8b` or `org/name@revision/file`.
    pub reference: String,
    pub path: String,
    pub size_bytes: Option<u64>,
    /// By content; `None` for files that are not models (tokenizer, config).
    pub format: Option<ModelFormat>,
    /// The sha256 the store's layout promises (blob name, manifest digest).
    pub expected_sha256: Option<String>,
    pub integrity: Integrity,
    #[serde(default)]
    pub analysis: ModelAnalysis,
    pub problem: Option<String>,
    /// sha256 of its content (model files only).
    #[serde(default)]
    pub hash: FileHash,
    #[serde(default)]
    pub drift: Drift,
    /// Owner and mode of the file and of every directory up to its root.
    #[serde(default)]
    pub access: Vec<PathAccess>,
    #[serde(default)]
    pub provenance: crate::model::provenance::Provenance,
    #[serde(default)]
    pub decision: crate::model::policy::Decision,
    /// What `aiposture scan` says of the content, from `analysis`; set by `rules`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_verdict: Option<crate::model::scan::FileVerdict>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Integrity {
    /// Hashes to the digest its store named it by.
    Verified,
    /// Does not: changed or swapped after download.
    Mismatch { actual_sha256: String },
    /// The store names no digest for it (git blobs, sha1 names).
    NoDigest,
    /// Not hashed (yet), and why.
    NotChecked { why: String },
}
