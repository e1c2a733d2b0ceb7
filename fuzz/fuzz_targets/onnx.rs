//! ONNX ModelProto: the streaming protobuf walk and the content sniffer.
#![no_main]

use aiposture::formats::onnx::{looks_like_onnx, parse_onnx_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = looks_like_onnx(data);
    let _ = parse_onnx_bytes(data);
});
