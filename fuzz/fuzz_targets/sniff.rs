//! Magic sniffing of the first bytes of a file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let head = &data[..data.len().min(aiposture::formats::magic::HEADER_LEN)];
    let _ = aiposture::formats::magic::sniff(head);
});
