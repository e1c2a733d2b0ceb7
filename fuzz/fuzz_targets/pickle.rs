//! The static pickle walker (protocols 0-5, nested pickles).
#![no_main]

use std::sync::LazyLock;

use aiposture::formats::pickle::scan;
use aiposture::knowledge::pickle_rules::PickleRules;
use aiposture::model::pickle::PickleVerdict;
use aiposture::rules::pickle::verdict;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<PickleRules> =
    LazyLock::new(|| PickleRules::embedded().expect("embedded rules parse"));

fuzz_target!(|data: &[u8]| {
    let r = scan(data, &RULES);
    // A stream without its STOP opcode cannot be vouched for.
    if verdict(&r) == PickleVerdict::Safe && !data.is_empty() {
        assert!(
            data.contains(&b'.'),
            "safe verdict for a stream without STOP"
        );
    }
});
