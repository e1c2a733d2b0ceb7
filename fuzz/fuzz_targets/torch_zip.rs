//! PyTorch zip: the archive reader, data.pkl lookup and its pickle walk.
#![no_main]

use std::sync::LazyLock;

use aiposture::formats::analyse::scan_torch_zip;
use aiposture::knowledge::pickle_rules::PickleRules;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<PickleRules> =
    LazyLock::new(|| PickleRules::embedded().expect("embedded rules parse"));

fuzz_target!(|data: &[u8]| {
    let _ = scan_torch_zip(data, &RULES);
});
