//! Legacy torch.save: five consecutive pickles, storage bytes never read.
#![no_main]

use std::sync::LazyLock;

use aiposture::knowledge::pickle_rules::PickleRules;
use aiposture::formats::torch_legacy::{analyse_reader, sniff};
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<PickleRules> =
    LazyLock::new(|| PickleRules::embedded().expect("embedded rules parse"));

fuzz_target!(|data: &[u8]| {
    let _ = sniff(data);
    let _ = analyse_reader(data, &RULES, 1 << 20);
});
