//! What the loopback probes mean: is the process the product it was taken for,
//! which version, and does it answer without credentials.

use crate::knowledge::fingerprints::{Fingerprints, GENERIC};
use crate::model::{Evidence, Inventory, Probe, ProbeAuth, ProbeIdentity, ProbeVerdict, Source};

fn ok(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s))
}

pub fn verdict(p: &Probe, fps: &Fingerprints) -> ProbeVerdict {
    let src = Source::Probe {
        method: "GET".into(),
        url: format!("http://{}", p.target),
    };
    let mut evidence = Vec::new();
    if let Some(why) = &p.skipped {
        evidence.push(Evidence::new(src, format!("not probed: {why}")));
        return ProbeVerdict {
            socket: p.socket,
            pid: p.pid,
            identity: ProbeIdentity::NotProbed,
            version: None,
            auth: ProbeAuth::Unknown,
            listed: None,
            open_paths: Vec::new(),
            evidence,
        };
    }
    for r in &p.responses {
        let what = match (r.status, &r.error) {
            (Some(s), _) => format!(
                "{} → {s}{}{}{}",
                r.path,
                r.server
                    .as_ref()
                    .map(|v| format!(", server {v:?}"))
                    .unwrap_or_default(),
                r.list_len
                    .map(|n| format!(", lists {n}"))
                    .unwrap_or_default(),
                if r.truncated {
                    ", body cut at 64 KiB"
                } else {
                    ""
                }
            ),
            (None, Some(e)) => format!("{} → no answer: {e}", r.path),
            (None, None) => format!("{} → no answer", r.path),
        };
        evidence.push(Evidence::new(src.clone(), what));
    }
    let markers: Vec<&String> = p.responses.iter().flat_map(|r| &r.markers).collect();
    let identity = if !markers.is_empty() {
        ProbeIdentity::Confirmed
    } else if p.responses.iter().any(|r| r.status.is_some()) {
        ProbeIdentity::NotConfirmed
    } else {
        ProbeIdentity::NoAnswer
    };
    for m in &markers {
        evidence.push(Evidence::new(
            Source::asset("assets/fingerprints.toml", None),
            format!("marker found: {m}"),
        ));
    }
    if p.product_id == GENERIC {
        let auth = generic_auth(p);
        return ProbeVerdict {
            socket: p.socket,
            pid: p.pid,
            identity,
            version: None,
            auth,
            listed: None,
            open_paths: Vec::new(),
            evidence,
        };
    }
    let fp = fps.get(&p.product_id);
    let auth_path = fp.map(|f| f.auth.path.as_str()).unwrap_or("");
    let auth_resp = p.responses.iter().find(|r| r.path == auth_path);
    let auth = match auth_resp.and_then(|r| r.status) {
        Some(s) if (200..300).contains(&s) => ProbeAuth::AnswersWithoutCredentials,
        Some(401 | 403) => ProbeAuth::DemandsAuth,
        _ => ProbeAuth::Unknown,
    };
    // An answer that is not the product (a proxy, a login page) proves nothing about auth.
    let auth = if identity == ProbeIdentity::Confirmed || auth == ProbeAuth::DemandsAuth {
        auth
    } else {
        ProbeAuth::Unknown
    };
    let open_paths = if auth == ProbeAuth::DemandsAuth {
        p.responses
            .iter()
            .filter(|r| r.path != auth_path && ok(r.status))
            .map(|r| r.path.clone())
            .collect()
    } else {
        Vec::new()
    };
    ProbeVerdict {
        socket: p.socket,
        pid: p.pid,
        identity,
        version: p.responses.iter().find_map(|r| r.version.clone()),
        auth,
        listed: auth_resp.and_then(|r| r.list_len),
        open_paths,
        evidence,
    }
}

/// The generic round's verdict: without credentials, a 2xx JSON answer to any
/// path but `/` (a model list, an API schema), an MCP endpoint's JSON-RPC answer
/// or event stream (a marker of the round: the endpoint took the request, and its
/// tools are remote actions) is a service that answers without them; a 401/403,
/// or an OpenAPI schema declaring security schemes, with none of those is one
/// that demands them; anything else (no answer, not
/// HTTP, only a page at `/`, which may be a login form) is unknown.
fn generic_auth(p: &Probe) -> ProbeAuth {
    let json = |r: &&crate::model::ProbeResponse| {
        r.content_type
            .as_deref()
            .is_some_and(|c| c.to_ascii_lowercase().contains("json"))
    };
    // An API schema served to anyone says nothing of the API's own auth, except
    // through the security schemes it declares.
    let open = p.responses.iter().any(|r| {
        let refused = matches!(r.status, Some(401 | 403));
        (!refused && !r.markers.is_empty())
            || (r.path != "/" && ok(r.status) && json(&r) && r.declares_auth != Some(true))
    });
    let refused = p.responses.iter().any(|r| {
        matches!(r.status, Some(401 | 403))
            || r.auth_challenge.is_some()
            || r.declares_auth == Some(true)
    });
    match (open, refused) {
        (true, _) => ProbeAuth::AnswersWithoutCredentials,
        (false, true) => ProbeAuth::DemandsAuth,
        (false, false) => ProbeAuth::Unknown,
    }
}

pub fn verdicts(inv: &Inventory, fps: &Fingerprints) -> Vec<ProbeVerdict> {
    inv.probes.iter().map(|p| verdict(p, fps)).collect()
}
