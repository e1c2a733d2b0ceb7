//! The `.npy` header as `numpy.lib.format` reads it: a Python dict literal
//! that `ast.literal_eval` accepts (anything else, names and calls included,
//! is refused), with exactly the keys `descr`, `fortran_order` and `shape`, a
//! shape of non-negative integers whose element count fits, and a dtype
//! `descr` numpy knows; the array's bytes must be in the file. Facts only:
//! each problem is an error the loader would raise too.

/// A parsed literal (the subset `.npy` headers use).
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Tuple(Vec<Lit>),
    List(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

/// Nesting a header literal may have (structured dtypes nest a few levels).
const MAX_DEPTH: u32 = 32;

struct P<'a> {
    s: &'a [u8],
    i: usize,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("{what} at character {}", self.i))
    }

    fn value(&mut self, depth: u32) -> Result<Lit, String> {
        if depth > MAX_DEPTH {
            return self.err("nested too deep");
        }
        self.ws();
        let Some(&c) = self.s.get(self.i) else {
            return self.err("ends early");
        };
        match c {
            b'{' => self
                .seq(b'}', depth)
                .and_then(|items| pairs(items).map(Lit::Dict)),
            b'(' => {
                let (items, trailing) = self.items(b')', depth)?;
                // `(x)` is x itself; `(x,)` a tuple.
                Ok(if items.len() == 1 && !trailing {
                    items
                        .into_iter()
                        .next()
                        .map_or(Lit::Tuple(Vec::new()), |v| match v {
                            Item::One(v) => v,
                            Item::Pair(..) => Lit::None,
                        })
                } else {
                    Lit::Tuple(singles(items)?)
                })
            }
            b'[' => self
                .seq(b']', depth)
                .and_then(|i| singles(i).map(Lit::List)),
            b'\'' | b'"' => self.string(c),
            b'-' | b'+' | b'0'..=b'9' => self.int(),
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_alphanumeric() || self.s[self.i] == b'_')
                {
                    self.i += 1;
                }
                match &self.s[start..self.i] {
                    b"True" => Ok(Lit::Bool(true)),
                    b"False" => Ok(Lit::Bool(false)),
                    b"None" => Ok(Lit::None),
                    _ => {
                        self.i = start;
                        self.err("not a Python literal (a name, call or expression)")
                    }
                }
            }
        }
    }

    fn seq(&mut self, close: u8, depth: u32) -> Result<Vec<Item>, String> {
        self.items(close, depth).map(|(items, _)| items)
    }

    /// Comma-separated items up to `close`; whether a comma trails.
    fn items(&mut self, close: u8, depth: u32) -> Result<(Vec<Item>, bool), String> {
        self.i += 1;
        let mut out = Vec::new();
        let mut trailing = false;
        loop {
            self.ws();
            match self.s.get(self.i) {
                Some(&c) if c == close => {
                    self.i += 1;
                    return Ok((out, trailing));
                }
                None => return self.err("ends early"),
                _ => {}
            }
            let v = self.value(depth + 1)?;
            self.ws();
            let item = if close == b'}' {
                if self.s.get(self.i) != Some(&b':') {
                    return self.err("a dict entry without ':'");
                }
                self.i += 1;
                Item::Pair(v, self.value(depth + 1)?)
            } else {
                Item::One(v)
            };
            out.push(item);
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => {
                    self.i += 1;
                    trailing = true;
                }
                Some(&c) if c == close => trailing = false,
                _ => return self.err("expected ',' or a closing bracket"),
            }
        }
    }

    fn string(&mut self, quote: u8) -> Result<Lit, String> {
        self.i += 1;
        let mut out = Vec::new();
        while let Some(&c) = self.s.get(self.i) {
            self.i += 1;
            match c {
                b'\\' => {
                    let Some(&e) = self.s.get(self.i) else {
                        break;
                    };
                    self.i += 1;
                    out.push(e);
                }
                c if c == quote => return Ok(Lit::Str(String::from_utf8_lossy(&out).into_owned())),
                c => out.push(c),
            }
        }
        self.err("an unterminated string")
    }

    fn int(&mut self) -> Result<Lit, String> {
        let start = self.i;
        if matches!(self.s.get(self.i), Some(b'-' | b'+')) {
            self.i += 1;
        }
        while self.i < self.s.len() && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'_') {
            self.i += 1;
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).replace('_', "");
        // numpy's _filter_header drops the Python 2 long suffix.
        if matches!(self.s.get(self.i), Some(b'L' | b'l')) {
            self.i += 1;
        }
        if matches!(self.s.get(self.i), Some(b'.' | b'e' | b'E' | b'j')) {
            return self.err("a number that is not an integer");
        }
        text.parse::<i128>()
            .map(Lit::Int)
            .or_else(|_| self.err("an integer too large"))
    }
}

enum Item {
    One(Lit),
    Pair(Lit, Lit),
}

fn singles(items: Vec<Item>) -> Result<Vec<Lit>, String> {
    items
        .into_iter()
        .map(|i| match i {
            Item::One(v) => Ok(v),
            Item::Pair(..) => Err("':' outside a dict".to_string()),
        })
        .collect()
}

fn pairs(items: Vec<Item>) -> Result<Vec<(Lit, Lit)>, String> {
    items
        .into_iter()
        .map(|i| match i {
            Item::Pair(k, v) => Ok((k, v)),
            Item::One(_) => Err("a dict entry without a value".to_string()),
        })
        .collect()
}

/// What a valid header says.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyHeader {
    pub descr: String,
    pub object: bool,
    pub fortran_order: bool,
    pub shape: Vec<u64>,
    /// Bytes of the array's data (`None` for object arrays, whose data is a
    /// pickle, and dtypes whose size this reader does not compute).
    pub data_bytes: Option<u64>,
}

/// numpy's limit on a header's length unless allow_pickle is set
/// (numpy/lib/format.py `_MAX_HEADER_SIZE`).
pub const NUMPY_MAX_HEADER: usize = 10_000;

/// Checks a header's text as numpy's `_read_array_header` does.
pub fn parse(text: &str) -> Result<NpyHeader, String> {
    let mut p = P {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p
        .value(0)
        .map_err(|e| format!("the header is not a dict literal numpy's safe_eval accepts: {e}"))?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!(
            "the header has text after its literal at character {}",
            p.i
        ));
    }
    let Lit::Dict(entries) = v else {
        return Err("the header is not a dictionary".into());
    };
    let mut keys: Vec<String> = entries
        .iter()
        .map(|(k, _)| match k {
            Lit::Str(s) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    keys.sort();
    if keys != ["descr", "fortran_order", "shape"] {
        return Err(format!(
            "the header's keys are {keys:?}, numpy requires exactly descr, fortran_order and shape"
        ));
    }
    let get = |k: &str| {
        entries
            .iter()
            .find(|(key, _)| *key == Lit::Str(k.into()))
            .map(|(_, v)| v)
    };
    let Some(Lit::Bool(fortran_order)) = get("fortran_order") else {
        return Err("fortran_order is not a bool".into());
    };
    let Some(Lit::Tuple(dims)) = get("shape") else {
        return Err("shape is not a tuple".into());
    };
    let mut shape = Vec::new();
    for d in dims {
        match d {
            Lit::Int(n) if *n >= 0 && *n <= i64::MAX as i128 => shape.push(*n as u64),
            Lit::Int(n) if *n < 0 => return Err(format!("shape has a negative dimension {n}")),
            _ => return Err("shape holds something other than integers".into()),
        }
    }
    let elements = shape
        .iter()
        .try_fold(1u64, |n, d| n.checked_mul(*d))
        .filter(|n| *n <= i64::MAX as u64)
        .ok_or_else(|| format!("shape {shape:?} overflows the element count"))?;
    let descr = get("descr").ok_or("descr is missing")?;
    let (descr_text, object, itemsize) = dtype(descr)?;
    let data_bytes = if object {
        None
    } else {
        match itemsize {
            Some(size) => Some(
                elements
                    .checked_mul(size)
                    .filter(|n| *n <= i64::MAX as u64)
                    .ok_or_else(|| {
                        format!("shape {shape:?} of {size}-byte items overflows the array's size")
                    })?,
            ),
            None => None,
        }
    };
    Ok(NpyHeader {
        descr: descr_text,
        object,
        fortran_order: *fortran_order,
        shape,
        data_bytes,
    })
}

/// A dtype descriptor: its text, whether it holds objects, its item size.
fn dtype(d: &Lit) -> Result<(String, bool, Option<u64>), String> {
    match d {
        Lit::Str(s) => simple(s).map(|(o, size)| (s.clone(), o, size)),
        // Structured: [(name, descr[, shape]), …]
        Lit::List(fields) => {
            let mut object = false;
            let mut total: Option<u64> = Some(0);
            for f in fields {
                let Lit::Tuple(parts) = f else {
                    return Err("a structured descr field is not a tuple".into());
                };
                let (name, sub, shape) = match parts.as_slice() {
                    [n, d] => (n, d, None),
                    [n, d, s] => (n, d, Some(s)),
                    _ => {
                        return Err("a structured descr field is not (name, dtype[, shape])".into());
                    }
                };
                if !matches!(name, Lit::Str(_) | Lit::Tuple(_)) {
                    return Err("a structured descr field name is not a string".into());
                }
                let (_, o, size) = dtype(sub)?;
                object |= o;
                let count = match shape {
                    None => Some(1u64),
                    Some(Lit::Int(n)) if *n >= 0 => u64::try_from(*n).ok(),
                    Some(Lit::Tuple(ds)) => ds.iter().try_fold(1u64, |acc, d| match d {
                        Lit::Int(n) if *n >= 0 => acc.checked_mul(u64::try_from(*n).ok()?),
                        _ => None,
                    }),
                    _ => return Err("a structured descr field shape is not valid".into()),
                };
                total = match (total, size, count) {
                    (Some(t), Some(s), Some(c)) => s.checked_mul(c).and_then(|x| t.checked_add(x)),
                    _ => None,
                };
            }
            Ok(("structured".into(), object, total))
        }
        _ => Err("descr is not a valid dtype descriptor".into()),
    }
}

/// `'<f4'`, `'|O'`, `'<U10'`, `'<M8[ns]'` …: object-ness and item size.
fn simple(s: &str) -> Result<(bool, Option<u64>), String> {
    let bad = || format!("descr {s:?} is not a valid dtype descriptor");
    let body = s.strip_prefix(['<', '>', '|', '=']).unwrap_or(s);
    let kind = body.chars().next().ok_or_else(bad)?;
    let rest = &body[kind.len_utf8()..];
    let (digits, unit) = match rest.find('[') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    if kind == 'O' {
        return if digits.is_empty() || digits == "8" {
            Ok((true, None))
        } else {
            Err(bad())
        };
    }
    let n: u64 = if digits.is_empty() {
        match kind {
            'b' | '?' => 1,
            _ => return Err(bad()),
        }
    } else {
        digits.parse().map_err(|_| bad())?
    };
    let size = match kind {
        'b' | '?' | 'i' | 'u' | 'f' | 'c' | 'V' | 'S' | 'a' => n,
        'U' => n.checked_mul(4).ok_or_else(bad)?,
        'M' | 'm' if unit.is_some_and(|u| u.ends_with(']')) && n == 8 => 8,
        _ => return Err(bad()),
    };
    Ok((false, Some(size)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_numpy_writes_parse() {
        let h = parse("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }").expect("ok");
        assert_eq!(
            (h.shape.as_slice(), h.data_bytes, h.object),
            (&[3u64, 4][..], Some(48), false)
        );
        let h = parse("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }").expect("ok");
        assert!(h.object && h.data_bytes.is_none());
        let h = parse(
            "{'descr': [('a', '<i8'), ('b', '<f4', (2,))], 'fortran_order': True, 'shape': (5,), }",
        )
        .expect("ok");
        assert_eq!(h.data_bytes, Some(5 * 16));
        let h = parse("{'descr': '<U3', 'fortran_order': False, 'shape': (), }").expect("ok");
        assert_eq!(h.data_bytes, Some(12));
        assert!(parse("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1L,), }").is_ok());
    }

    #[test]
    fn code_like_and_overflowing_headers_are_errors() {
        for (text, want) in [
            (
                "{'descr': __import__('os').system('id'), 'fortran_order': False, 'shape': (1,)}",
                "name, call",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2**62,)}",
                "expected ','",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}",
                "overflows",
            ),
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (1152921504606846976,)}",
                "overflows the array",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
                "negative",
            ),
            (
                "{'descr': '<q9', 'fortran_order': False, 'shape': (1,)}",
                "not a valid dtype",
            ),
            ("{'descr': '<f4', 'shape': (1,)}", "exactly descr"),
            (
                "{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}",
                "not a bool",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
                "not a tuple",
            ),
            ("['descr']", "not a dictionary"),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} + 1",
                "after its literal",
            ),
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.contains(want), "{text}: {e}");
        }
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).is_err());
    }
}
