//! The static pickle walker (protocols 0-5, nested pickles).
//!
//! Oracle: a `safe` or `benign-library` verdict is only ever given to a
//! stream the walker read whole, to a STOP at top level, with nothing CPython's
//! two unpicklers would read differently. Where the walker and CPython's own
//! reader disagree, tests/pickle_oracle.rs replays this target's corpus
//! against `pickletools.genops` and the C unpickler.
#![no_main]

use std::sync::LazyLock;

use aiposture::formats::pickle::{StreamOptions, scan_stream};
use aiposture::knowledge::pickle_rules::PickleRules;
use aiposture::model::pickle::PickleVerdict;
use aiposture::rules::pickle::verdict;
use libfuzzer_sys::fuzz_target;

static RULES: LazyLock<PickleRules> =
    LazyLock::new(|| PickleRules::embedded().expect("embedded rules parse"));

fuzz_target!(|data: &[u8]| {
    let opts = StreamOptions {
        max_pickles: Some(1),
        trace: true,
        ..StreamOptions::default()
    };
    let s = scan_stream(data, &RULES, &opts);
    if matches!(
        verdict(&s.report),
        PickleVerdict::Safe | PickleVerdict::BenignLibrary
    ) {
        assert!(s.report.incomplete.is_none() && s.report.anomalies.is_empty());
        assert_eq!(s.trace.last().map(|(_, op)| *op), Some(b'.'), "no STOP");
        assert_eq!(s.pickles, 1, "not read to its STOP");
    }
});
