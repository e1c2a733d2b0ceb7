//! The operator's policy.toml.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = aiposture::knowledge::policy::parse(text, std::path::Path::new("policy.toml"));
    }
});
