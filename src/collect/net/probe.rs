//! Loopback probes: a few read-only GETs to each recognised server, to confirm
//! what it is, read its version, and see whether it answers without credentials.
//!
//! Limits that hold whatever the server does: requests go only to loopback or to
//! the local address the listener is bound to (inside the listener's namespace);
//! 500 ms for the whole exchange; no redirects, proxies, cookies or credentials;
//! response headers capped at 16 KiB and bodies read to 64 KiB at most. Answers
//! are hostile input: only short, sanitised facts are kept, never bodies.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::knowledge::fingerprints::Fingerprint;
use crate::model::{Endpoint, ProbeResponse};

pub const TIMEOUT: Duration = Duration::from_millis(500);
pub const BODY_CAP: u64 = 64 * 1024;
pub const HEADER_CAP: usize = 16 * 1024;
/// Longest string kept from an answer (versions, header values).
const FACT_CAP: usize = 120;

/// Where to send requests for a listener bound to `local`: loopback for
/// loopback and wildcard binds, else the bound local address itself.
pub fn target_for(local: &Endpoint) -> SocketAddr {
    let ip = match local.addr {
        IpAddr::V4(a) if a.is_unspecified() || a.is_loopback() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(a) if a.is_unspecified() || a.is_loopback() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    };
    SocketAddr::new(ip, local.port)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .max_redirects(0)
        .proxy(None)
        .http_status_as_error(false)
        .max_response_header_size(HEADER_CAP)
        .user_agent(concat!(
            "aiposture/",
            env!("CARGO_PKG_VERSION"),
            " (read-only posture probe)"
        ))
        .build()
        .new_agent()
}

/// Printable, single-line, bounded.
pub fn sanitise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .take(FACT_CAP)
        .collect()
}

fn json_at(body: &[u8], pointer: &str) -> Option<serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .pointer(pointer)
        .cloned()
}

fn empty(path: &str) -> ProbeResponse {
    ProbeResponse {
        path: path.to_string(),
        status: None,
        error: None,
        server: None,
        content_type: None,
        auth_challenge: None,
        body_bytes: 0,
        truncated: false,
        markers: Vec::new(),
        version: None,
        list_len: None,
        declares_auth: None,
        self_grants: Vec::new(),
    }
}

/// Does an OpenAPI (or Swagger 2) document declare security schemes? `None`
/// when the body is no such document.
fn openapi_declares_auth(body: &[u8]) -> Option<bool> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    if doc.get("openapi").is_none() && doc.get("swagger").is_none() {
        return None;
    }
    let non_empty = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.as_object()).is_some_and(|m| !m.is_empty())
    };
    Some(
        non_empty(doc.pointer("/components/securitySchemes"))
            || non_empty(doc.get("securityDefinitions")),
    )
}

/// The facts aiposture keeps from one answer: pure, so golden fixtures captured
/// from real servers exercise exactly what a live probe does.
pub fn facts(
    path: &str,
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    truncated: bool,
    fp: &Fingerprint,
) -> ProbeResponse {
    let mut r = empty(path);
    r.status = Some(status);
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| sanitise(v))
    };
    r.server = header("server");
    r.content_type = header("content-type");
    r.auth_challenge =
        header("www-authenticate").map(|v| v.split_whitespace().next().unwrap_or("").to_string());
    r.body_bytes = body.len() as u64;
    r.truncated = truncated;
    let text = String::from_utf8_lossy(body);
    for m in fp.markers.iter().filter(|m| m.path == path) {
        let hit = match (&m.header, &m.contains, &m.body) {
            (Some(h), Some(c), _) => headers
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(h) && v.contains(c.as_str())),
            (_, _, Some(b)) => text.contains(b.as_str()),
            _ => false,
        };
        if hit {
            r.markers.push(m.describe());
        }
    }
    if let Some(v) = fp.version.as_ref().filter(|v| v.path == path)
        && let Some(val) = json_at(body, &v.json)
    {
        r.version = Some(sanitise(&match val {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }));
    }
    if path.ends_with("openapi.json") && (200..300).contains(&status) && !truncated {
        r.declares_auth = openapi_declares_auth(body);
    }
    if (200..300).contains(&status) && !truncated {
        for g in fp.self_grant.iter().filter(|g| g.path == path) {
            if json_at(body, &g.json).as_ref() == Some(&g.equals) {
                r.self_grants.push(g.means.clone());
            }
        }
    }
    if fp.auth.path == path
        && let Some(list) = &fp.auth.list
    {
        r.list_len = json_at(body, list).and_then(|v| v.as_array().map(Vec::len));
    }
    r
}

/// One GET; never fails, errors become facts.
pub fn get(agent: &ureq::Agent, addr: SocketAddr, path: &str, fp: &Fingerprint) -> ProbeResponse {
    let url = format!("http://{addr}{path}");
    let resp = match agent.get(&url).call() {
        Ok(resp) => resp,
        Err(e) => {
            let mut r = empty(path);
            r.error = Some(sanitise(&e.to_string()));
            return r;
        }
    };
    let status = resp.status().as_u16();
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let mut reader = resp.into_body().into_reader().take(BODY_CAP + 1);
    let read_error = reader.read_to_end(&mut body).err();
    let truncated = body.len() as u64 > BODY_CAP;
    body.truncate(BODY_CAP as usize);
    let mut r = facts(path, status, &headers, &body, truncated, fp);
    if let Some(e) = read_error {
        r.error = Some(sanitise(&format!("body: {e}")));
    }
    r
}

/// One round against one listener: the fingerprint's requests, then — if the
/// server demanded auth — the paths it is known to leave open.
pub fn round(addr: SocketAddr, fp: &Fingerprint) -> Vec<ProbeResponse> {
    let agent = agent();
    let mut out: Vec<ProbeResponse> = fp
        .round()
        .iter()
        .map(|p| get(&agent, addr, p, fp))
        .collect();
    let refused_all = out.iter().all(|r| r.status.is_none());
    let demanded = out
        .iter()
        .any(|r| r.path == fp.auth.path && matches!(r.status, Some(401 | 403)));
    if demanded && !refused_all {
        for p in &fp.open_with_auth {
            if out.len() >= crate::knowledge::fingerprints::MAX_REQUESTS + 2 {
                break;
            }
            if !out.iter().any(|r| &r.path == p) {
                out.push(get(&agent, addr, p, fp));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Documents FastAPI itself wrote (tests/fixtures/openapi/README.md).
    #[test]
    fn an_openapi_document_says_whether_it_declares_security() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi");
        let read = |f: &str| std::fs::read(dir.join(f)).expect("fixture");
        assert_eq!(
            openapi_declares_auth(&read("fastapi-0.165.0-apikey.json")),
            Some(true)
        );
        assert_eq!(
            openapi_declares_auth(&read("fastapi-0.165.0-open.json")),
            Some(false)
        );
        assert_eq!(openapi_declares_auth(br#"{"data":[]}"#), None);
        assert_eq!(openapi_declares_auth(b"<html>"), None);
    }
}
