//! Text arguments of protocol 0/1 opcodes, decoded as CPython does.

/// The inside of a protocol-0 STRING argument: quoted with ' or ".
pub(crate) fn quoted(line: &[u8]) -> Option<&[u8]> {
    match line {
        [q, inner @ .., r] if q == r && (*q == b'\'' || *q == b'"') => Some(inner),
        _ => None,
    }
}

/// Python's `codecs.escape_decode` (what STRING uses).
pub(crate) fn escape_decode(s: &[u8]) -> Option<Vec<u8>> {
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
pub(crate) fn raw_unicode_escape(s: &[u8]) -> Option<String> {
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

/// Whether `s` decodes as CPython decodes BINUNICODE arguments:
/// UTF-8 with `surrogatepass` (encoded surrogates ED A0..BF xx allowed).
pub(crate) fn utf8_surrogatepass(mut s: &[u8]) -> bool {
    loop {
        match std::str::from_utf8(s) {
            Ok(_) => return true,
            Err(e) => {
                let at = e.valid_up_to();
                match s.get(at..at + 3) {
                    Some([0xed, 0xa0..=0xbf, 0x80..=0xbf]) => s = &s[at + 3..],
                    _ => return false,
                }
            }
        }
    }
}

/// A protocol-0 INT or LONG argument as Python's `int(text)` reads it
/// (surrounding whitespace, a sign, digits with single underscores);
/// `None` when the loader would refuse it. Values past i64 are `Some(None)`.
pub(crate) fn decimal_int(text: &[u8]) -> Option<Option<i64>> {
    let t = std::str::from_utf8(text).ok()?.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let ok = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !ok {
        return None;
    }
    Some(t.replace('_', "").parse::<i64>().ok())
}

/// A protocol-0 FLOAT argument as Python's `float(text)` reads it.
pub(crate) fn decimal_float(text: &[u8]) -> bool {
    let Ok(t) = std::str::from_utf8(text) else {
        return false;
    };
    let t = t.trim();
    let plain = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if matches!(plain.as_str(), "inf" | "infinity" | "nan") {
        return t.len() - plain.len() <= 1;
    }
    // Underscores only between digits, as in Python literals.
    let b = t.as_bytes();
    let underscores_ok = b.iter().enumerate().all(|(i, &c)| {
        c != b'_'
            || (i > 0 && b[i - 1].is_ascii_digit() && b.get(i + 1).is_some_and(u8::is_ascii_digit))
    });
    underscores_ok
        && t.bytes()
            .all(|c| c.is_ascii_digit() || b"+-.eE_".contains(&c))
        && t.replace('_', "").parse::<f64>().is_ok()
}
