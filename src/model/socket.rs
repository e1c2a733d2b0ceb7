//! Sockets of the host joined to their owners, and the interfaces and
//! addresses of each network namespace.

use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// Where the row was read: a /proc table or the sock_diag dump standing in for it.
    #[serde(deserialize_with = "super::source::v1_or_v2")]
    pub source: super::Source,
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
