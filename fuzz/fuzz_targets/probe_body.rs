//! What a loopback probe keeps from an answer: any server (or anything that
//! took over its port) controls status, headers and body.
#![no_main]

use std::sync::LazyLock;

use aiposture::knowledge::fingerprints::Fingerprints;
use libfuzzer_sys::fuzz_target;

static FP: LazyLock<Fingerprints> =
    LazyLock::new(|| Fingerprints::embedded().expect("embedded fingerprints"));

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let fp = &FP.products[usize::from(sel) % FP.products.len()];
    let status = 200 + u16::from(sel % 4) * 100;
    let headers = vec![("server".to_string(), String::from_utf8_lossy(&body[..body.len().min(64)]).into_owned())];
    for path in ["/", "/health", "/v1/models", "/config"] {
        let _ = aiposture::collect::net::probe::facts(path, status, &headers, body, false, fp);
    }
});
