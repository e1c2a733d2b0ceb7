//! The Docker Engine API, asked one read-only question: `GET /containers/json`
//! over its unix socket. It names containers and shows ports published without
//! docker-proxy (userland-proxy disabled: NAT rules only).
//!
//! The request is HTTP/1.0 so the daemon answers with a plain body and closes:
//! no client library is needed for one GET to a local daemon, and none of them
//! speaks to a unix socket without pulling an async HTTP stack.

use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::model::{DockerContainer, Endpoint, PortPublish, Protocol, Source};

pub const SOCKET: &str = "/var/run/docker.sock";
const TIMEOUT: Duration = Duration::from_secs(2);
const BODY_CAP: u64 = 8 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiContainer {
    id: String,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    image: String,
    #[serde(default)]
    ports: Vec<ApiPort>,
    #[serde(default)]
    network_settings: Option<ApiNetworks>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiPort {
    #[serde(rename = "IP", default)]
    ip: Option<String>,
    private_port: u16,
    #[serde(default)]
    public_port: Option<u16>,
    #[serde(rename = "Type", default)]
    kind: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiNetworks {
    #[serde(default)]
    networks: std::collections::BTreeMap<String, ApiNetwork>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiNetwork {
    #[serde(rename = "IPAddress", default)]
    ip_address: String,
}

/// What the daemon told: its containers and the ports they publish.
pub struct DockerView {
    pub containers: Vec<DockerContainer>,
    pub publishes: Vec<PortPublish>,
}

/// Parse the answer of `GET /containers/json` (status line, headers, JSON body).
pub fn parse(response: &[u8]) -> Result<DockerView, String> {
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP header end in the answer")?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status = head.split_whitespace().nth(1).unwrap_or("");
    if status != "200" {
        return Err(format!(
            "the daemon answered {}",
            head.lines().next().unwrap_or("?")
        ));
    }
    let list: Vec<ApiContainer> = serde_json::from_slice(&response[split + 4..])
        .map_err(|e| format!("unexpected JSON: {e}"))?;
    let mut containers = Vec::new();
    let mut publishes = Vec::new();
    for c in list {
        let name = c
            .names
            .first()
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_default();
        let ips: Vec<IpAddr> = c
            .network_settings
            .map(|n| {
                n.networks
                    .values()
                    .filter_map(|v| v.ip_address.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        for p in &c.ports {
            let (Some(public), Some(ip)) = (
                p.public_port,
                p.ip.as_deref().and_then(|i| i.parse::<IpAddr>().ok()),
            ) else {
                continue;
            };
            let protocol = match p.kind.as_str() {
                "udp" => Protocol::Udp,
                _ => Protocol::Tcp,
            };
            for target in &ips {
                publishes.push(PortPublish {
                    protocol,
                    host: Endpoint {
                        addr: ip,
                        port: public,
                        v4_mapped: false,
                    },
                    target: Endpoint {
                        addr: *target,
                        port: p.private_port,
                        v4_mapped: false,
                    },
                    via: Source::DockerApi {
                        socket: SOCKET.into(),
                        endpoint: "/containers/json".into(),
                        container: Some(name.clone()),
                    },
                    proxy_pid: None,
                    target_netns: None,
                });
            }
        }
        containers.push(DockerContainer {
            id: c.id.chars().take(12).collect(),
            name,
            image: crate::collect::net::probe::sanitise(&c.image),
            addresses: ips,
        });
    }
    Ok(DockerView {
        containers,
        publishes,
    })
}

/// Ask the daemon. `Ok(None)` when there is no Docker socket at all.
pub fn read(socket: &Path) -> Result<Option<DockerView>, String> {
    if !socket.exists() {
        return Ok(None);
    }
    let mut s = UnixStream::connect(socket).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /containers/json HTTP/1.0\r\nHost: docker\r\nUser-Agent: aiposture (read-only)\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    s.take(BODY_CAP)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    parse(&buf).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_daemon_answer_parses() {
        let body = include_str!("../../../tests/fixtures/docker/containers.json");
        let resp = format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{body}");
        let DockerView {
            containers,
            publishes,
        } = parse(resp.as_bytes()).expect("parse");
        assert!(
            containers
                .iter()
                .any(|c| c.name == "aip-unpublished" && !c.addresses.is_empty())
        );
        assert!(!publishes.is_empty());
        assert!(
            publishes
                .iter()
                .all(|p| p.via.to_string().contains("Docker API"))
        );
        assert!(parse(b"HTTP/1.0 403 Forbidden\r\n\r\n").is_err());
        assert!(parse(b"garbage").is_err());
    }
}
