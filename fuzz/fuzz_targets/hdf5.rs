//! HDF5 superblock and the root `model_config` attribute (legacy Keras .h5).
#![no_main]

use aiposture::formats::hdf5::{parse_hdf5_prefix, signature_offset};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = signature_offset(data);
    let _ = parse_hdf5_prefix(data);
});
