//! NumPy .npz: zip members' .npy headers and object-array pickles.
#![no_main]

use std::io::Cursor;
use std::sync::LazyLock;

use aiposture::collect::npz::{NpzLimits, analyse_reader, sniff_archive};
use aiposture::collect::pickle::PickleRules;
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
