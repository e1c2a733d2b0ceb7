//! Golden HTTP fixtures captured from real servers (tests/fixtures/http, made by
//! scripts/capture-http-fixtures.sh) run through the same fact extraction and
//! verdict code as live probes; look-alikes must never be taken for a product.

use std::path::Path;

use aiposture::collect::net::probe::facts;
use aiposture::knowledge::Knowledge;
use aiposture::model::{Probe, ProbeAuth, ProbeIdentity};
use aiposture::rules::probe::verdict;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/http");

/// What a probe round of `product` would have seen from the server captured in
/// `dir`. `strict`: every path must have been captured; otherwise a path the
/// capture did not request counts as a 404.
fn replay(dir: &str, product: &str, k: &Knowledge, strict: bool) -> Probe {
    let fp = k.fingerprints.get(product).expect("fingerprint");
    let mut responses = Vec::new();
    for path in fp.round() {
        let slug = if path == "/" {
            "root".to_string()
        } else {
            path.trim_start_matches('/').replace('/', "-")
        };
        let file = Path::new(DIR).join(dir).join(format!("{slug}.json"));
        let v: serde_json::Value = match std::fs::read_to_string(&file) {
            Ok(text) => serde_json::from_str(&text).expect("fixture json"),
            Err(e) if strict => panic!(
                "{}: {e} (capture it with scripts/capture-http-fixtures.sh)",
                file.display()
            ),
            Err(_) => serde_json::json!({"status": 404}),
        };
        let headers: Vec<(String, String)> = v["headers"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let body = v["body"].as_str().unwrap_or("").as_bytes();
        let status = v["status"].as_u64().expect("status") as u16;
        responses.push(facts(&path, status, &headers, body, false, fp));
    }
    Probe {
        socket: 0,
        pid: 1,
        product_id: product.into(),
        target: format!("fixture {dir}"),
        responses,
        skipped: None,
        at: "fixture".into(),
    }
}

#[test]
fn real_servers_are_confirmed_with_the_right_auth_verdict() {
    let k = Knowledge::embedded().expect("knowledge");
    let cases = [
        (
            "llama-cpp-nokey",
            "llama_server",
            ProbeAuth::AnswersWithoutCredentials,
            Some(1),
        ),
        (
            "llama-cpp-apikey",
            "llama_server",
            ProbeAuth::DemandsAuth,
            None,
        ),
        (
            "gradio-noauth",
            "gradio",
            ProbeAuth::AnswersWithoutCredentials,
            None,
        ),
        ("gradio-auth", "gradio", ProbeAuth::DemandsAuth, None),
        (
            "jupyterlab-notoken",
            "jupyter",
            ProbeAuth::AnswersWithoutCredentials,
            None,
        ),
        ("jupyterlab-token", "jupyter", ProbeAuth::DemandsAuth, None),
        (
            "litellm-nokey",
            "litellm",
            ProbeAuth::AnswersWithoutCredentials,
            Some(1),
        ),
        ("litellm-masterkey", "litellm", ProbeAuth::DemandsAuth, None),
    ];
    for (dir, product, auth, listed) in cases {
        let v = verdict(&replay(dir, product, &k, true), &k.fingerprints);
        assert_eq!(v.identity, ProbeIdentity::Confirmed, "{dir}: {v:#?}");
        assert_eq!(v.auth, auth, "{dir}: {v:#?}");
        if listed.is_some() {
            assert_eq!(v.listed, listed, "{dir}");
        }
    }
    let keyed = verdict(
        &replay("llama-cpp-apikey", "llama_server", &k, true),
        &k.fingerprints,
    );
    assert_eq!(keyed.open_paths, vec!["/health".to_string()]);
    let open = verdict(
        &replay("llama-cpp-nokey", "llama_server", &k, true),
        &k.fingerprints,
    );
    assert_eq!(open.version.as_deref(), Some("b1-0c1e570"));
}

#[test]
fn look_alikes_are_never_a_product() {
    let k = Knowledge::embedded().expect("knowledge");
    for dir in ["generic-health-default", "python-http-server-default"] {
        for fp in &k.fingerprints.products {
            let probe = replay(dir, &fp.id, &k, false);
            let v = verdict(&probe, &k.fingerprints);
            assert_ne!(
                v.identity,
                ProbeIdentity::Confirmed,
                "{dir} taken for {}: {v:#?}",
                fp.id
            );
            assert_eq!(
                v.auth,
                ProbeAuth::Unknown,
                "{dir} as {}: auth judged on a look-alike",
                fp.id
            );
        }
    }
}
