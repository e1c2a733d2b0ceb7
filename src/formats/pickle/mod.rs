//! Static pickle analysis: walks the opcodes of a pickle stream (protocols 0–5)
//! without executing or importing anything, and lists every global it would
//! import (`GLOBAL`, `INST`, `STACK_GLOBAL`, extension codes) with the calls
//! that use them (`REDUCE`, `BUILD`, `NEWOBJ`, `NEWOBJ_EX`, `OBJ`).
//!
//! A small symbolic machine mirrors the unpickler's stack, marks and memo, but
//! only tracks string constants: `STACK_GLOBAL` is resolved when both operands
//! are constants (pushed directly or fetched from the memo), and reported as a
//! `<computed>` dangerous import otherwise. Every bound (opcodes, stack depth,
//! memo size, kept string bytes, nesting) ends the walk as `Unparseable`; length
//! fields are checked against the remaining input before anything is read, so a
//! huge length claim costs nothing.

mod array;
mod limits;
mod opcodes;
#[cfg(test)]
mod tests;
mod text;
mod value;
mod walker;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

pub use crate::knowledge::pickle_rules::PickleContext;
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::pickle::PickleReport;

pub use array::is_array_wrapper;
pub use limits::*;
use value::Fail;
pub use walker::Hole;
use walker::*;

// ------------------------------------------------------------------- entry points

/// Reads at most [`MAX_FILE`] bytes of `path` and scans them.
pub fn scan_file(path: &Path, allow: &PickleRules) -> Result<PickleReport, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(format!(
            "{}: larger than the {} MiB a pickle scan reads",
            path.display(),
            MAX_FILE >> 20
        ));
    }
    Ok(scan(&bytes, allow))
}

/// Statically scans one pickle stream (or several concatenated ones).
pub fn scan(bytes: &[u8], allow: &PickleRules) -> PickleReport {
    scan_stream(bytes, allow, &StreamOptions::default()).report
}

/// How [`scan_stream`] reads a stream that is more than one plain pickle.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    /// Stop after this many top-level pickles (legacy torch.save writes five,
    /// then raw storage bytes that must not be read as opcodes).
    pub max_pickles: Option<usize>,
    /// Read joblib's inline arrays: after the `BUILD` of a
    /// `joblib.numpy_pickle.NumpyArrayWrapper`, joblib.load reads the array's
    /// bytes (or, for object arrays, a whole pickle) straight from the file.
    pub joblib: bool,
    /// Offset of `bytes[0]` in the file, for the offsets in the report.
    pub base: u64,
    /// Which loader resolves the pickle's names.
    pub context: PickleContext,
    /// Keep the top-level opcodes walked ([`StreamScan::trace`]).
    pub trace: bool,
}

/// A [`scan_stream`] result: the report and where the walk stopped.
#[derive(Debug, Clone)]
pub struct StreamScan {
    pub report: PickleReport,
    /// Top-level pickles walked to their STOP.
    pub pickles: usize,
    /// Offset just past the last top-level STOP walked.
    pub end: u64,
    /// The walk ran off the end of `bytes` (more input might complete it).
    pub truncated: bool,
    /// Top-level opcodes walked, as (offset, opcode byte), when
    /// [`StreamOptions::trace`] asked for them: what a test compares with
    /// CPython's `pickletools.genops`.
    pub trace: Vec<(u64, u8)>,
    /// Where a truncated walk needs more input, outside any FRAME: (index in
    /// the bytes, length of the argument it was reading).
    pub want: Option<(usize, u64)>,
}

/// A [`scan_reader`] result.
#[derive(Debug, Clone)]
pub struct ReaderScan {
    pub scan: StreamScan,
    /// Bytes taken from the reader.
    pub read: u64,
    /// The walk needed more than the cap allowed.
    pub capped: bool,
    /// The reader failed (a corrupt compressed stream) after `read` bytes.
    pub read_error: Option<String>,
    /// The bytes kept, for a second walk with other options ...
    pub data: Vec<u8>,
    /// ... and the stretches of them read past ([`scan_with_holes`]).
    pub holes: Vec<Hole>,
}

/// Arguments at least this long are read past, their head kept, instead of
/// held whole: memory stays bounded whatever a pickle carries as data.
pub const HOLE_MIN: u64 = 1 << 20;
/// Bytes kept of an argument read past.
const HOLE_HEAD: u64 = 64 << 10;
/// Most bytes one streamed walk reads in all, held or read past.
pub const MAX_STREAM: u64 = 16 << 30;

/// Does an argument starting with `head` hold a pickle (raw, or base64/hex
/// text of one)? Such arguments are walked whole, never read past.
fn may_hold_pickle(head: &[u8]) -> bool {
    (head.len() >= 2 && head[0] == 0x80 && head[1] <= HIGHEST_PROTOCOL)
        || head.starts_with(b"gA")
        || head.starts_with(b"80")
        // Protocol < 3 bytes as latin-1 text: U+0080 is C2 80 in UTF-8.
        || head.starts_with(&[0xc2, 0x80])
}

/// First read of [`scan_reader`]; each further one is four times larger.
const FIRST_READ: u64 = 64 << 10;

/// Scans a stream from `reader`, reading only as far as the walk needs (64 KiB
/// first, four times more each time the walk runs off the end) and never more
/// than `cap` bytes; what lies after the walk's end is not read.
pub fn scan_reader(
    mut reader: impl Read,
    allow: &PickleRules,
    opts: &StreamOptions,
    cap: u64,
) -> ReaderScan {
    let mut buf = Vec::new();
    let mut holes: Vec<Hole> = Vec::new();
    let mut skipped: u64 = 0;
    let mut want = FIRST_READ.min(cap);
    let mut eof = false;
    let mut read_error = None;
    loop {
        let missing = want.saturating_sub(buf.len() as u64);
        match (&mut reader).take(missing).read_to_end(&mut buf) {
            Ok(n) if (n as u64) < missing => eof = true,
            Ok(_) => {}
            Err(e) => {
                read_error = Some(e.to_string());
                eof = true;
            }
        }
        let scan = scan_with_holes(&buf, &holes, allow, opts);
        if scan.truncated && !eof {
            // A large argument the walk needs only to pass: read past it.
            if let Some((at, n)) = scan.want.filter(|(_, n)| *n >= HOLE_MIN)
                && skipped + buf.len() as u64 + n <= MAX_STREAM
            {
                match read_past(&mut reader, &mut buf, at, n) {
                    Ok(Some(hole)) => {
                        skipped += hole.len;
                        holes.push(hole);
                        want = want
                            .max(buf.len() as u64 + FIRST_READ)
                            .min(cap.max(buf.len() as u64));
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        read_error = Some(e.to_string());
                        eof = true;
                        continue;
                    }
                }
            }
            if want < cap {
                want = want.saturating_mul(4).min(cap);
                continue;
            }
        }
        return ReaderScan {
            capped: scan.truncated && !eof,
            scan,
            read: buf.len() as u64 + skipped,
            read_error,
            data: buf,
            holes,
        };
    }
}

/// The argument of `n` bytes starting at `buf[at]`: keep its head, read
/// past the rest (counted, not kept) and record that stretch as a hole.
/// `None` (nothing done but reading its head) where the argument may hold a
/// pickle: that is walked whole.
fn read_past(
    reader: &mut impl Read,
    buf: &mut Vec<u8>,
    at: usize,
    n: u64,
) -> std::io::Result<Option<Hole>> {
    let head_end = at as u64 + HOLE_HEAD.min(n);
    if (buf.len() as u64) < head_end {
        let missing = head_end - buf.len() as u64;
        reader.take(missing).read_to_end(buf)?;
    }
    if may_hold_pickle(&buf[at.min(buf.len())..]) || (buf.len() as u64) < head_end {
        return Ok(None);
    }
    // Bytes of the argument already held past its head are dropped too.
    let held_past = buf.len() as u64 - head_end;
    buf.truncate(head_end as usize);
    let rest = n - HOLE_HEAD.min(n) - held_past;
    let passed = std::io::copy(&mut reader.take(rest), &mut std::io::sink())?;
    Ok(Some(Hole {
        at: head_end as usize,
        len: held_past + passed,
    }))
}

/// Scans a stream of pickles as [`StreamOptions`] say.
pub fn scan_stream(bytes: &[u8], allow: &PickleRules, opts: &StreamOptions) -> StreamScan {
    scan_with_holes(bytes, &[], allow, opts)
}

/// As [`scan_stream`], over bytes with stretches left out ([`Hole`]s: large
/// arguments read past by [`scan_reader`]).
pub fn scan_with_holes(
    bytes: &[u8],
    holes: &[Hole],
    allow: &PickleRules,
    opts: &StreamOptions,
) -> StreamScan {
    let mut s = Scan {
        rules: allow,
        holes: holes.to_vec(),
        want: None,
        globals: Vec::new(),
        notes: Vec::new(),
        notes_dropped: 0,
        anomalies: Vec::new(),
        trace: opts.trace.then(Vec::new),
        declared_versions: BTreeMap::new(),
        context: opts.context,
        opcodes: 0,
        protocol: None,
        symbol_bytes: 0,
        value_budget: VALUE_BUDGET,
        values_exhausted: false,
        calls: BTreeMap::new(),
        max_pickles: opts.max_pickles,
        joblib: opts.joblib,
        pickles: 0,
        end: opts.base,
        inline_arrays: 0,
        inline_bytes: 0,
    };
    let failure = s.walk(bytes, opts.base, 0, false).err();
    let truncated = matches!(failure, Some(Fail::Truncated(_)));
    let incomplete = failure.as_ref().map(|f| f.message().to_string());
    let mut notes = Vec::new();
    if let Some(why) = &incomplete {
        notes.push(why.clone());
    }
    if s.inline_arrays > 0 {
        notes.push(format!(
            "{} joblib inline arrays ({} bytes of array data) skipped as joblib.load reads them",
            s.inline_arrays, s.inline_bytes
        ));
    }
    if !s.calls.is_empty() {
        let list: Vec<String> = s.calls.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
        notes.push(format!("calls: {}", list.join(", ")));
    }
    notes.append(&mut s.notes);
    unvetted_releases(&mut s.globals, &s.declared_versions, allow, &mut notes);
    if s.notes_dropped > 0 {
        notes.push(format!("{} further notes omitted", s.notes_dropped));
    }
    StreamScan {
        report: PickleReport {
            verdict: None,
            globals: s.globals,
            opcodes: s.opcodes,
            protocol: s.protocol,
            notes,
            incomplete,
            anomalies: s.anomalies,
            declared_versions: s.declared_versions,
        },
        pickles: s.pickles,
        end: s.end,
        truncated,
        want: s.want,
        trace: s.trace.take().unwrap_or_default(),
    }
}

/// A library's classes count as that library's only for the releases its
/// lists were read for: a pickle that records another release (scikit-learn's
/// `_sklearn_version`) gets them back as unknown.
fn unvetted_releases(
    globals: &mut [crate::model::pickle::PickleGlobal],
    declared: &BTreeMap<String, String>,
    rules: &PickleRules,
    notes: &mut Vec<String>,
) {
    use crate::model::pickle::GlobalClass;
    let mut turned: BTreeMap<String, String> = BTreeMap::new();
    for g in globals.iter_mut() {
        let Some(lib) = g.library.clone() else {
            continue;
        };
        let Some(key) = rules.version_key(&lib) else {
            continue;
        };
        let Some(version) = declared.get(key) else {
            continue;
        };
        if rules.vetted_release(&lib, version) == Some(false) {
            g.class = GlobalClass::Unknown;
            turned.insert(lib, version.clone());
        }
    }
    for (lib, version) in turned {
        notes.push(format!(
            "the pickle was written by {lib} {version}, outside the releases its class list was read for: its classes count as unknown"
        ));
    }
}

// ------------------------------------------------------------------- the walker
