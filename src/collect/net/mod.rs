//! The network side of one collection: sockets and their owners, namespaces and
//! interfaces, container publishing (docker-proxy, rootless Podman, NAT rules,
//! the Docker API), the host firewall, and loopback probes of listeners.

pub mod docker;
pub mod firewall;
pub mod interfaces;
pub mod nat;
pub mod netns;
pub mod probe;
pub mod publish;
pub mod publishing;
pub mod read;
pub mod sockdiag;
pub mod sockets;
