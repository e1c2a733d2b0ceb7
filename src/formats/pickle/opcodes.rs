//! One step of the walk per opcode group: the stack and the memo, plain
//! values, strings and bytes, containers and objects, imports, calls.

use super::limits::*;
use super::text::*;
use super::value::*;
use super::walker::{Cursor, Scan, Text, unknown_opcode, utf8_line};
use crate::model::pickle::clean_text;

impl Scan<'_> {
    /// Stack manipulation and the memo.
    pub(super) fn stack_op(
        &mut self,
        op: u8,
        c: &mut Cursor<'_>,
        m: &mut Machine,
        at: u64,
    ) -> Result<(), Fail> {
        match op {
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
            other => return Err(unknown_opcode(other, at)),
        }
        Ok(())
    }

    /// Plain values: None, booleans, numbers, empty containers.
    pub(super) fn value_op(
        &mut self,
        op: u8,
        c: &mut Cursor<'_>,
        m: &mut Machine,
        at: u64,
    ) -> Result<(), Fail> {
        match op {
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
                // Decimal text as Python's int()/float() read it ("I01" is
                // True; LONG may end in L); text they refuse stops the loader.
                let v = match op {
                    b'F' => decimal_float(line).then_some(None),
                    b'L' => decimal_int(line.strip_suffix(b"L").unwrap_or(line)),
                    _ => decimal_int(line),
                };
                let Some(v) = v else {
                    return Err(Fail::Malformed(format!(
                        "{} at offset {at} is not a number the unpickler reads",
                        match op {
                            b'F' => "FLOAT",
                            b'L' => "LONG",
                            _ => "INT",
                        }
                    )));
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
            other => return Err(unknown_opcode(other, at)),
        }
        Ok(())
    }

    /// Strings and bytes, each followed if it holds a pickle.
    pub(super) fn text_op(
        &mut self,
        op: u8,
        c: &mut Cursor<'_>,
        m: &mut Machine,
        at: u64,
        depth: u32,
    ) -> Result<(), Fail> {
        match op {
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
                if c.partial {
                    self.passed_arg(m, arg.len(), n, name, arg_at)?;
                } else {
                    self.text_arg(m, arg, kind, arg_at, depth)?;
                }
            }
            0x98 => {
                m.top(at)?;
            }
            other => return Err(unknown_opcode(other, at)),
        }
        Ok(())
    }

    /// Filling and building containers and objects.
    pub(super) fn container_op(
        &mut self,
        op: u8,
        c: &mut Cursor<'_>,
        m: &mut Machine,
        at: u64,
        depth: u32,
    ) -> Result<(), Fail> {
        match op {
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
                    .is_some_and(|(mo, na)| super::array::is_array_wrapper(mo, na));
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
                    if c.pos < c.frame_end {
                        return Err(Fail::Malformed(format!(
                            "joblib array wrapper built at offset {at} inside a FRAME that goes on for {} bytes: joblib.load would read the array after the frame, and the walk cannot follow that",
                            c.frame_end - c.pos
                        )));
                    }
                    self.inline_array(c, &state, at, depth)?;
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
            other => return Err(unknown_opcode(other, at)),
        }
        Ok(())
    }

    /// Imports: GLOBAL, INST, STACK_GLOBAL, extension codes.
    pub(super) fn import_op(
        &mut self,
        op: u8,
        c: &mut Cursor<'_>,
        m: &mut Machine,
        at: u64,
    ) -> Result<(), Fail> {
        match op {
            b'c' | b'i' => {
                let what = if op == b'c' { "GLOBAL" } else { "INST" };
                let module = utf8_line(c, what, at)?;
                let name = utf8_line(c, what, at)?;
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
                        self.add_global(&mo, &na, at, Some(self.rules.computed()))?
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
                    Some(self.rules.extension()),
                )?;
                m.push(g)?;
            }
            other => return Err(unknown_opcode(other, at)),
        }
        Ok(())
    }

    /// Calls, and persistent ids (torch storages: the loader's own hook).
    pub(super) fn call_op(
        &mut self,
        op: u8,
        c: &mut Cursor<'_>,
        m: &mut Machine,
        at: u64,
    ) -> Result<(), Fail> {
        match op {
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
            other => return Err(unknown_opcode(other, at)),
        }
        Ok(())
    }
}
