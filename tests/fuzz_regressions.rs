//! Inputs that made a fuzz target crash (`scripts/fuzz.sh`), kept as they were
//! found under tests/fixtures/fuzz/<target>/: each must now get an answer (a
//! parse or an error), never a panic. Test builds check integer overflow, as the
//! fuzz builds do.

use std::path::Path;

use aiposture::collect::hdf5::{parse_hdf5_prefix, signature_offset};

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| {
            let bytes = std::fs::read(e.path()).expect("read input");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no inputs in {}", dir.display());
    out
}

/// A global heap address near the top of the address space (found by the
/// `hdf5` target): the offset arithmetic overflowed.
#[test]
fn hdf5_crash_inputs_get_an_answer() {
    for (name, bytes) in inputs("hdf5") {
        let _ = signature_offset(&bytes);
        let parsed = parse_hdf5_prefix(&bytes);
        eprintln!(
            "{name}: {:?}",
            parsed.as_ref().map(|_| "parsed").map_err(|e| e.to_string())
        );
    }
}
