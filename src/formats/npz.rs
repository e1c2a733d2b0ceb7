//! NumPy `.npz` (numpy.savez / savez_compressed): a zip whose members are .npy
//! files. np.load reads a member as an array when its content starts with the
//! .npy magic (numpy/lib/_npyio_impl.py NpzFile.__getitem__), whatever its
//! name, so every member is checked by content; object-array members hold a
//! pickle that np.load(allow_pickle=True) runs. Only each member's .npy header
//! is decompressed, plus the pickle of object members, within a total budget.

use std::io::{Read, Seek};
use std::path::Path;

use super::npy::{HEADER_CAP, PAYLOAD_CAP, checked, header};
use super::pickle::{StreamOptions, scan_stream};
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::pickle::{PickleReport, clean_text};

/// Bounds of one .npz analysis.
#[derive(Debug, Clone, Copy)]
pub struct NpzLimits {
    /// Members examined; an archive with more is not fully analysed.
    pub max_members: usize,
    /// Decompressed bytes read over all members (headers and pickles).
    pub max_total: u64,
}

impl Default for NpzLimits {
    fn default() -> Self {
        NpzLimits {
            max_members: 10_000,
            max_total: PAYLOAD_CAP,
        }
    }
}

/// Members that inflate at least this many times, and to at least 1 MiB, are noted.
const HIGH_RATIO: u64 = 100;

/// Analyses an .npz archive from `reader`: every member's .npy header, and the
/// pickle of object-array members, merged into one report.
pub fn analyse_reader<R: Read + Seek>(
    reader: R,
    rules: &PickleRules,
    limits: NpzLimits,
) -> Result<PickleReport, String> {
    let mut z = zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip: {e}"))?;
    let mut out = Merged::default();
    if z.has_duplicate_names() {
        out.note(
            "the archive repeats member names: np.load reads the last of each, other tools may read the first; only the last was analysed".into(),
        );
    }
    let total = z.len();
    if total > limits.max_members {
        out.broken = true;
        out.note(format!(
            "{total} members, more than the {} analysed; the rest were not read",
            limits.max_members
        ));
    }
    let mut budget = limits.max_total;
    let mut arrays = 0usize;
    for i in 0..total.min(limits.max_members) {
        let mut f = match z.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                out.broken = true;
                out.note(format!("member #{i} cannot be read: {e}"));
                continue;
            }
        };
        let name = clean_text(&String::from_utf8_lossy(f.name_raw()));
        if escapes(f.name_raw()) {
            out.note(format!(
                "member name {name:?} points outside the extraction directory (absolute or ..)"
            ));
        }
        let (size, packed) = (f.size(), f.compressed_size());
        if size >= 1 << 20 && size / packed.max(1) >= HIGH_RATIO {
            out.note(format!(
                "member {name:?} inflates {packed} bytes to {size} ({}×); only its header was read",
                size / packed.max(1)
            ));
        }
        let stored = f.compression() == zip::CompressionMethod::Stored;
        let data_start = f.data_start();
        let want = budget.min(HEADER_CAP as u64 + 12);
        let mut head = Vec::new();
        if let Err(e) = (&mut f).take(want).read_to_end(&mut head) {
            out.broken = true;
            out.note(format!("member {name:?}: {e}"));
            continue;
        }
        budget -= head.len() as u64;
        if !head.starts_with(b"\x93NUMPY") {
            out.note(format!(
                "member {name:?} is not .npy data; np.load hands it out as raw bytes"
            ));
            continue;
        }
        arrays += 1;
        let (text, offset) = match header(&head) {
            Ok(h) => h,
            Err(e) if head.len() as u64 == want && want < HEADER_CAP as u64 + 12 => {
                out.broken = true;
                out.note(format!(
                    "member {name:?}: the decompression budget ran out in its header ({e})"
                ));
                continue;
            }
            Err(e) => {
                out.broken = true;
                out.note(format!("member {name:?}: {e}"));
                continue;
            }
        };
        let member_len = size.checked_sub(offset as u64);
        match checked(&text, offset, member_len) {
            Ok(h) if h.object => {}
            Ok(_) => continue,
            Err(e) => {
                out.broken = true;
                out.note(format!("member {name:?}: {e}"));
                continue;
            }
        }
        let mut payload = head.split_off(offset.min(head.len()));
        let room = budget.min(PAYLOAD_CAP.saturating_sub(payload.len() as u64));
        let before = payload.len();
        if let Err(e) = (&mut f).take(room + 1).read_to_end(&mut payload) {
            out.broken = true;
            out.note(format!("member {name:?}: {e}"));
            continue;
        }
        let got = (payload.len() - before) as u64;
        budget = budget.saturating_sub(got);
        if got > room {
            out.broken = true;
            payload.truncate(before + room as usize);
            out.note(format!(
                "member {name:?}: its pickle is larger than the decompression budget left ({room} bytes); the rest was not read"
            ));
        }
        // Offsets of a stored member are file offsets; of a deflated one,
        // offsets in its decompressed content.
        let base = match (stored, data_start) {
            (true, Some(start)) => start + offset as u64,
            _ => {
                out.note(format!(
                    "member {name:?} is compressed: its offsets count from the start of its decompressed .npy data"
                ));
                offset as u64
            }
        };
        let opts = StreamOptions {
            base,
            ..StreamOptions::default()
        };
        out.add(&name, scan_stream(&payload, rules, &opts).report);
    }
    out.note(format!("{total} members, {arrays} .npy arrays"));
    Ok(out.finish())
}

/// Member names examined when sniffing an archive.
const SNIFF_MEMBERS: usize = 10_000;

/// The format of a zip by its member names (any `.npy`: np.load reads it as
/// .npz; any `data.pkl`: torch.load), for zips whose first member said nothing.
pub fn sniff_archive<R: Read + Seek>(reader: R) -> Option<crate::model::ModelFormat> {
    use crate::model::ModelFormat;
    let z = zip::ZipArchive::new(reader).ok()?;
    let mut found = None;
    for name in z.file_names().take(SNIFF_MEMBERS).filter_map(Result::ok) {
        if name == "data.pkl" || name.ends_with("/data.pkl") {
            return Some(ModelFormat::PytorchZip);
        }
        if name.ends_with(".npy") {
            found = Some(ModelFormat::Npz);
        }
    }
    found
}

/// [`analyse_reader`] on the file at `path` with the default limits.
pub fn analyse_file(path: &Path, rules: &PickleRules) -> Result<PickleReport, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    analyse_reader(std::io::BufReader::new(f), rules, NpzLimits::default())
}

/// Absolute paths, drive letters and `..` components: names an extracting
/// tool would write outside its directory.
fn escapes(name: &[u8]) -> bool {
    let name = String::from_utf8_lossy(name).replace('\\', "/");
    name.starts_with('/')
        || name.as_bytes().get(1) == Some(&b':')
        || name.split('/').any(|c| c == "..")
}

/// The per-member reports merged into one.
#[derive(Default)]
struct Merged {
    report: Option<PickleReport>,
    notes: Vec<String>,
    broken: bool,
}

impl Merged {
    fn note(&mut self, n: String) {
        if self.notes.len() < 64 {
            self.notes.push(n);
        }
    }

    fn add(&mut self, member: &str, r: PickleReport) {
        if r.incomplete.is_some() {
            self.broken = true;
        }
        // The merged report's own incompleteness is set by finish().
        for n in crate::model::pickle::merge_member(&mut self.report, member, r) {
            self.note(n);
        }
    }

    fn finish(self) -> PickleReport {
        let mut r = self.report.unwrap_or(PickleReport {
            verdict: None,
            globals: Vec::new(),
            opcodes: 0,
            protocol: None,
            notes: Vec::new(),
            incomplete: None,
            ..Default::default()
        });
        // A member not read or not parsed keeps the archive from being safe.
        r.incomplete = self
            .broken
            .then(|| "a member was not read or its pickle does not parse (see the notes)".into());
        r.notes = self.notes;
        r
    }
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

    #[test]
    fn plain_archives_are_safe_without_globals() {
        for name in ["plain.npz", "compressed.npz"] {
            let r = analyse_file(&fixture(name), &rules()).expect("readable");
            assert_eq!(
                crate::rules::pickle::verdict(&r),
                PickleVerdict::Safe,
                "{name}: {r:#?}"
            );
            assert!(r.globals.is_empty(), "{name}");
            assert_eq!(r.notes, ["2 members, 2 .npy arrays"], "{name}");
        }
    }

    #[test]
    fn object_members_are_walked() {
        let r = analyse_file(&fixture("objects.npz"), &rules()).expect("readable");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "{r:#?}"
        );
        assert!(r.globals.iter().all(|g| g.class == GlobalClass::Allowed));
        assert!(r.globals.iter().any(|g| g.name.ends_with("_reconstruct")));
        // Stored member: offsets are file offsets.
        let bytes = std::fs::read(fixture("objects.npz")).expect("fixture");
        for g in &r.globals {
            assert_eq!(bytes[g.offset as usize], 0x93, "{g:?}");
        }
        let r = analyse_file(&fixture("evil.npz"), &rules()).expect("readable");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{r:#?}"
        );
        let bad: Vec<_> = r
            .globals
            .iter()
            .filter(|g| g.class == GlobalClass::Dangerous)
            .map(|g| format!("{}.{}", g.module, g.name))
            .collect();
        assert_eq!(bad, ["posix.system"]);
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("\"hook.npy\" is compressed"))
        );
    }

    #[test]
    fn arrays_behind_a_first_member_that_is_no_npy_are_found() {
        let f = std::fs::File::open(fixture("hidden.npz")).expect("fixture");
        assert_eq!(sniff_archive(f), Some(crate::model::ModelFormat::Npz));
        let r = analyse_file(&fixture("hidden.npz"), &rules()).expect("readable");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{r:#?}"
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("\"readme.txt\" is not .npy data"))
        );
        let f = std::fs::File::open(fixture("model.joblib")).expect("fixture");
        assert_eq!(sniff_archive(f), None);
    }

    #[test]
    fn zip_tricks_are_reported() {
        let r = analyse_file(&fixture("tricks.npz"), &rules()).expect("readable");
        // The last "dup.npy" (what np.load reads) holds the payload.
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Dangerous,
            "{r:#?}"
        );
        let has = |s: &str| r.notes.iter().any(|n| n.contains(s));
        assert!(has("\"../../escape.npy\" points outside"), "{:?}", r.notes);
        assert!(has("\"/abs.npy\" points outside"), "{:?}", r.notes);
        assert!(has("repeats member names"), "{:?}", r.notes);
        assert!(has("\"zeros.npy\" inflates"), "{:?}", r.notes);
    }

    #[test]
    fn limits_stop_the_analysis_and_say_so() {
        let rules = rules();
        let bytes = std::fs::read(fixture("evil.npz")).expect("fixture");
        let few = NpzLimits {
            max_members: 1,
            ..NpzLimits::default()
        };
        let r = analyse_reader(std::io::Cursor::new(&bytes), &rules, few).expect("zip");
        assert_eq!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Unparseable,
            "{r:#?}"
        );
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("more than the 1 analysed"))
        );
        let small = NpzLimits {
            max_total: 200,
            ..NpzLimits::default()
        };
        let r = analyse_reader(std::io::Cursor::new(&bytes), &rules, small).expect("zip");
        assert_ne!(
            crate::rules::pickle::verdict(&r),
            PickleVerdict::Safe,
            "{r:#?}"
        );
        assert!(
            r.notes.iter().any(|n| n.contains("budget")),
            "{:?}",
            r.notes
        );
        // Every prefix is an error or a report, never a panic.
        for cut in 0..bytes.len() {
            let _ = analyse_reader(std::io::Cursor::new(&bytes[..cut]), &rules, few);
        }
        for name in ["evil.npz", "tricks.npz", "compressed.npz"] {
            let bytes = std::fs::read(fixture(name)).expect("fixture");
            for i in 0..bytes.len() {
                let mut b = bytes.clone();
                b[i] ^= 0xff;
                let _ = analyse_reader(std::io::Cursor::new(&b), &rules, NpzLimits::default());
            }
        }
        assert!(escapes(b"..\\x.npy") && escapes(b"C:/x.npy") && !escapes(b"a..b.npy"));
    }
}
