//! The versioned document written by `aiposture snapshot` and shown by the TUI.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Finding, Inventory};

/// Bumped on any change that breaks readers of the JSON.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct Snapshot {
    pub schema_version: u32,
    pub tool: ToolInfo,
    pub inventory: Inventory,
    /// Per-listener exposure verdicts, keyed by index into `inventory.sockets`.
    pub exposures: Vec<ListenerExposure>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
    /// Loopback probes are not part of this version; every verdict comes from /proc.
    pub mode: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
pub struct ListenerExposure {
    pub socket: usize,
    pub scope: BindScope,
    /// The socket lives in a network namespace other than aiposture's.
    pub other_netns: bool,
    /// One line an operator reads, e.g. `all interfaces of the host namespace`.
    pub summary: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BindScope {
    Loopback,
    /// 0.0.0.0 or :: — every interface of its namespace.
    Wildcard,
    /// A specific non-loopback address.
    Address,
}

impl BindScope {
    pub fn label(self) -> &'static str {
        match self {
            BindScope::Loopback => "loopback",
            BindScope::Wildcard => "all interfaces",
            BindScope::Address => "non-loopback address",
        }
    }
}

impl Snapshot {
    pub fn exposure_of(&self, socket: usize) -> Option<&ListenerExposure> {
        self.exposures.iter().find(|e| e.socket == socket)
    }
}
