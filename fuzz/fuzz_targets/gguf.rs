//! GGUF header: key-values, chat template, tensor infos.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aiposture::formats::gguf::parse_gguf(data);
});
