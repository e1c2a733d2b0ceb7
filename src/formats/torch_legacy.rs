//! Legacy PyTorch checkpoints (`torch.save(..., _use_new_zipfile_serialization=False)`,
//! the default before torch 1.6): five pickles back to back -- the magic number
//! 0x1950a86a20f9469cfc6c, the protocol version, sys_info, the object (tensors
//! as persistent ids), the sorted storage keys -- then raw storage bytes
//! (torch/serialization.py `_legacy_save`). torch.load unpickles the first
//! five; the storage bytes are never opcodes, so the walk stops at the fifth
//! STOP and nothing after it is read.

use std::io::Read;
use std::path::Path;

use super::pickle::{MAX_FILE, StreamOptions, scan_reader};
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::pickle::PickleReport;

/// Pickles of a legacy checkpoint before its storage bytes.
pub const PICKLES: usize = 5;

/// The magic number as protocol 2+ pickles it: LONG1 of 10 bytes.
const MAGIC_LONG1: [u8; 12] = [
    0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19,
];
/// The magic number as protocols 0 and 1 write it.
const MAGIC_TEXT: &[u8] = b"L119547037146038801333356L\n.";

/// Does `head` start like a legacy torch.save file?
pub fn sniff(head: &[u8]) -> bool {
    if head.starts_with(MAGIC_TEXT) {
        return true;
    }
    if head.len() < 2 || head[0] != 0x80 || !(2..=5).contains(&head[1]) {
        return false;
    }
    // Protocols 4 and 5 open a FRAME (opcode and 8-byte length) first.
    let body = if head.get(2) == Some(&0x95) { 11 } else { 2 };
    head.get(body..)
        .is_some_and(|b| b.starts_with(&MAGIC_LONG1))
}

/// Walks the five pickles of a legacy checkpoint read from `reader` (at most
/// `cap` bytes) into one report; the raw storage bytes after them are not read.
pub fn analyse_reader(reader: impl Read, rules: &PickleRules, cap: u64) -> PickleReport {
    let opts = StreamOptions {
        max_pickles: Some(PICKLES),
        ..StreamOptions::default()
    };
    let r = scan_reader(reader, rules, &opts, cap);
    let mut report = r.scan.report;
    if let Some(e) = r.read_error {
        report
            .notes
            .push(format!("read failed after {} bytes: {e}", r.read));
    }
    if r.capped {
        report.notes.push(format!(
            "the pickles run past the {} MiB read cap; the rest was not analysed",
            cap >> 20
        ));
    }
    if r.scan.pickles == PICKLES {
        report.notes.push(format!(
            "legacy torch.save: {PICKLES} pickles walked; raw storage data from offset {} not read",
            r.scan.end
        ));
    } else {
        let why = format!(
            "legacy torch.save: only {} of its {PICKLES} pickles parse; torch.load fails on it",
            r.scan.pickles
        );
        report.notes.push(why.clone());
        report.incomplete.get_or_insert(why);
    }
    report
}

/// [`analyse_reader`] on the file at `path`, capped at the pickle scan's file cap.
pub fn analyse_file(path: &Path, rules: &PickleRules) -> Result<PickleReport, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(analyse_reader(std::io::BufReader::new(f), rules, MAX_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pickle::{GlobalClass, PickleVerdict};

    fn fixture(name: &str) -> std::path::PathBuf {
        crate::test_support::fixture("formats", name)
    }

    fn rules() -> PickleRules {
        crate::test_support::pickle_rules()
    }

    /// Offset where make.py saw the storage bytes start.
    fn storage_at(name: &str) -> u64 {
        let text = std::fs::read_to_string(fixture("offsets.txt")).expect("offsets.txt");
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} storage_at=")))
            .and_then(|v| v.parse().ok())
            .expect("offset of fixture")
    }

    #[test]
    fn benign_checkpoint_is_safe_and_storage_is_not_read() {
        for name in [
            "torch_legacy.pt",
            "torch_legacy_p4.pt",
            "torch_legacy_p1.pt",
        ] {
            let bytes = std::fs::read(fixture(name)).expect("fixture");
            assert!(sniff(&bytes), "{name}");
            let r = analyse_file(&fixture(name), &rules()).expect("readable");
            // The storage bytes hold a pickled os.system call: not walked.
            assert_eq!(
                crate::rules::pickle::verdict(&r),
                PickleVerdict::Safe,
                "{name}: {r:#?}"
            );
            let at = storage_at(name);
            assert!(
                r.notes.iter().any(|n| n.contains(&format!(
                    "5 pickles walked; raw storage data from offset {at} not read"
                ))),
                "{name}: {:?}",
                r.notes
            );
            let names: Vec<String> = r
                .globals
                .iter()
                .map(|g| format!("{}.{}", g.module, g.name))
                .collect();
            assert!(names.contains(&"torch._utils._rebuild_tensor_v2".into()));
            assert!(names.contains(&"torch.FloatStorage".into()));
            assert!(r.globals.iter().all(|g| g.offset < at), "{names:?}");
        }
    }

    #[test]
    fn storage_is_never_read_however_large() {
        // Storage bytes without end: the walk stops at the fifth STOP, and
        // only the first read (64 KiB) is taken from the reader.
        let bytes = std::fs::read(fixture("torch_legacy.pt")).expect("fixture");
        let endless = (&bytes[..]).chain(std::io::repeat(0x80));
        let r = analyse_reader(endless, &rules(), MAX_FILE);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "{r:#?}"
        );
    }

    #[test]
    fn payload_in_the_object_pickle_is_dangerous_with_its_offset() {
        let r = analyse_file(&fixture("torch_legacy_evil.pt"), &rules()).expect("readable");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{r:#?}"
        );
        let bad: Vec<(String, String, u64)> = r
            .globals
            .iter()
            .filter(|g| g.class == GlobalClass::Dangerous)
            .map(|g| (g.module.clone(), g.name.clone(), g.offset))
            .collect();
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert_eq!((bad[0].0.as_str(), bad[0].1.as_str()), ("posix", "system"));
        // Inside the fourth pickle: after the sys_info pickle, before storage.
        let bytes = std::fs::read(fixture("torch_legacy_evil.pt")).expect("fixture");
        let at = bad[0].2 as usize;
        assert_eq!(&bytes[at..at + 7], b"cposix\n");
        assert!(bad[0].2 < storage_at("torch_legacy_evil.pt"));
    }

    #[test]
    fn truncated_and_hostile_streams_are_never_safe() {
        let rules = rules();
        let bytes = std::fs::read(fixture("torch_legacy.pt")).expect("fixture");
        let at = storage_at("torch_legacy.pt") as usize;
        for cut in 0..at {
            let r = analyse_reader(&bytes[..cut], &rules, MAX_FILE);
            assert_eq!(
                crate::rules::pickle::verdict(&r),
                PickleVerdict::Unparseable,
                "cut {cut}"
            );
        }
        // A cap below the pickles' size stops the walk and says so.
        let r = analyse_reader(&bytes[..], &rules, 100);
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Unparseable
        );
        assert!(
            r.notes.iter().any(|n| n.contains("read cap")),
            "{:?}",
            r.notes
        );
        for i in 0..at {
            let mut b = bytes.clone();
            b[i] ^= 0xff;
            let _ = analyse_reader(&b[..], &rules, MAX_FILE);
        }
        assert!(!sniff(b"\x80\x02\x8a\x0a"));
        assert!(!sniff(b"\x80\x02}q\x00."));
    }
}
