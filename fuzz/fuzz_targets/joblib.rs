//! joblib: plain (inline arrays after NumpyArrayWrapper) and compressed streams.
#![no_main]

use std::sync::LazyLock;

use aiposture::formats::joblib::{analyse_reader, sniff_compressed};
use aiposture::knowledge::pickle_rules::PickleRules;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<PickleRules> =
    LazyLock::new(|| PickleRules::embedded().expect("embedded rules parse"));

fuzz_target!(|data: &[u8]| {
    let _ = sniff_compressed(data);
    // A small cap keeps decompression bombs cheap per input.
    let _ = analyse_reader(data, &RULES, 1 << 20);
});
