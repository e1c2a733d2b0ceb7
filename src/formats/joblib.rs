//! joblib (`joblib.dump`): a pickle in which every numpy array is a
//! `NumpyArrayWrapper` whose BUILD is followed, outside the pickle opcodes, by
//! the array itself: one padding-length byte, padding, raw bytes (joblib >= 1.2
//! aligns to 16), or for object arrays a whole pickle. Layout read from
//! joblib 1.5.2 `joblib/numpy_pickle.py` (NumpyArrayWrapper.write_array /
//! read_array, NumpyPickler.save, NumpyUnpickler.load_build).
//!
//! `joblib.dump(compress=...)` compresses the whole stream; joblib.load tells
//! the compressor by its magic (joblib/compressor.py: zlib `x`, gzip `1f 8b`,
//! bz2 `BZ`, xz `fd 37 7a 58 5a`, lzma `5d 00`, lz4 `04 22 4d 18`).
//! Decompression here is streaming and stops at a cap on decompressed bytes,
//! so a zip bomb costs at most the cap.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use super::pickle::{MAX_FILE, StreamOptions, is_array_wrapper, scan_reader};
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::Compression;
use crate::model::pickle::PickleReport;

/// Decompressed bytes analysed at most (the pickle scan's file cap).
pub const DECOMPRESSED_CAP: u64 = MAX_FILE;
/// LZMA/XZ dictionaries larger than this are refused (xz -9 uses 64 MiB): a
/// header may claim gigabytes.
const LZMA_MEM_LIMIT_KIB: u32 = 100 * 1024;
/// Compressed bytes read while sniffing (bz2 and lz4 decode whole blocks:
/// up to 900 kB and 4 MiB).
const SNIFF_INPUT_CAP: u64 = 8 << 20;

/// The compressor whose magic starts `head`, as joblib.load tells them.
pub fn compression_of(head: &[u8]) -> Option<Compression> {
    if head.starts_with(b"\x1f\x8b") {
        Some(Compression::Gzip)
    } else if head.starts_with(b"BZh") {
        Some(Compression::Bz2)
    } else if head.starts_with(b"\xfd7zXZ\x00") {
        Some(Compression::Xz)
    } else if head.starts_with(b"]\x00") {
        Some(Compression::Lzma)
    } else if head.starts_with(b"\x04\x22\x4d\x18") {
        Some(Compression::Lz4)
    } else if head.len() >= 2
        && head[0] == 0x78
        && u16::from_be_bytes([head[0], head[1]]).is_multiple_of(31)
    {
        // A zlib header: CM 8 with a 32 KiB window and a valid check.
        Some(Compression::Zlib)
    } else {
        None
    }
}

/// A streaming decoder of `c` over `r`.
fn decoder<'r>(r: impl Read + 'r, c: Compression) -> Result<Box<dyn Read + 'r>, String> {
    Ok(match c {
        Compression::Zlib => Box::new(flate2::read::ZlibDecoder::new(r)),
        Compression::Gzip => Box::new(flate2::read::GzDecoder::new(r)),
        Compression::Bz2 => Box::new(bzip2::read::BzDecoder::new(r)),
        Compression::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            r,
            false,
            LZMA_MEM_LIMIT_KIB,
        )),
        Compression::Lzma => Box::new(
            lzma_rust2::LzmaReader::new_mem_limit(r, LZMA_MEM_LIMIT_KIB, None)
                .map_err(|e| format!("lzma header: {e}"))?,
        ),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(r)),
    })
}

/// Does `r` hold a compressed stream whose content starts like a pickle? At
/// most [`SNIFF_INPUT_CAP`] compressed bytes and 2 decompressed are read.
pub fn sniff_compressed(r: impl Read) -> Option<Compression> {
    let mut r = BufReader::new(r.take(SNIFF_INPUT_CAP));
    let c = compression_of(r.fill_buf().ok()?)?;
    let mut out = [0u8; 2];
    decoder(r, c).ok()?.read_exact(&mut out).ok()?;
    (out[0] == 0x80 && (2..=5).contains(&out[1])).then_some(c)
}

/// Analyses a joblib file from `reader`, compressed or not: the pickle walk
/// follows joblib's inline arrays, and at most `cap` decompressed bytes are read.
pub fn analyse_reader(reader: impl Read, rules: &PickleRules, cap: u64) -> PickleReport {
    let mut reader = BufReader::new(reader);
    let compression = reader.fill_buf().ok().and_then(compression_of);
    // Compressed input is bounded too: streams of empty blocks inflate to nothing.
    let stream: Box<dyn Read> = match compression {
        None => Box::new(reader),
        Some(c) => match decoder(reader.take(cap.saturating_add(cap / 8 + (1 << 20))), c) {
            Ok(d) => d,
            Err(e) => return unparseable(format!("{} stream: {e}", c.label())),
        },
    };
    let opts = StreamOptions {
        joblib: true,
        ..StreamOptions::default()
    };
    let r = scan_reader(stream, rules, &opts, cap);
    let mut report = r.scan.report;
    let wrapped = report
        .globals
        .iter()
        .any(|g| is_array_wrapper(&g.module, &g.name));
    if compression.is_none() && wrapped {
        also_as_plain_pickle(&mut report, &r.data, &r.holes, rules);
    }
    let what = match compression {
        Some(c) => format!("{} decompression", c.label()),
        None => "reading".into(),
    };
    if let Some(e) = r.read_error {
        report
            .notes
            .insert(0, format!("{what} failed after {} bytes: {e}", r.read));
    }
    if r.capped {
        report.notes.insert(
            0,
            format!(
                "{what} stopped at the cap of {} MiB ({cap} bytes){}; the rest was not analysed",
                cap >> 20,
                if compression.is_some() {
                    " of decompressed data, a guard against decompression bombs"
                } else {
                    ""
                }
            ),
        );
    }
    report
}

/// [`analyse_reader`] on the file at `path` with [`DECOMPRESSED_CAP`].
pub fn analyse_file(path: &Path, rules: &PickleRules) -> Result<PickleReport, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(analyse_reader(f, rules, DECOMPRESSED_CAP))
}

/// pickle.load (not joblib.load) reads the bytes after an array wrapper as
/// opcodes. Imports found that way are added, so a file cannot hide a payload
/// from one loader behind the other's reading. Real joblib files end the
/// plain walk at their first array: its padding-length byte (1..=16) is no
/// opcode.
fn also_as_plain_pickle(
    report: &mut PickleReport,
    data: &[u8],
    holes: &[super::pickle::Hole],
    rules: &PickleRules,
) {
    let plain = super::pickle::scan_with_holes(data, holes, rules, &Default::default()).report;
    let known: std::collections::HashSet<u64> = report.globals.iter().map(|g| g.offset).collect();
    let extra: Vec<_> = plain
        .globals
        .into_iter()
        .filter(|g| !known.contains(&g.offset))
        .collect();
    if extra.is_empty() {
        return;
    }
    report.notes.push(format!(
        "read by pickle.load instead of joblib.load, the bytes after an array wrapper are opcodes: {} more imports found that way",
        extra.len()
    ));
    report.globals.extend(extra);
}

fn unparseable(note: String) -> PickleReport {
    PickleReport {
        verdict: None,
        globals: Vec::new(),
        opcodes: 0,
        protocol: None,
        incomplete: Some(note.clone()),
        notes: vec![note],
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pickle::{GlobalClass, PickleGlobal, PickleVerdict};

    fn fixture(name: &str) -> std::path::PathBuf {
        crate::test_support::fixture("formats", name)
    }

    fn rules() -> PickleRules {
        crate::test_support::pickle_rules()
    }

    fn dangerous(r: &PickleReport) -> Vec<&PickleGlobal> {
        r.globals
            .iter()
            .filter(|g| g.class == GlobalClass::Dangerous)
            .collect()
    }

    fn inline_note(r: &PickleReport) -> Option<&String> {
        r.notes.iter().find(|n| n.contains("joblib inline arrays"))
    }

    #[test]
    fn benign_dumps_are_safe_with_every_array_skipped() {
        // coef (48 bytes), fortran (48), labels (2 × U3 = 24), objects (a pickle).
        for name in ["model.joblib", "model_p2.joblib"] {
            let r = analyse_file(&fixture(name), &rules()).expect("readable");
            assert_eq!(
                crate::rules::pickle::verdict(&r),
                PickleVerdict::Safe,
                "{name}: {r:#?}"
            );
            assert!(
                r.globals.iter().all(|g| g.class == GlobalClass::Allowed),
                "{name}"
            );
            assert!(r.globals.iter().any(|g| g.name == "NumpyArrayWrapper"));
            assert_eq!(
                inline_note(&r).map(String::as_str),
                Some(
                    "4 joblib inline arrays (120 bytes of array data) skipped as joblib.load reads them"
                ),
                "{name}: {:?}",
                r.notes
            );
        }
    }

    #[test]
    fn payload_after_an_inline_array_is_found() {
        let bytes = std::fs::read(fixture("after_array.joblib")).expect("fixture");
        let r = analyse_reader(&bytes[..], &rules(), DECOMPRESSED_CAP);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{r:#?}"
        );
        let bad = dangerous(&r);
        assert_eq!(bad.len(), 1);
        assert_eq!(
            (bad[0].module.as_str(), bad[0].name.as_str()),
            ("posix", "system")
        );
        // STACK_GLOBAL sits after the 20 array bytes, right where make.py put it.
        let at = bad[0].offset as usize;
        assert_eq!(bytes[at], 0x93, "STACK_GLOBAL at {at}");
        let coef = bytes
            .windows(20)
            .position(|w| {
                w == (0..5u32)
                    .flat_map(|i| (i as f32).to_le_bytes())
                    .collect::<Vec<u8>>()
            })
            .expect("array bytes");
        assert!(at > coef + 20, "{at} after {coef}");
        // The plain pickle walk stops in the array's bytes and never sees it.
        let plain = super::super::pickle::scan(&bytes, &rules());
        assert!(dangerous(&plain).is_empty(), "{plain:#?}");
    }

    #[test]
    fn arrays_written_to_an_unseekable_sink_have_no_padding() {
        let r = analyse_file(&fixture("unpadded.joblib"), &rules()).expect("readable");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "{r:#?}"
        );
        assert!(
            inline_note(&r).is_some_and(|n| n.starts_with("4 joblib inline arrays (120 bytes"))
        );
    }

    #[test]
    fn bytes_that_pickle_load_reads_as_opcodes_are_walked_too() {
        // joblib.load reads them as a uint8 array; pickle.load runs os.system.
        let bytes = std::fs::read(fixture("two_faced.joblib")).expect("fixture");
        let r = analyse_reader(&bytes[..], &rules(), DECOMPRESSED_CAP);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{r:#?}"
        );
        let bad = dangerous(&r);
        assert_eq!(
            (bad[0].module.as_str(), bad[0].name.as_str()),
            ("posix", "system")
        );
        assert_eq!(&bytes[bad[0].offset as usize..][..7], b"cposix\n");
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("read by pickle.load instead"))
        );
    }

    #[test]
    fn wrapper_inside_a_longer_frame_is_unparseable() {
        // joblib ends a FRAME right after each wrapper's BUILD. A frame that
        // goes on hides opcodes joblib.load runs before it reads the array.
        let bytes = std::fs::read(fixture("after_array.joblib")).expect("fixture");
        assert_eq!(&bytes[..3], b"\x80\x04\x95");
        let mut long = bytes.clone();
        let n = u64::from_le_bytes(long[3..11].try_into().expect("8 bytes")) + 8;
        long[3..11].copy_from_slice(&n.to_le_bytes());
        let r = analyse_reader(&long[..], &rules(), DECOMPRESSED_CAP);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Unparseable,
            "{r:#?}"
        );
        assert!(r.notes[0].contains("inside a FRAME"), "{:?}", r.notes);
    }

    #[test]
    fn untracked_objects_after_the_value_budget_are_unparseable() {
        use super::super::pickle::{VALUE_BUDGET, scan_stream};
        let joblib = StreamOptions {
            joblib: true,
            ..StreamOptions::default()
        };
        // BUILD on a list: harmless while objects are tracked.
        let r = scan_stream(b"\x80\x04]}b.", &rules(), &joblib).report;
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "{r:#?}"
        );
        // Past the budget, an object's class is unknown: it could be a wrapper.
        let mut p = b"\x80\x04".to_vec();
        for _ in 0..=VALUE_BUDGET {
            p.extend_from_slice(b"}0");
        }
        p.extend_from_slice(b"]}b.");
        let r = scan_stream(&p, &rules(), &joblib).report;
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Unparseable,
            "{:?}",
            r.notes
        );
        assert!(r.notes[0].contains("could be a joblib array wrapper"));
    }

    #[test]
    fn object_array_pickle_inside_is_walked() {
        let r = analyse_file(&fixture("object_array_evil.joblib"), &rules()).expect("readable");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{r:#?}"
        );
        assert_eq!(dangerous(&r)[0].name, "system");
    }

    #[test]
    fn every_compressor_is_read_and_sniffed() {
        for (ext, c) in [
            ("zlib", Compression::Zlib),
            ("gzip", Compression::Gzip),
            ("bz2", Compression::Bz2),
            ("lzma", Compression::Lzma),
            ("xz", Compression::Xz),
            ("lz4", Compression::Lz4),
        ] {
            let path = fixture(&format!("model.joblib.{ext}"));
            let f = std::fs::File::open(&path).expect("fixture");
            assert_eq!(sniff_compressed(f), Some(c), "{ext}");
            let r = analyse_file(&path, &rules()).expect("readable");
            assert_eq!(
                crate::rules::pickle::verdict(&r),
                PickleVerdict::Safe,
                "{ext}: {r:#?}"
            );
            assert!(
                inline_note(&r).is_some_and(|n| n.starts_with("4 ")),
                "{ext}"
            );
        }
        let r = analyse_file(&fixture("after_array_evil.joblib.gz"), &rules()).expect("readable");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{r:#?}"
        );
        // Plain pickles and text are not compressed pickles.
        let plain = std::fs::read(fixture("model.joblib")).expect("fixture");
        assert_eq!(sniff_compressed(&plain[..]), None);
        assert_eq!(sniff_compressed(&b"x\x9chello"[..]), None);
    }

    #[test]
    fn decompression_stops_at_the_cap_and_says_so() {
        let bytes = std::fs::read(fixture("after_array_evil.joblib.gz")).expect("fixture");
        let r = analyse_reader(&bytes[..], &rules(), 64);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Unparseable,
            "{r:#?}"
        );
        assert!(
            r.notes[0].contains("gzip decompression stopped at the cap")
                && r.notes[0].contains("decompression bombs"),
            "{:?}",
            r.notes
        );
        // A corrupt stream is reported, never safe.
        let mut broken = bytes.clone();
        broken.truncate(bytes.len() / 2);
        let r = analyse_reader(&broken[..], &rules(), DECOMPRESSED_CAP);
        assert_ne!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "{r:#?}"
        );
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let rules = rules();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
        for e in std::fs::read_dir(dir).expect("fixtures") {
            let path = e.expect("entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.contains(".joblib") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("fixture");
            for i in 0..bytes.len() {
                let mut b = bytes.clone();
                b[i] ^= 0xff;
                let _ = analyse_reader(&b[..], &rules, 1 << 20);
                let _ = sniff_compressed(&b[..]);
            }
        }
    }

    #[test]
    fn wrapper_without_a_known_size_is_unparseable() {
        let rules = rules();
        let bytes = std::fs::read(fixture("model.joblib")).expect("fixture");
        // The dtype code 'f8' of the first wrapper becomes 'fX': size unknown.
        let i = bytes
            .windows(4)
            .position(|w| w == b"\x8c\x02f8")
            .expect("dtype code");
        let mut bad = bytes.clone();
        bad[i + 3] = b'X';
        let r = analyse_reader(&bad[..], &rules, DECOMPRESSED_CAP);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Unparseable,
            "{r:#?}"
        );
        assert!(r.notes[0].contains("cannot be skipped"), "{:?}", r.notes);
        // Every prefix fails cleanly.
        for cut in 0..bytes.len() {
            let r = analyse_reader(&bytes[..cut], &rules, DECOMPRESSED_CAP);
            assert_ne!(
                crate::rules::pickle::verdict(&r),
                PickleVerdict::Safe,
                "cut {cut}"
            );
        }
    }
}
