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
            self_grant: Vec::new(),
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
            self_grant: Vec::new(),
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
    // The product's own public answer says anyone can let themselves in: its
    // 401 elsewhere guards nothing from whoever does.
    let mut self_grant: Vec<String> = Vec::new();
    if identity == ProbeIdentity::Confirmed {
        for r in &p.responses {
            for g in &r.self_grants {
                evidence.push(Evidence::new(
                    Source::asset("assets/fingerprints.toml", None),
                    format!("GET {} without credentials shows: {g}", r.path),
                ));
                if !self_grant.contains(g) {
                    self_grant.push(g.clone());
                }
            }
        }
    }
    let auth = if self_grant.is_empty() {
        auth
    } else {
        ProbeAuth::AnswersWithoutCredentials
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
        self_grant,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::net::probe::facts;
    use crate::model::ProbeResponse;

    fn round(product: &str, fps: &Fingerprints, answers: &[(&str, u16, &str)]) -> Probe {
        let fp = fps.get(product).expect("fingerprint");
        let json = [("content-type".to_string(), "application/json".to_string())];
        let responses: Vec<ProbeResponse> = answers
            .iter()
            .map(|(path, status, body)| facts(path, *status, &json, body.as_bytes(), false, fp))
            .collect();
        Probe {
            socket: 0,
            pid: 7,
            product_id: product.into(),
            target: "127.0.0.1:8080".into(),
            responses,
            skipped: None,
            at: "t".into(),
        }
    }

    /// Answers shaped as open-webui 0.12.4's GET /api/config builds them
    /// (backend/open_webui/main.py:2277) for a caller without credentials.
    #[test]
    fn an_open_sign_up_of_the_first_admin_outweighs_a_401() {
        let fps = Fingerprints::embedded().expect("fingerprints");
        let features = |auth: bool, header: bool| {
            format!(
                r#""features":{{"slim":false,"auth":{auth},"auth_trusted_header":{header},"enable_signup":true,"enable_login_form":true}}"#
            )
        };
        let fresh = format!(
            r#"{{"onboarding":true,"status":true,"name":"Open WebUI","version":"0.12.4",{}}}"#,
            features(true, false)
        );
        let v = verdict(
            &round(
                "open_webui",
                &fps,
                &[
                    ("/api/config", 200, &fresh),
                    ("/api/models", 401, r#"{"detail":"Not authenticated"}"#),
                ],
            ),
            &fps,
        );
        assert_eq!(v.identity, ProbeIdentity::Confirmed);
        assert_eq!(v.auth, ProbeAuth::AnswersWithoutCredentials);
        assert!(v.self_grant[0].starts_with("no account exists yet"));
        assert!(v.open_paths.is_empty());

        // Claimed: the admin exists, sign-up is closed again. A custom name still confirms.
        let claimed = format!(
            r#"{{"status":true,"name":"Lab (Open WebUI)","version":"0.12.4",{}}}"#,
            features(true, false)
        );
        let v = verdict(
            &round(
                "open_webui",
                &fps,
                &[("/api/config", 200, &claimed), ("/api/models", 401, "{}")],
            ),
            &fps,
        );
        assert_eq!(v.identity, ProbeIdentity::Confirmed);
        assert_eq!(v.auth, ProbeAuth::DemandsAuth);
        assert!(v.self_grant.is_empty());

        // A trusted identity header: whoever reaches the port names themselves.
        let header = format!(
            r#"{{"status":true,"name":"Open WebUI",{}}}"#,
            features(true, true)
        );
        let v = verdict(
            &round(
                "open_webui",
                &fps,
                &[("/api/config", 200, &header), ("/api/models", 401, "{}")],
            ),
            &fps,
        );
        assert_eq!(v.auth, ProbeAuth::AnswersWithoutCredentials);
        assert!(v.self_grant[0].contains("request header"));
    }

    /// The same body from something that is not the product grants nothing.
    #[test]
    fn a_self_grant_needs_the_product_confirmed() {
        let fps = Fingerprints::embedded().expect("fingerprints");
        let v = verdict(
            &round(
                "langflow",
                &fps,
                &[("/api/v1/config", 200, r#"{"type":"full"}"#)],
            ),
            &fps,
        );
        assert_eq!(v.identity, ProbeIdentity::NotConfirmed);
        assert!(v.self_grant.is_empty());
        assert_ne!(v.auth, ProbeAuth::AnswersWithoutCredentials);

        // langflow-base 1.13.0: ConfigResponse ("full") only to a signed-in caller.
        let full = r#"{"type":"full","mcp_base_url":"","feature_flags":{},"auto_saving":true}"#;
        let public = r#"{"type":"public","mcp_base_url":"","feature_flags":{}}"#;
        let denied = r#"{"detail":"Could not validate credentials"}"#;
        let v = verdict(
            &round(
                "langflow",
                &fps,
                &[
                    ("/api/v1/config", 200, full),
                    ("/api/v1/projects/", 200, "[]"),
                ],
            ),
            &fps,
        );
        assert_eq!(v.auth, ProbeAuth::AnswersWithoutCredentials);
        assert_eq!(v.self_grant.len(), 1);
        let v = verdict(
            &round(
                "langflow",
                &fps,
                &[
                    ("/api/v1/config", 200, public),
                    ("/api/v1/projects/", 403, denied),
                ],
            ),
            &fps,
        );
        assert_eq!(v.auth, ProbeAuth::DemandsAuth);
        assert!(v.self_grant.is_empty());
    }
}
