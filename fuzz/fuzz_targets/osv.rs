//! OSV advisory records (an operator's osv.dev export is untrusted input).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = aiposture::knowledge::advisories::AdvisoryDb::from_json_bytes(data);
});
