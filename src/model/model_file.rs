//! Model files: those a server maps or holds open, those in stores and
//! model directories, what their headers say, their hashes and who can
//! write them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A model file a server maps into memory or holds open, as that process sees it.
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
    /// What aiposture learned about the file: what its header says, hash,
    /// drift, who can swap it, provenance, the policy's decision and the
    /// content verdict.
    #[serde(flatten)]
    pub facts: FileFacts,
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
    /// Zip and tar containers: member names, encryption, bombs, nesting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<crate::model::archive::ArchiveReport>,
    /// What the files beside the weights say (templates, config, card, wheel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecars: Option<crate::model::sidecars::Sidecars>,
}

impl ModelAnalysis {
    /// Every chat template a loader of this model could render, with where it
    /// is: the header's default and named ones, and those beside the weights.
    pub fn templates(&self) -> Vec<(String, &crate::model::metadata::ChatTemplate)> {
        let mut out = Vec::new();
        if let Some(m) = &self.metadata {
            if let Some(t) = &m.chat_template {
                out.push(("tokenizer.chat_template".to_string(), t));
            }
            for n in &m.named_templates {
                out.push((n.source.clone(), &n.template));
            }
        }
        if let Some(s) = &self.sidecars {
            for n in &s.templates {
                out.push((n.source.clone(), &n.template));
            }
        }
        out
    }
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
    /// Any other zip or tar that holds a model-format member (by content,
    /// whatever its name) or a member that cannot be read.
    Archive {
        archive: crate::model::archive::ArchiveKind,
    },
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
            ModelFormat::Archive { archive } => format!("{} archive", archive.label()),
        }
    }
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
    /// What aiposture learned about the file (as for a loaded model).
    #[serde(flatten)]
    pub facts: FileFacts,
    pub problem: Option<String>,
    /// The template layer an Ollama manifest pairs with this model (the Go
    /// template Ollama renders prompts with), as a blob path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_layer: Option<String>,
    /// The licence layers an Ollama manifest pairs with this model (the
    /// Modelfile's LICENSE texts), as blob paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub license_layers: Vec<String>,
    /// The manifest's config blob (family, parameter size, quantisation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_layer: Option<String>,
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

/// What one file amounts to, worst first in `Ord` terms reversed: the report's
/// exit code is decided by the worst verdict present.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FileVerdict {
    /// Not a model format aiposture recognises by content (config, tokenizer, text).
    NotAModel,
    /// A model whose header was read and holds nothing that runs code.
    Clean,
    /// A pickle whose imports are all tensor rebuilders or classes of
    /// well-known ML libraries (scikit-learn, numpy, torch.nn …): loading it
    /// runs those libraries' own code, nothing else. A fact, not an alarm.
    BenignLibrary,
    /// Could not be read or parsed: truncated, malformed, over a bound. Not vetted.
    Error,
    /// A pickle stream the walker could not finish: what follows the break is unknown.
    Unparseable,
    /// Imports outside the allowlist, or a chat template with Jinja escape patterns.
    Suspicious,
    /// A pickle that imports code-execution primitives.
    Dangerous,
}

impl FileVerdict {
    pub fn label(self) -> &'static str {
        match self {
            FileVerdict::NotAModel => "not a model",
            FileVerdict::Clean => "clean",
            FileVerdict::BenignLibrary => "benign-library",
            FileVerdict::Error => "error",
            FileVerdict::Unparseable => "unparseable",
            FileVerdict::Suspicious => "suspicious",
            FileVerdict::Dangerous => "dangerous",
        }
    }

    /// Everything but a clean model, one of known libraries' classes only, or
    /// a non-model leaves the file unvetted.
    pub fn fails(self) -> bool {
        !matches!(
            self,
            FileVerdict::NotAModel | FileVerdict::Clean | FileVerdict::BenignLibrary
        )
    }
}

/// What aiposture learns about a model file, the same for a file a server
/// holds and a file in a store: what its header says, its content hash and drift, the
/// owner/mode chain of who could swap it, its provenance, the policy's decision
/// and the content verdict. Flattened into both, so the JSON keeps one shape.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct FileFacts {
    /// What its header says (metadata, chat template, pickle imports).
    #[serde(default)]
    pub analysis: ModelAnalysis,
    /// sha256 of its content (as the process sees the path, for a loaded model).
    #[serde(default)]
    pub hash: FileHash,
    /// Content or chat template changed at this path since an earlier run.
    #[serde(default)]
    pub drift: Drift,
    /// Owner and mode of the file and of every directory up to `/` (loaded
    /// models, as their process sees them) or up to the store's root.
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
