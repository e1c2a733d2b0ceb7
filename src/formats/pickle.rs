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

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

use crate::knowledge::pickle_rules::PickleRules;
use crate::model::pickle::{GlobalClass, PickleGlobal, PickleReport, PickleVerdict, clean_text};

/// Most opcodes walked in one scan, nested pickles included.
pub const MAX_OPCODES: u64 = 50_000_000;
/// Deepest symbolic stack (marks included).
pub const MAX_STACK: usize = 1_000_000;
/// Most memo entries of one pickle: the most a 2^20-bucket hash table holds
/// (7/8 full), so a memo flood costs ~35 MiB, not the ~100 MiB of the next growth.
pub const MAX_MEMO: usize = (1 << 20) / 8 * 7;
/// Most imports recorded in one scan.
pub const MAX_GLOBALS: usize = 100_000;
/// Longest string kept as a constant: module and attribute names are short.
pub const MAX_SYMBOL: usize = 1024;
/// Total bytes of string constants kept by one scan.
pub const SYMBOL_BUDGET: usize = 32 << 20;
/// Pickles inside pickles are followed this deep.
pub const MAX_NESTING: u32 = 3;
/// Largest file `scan_file` reads (pickles inside PyTorch zips are small).
pub const MAX_FILE: u64 = 256 << 20;
/// Elements of tuples and dicts kept as known values by one scan (joblib's
/// array wrappers need shapes and dtypes); past it, composites are unknown.
pub const VALUE_BUDGET: usize = 1 << 20;
/// Longest tuple or dict kept as a known value.
const MAX_COMPOSITE: usize = 64;
/// Deepest tuple nesting kept as a known value (keeps drops shallow).
const MAX_VALUE_DEPTH: u8 = 4;
const MAX_NOTES: usize = 64;
const COMPUTED: &str = "<computed>";
const HIGHEST_PROTOCOL: u8 = 5;

/// Verdict from the classified globals and whether the walk failed: dangerous
/// wins over unparseable (the unpickler executes as it reads), unparseable over
/// suspicious, suspicious over safe.
pub fn verdict(globals: &[PickleGlobal], unparseable: bool) -> PickleVerdict {
    if globals.iter().any(|g| g.class == GlobalClass::Dangerous) {
        PickleVerdict::Dangerous
    } else if unparseable {
        PickleVerdict::Unparseable
    } else if globals.iter().any(|g| g.class != GlobalClass::Allowed) {
        PickleVerdict::Suspicious
    } else {
        PickleVerdict::Safe
    }
}

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
    /// The bytes read, for a second walk with other options.
    pub data: Vec<u8>,
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
        let scan = scan_stream(&buf, allow, opts);
        if scan.truncated && !eof && want < cap {
            want = want.saturating_mul(4).min(cap);
            continue;
        }
        return ReaderScan {
            capped: scan.truncated && !eof,
            scan,
            read: buf.len() as u64,
            read_error,
            data: buf,
        };
    }
}

/// Scans a stream of pickles as [`StreamOptions`] say.
pub fn scan_stream(bytes: &[u8], allow: &PickleRules, opts: &StreamOptions) -> StreamScan {
    let mut s = Scan {
        rules: allow,
        globals: Vec::new(),
        notes: Vec::new(),
        notes_dropped: 0,
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
    let mut notes = Vec::new();
    if let Some(f) = &failure {
        notes.push(f.message().to_string());
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
    if s.notes_dropped > 0 {
        notes.push(format!("{} further notes omitted", s.notes_dropped));
    }
    StreamScan {
        report: PickleReport {
            verdict: verdict(&s.globals, failure.is_some()),
            globals: s.globals,
            opcodes: s.opcodes,
            protocol: s.protocol,
            notes,
        },
        pickles: s.pickles,
        end: s.end,
        truncated,
    }
}

// ------------------------------------------------------------------- the walker

/// Why a walk stopped early.
enum Fail {
    /// Malformed stream: the real unpickler fails here too.
    Malformed(String),
    /// The input ends early: the real unpickler fails here too, or the
    /// caller read too little.
    Truncated(String),
    /// A bound of this walker was exceeded.
    Bound(String),
}

impl Fail {
    fn message(&self) -> &str {
        match self {
            Fail::Malformed(m) | Fail::Truncated(m) | Fail::Bound(m) => m,
        }
    }
}

/// A symbolic stack or memo value: string constants, small integers, imports,
/// and (within [`VALUE_BUDGET`]) the small tuples, dicts and instances that
/// joblib's array wrappers are made of. Dicts never hold dicts and instances
/// hold only tuples, so values form no cycles; tuples nest at most
/// [`MAX_VALUE_DEPTH`] deep.
#[derive(Clone)]
pub(super) enum V {
    Mark,
    Str(Rc<str>),
    Int(i64),
    Global(usize),
    /// Elements and nesting depth (kept, so no walk ever recurses through
    /// shared sub-tuples).
    Tuple(Rc<[V]>, u8),
    Dict(Rc<RefCell<Entries>>),
    Instance(Rc<RefCell<Instance>>),
    None,
    Other,
}

/// A known dict's string-keyed entries, in insertion order.
pub(super) type Entries = Vec<(Rc<str>, V)>;

/// An object made by calling a global: its class (or factory), arguments and
/// BUILD state, as far as they are known.
pub(super) struct Instance {
    pub class: usize,
    pub args: Rc<[V]>,
    pub state: Option<Rc<[V]>>,
}

impl V {
    fn depth(&self) -> u8 {
        match self {
            V::Tuple(_, depth) => *depth,
            _ => 0,
        }
    }

    /// Tuple elements: no mutable containers (no cycles), bounded depth.
    fn tuple_element(self) -> V {
        match self {
            V::Dict(_) | V::Instance(_) | V::Mark => V::Other,
            v => v,
        }
    }

    pub(super) fn dict_get(&self, key: &str) -> Option<V> {
        match self {
            V::Dict(d) => d
                .borrow()
                .iter()
                .rev()
                .find(|(k, _)| &**k == key)
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    }
}

#[derive(Default)]
struct Machine {
    stack: Vec<V>,
    marks: usize,
    memo: HashMap<u64, V>,
}

impl Machine {
    fn push(&mut self, v: V) -> Result<(), Fail> {
        if self.stack.len() >= MAX_STACK {
            return Err(Fail::Bound(format!(
                "stack deeper than {MAX_STACK} entries"
            )));
        }
        if matches!(v, V::Mark) {
            self.marks += 1;
        }
        self.stack.push(v);
        Ok(())
    }

    /// Pops one object; a mark or an empty stack is an underflow, as in Python.
    fn pop(&mut self, at: u64) -> Result<V, Fail> {
        match self.stack.last() {
            Some(V::Mark) | None => Err(underflow(at)),
            Some(_) => Ok(self.stack.pop().unwrap_or(V::Other)),
        }
    }

    fn top(&self, at: u64) -> Result<&V, Fail> {
        match self.stack.last() {
            Some(V::Mark) | None => Err(underflow(at)),
            Some(v) => Ok(v),
        }
    }

    /// Pops down to and including the topmost mark; returns the objects above
    /// it, lowest first.
    fn pop_mark(&mut self, at: u64) -> Result<Vec<V>, Fail> {
        if self.marks == 0 {
            return Err(Fail::Malformed(format!(
                "opcode at offset {at} needs a MARK and there is none"
            )));
        }
        let Some(i) = self.stack.iter().rposition(|v| matches!(v, V::Mark)) else {
            return Err(underflow(at));
        };
        let items = self.stack.split_off(i + 1);
        self.stack.pop();
        self.marks -= 1;
        Ok(items)
    }

    fn put(&mut self, key: u64, at: u64) -> Result<(), Fail> {
        let v = self.top(at)?.clone();
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&key) {
            return Err(Fail::Bound(format!("memo larger than {MAX_MEMO} entries")));
        }
        self.memo.insert(key, v);
        Ok(())
    }

    fn get(&mut self, key: u64, at: u64) -> Result<(), Fail> {
        let v = self.memo.get(&key).cloned().ok_or_else(|| {
            Fail::Malformed(format!(
                "memo key {key} read at offset {at} was never stored"
            ))
        })?;
        self.push(v)
    }
}

fn underflow(at: u64) -> Fail {
    Fail::Malformed(format!("stack underflow at offset {at}"))
}

struct Cursor<'d> {
    data: &'d [u8],
    pos: usize,
    base: u64,
}

impl<'d> Cursor<'d> {
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn take(&mut self, n: u64, what: &str, at: u64) -> Result<&'d [u8], Fail> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(Fail::Truncated(format!(
                "truncated: {what} at offset {at} needs {n} bytes, only {left} remain"
            )));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn uint(&mut self, width: u64, what: &str, at: u64) -> Result<u64, Fail> {
        let b = self.take(width, what, at)?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    fn int4(&mut self, what: &str, at: u64) -> Result<i64, Fail> {
        Ok(i64::from(self.uint(4, what, at)? as u32 as i32))
    }

    /// One `\n`-terminated argument, without its newline.
    fn line(&mut self, what: &str, at: u64) -> Result<&'d [u8], Fail> {
        let rest = &self.data[self.pos..];
        let Some(n) = rest.iter().position(|&b| b == b'\n') else {
            return Err(Fail::Truncated(format!(
                "truncated: {what} at offset {at} has no end of line"
            )));
        };
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    fn decimal(&mut self, what: &str, at: u64) -> Result<u64, Fail> {
        let line = self.line(what, at)?;
        let text = std::str::from_utf8(line)
            .unwrap_or("")
            .trim()
            .replace('_', "");
        text.parse::<u64>().map_err(|_| {
            Fail::Malformed(format!(
                "{what} at offset {at} has no valid non-negative index"
            ))
        })
    }
}

struct Scan<'r> {
    rules: &'r PickleRules,
    globals: Vec<PickleGlobal>,
    notes: Vec<String>,
    notes_dropped: usize,
    opcodes: u64,
    protocol: Option<u8>,
    symbol_bytes: usize,
    /// Tuple and dict elements still allowed to be kept as known values.
    value_budget: usize,
    /// The budget ran out: later objects are unknown, so a joblib array
    /// wrapper could go unrecognised.
    values_exhausted: bool,
    calls: BTreeMap<&'static str, u64>,
    max_pickles: Option<usize>,
    joblib: bool,
    /// Top-level pickles walked to their STOP, and the offset after the last.
    pickles: usize,
    end: u64,
    inline_arrays: u64,
    inline_bytes: u64,
}

/// Which string-like argument a nested pickle was found in.
#[derive(Clone, Copy)]
enum Text {
    Bytes,
    Unicode,
}

impl Scan<'_> {
    fn note(&mut self, n: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(n);
        } else {
            self.notes_dropped += 1;
        }
    }

    /// A string constant if it is short and the budget allows, else `Other`.
    fn symbol(&mut self, text: Option<&str>) -> V {
        match text {
            Some(t) if t.len() <= MAX_SYMBOL && self.symbol_bytes + t.len() <= SYMBOL_BUDGET => {
                self.symbol_bytes += t.len();
                V::Str(Rc::from(t))
            }
            _ => V::Other,
        }
    }

    /// Takes `n` units of the value budget; false (and remembered) when out.
    fn spend(&mut self, n: usize) -> bool {
        if n > self.value_budget {
            self.values_exhausted = true;
            return false;
        }
        self.value_budget -= n;
        true
    }

    /// A tuple of known elements, or `Other` past a bound.
    fn tuple(&mut self, items: Vec<V>) -> V {
        if items.len() > MAX_COMPOSITE {
            return V::Other;
        }
        let items: Vec<V> = items.into_iter().map(V::tuple_element).collect();
        let depth = 1 + items.iter().map(V::depth).max().unwrap_or(0);
        if depth > MAX_VALUE_DEPTH || !self.spend(items.len()) {
            return V::Other;
        }
        V::Tuple(Rc::from(items), depth)
    }

    fn dict(&mut self) -> V {
        if !self.spend(1) {
            return V::Other;
        }
        V::Dict(Rc::new(RefCell::new(Vec::new())))
    }

    /// `dict[key] = value` for a known dict, string key and insertable value.
    fn set_item(&mut self, dict: &V, key: V, value: V) {
        let (V::Dict(d), V::Str(k)) = (dict, key) else {
            return;
        };
        let value = match value {
            V::Dict(_) | V::Mark => V::Other,
            v => v,
        };
        if d.borrow().len() < MAX_COMPOSITE && self.spend(1) {
            d.borrow_mut().push((k, value));
        }
    }

    /// The object a call of `callee` with `args` makes, as far as it is known.
    fn instance(&mut self, callee: &V, args: V) -> V {
        let V::Global(i) = callee else {
            return V::Other;
        };
        if !self.spend(1) {
            return V::Other;
        }
        let args: Rc<[V]> = match args {
            V::Tuple(t, _) => t,
            _ => Rc::from(Vec::new()),
        };
        // Protocols 0 and 1 write objects as copyreg._reconstructor(cls, base,
        // state); copyreg.__newobj__(cls, *args) is NEWOBJ spelled as a call.
        let g = &self.globals[*i];
        let class = if matches!(g.module.as_str(), "copyreg" | "copy_reg")
            && matches!(
                g.name.as_str(),
                "_reconstructor" | "__newobj__" | "__newobj_ex__"
            ) {
            match args.first() {
                Some(V::Global(c)) => *c,
                _ => return V::Other,
            }
        } else {
            *i
        };
        V::Instance(Rc::new(RefCell::new(Instance {
            class,
            args,
            state: None,
        })))
    }

    /// Class `module.name` of a known instance.
    fn class_of(&self, v: &V) -> Option<(&str, &str)> {
        let V::Instance(inst) = v else {
            return None;
        };
        let g = self.globals.get(inst.borrow().class)?;
        Some((g.module.as_str(), g.name.as_str()))
    }

    fn add_global(
        &mut self,
        module: &str,
        name: &str,
        at: u64,
        class: Option<GlobalClass>,
    ) -> Result<V, Fail> {
        if self.globals.len() >= MAX_GLOBALS {
            return Err(Fail::Bound(format!("more than {MAX_GLOBALS} imports")));
        }
        let class = class.unwrap_or_else(|| self.rules.classify(module, name));
        self.globals.push(PickleGlobal {
            module: clean_text(module),
            name: clean_text(name),
            offset: at,
            class,
        });
        Ok(V::Global(self.globals.len() - 1))
    }

    fn call(&mut self, kind: &'static str, callee: Option<&V>, at: u64) {
        *self.calls.entry(kind).or_default() += 1;
        if let Some(V::Global(i)) = callee {
            let g = &self.globals[*i];
            if g.class != GlobalClass::Allowed {
                let n = format!("{kind} at offset {at} calls {}.{}", g.module, g.name);
                self.note(n);
            }
        }
    }

    /// joblib.load reads an array right after its wrapper's BUILD: a padding
    /// length byte and padding, then the raw bytes; for object arrays, a whole
    /// pickle. The cursor is moved past it, so what follows is still walked.
    fn inline_array(
        &mut self,
        c: &mut Cursor<'_>,
        state: &V,
        at: u64,
        depth: u32,
    ) -> Result<(), Fail> {
        let globals = &self.globals;
        let class = |i: usize| globals.get(i).map(|g| (g.module.as_str(), g.name.as_str()));
        let layout = super::joblib::array_layout(state, class).map_err(|why| {
            Fail::Malformed(format!(
                "joblib array wrapper built at offset {at}: {why}, so the array data after it cannot be skipped"
            ))
        })?;
        match layout {
            super::joblib::ArrayLayout::Objects => {
                let start = c.offset();
                let n = self.walk(&c.data[c.pos..], start, depth + 1, true)?;
                c.pos += n;
            }
            super::joblib::ArrayLayout::Raw { bytes, padded } => {
                if padded {
                    let p = c.uint(1, "joblib padding length", at)?;
                    c.take(p, "joblib padding", at)?;
                }
                c.take(bytes, "joblib array data", at)?;
                self.inline_bytes = self.inline_bytes.saturating_add(bytes);
            }
        }
        self.inline_arrays += 1;
        Ok(())
    }

    /// Follows a string argument that itself starts with a PROTO opcode.
    fn nested(&mut self, arg: &[u8], kind: Text, at: u64, depth: u32) -> Result<(), Fail> {
        let latin1;
        let (inner, how) = match kind {
            Text::Bytes => (arg, "bytes"),
            // Protocols < 3 write bytes as `_codecs.encode(text, 'latin1')`:
            // the text's UTF-8 starts with U+0080 (C2 80) for a nested PROTO.
            Text::Unicode => {
                if !arg.starts_with(&[0xc2, 0x80]) {
                    return Ok(());
                }
                let Ok(text) = std::str::from_utf8(arg) else {
                    return Ok(());
                };
                let Some(bytes) = text
                    .chars()
                    .map(|c| u8::try_from(u32::from(c)).ok())
                    .collect::<Option<Vec<u8>>>()
                else {
                    return Ok(());
                };
                latin1 = bytes;
                (
                    latin1.as_slice(),
                    "latin-1 text (offsets inside are approximate)",
                )
            }
        };
        if inner.len() < 2 || inner[0] != 0x80 || inner[1] > HIGHEST_PROTOCOL {
            return Ok(());
        }
        if depth >= MAX_NESTING {
            // Unread content is unknown content: a bound, not a pass.
            return Err(Fail::Bound(format!(
                "a pickle nested in {how} at offset {at} is deeper than {MAX_NESTING} levels and was not followed"
            )));
        }
        let before = self.globals.len();
        let result = self.walk(inner, at, depth + 1, false);
        let found = self.globals.len() - before;
        match result {
            Ok(_) => {
                self.note(format!(
                    "nested pickle in {how} at offset {at}: {found} imports merged"
                ));
                Ok(())
            }
            Err(Fail::Malformed(m) | Fail::Truncated(m)) => {
                self.note(format!(
                    "{how} at offset {at} start like a pickle but do not parse ({m}); {found} imports found before that merged"
                ));
                Ok(())
            }
            Err(bound) => Err(bound),
        }
    }

    /// A string argument: pushed as a constant, followed if it holds a pickle.
    fn text_arg(
        &mut self,
        m: &mut Machine,
        arg: &[u8],
        kind: Text,
        at: u64,
        depth: u32,
    ) -> Result<(), Fail> {
        let v = self.symbol(std::str::from_utf8(arg).ok());
        m.push(v)?;
        self.nested(arg, kind, at, depth)
    }

    /// Walks the pickles of `data`; `single` stops at the first STOP. Returns
    /// the bytes consumed.
    fn walk(&mut self, data: &[u8], base: u64, depth: u32, single: bool) -> Result<usize, Fail> {
        let mut c = Cursor { data, pos: 0, base };
        let mut m = Machine::default();
        // End of the current FRAME (protocol 4+), as an index into `data`.
        let mut frame_end = 0usize;
        if data.is_empty() {
            return Err(Fail::Malformed("empty input: no pickle opcode".into()));
        }
        loop {
            let at = c.offset();
            let Some(&op) = data.get(c.pos) else {
                return Err(Fail::Truncated(format!(
                    "truncated: input ends at offset {at} before a STOP opcode"
                )));
            };
            c.pos += 1;
            self.opcodes += 1;
            if self.opcodes > MAX_OPCODES {
                return Err(Fail::Bound(format!(
                    "more than {MAX_OPCODES} opcodes (stopped at offset {at})"
                )));
            }
            match op {
                // ---- framing and control
                0x80 => {
                    let p = c.uint(1, "PROTO", at)? as u8;
                    if p > HIGHEST_PROTOCOL {
                        return Err(Fail::Malformed(format!(
                            "unsupported pickle protocol {p} at offset {at}"
                        )));
                    }
                    if depth == 0 && self.protocol.is_none() {
                        self.protocol = Some(p);
                    }
                }
                0x95 => {
                    let n = c.uint(8, "FRAME", at)?;
                    let left = (data.len() - c.pos) as u64;
                    if n > left {
                        return Err(Fail::Truncated(format!(
                            "truncated: FRAME at offset {at} announces {n} bytes, only {left} remain"
                        )));
                    }
                    frame_end = c.pos + n as usize;
                }
                b'.' => {
                    if depth == 0 {
                        self.pickles += 1;
                        self.end = c.offset();
                    }
                    let rest = &data[c.pos..];
                    let enough = depth == 0 && self.max_pickles.is_some_and(|n| self.pickles >= n);
                    if rest.is_empty() || single || enough {
                        return Ok(c.pos);
                    }
                    // The caller knows more pickles follow (protocols 0 and 1
                    // have no PROTO opcode to tell them by).
                    let expected = depth == 0 && self.max_pickles.is_some();
                    if expected
                        || (rest.len() >= 2 && rest[0] == 0x80 && rest[1] <= HIGHEST_PROTOCOL)
                    {
                        // Another pickle follows (legacy torch.save writes several).
                        m = Machine::default();
                        continue;
                    }
                    self.note(format!(
                        "{} bytes after the STOP at offset {at} are not a pickle and were not read",
                        rest.len()
                    ));
                    return Ok(c.pos);
                }
                // ---- stack manipulation
                b'(' => m.push(V::Mark)?,
                b'0' => {
                    if matches!(m.stack.last(), Some(V::Mark)) {
                        m.pop_mark(at)?;
                    } else {
                        m.pop(at)?;
                    }
                }
                b'1' => {
                    m.pop_mark(at)?;
                }
                b'2' => {
                    let v = m.top(at)?.clone();
                    m.push(v)?;
                }
                // ---- memo
                b'p' => {
                    let k = c.decimal("PUT", at)?;
                    m.put(k, at)?;
                }
                b'q' => {
                    let k = c.uint(1, "BINPUT", at)?;
                    m.put(k, at)?;
                }
                b'r' => {
                    let k = c.uint(4, "LONG_BINPUT", at)?;
                    m.put(k, at)?;
                }
                0x94 => {
                    let k = m.memo.len() as u64;
                    m.put(k, at)?;
                }
                b'g' => {
                    let k = c.decimal("GET", at)?;
                    m.get(k, at)?;
                }
                b'h' => {
                    let k = c.uint(1, "BINGET", at)?;
                    m.get(k, at)?;
                }
                b'j' => {
                    let k = c.uint(4, "LONG_BINGET", at)?;
                    m.get(k, at)?;
                }
                // ---- plain values
                b'N' => m.push(V::None)?,
                0x88 => m.push(V::Int(1))?,
                0x89 => m.push(V::Int(0))?,
                b')' => {
                    let t = self.tuple(Vec::new());
                    m.push(t)?;
                }
                b'}' => {
                    let d = self.dict();
                    m.push(d)?;
                }
                b']' | 0x8f | 0x97 => m.push(V::Other)?,
                b'I' | b'L' | b'F' => {
                    let line = c.line("INT/LONG/FLOAT", at)?;
                    // INT and LONG are decimal text ("I01" is True; LONG ends in L).
                    let text = std::str::from_utf8(line).unwrap_or("");
                    let v = match op {
                        b'F' => None,
                        b'L' => text.strip_suffix('L').unwrap_or(text).parse().ok(),
                        _ => text.parse().ok(),
                    };
                    m.push(v.map_or(V::Other, V::Int))?;
                }
                b'J' => {
                    let v = c.int4("BININT", at)?;
                    m.push(V::Int(v))?;
                }
                b'K' => {
                    let v = c.uint(1, "BININT1", at)?;
                    m.push(V::Int(v as i64))?;
                }
                b'M' => {
                    let v = c.uint(2, "BININT2", at)?;
                    m.push(V::Int(v as i64))?;
                }
                b'G' => {
                    c.take(8, "BINFLOAT", at)?;
                    m.push(V::Other)?;
                }
                0x8a => {
                    let n = c.uint(1, "LONG1", at)?;
                    let b = c.take(n, "LONG1", at)?;
                    // Two's complement, little-endian; shapes fit in 8 bytes.
                    let v = match b.len() {
                        1..=8 => {
                            let fill = if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 };
                            let mut w = [fill; 8];
                            w[..b.len()].copy_from_slice(b);
                            V::Int(i64::from_le_bytes(w))
                        }
                        0 => V::Int(0),
                        _ => V::Other,
                    };
                    m.push(v)?;
                }
                0x8b => {
                    let n = c.int4("LONG4", at)?;
                    if n < 0 {
                        return Err(Fail::Malformed(format!(
                            "LONG4 at offset {at} has a negative length"
                        )));
                    }
                    c.take(n as u64, "LONG4", at)?;
                    m.push(V::Other)?;
                }
                // ---- strings and bytes
                b'S' => {
                    let line = c.line("STRING", at)?;
                    let v = match quoted(line).and_then(escape_decode) {
                        Some(b) => self.symbol(std::str::from_utf8(&b).ok()),
                        None => {
                            return Err(Fail::Malformed(format!(
                                "STRING at offset {at} is not a quoted, escaped string"
                            )));
                        }
                    };
                    m.push(v)?;
                }
                b'V' => {
                    let line = c.line("UNICODE", at)?;
                    let v = match raw_unicode_escape(line) {
                        Some(s) => self.symbol(Some(&s)),
                        None => {
                            return Err(Fail::Malformed(format!(
                                "UNICODE at offset {at} has a bad escape"
                            )));
                        }
                    };
                    m.push(v)?;
                }
                b'T' | b'U' | b'B' | b'C' | 0x8e | 0x96 | b'X' | 0x8c | 0x8d => {
                    let (name, width, kind) = match op {
                        b'T' => ("BINSTRING", 4, Text::Bytes),
                        b'U' => ("SHORT_BINSTRING", 1, Text::Bytes),
                        b'B' => ("BINBYTES", 4, Text::Bytes),
                        b'C' => ("SHORT_BINBYTES", 1, Text::Bytes),
                        0x8e => ("BINBYTES8", 8, Text::Bytes),
                        0x96 => ("BYTEARRAY8", 8, Text::Bytes),
                        b'X' => ("BINUNICODE", 4, Text::Unicode),
                        0x8c => ("SHORT_BINUNICODE", 1, Text::Unicode),
                        _ => ("BINUNICODE8", 8, Text::Unicode),
                    };
                    let n = if op == b'T' {
                        let n = c.int4(name, at)?;
                        if n < 0 {
                            return Err(Fail::Malformed(format!(
                                "{name} at offset {at} has a negative length"
                            )));
                        }
                        n as u64
                    } else {
                        c.uint(width, name, at)?
                    };
                    let arg_at = c.offset();
                    let arg = c.take(n, name, at)?;
                    self.text_arg(&mut m, arg, kind, arg_at, depth)?;
                }
                0x98 => {
                    m.top(at)?;
                }
                // ---- containers
                b'a' => {
                    m.pop(at)?;
                    m.top(at)?;
                }
                b'b' => {
                    let state = m.pop(at)?;
                    let callee = m.top(at)?.clone();
                    self.call("BUILD", Some(&callee), at);
                    if let (V::Instance(inst), V::Tuple(t, _)) = (&callee, &state) {
                        inst.borrow_mut().state = Some(t.clone());
                    }
                    let wrapper = self
                        .class_of(&callee)
                        .is_some_and(|(mo, na)| super::joblib::is_array_wrapper(mo, na));
                    if self.joblib
                        && depth == 0
                        && self.values_exhausted
                        && !matches!(callee, V::Instance(_))
                    {
                        return Err(Fail::Bound(format!(
                            "more objects than the {VALUE_BUDGET} values the walker tracks: the object built at offset {at} could be a joblib array wrapper whose data cannot be located"
                        )));
                    }
                    if self.joblib && depth == 0 && wrapper {
                        // joblib.load reads the array from the file, i.e. after
                        // the frame the unpickler already buffered; joblib ends
                        // a frame at each wrapper. Anything else is not modelled.
                        if c.pos < frame_end {
                            return Err(Fail::Malformed(format!(
                                "joblib array wrapper built at offset {at} inside a FRAME that goes on for {} bytes: joblib.load would read the array after the frame, and the walk cannot follow that",
                                frame_end - c.pos
                            )));
                        }
                        self.inline_array(&mut c, &state, at, depth)?;
                        m.pop(at)?;
                        m.push(V::Other)?;
                    }
                }
                b's' => {
                    let value = m.pop(at)?;
                    let key = m.pop(at)?;
                    let dict = m.top(at)?.clone();
                    self.set_item(&dict, key, value);
                }
                b'u' => {
                    let items = m.pop_mark(at)?;
                    let dict = m.top(at)?.clone();
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        self.set_item(&dict, k, v);
                    }
                }
                b'e' | 0x90 => {
                    m.pop_mark(at)?;
                    m.top(at)?;
                }
                b't' => {
                    let items = m.pop_mark(at)?;
                    let t = self.tuple(items);
                    m.push(t)?;
                }
                b'd' => {
                    let items = m.pop_mark(at)?;
                    let dict = self.dict();
                    let mut it = items.into_iter();
                    while let (Some(k), Some(v)) = (it.next(), it.next()) {
                        self.set_item(&dict, k, v);
                    }
                    m.push(dict)?;
                }
                b'l' | 0x91 => {
                    m.pop_mark(at)?;
                    m.push(V::Other)?;
                }
                0x85..=0x87 => {
                    let mut items = Vec::new();
                    for _ in 0..(op - 0x84) {
                        items.push(m.pop(at)?);
                    }
                    items.reverse();
                    let t = self.tuple(items);
                    m.push(t)?;
                }
                // ---- imports
                b'c' | b'i' => {
                    let what = if op == b'c' { "GLOBAL" } else { "INST" };
                    let module = utf8_line(&mut c, what, at)?;
                    let name = utf8_line(&mut c, what, at)?;
                    let g = self.add_global(module, name, at, None)?;
                    if op == b'i' {
                        let args = m.pop_mark(at)?;
                        self.call("INST", Some(&g), at);
                        let args = self.tuple(args);
                        let obj = self.instance(&g, args);
                        m.push(obj)?;
                    } else {
                        m.push(g)?;
                    }
                }
                0x93 => {
                    let name = m.pop(at)?;
                    let module = m.pop(at)?;
                    let g = match (&module, &name) {
                        (V::Str(mo), V::Str(na)) => self.add_global(mo, na, at, None)?,
                        _ => {
                            let known = |v: &V| match v {
                                V::Str(s) => s.to_string(),
                                _ => COMPUTED.to_string(),
                            };
                            let (mo, na) = (known(&module), known(&name));
                            self.note(format!(
                                "STACK_GLOBAL at offset {at} imports {}.{} whose operands are not string constants: the import is computed at load time",
                                clean_text(&mo),
                                clean_text(&na)
                            ));
                            self.add_global(&mo, &na, at, Some(GlobalClass::Dangerous))?
                        }
                    };
                    m.push(g)?;
                }
                0x82..=0x84 => {
                    let code = match op {
                        0x82 => c.uint(1, "EXT1", at)? as i64,
                        0x83 => c.uint(2, "EXT2", at)? as i64,
                        _ => c.int4("EXT4", at)?,
                    };
                    self.note(format!(
                        "extension code {code} at offset {at} imports whatever the loading process registered with copyreg.add_extension"
                    ));
                    let g = self.add_global(
                        "<extension>",
                        &code.to_string(),
                        at,
                        Some(GlobalClass::Unknown),
                    )?;
                    m.push(g)?;
                }
                // ---- calls
                b'R' => {
                    let args = m.pop(at)?;
                    let f = m.pop(at)?;
                    self.call("REDUCE", Some(&f), at);
                    let obj = self.instance(&f, args);
                    m.push(obj)?;
                }
                0x81 => {
                    let args = m.pop(at)?;
                    let cls = m.pop(at)?;
                    self.call("NEWOBJ", Some(&cls), at);
                    let obj = self.instance(&cls, args);
                    m.push(obj)?;
                }
                0x92 => {
                    m.pop(at)?;
                    let args = m.pop(at)?;
                    let cls = m.pop(at)?;
                    self.call("NEWOBJ_EX", Some(&cls), at);
                    let obj = self.instance(&cls, args);
                    m.push(obj)?;
                }
                b'o' => {
                    let mut items = m.pop_mark(at)?.into_iter();
                    let Some(cls) = items.next() else {
                        return Err(underflow(at));
                    };
                    self.call("OBJ", Some(&cls), at);
                    let args = self.tuple(items.collect());
                    let obj = self.instance(&cls, args);
                    m.push(obj)?;
                }
                // ---- persistent ids (torch storages): the loader's own hook
                b'P' => {
                    c.line("PERSID", at)?;
                    self.call("PERSID", None, at);
                    m.push(V::Other)?;
                }
                b'Q' => {
                    m.pop(at)?;
                    self.call("BINPERSID", None, at);
                    m.push(V::Other)?;
                }
                other => {
                    return Err(Fail::Malformed(format!(
                        "unknown opcode 0x{other:02x} at offset {at}"
                    )));
                }
            }
        }
    }
}

/// GLOBAL and INST arguments are UTF-8 lines, as in Python's `load_global`.
fn utf8_line<'d>(c: &mut Cursor<'d>, what: &str, at: u64) -> Result<&'d str, Fail> {
    let line = c.line(what, at)?;
    std::str::from_utf8(line)
        .map_err(|_| Fail::Malformed(format!("{what} at offset {at} is not UTF-8")))
}

/// The inside of a protocol-0 STRING argument: quoted with ' or ".
fn quoted(line: &[u8]) -> Option<&[u8]> {
    match line {
        [q, inner @ .., r] if q == r && (*q == b'\'' || *q == b'"') => Some(inner),
        _ => None,
    }
}

/// Python's `codecs.escape_decode` (what STRING uses).
fn escape_decode(s: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        i += 1;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let e = *s.get(i)?;
        i += 1;
        match e {
            b'\n' => {}
            b'\\' | b'\'' | b'"' => out.push(e),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(e - b'0');
                for _ in 0..2 {
                    match s.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' => {
                let h = std::str::from_utf8(s.get(i..i + 2)?).ok()?;
                out.push(u8::from_str_radix(h, 16).ok()?);
                i += 2;
            }
            _ => {
                out.push(b'\\');
                out.push(e);
            }
        }
    }
    Some(out)
}

/// Python's `raw-unicode-escape` decoding (what UNICODE uses): `\uXXXX` and
/// `\UXXXXXXXX` escapes, every other byte a Latin-1 character.
fn raw_unicode_escape(s: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b == b'\\' && matches!(s.get(i + 1), Some(b'u' | b'U')) {
            // An odd run of backslashes escapes; an even run is literal.
            let run = s[..i].iter().rev().take_while(|&&x| x == b'\\').count();
            if run % 2 == 0 {
                let width = if s[i + 1] == b'u' { 4 } else { 8 };
                let h = std::str::from_utf8(s.get(i + 2..i + 2 + width)?).ok()?;
                out.push(char::from_u32(u32::from_str_radix(h, 16).ok()?)?);
                i += 2 + width;
                continue;
            }
        }
        out.push(char::from(b));
        i += 1;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn rules() -> PickleRules {
        crate::test_support::pickle_rules()
    }

    fn fixture(name: &str) -> PickleReport {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/pickle")
            .join(name);
        scan_file(&path, &rules()).expect("fixture readable")
    }

    fn dangerous(r: &PickleReport) -> Vec<(String, String, u64)> {
        r.globals
            .iter()
            .filter(|g| g.class == GlobalClass::Dangerous)
            .map(|g| (g.module.clone(), g.name.clone(), g.offset))
            .collect()
    }

    fn d(module: &str, name: &str, offset: u64) -> (String, String, u64) {
        (module.into(), name.into(), offset)
    }

    #[test]
    fn plain_data_is_safe_in_every_protocol() {
        for (f, proto) in [
            ("plain_p0.pkl", None),
            ("plain_p2.pkl", Some(2)),
            ("plain_p4.pkl", Some(4)),
            ("plain_p5.pkl", Some(5)),
            ("containers_p2.pkl", Some(2)),
            ("bytearray_p5.pkl", Some(5)),
        ] {
            let r = fixture(f);
            assert_eq!(r.verdict, PickleVerdict::Safe, "{f}: {r:?}");
            assert_eq!(r.protocol, proto, "{f}");
            assert!(r.opcodes > 5, "{f}");
        }
    }

    #[test]
    fn ordered_dict_is_safe() {
        for f in [
            "ordereddict_p0.pkl",
            "ordereddict_p2.pkl",
            "ordereddict_p4.pkl",
        ] {
            let r = fixture(f);
            assert_eq!(r.verdict, PickleVerdict::Safe, "{f}: {r:?}");
            assert!(
                r.globals
                    .iter()
                    .any(|g| g.module == "collections" && g.name == "OrderedDict"),
                "{f}"
            );
        }
    }

    #[test]
    fn os_system_reduce_is_dangerous_in_every_protocol() {
        for (f, at) in [
            ("os_system_p0.pkl", 0),
            ("os_system_p2.pkl", 2),
            ("os_system_p4.pkl", 28),
            ("os_system_p5.pkl", 28),
        ] {
            let r = fixture(f);
            assert_eq!(r.verdict, PickleVerdict::Dangerous, "{f}");
            assert_eq!(dangerous(&r), vec![d("posix", "system", at)], "{f}");
            assert!(
                r.notes
                    .iter()
                    .any(|n| n.contains("REDUCE at offset") && n.contains("calls posix.system")),
                "{f}: {:?}",
                r.notes
            );
        }
    }

    #[test]
    fn eval_is_dangerous_under_both_builtin_names() {
        let r = fixture("eval_p2.pkl");
        assert_eq!(r.verdict, PickleVerdict::Dangerous);
        assert_eq!(dangerous(&r), vec![d("__builtin__", "eval", 2)]);
        let r = fixture("eval_p4.pkl");
        assert_eq!(dangerous(&r), vec![d("builtins", "eval", 29)]);
    }

    #[test]
    fn getattr_chain_reports_every_link() {
        let r = fixture("getattr_chain_p4.pkl");
        assert_eq!(r.verdict, PickleVerdict::Dangerous);
        let names: Vec<String> = dangerous(&r)
            .into_iter()
            .map(|(m, n, _)| format!("{m}.{n}"))
            .collect();
        assert_eq!(names, ["builtins.getattr", "importlib.import_module"]);
    }

    #[test]
    fn memoised_stack_global_operands_are_resolved() {
        let r = fixture("memo_stack_global_p4.pkl");
        assert_eq!(r.verdict, PickleVerdict::Dangerous);
        assert_eq!(dangerous(&r), vec![d("os", "system", 29)]);
    }

    #[test]
    fn computed_stack_global_operands_are_dangerous() {
        let r = fixture("computed_stack_global_p4.pkl");
        assert_eq!(r.verdict, PickleVerdict::Dangerous);
        assert_eq!(r.globals[0].module, "builtins");
        assert_eq!(r.globals[0].class, GlobalClass::Unknown);
        assert_eq!(dangerous(&r), vec![d(COMPUTED, "system", 32)]);
        assert!(r.notes.iter().any(|n| n.contains("not string constants")));
    }

    #[test]
    fn protocol_zero_inst_is_dangerous() {
        let r = fixture("inst_p0.pkl");
        assert_eq!(r.verdict, PickleVerdict::Dangerous);
        assert_eq!(r.protocol, None);
        assert_eq!(dangerous(&r), vec![d("os", "system", 12)]);
    }

    #[test]
    fn nested_pickles_are_followed() {
        let r = fixture("nested_bytes_p4.pkl");
        assert_eq!(r.verdict, PickleVerdict::Dangerous, "{r:?}");
        // SHORT_BINBYTES at 21, argument at 23, inner STACK_GLOBAL at 28.
        assert_eq!(dangerous(&r), vec![d("posix", "system", 51)]);
        assert!(r.notes.iter().any(|n| n.contains("nested pickle in bytes")));
        let r = fixture("nested_latin1_p2.pkl");
        assert_eq!(r.verdict, PickleVerdict::Safe, "{r:?}");
        assert!(r.notes.iter().any(|n| n.contains("latin-1")));
    }

    #[test]
    fn pickles_nested_deeper_than_followed_are_not_called_safe() {
        // os.system in BINBYTES in a pickle, MAX_NESTING + 1 levels: the
        // innermost is never read, so the walk cannot vouch for it.
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle/os_system_p4.pkl");
        let mut blob = std::fs::read(path).expect("fixture");
        for _ in 0..=MAX_NESTING {
            let mut outer = b"\x80\x04B".to_vec();
            outer.extend_from_slice(&(blob.len() as u32).to_le_bytes());
            outer.extend_from_slice(&blob);
            outer.push(b'.');
            blob = outer;
        }
        let r = scan(&blob, &rules());
        assert_eq!(r.verdict, PickleVerdict::Unparseable, "{r:?}");
        assert!(r.notes[0].contains("deeper than"), "{r:?}");
    }

    #[test]
    fn truncated_input_is_unparseable_with_offset() {
        let r = fixture("truncated_p4.pkl");
        assert_eq!(r.verdict, PickleVerdict::Unparseable);
        assert!(r.notes[0].contains("truncated"), "{:?}", r.notes);
        assert!(r.notes[0].contains("offset"), "{:?}", r.notes);
        assert_eq!(scan(b"", &rules()).verdict, PickleVerdict::Unparseable);
    }

    #[test]
    fn huge_length_claim_is_unparseable_without_allocation() {
        let r = fixture("huge_length_p4.pkl");
        assert_eq!(r.verdict, PickleVerdict::Unparseable);
        assert!(
            r.notes[0].contains("BINUNICODE8 at offset 2 needs 4611686018427387904 bytes"),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn torch_like_checkpoint_is_safe() {
        let r = fixture("torch_data_p2.pkl");
        assert_eq!(r.verdict, PickleVerdict::Safe, "{r:?}");
        let names: HashSet<String> = r
            .globals
            .iter()
            .map(|g| format!("{}.{}", g.module, g.name))
            .collect();
        for want in [
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor_v2",
            "torch.FloatStorage",
        ] {
            assert!(names.contains(want), "{want} in {names:?}");
        }
        assert!(
            r.notes.iter().any(|n| n.contains("BINPERSID ×2")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn dangerous_before_a_break_still_wins() {
        let bytes = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle/os_system_p2.pkl"),
        )
        .unwrap();
        let r = scan(&bytes[..bytes.len() - 3], &rules());
        assert_eq!(r.verdict, PickleVerdict::Dangerous);
        assert!(r.notes[0].contains("truncated"));
    }

    #[test]
    fn unknown_global_is_suspicious_and_names_are_sanitised() {
        let mut p = b"\x80\x02cmy\x1bmod\nThing\n)\x81.".to_vec();
        let r = scan(&p, &rules());
        assert_eq!(r.verdict, PickleVerdict::Suspicious);
        assert_eq!(r.globals[0].module, "my\\u{1b}mod");
        p = b"\x80\x04\x8c\x0bcollections\x8c\x20OrderedDict.__init__.__globals__\x93.".to_vec();
        let r = scan(&p, &rules());
        assert_eq!(r.verdict, PickleVerdict::Dangerous, "{r:?}");
    }

    #[test]
    fn bounds_and_malformed_streams_never_panic() {
        let rules = rules();
        // Deep marks hit the stack bound.
        let mut deep = b"\x80\x04".to_vec();
        deep.extend(std::iter::repeat_n(b'(', MAX_STACK + 1));
        deep.push(b'.');
        let r = scan(&deep, &rules);
        assert_eq!(r.verdict, PickleVerdict::Unparseable);
        assert!(r.notes[0].contains("stack deeper"));
        // Underflow, missing memo, unknown opcode, bad protocol.
        for bad in [
            &b"\x80\x04R."[..],
            b"\x80\x04h\x07.",
            b"\x80\x04\xff.",
            b"\x80\x09N.",
            b"\x80\x04N\x93.",
            b"Vabc\\u12\n.",
        ] {
            assert_eq!(
                scan(bad, &rules).verdict,
                PickleVerdict::Unparseable,
                "{bad:?}"
            );
        }
        // Every prefix of every fixture is handled.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pickle");
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "pkl") {
                let bytes = std::fs::read(&path).unwrap();
                for n in 0..bytes.len() {
                    scan(&bytes[..n], &rules);
                }
            }
        }
    }

    #[test]
    fn text_escapes_decode_like_python() {
        assert_eq!(escape_decode(br"o\x73\n\163").unwrap(), b"os\ns");
        assert_eq!(raw_unicode_escape(br"sys\u0074em").unwrap(), "system");
        assert_eq!(raw_unicode_escape(br"a\\u0041").unwrap(), "a\\\\u0041");
        // Escaped constants still resolve STACK_GLOBAL.
        let p = b"S'o\\x73'\nS'sys\\x74em'\n\x93.";
        assert_eq!(dangerous(&scan(p, &rules())), vec![d("os", "system", 22)]);
    }
}
