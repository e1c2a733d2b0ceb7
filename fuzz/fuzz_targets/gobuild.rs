//! Go `.go.buildinfo` blobs of a server's executable.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aiposture::collect::versions::gobuild::parse(data);
});
