//! The opcode walk: one pass over a pickle stream mirroring the unpickler,
//! recording every import and the calls made on it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::limits::*;
use super::value::*;
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::pickle::{GlobalClass, PickleGlobal, clean_text};

/// A string argument that is a pickle written as base64 (standard or
/// URL-safe, padded or not, MIME line breaks allowed) or as hex: data a
/// program decodes and unpickles in one line. Returns the decoded bytes and
/// how they were encoded. The prefixes are cheap to test: every pickle of
/// protocol 2 or later starts with 0x80, which base64 writes as "gA" and hex
/// as "80".
fn encoded_pickle(arg: &[u8]) -> Option<(Vec<u8>, &'static str)> {
    use base64::Engine;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const MIN: usize = 8;
    let pickle = |b: &[u8]| b.len() >= 2 && b[0] == 0x80 && b[1] <= HIGHEST_PROTOCOL;
    if arg.len() >= MIN && arg.starts_with(b"gA") {
        let compact: Vec<u8> = arg
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        let config =
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
        for alphabet in [&base64::alphabet::STANDARD, &base64::alphabet::URL_SAFE] {
            if let Ok(b) = GeneralPurpose::new(alphabet, config).decode(&compact)
                && pickle(&b)
            {
                return Some((b, "base64 text"));
            }
        }
    }
    if arg.len() >= MIN && arg.len().is_multiple_of(2) && arg.starts_with(b"80") {
        let digit = |c: u8| (c as char).to_digit(16);
        let b: Option<Vec<u8>> = arg
            .chunks(2)
            .map(|p| Some((digit(p[0])? * 16 + digit(p[1])?) as u8))
            .collect();
        if let Some(b) = b.filter(|b| pickle(b)) {
            return Some((b, "hex text"));
        }
    }
    None
}

/// Bytes of a large argument that were read past instead of kept: they are
/// missing from the walked buffer just before index `at` ... i.e. the buffer's
/// byte `at` is the first byte after them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hole {
    pub at: usize,
    pub len: u64,
}

pub(crate) struct Cursor<'d> {
    pub(crate) data: &'d [u8],
    pub(crate) pos: usize,
    pub(crate) base: u64,
    /// Holes of `data`, sorted by `at` (top-level walks of a streamed input only).
    pub(crate) holes: &'d [Hole],
    /// The last `take` ran into a hole: its slice is the argument's kept head.
    pub(crate) partial: bool,
    /// Where a `take` ran off the end of `data`: (index, bytes wanted).
    pub(crate) short: Option<(usize, u64)>,
    /// End of the current FRAME (protocol 4+), as an index into `data`; 0
    /// when no frame is open.
    pub(crate) frame_end: usize,
    /// First read that crossed the end of the current frame: CPython's C
    /// unpickler reads on, its pure-Python one stops there.
    pub(crate) crossed: Option<String>,
}

impl<'d> Cursor<'d> {
    /// File offset of buffer index `i`: holes at or before it count.
    fn offset_of(&self, i: usize) -> u64 {
        let skipped: u64 = self
            .holes
            .iter()
            .take_while(|h| h.at <= i)
            .map(|h| h.len)
            .sum();
        self.base + i as u64 + skipped
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset_of(self.pos)
    }

    pub(crate) fn take(&mut self, n: u64, what: &str, at: u64) -> Result<&'d [u8], Fail> {
        self.partial = false;
        // A hole inside the n bytes: they must end exactly where it does
        // (holes are cut at the end of the argument that made them).
        if let Some(h) = self.holes.iter().find(|h| h.at > self.pos) {
            let head = (h.at - self.pos) as u64;
            if n > head {
                if n != head + h.len {
                    return Err(Fail::Bound(format!(
                        "{what} at offset {at} crosses a stretch of {} bytes that was read past, not kept: the walk cannot follow it",
                        h.len
                    )));
                }
                let s = &self.data[self.pos..h.at];
                self.pos = h.at;
                self.partial = true;
                return Ok(s);
            }
        }
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            self.short = Some((self.pos, n));
            return Err(Fail::Truncated(format!(
                "truncated: {what} at offset {at} needs {n} bytes, only {left} remain"
            )));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.check_frame(self.pos + n as usize, what, at);
        self.pos += n as usize;
        Ok(s)
    }

    /// Python's `_Unframer` serves a read from the open frame, or from the
    /// file once the frame is used up; a read that starts inside the frame and
    /// ends past it is its "pickle exhausted before end of frame".
    fn check_frame(&mut self, end: usize, what: &str, at: u64) {
        if self.pos < self.frame_end && end > self.frame_end && self.crossed.is_none() {
            self.crossed = Some(format!(
                "{what} at offset {at} reads past the end of its FRAME (offset {}): CPython's C unpickler reads on, the pure-Python unpickler stops with \"pickle exhausted before end of frame\"",
                self.base + self.frame_end as u64
            ));
        }
    }

    pub(crate) fn uint(&mut self, width: u64, what: &str, at: u64) -> Result<u64, Fail> {
        let b = self.take(width, what, at)?;
        Ok(b.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    pub(crate) fn int4(&mut self, what: &str, at: u64) -> Result<i64, Fail> {
        Ok(i64::from(self.uint(4, what, at)? as u32 as i32))
    }

    /// One `\n`-terminated argument, without its newline.
    pub(crate) fn line(&mut self, what: &str, at: u64) -> Result<&'d [u8], Fail> {
        let rest = &self.data[self.pos..];
        let Some(n) = rest.iter().position(|&b| b == b'\n') else {
            return Err(Fail::Truncated(format!(
                "truncated: {what} at offset {at} has no end of line"
            )));
        };
        self.check_frame(self.pos + n + 1, what, at);
        self.pos += n + 1;
        Ok(&rest[..n])
    }

    pub(crate) fn decimal(&mut self, what: &str, at: u64) -> Result<u64, Fail> {
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

pub(crate) struct Scan<'r> {
    pub(crate) rules: &'r PickleRules,
    /// Stretches of a streamed input read past, not kept (top level only).
    pub(crate) holes: Vec<Hole>,
    /// Where the top-level walk ran out of input outside a FRAME: (index, bytes wanted).
    pub(crate) want: Option<(usize, u64)>,
    pub(crate) globals: Vec<PickleGlobal>,
    pub(crate) notes: Vec<String>,
    pub(crate) notes_dropped: usize,
    pub(crate) anomalies: Vec<String>,
    /// Top-level opcodes walked (offset, opcode), when asked for.
    pub(crate) trace: Option<Vec<(u64, u8)>>,
    pub(crate) declared_versions: std::collections::BTreeMap<String, String>,
    pub(crate) context: crate::knowledge::pickle_rules::PickleContext,
    pub(crate) opcodes: u64,
    pub(crate) protocol: Option<u8>,
    pub(crate) symbol_bytes: usize,
    /// Tuple and dict elements still allowed to be kept as known values.
    pub(crate) value_budget: usize,
    /// The budget ran out: later objects are unknown, so a joblib array
    /// wrapper could go unrecognised.
    pub(crate) values_exhausted: bool,
    pub(crate) calls: BTreeMap<&'static str, u64>,
    pub(crate) max_pickles: Option<usize>,
    pub(crate) joblib: bool,
    /// Top-level pickles walked to their STOP, and the offset after the last.
    pub(crate) pickles: usize,
    pub(crate) end: u64,
    pub(crate) inline_arrays: u64,
    pub(crate) inline_bytes: u64,
}

/// Which string-like argument a nested pickle was found in.
#[derive(Clone, Copy)]
pub(crate) enum Text {
    Bytes,
    Unicode,
}

impl Scan<'_> {
    /// A place where CPython's loaders would read the stream differently.
    pub(crate) fn anomaly(&mut self, a: String) {
        if self.anomalies.len() < MAX_NOTES {
            self.anomalies.push(a);
        }
    }

    pub(crate) fn note(&mut self, n: String) {
        if self.notes.len() < MAX_NOTES {
            self.notes.push(n);
        } else {
            self.notes_dropped += 1;
        }
    }

    /// A string constant if it is short and the budget allows, else `Other`.
    pub(crate) fn symbol(&mut self, text: Option<&str>) -> V {
        match text {
            Some(t) if t.len() <= MAX_SYMBOL && self.symbol_bytes + t.len() <= SYMBOL_BUDGET => {
                self.symbol_bytes += t.len();
                V::Str(Rc::from(t))
            }
            _ => V::Other,
        }
    }

    /// Takes `n` units of the value budget; false (and remembered) when out.
    pub(crate) fn spend(&mut self, n: usize) -> bool {
        if n > self.value_budget {
            self.values_exhausted = true;
            return false;
        }
        self.value_budget -= n;
        true
    }

    /// A tuple of known elements, or `Other` past a bound.
    pub(crate) fn tuple(&mut self, items: Vec<V>) -> V {
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

    pub(crate) fn dict(&mut self) -> V {
        if !self.spend(1) {
            return V::Other;
        }
        V::Dict(Rc::new(RefCell::new(Vec::new())))
    }

    /// `dict[key] = value` for a known dict, string key and insertable value.
    pub(crate) fn set_item(&mut self, dict: &V, key: V, value: V) {
        let V::Str(k) = key else {
            return;
        };
        // Libraries record their release in pickled state
        // (`_sklearn_version`): kept as a fact, whatever the dict.
        if let V::Str(v) = &value
            && k.ends_with("_version")
            && self.declared_versions.len() < 16
            && v.len() <= 32
        {
            self.declared_versions
                .entry(clean_text(&k))
                .or_insert_with(|| clean_text(v));
        }
        let V::Dict(d) = dict else {
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
    pub(crate) fn instance(&mut self, callee: &V, args: V) -> V {
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
    pub(crate) fn class_of(&self, v: &V) -> Option<(&str, &str)> {
        let V::Instance(inst) = v else {
            return None;
        };
        let g = self.globals.get(inst.borrow().class)?;
        Some((g.module.as_str(), g.name.as_str()))
    }

    pub(crate) fn add_global(
        &mut self,
        module: &str,
        name: &str,
        at: u64,
        class: Option<GlobalClass>,
    ) -> Result<V, Fail> {
        if self.globals.len() >= MAX_GLOBALS {
            return Err(Fail::Bound(format!("more than {MAX_GLOBALS} imports")));
        }
        let (class, library) = match class {
            Some(c) => (c, None),
            None => {
                let (c, lib) = self.rules.classify_in(self.context, module, name);
                (c, lib.map(str::to_string))
            }
        };
        self.globals.push(PickleGlobal {
            module: clean_text(module),
            name: clean_text(name),
            offset: at,
            class,
            library,
        });
        Ok(V::Global(self.globals.len() - 1))
    }

    pub(crate) fn call(&mut self, kind: &'static str, callee: Option<&V>, at: u64) {
        *self.calls.entry(kind).or_default() += 1;
        if let Some(V::Global(i)) = callee {
            let g = &self.globals[*i];
            if !matches!(g.class, GlobalClass::Allowed | GlobalClass::Library) {
                let n = format!("{kind} at offset {at} calls {}.{}", g.module, g.name);
                self.note(n);
            }
        }
    }

    /// joblib.load reads an array right after its wrapper's BUILD: a padding
    /// length byte and padding, then the raw bytes; for object arrays, a whole
    /// pickle. The cursor is moved past it, so what follows is still walked.
    pub(crate) fn inline_array(
        &mut self,
        c: &mut Cursor<'_>,
        state: &V,
        at: u64,
        depth: u32,
    ) -> Result<(), Fail> {
        let globals = &self.globals;
        let class = |i: usize| globals.get(i).map(|g| (g.module.as_str(), g.name.as_str()));
        let layout = super::array::array_layout(state, class).map_err(|why| {
            Fail::Malformed(format!(
                "joblib array wrapper built at offset {at}: {why}, so the array data after it cannot be skipped"
            ))
        })?;
        match layout {
            super::array::ArrayLayout::Objects => {
                let start = c.offset();
                let n = self.walk(&c.data[c.pos..], start, depth + 1, true)?;
                c.pos += n;
            }
            super::array::ArrayLayout::Raw { bytes, padded } => {
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
    pub(crate) fn nested(
        &mut self,
        arg: &[u8],
        kind: Text,
        at: u64,
        depth: u32,
    ) -> Result<(), Fail> {
        let latin1;
        let decoded;
        if let Some((bytes, encoding)) = encoded_pickle(arg) {
            decoded = bytes;
            return self.nested_walk(&decoded, encoding, at, depth);
        }
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
        self.nested_walk(inner, how, at, depth)
    }

    /// Walks a pickle found inside a string argument, merging its imports.
    fn nested_walk(&mut self, inner: &[u8], how: &str, at: u64, depth: u32) -> Result<(), Fail> {
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
    pub(crate) fn text_arg(
        &mut self,
        m: &mut Machine,
        arg: &[u8],
        kind: Text,
        at: u64,
        depth: u32,
    ) -> Result<(), Fail> {
        // The unpickler decodes text arguments as UTF-8 (surrogates passed):
        // bytes it cannot decode stop it there.
        if matches!(kind, Text::Unicode) && !super::text::utf8_surrogatepass(arg) {
            return Err(Fail::Malformed(format!(
                "text at offset {at} is not UTF-8: the unpickler stops here"
            )));
        }
        let v = self.symbol(std::str::from_utf8(arg).ok());
        m.push(v)?;
        self.nested(arg, kind, at, depth)
    }

    /// An argument whose bytes past its head were read past, not kept (it
    /// holds no pickle: [`super::scan_reader`] checked its head): an
    /// unknown value, as any large string is.
    pub(crate) fn passed_arg(
        &mut self,
        m: &mut Machine,
        kept: usize,
        n: u64,
        what: &str,
        at: u64,
    ) -> Result<(), Fail> {
        self.note(format!(
            "{what} at offset {at}: {n} bytes of data, read past after the first {kept} (no pickle in them)"
        ));
        let v = self.symbol(None);
        m.push(v)
    }

    /// Walks the pickles of `data`; `single` stops at the first STOP. Returns
    /// the bytes consumed.
    pub(crate) fn walk(
        &mut self,
        data: &[u8],
        base: u64,
        depth: u32,
        single: bool,
    ) -> Result<usize, Fail> {
        let holes = if depth == 0 {
            self.holes.clone()
        } else {
            Vec::new()
        };
        let mut c = Cursor {
            data,
            pos: 0,
            base,
            holes: &holes,
            partial: false,
            short: None,
            frame_end: 0,
            crossed: None,
        };
        let mut m = Machine::default();
        if data.is_empty() {
            return Err(Fail::Malformed("empty input: no pickle opcode".into()));
        }
        let result = self.walk_at(&mut c, &mut m, depth, single);
        // Where the top-level walk ran out of input, for a reader that can
        // read past a large argument instead of keeping it (not inside a
        // FRAME: the walk's frame checks work on the kept bytes).
        if depth == 0 && matches!(result, Err(Fail::Truncated(_))) {
            self.want = c.short.filter(|(i, _)| *i >= c.frame_end);
        }
        result
    }

    fn walk_at(
        &mut self,
        c: &mut Cursor<'_>,
        m: &mut Machine,
        depth: u32,
        single: bool,
    ) -> Result<usize, Fail> {
        let data = c.data;
        let base = c.base;
        loop {
            if let Some(why) = c.crossed.take() {
                self.anomaly(why);
            }
            let at = c.offset();
            let Some(&op) = data.get(c.pos) else {
                return Err(Fail::Truncated(format!(
                    "truncated: input ends at offset {at} before a STOP opcode"
                )));
            };
            c.pos += 1;
            self.opcodes += 1;
            if depth == 0
                && let Some(t) = self.trace.as_mut()
                && t.len() < MAX_OPCODES as usize
            {
                t.push((at, op));
            }
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
                    // CPython's two unpicklers disagree on frames; the walk
                    // reads as the C one does (frames are only a buffering
                    // hint) and records where the pure-Python one would differ.
                    if c.pos < c.frame_end {
                        self.anomaly(format!(
                            "FRAME at offset {at} begins before the FRAME before it ends (offset {}): the pure-Python unpickler refuses it, the C unpickler reads on",
                            base + c.frame_end as u64
                        ));
                    }
                    c.frame_end = 0;
                    let n = c.uint(8, "FRAME", at)?;
                    let left = (data.len() - c.pos) as u64;
                    if n > left {
                        // The C unpickler stops here; the pure-Python one runs
                        // the opcodes that are there, so they are walked.
                        self.anomaly(format!(
                            "FRAME at offset {at} announces {n} bytes, only {left} remain: the C unpickler refuses it, the pure-Python unpickler runs what is there"
                        ));
                        c.frame_end = data.len();
                    } else {
                        c.frame_end = c.pos + n as usize;
                    }
                }
                b'.' => {
                    if let Some(why) = c.crossed.take() {
                        self.anomaly(why);
                    }
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
                        *m = Machine::default();
                        continue;
                    }
                    self.note(format!(
                        "{} bytes after the STOP at offset {at} are not a pickle and were not read",
                        rest.len()
                    ));
                    return Ok(c.pos);
                }
                b'(' | b'0' | b'1' | b'2' | b'p' | b'q' | b'r' | 0x94 | b'g' | b'h' | b'j' => {
                    self.stack_op(op, c, m, at)?
                }
                b'N' | 0x88 | 0x89 | b')' | b'}' | b']' | 0x8f | 0x97 | b'I' | b'L' | b'F'
                | b'J' | b'K' | b'M' | b'G' | 0x8a | 0x8b => self.value_op(op, c, m, at)?,
                b'S' | b'V' | b'T' | b'U' | b'B' | b'C' | 0x8e | 0x96 | b'X' | 0x8c | 0x8d
                | 0x98 => self.text_op(op, c, m, at, depth)?,
                b'a'
                | b'b'
                | b's'
                | b'u'
                | b'e'
                | 0x90
                | b't'
                | b'd'
                | b'l'
                | 0x91
                | 0x85..=0x87 => self.container_op(op, c, m, at, depth)?,
                b'c' | b'i' | 0x93 | 0x82..=0x84 => self.import_op(op, c, m, at)?,
                b'R' | 0x81 | 0x92 | b'o' | b'P' | b'Q' => self.call_op(op, c, m, at)?,
                other => return Err(unknown_opcode(other, at)),
            }
        }
    }
}

pub(crate) fn unknown_opcode(op: u8, at: u64) -> Fail {
    Fail::Malformed(format!("unknown opcode 0x{op:02x} at offset {at}"))
}

/// GLOBAL and INST arguments are UTF-8 lines, as in Python's `load_global`.
pub(crate) fn utf8_line<'d>(c: &mut Cursor<'d>, what: &str, at: u64) -> Result<&'d str, Fail> {
    let line = c.line(what, at)?;
    std::str::from_utf8(line)
        .map_err(|_| Fail::Malformed(format!("{what} at offset {at} is not UTF-8")))
}
