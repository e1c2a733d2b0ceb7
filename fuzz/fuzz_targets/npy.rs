//! NumPy .npy header; object arrays go to the pickle walker.
#![no_main]

use std::sync::LazyLock;

use aiposture::formats::npy::scan_npy_bytes;
use aiposture::knowledge::pickle_rules::PickleRules;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<PickleRules> =
    LazyLock::new(|| PickleRules::embedded().expect("embedded rules parse"));

fuzz_target!(|data: &[u8]| {
    let _ = scan_npy_bytes(data, &RULES);
});
