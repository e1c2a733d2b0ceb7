//! Keras 3 .keras zip and its config.json walker.
#![no_main]

use std::io::Cursor;

use aiposture::formats::keras::{parse_keras_config, parse_keras_zip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_keras_zip(Cursor::new(data));
    let _ = parse_keras_config(data);
});
