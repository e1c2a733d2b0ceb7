//! NumPy .npz: zip members' .npy headers and object-array pickles.
#![no_main]

use std::io::Cursor;
use std::sync::LazyLock;

use aiposture::formats::npz::{NpzLimits, analyse_reader, sniff_archive};
use aiposture::knowledge::pickle_rules::PickleRules;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<PickleRules> =
    LazyLock::new(|| PickleRules::embedded().expect("embedded rules parse"));

fuzz_target!(|data: &[u8]| {
    let _ = sniff_archive(Cursor::new(data));
    let limits = NpzLimits {
        max_members: 64,
        max_total: 1 << 20,
    };
    let _ = analyse_reader(Cursor::new(data), &RULES, limits);
});
