//! Safetensors: header length and JSON header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aiposture::formats::safetensors::parse_safetensors(data);
});
