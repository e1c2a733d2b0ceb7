//! A streaming protobuf wire-format reader over `Read + Seek`.
//!
//! Why not prost or protobuf: they decode a whole message from memory, and an
//! ONNX ModelProto holds its weights inline (TensorProto.raw_data, up to 2 GB)
//! inside the very message whose other fields we want. This reader yields one
//! field key at a time; the caller reads the few fields it needs and the rest
//! (weights above all) is seeked over, never read. Every length is checked
//! against its enclosing message and the file's end before it is trusted.
//! Bounds: fields visited, bytes actually read, and string lengths (callers
//! pass a cap per string); nesting depth is the caller's (it knows the schema).

use std::io::{Read, Seek, SeekFrom};

/// Most field keys visited in one file.
pub const MAX_FIELDS: u64 = 4_000_000;
/// Most bytes actually read (skips below `SEEK_OVER` are read and count).
pub const MAX_READ_BYTES: u64 = 128 * 1024 * 1024;
/// Fields at least this long are seeked over; shorter ones are read past,
/// which a buffered reader serves without a system call.
const SEEK_OVER: u64 = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    /// The bytes are not valid protobuf here (or end too early).
    Malformed(String),
    /// A bound was reached: what was read so far is valid but partial.
    Cap(String),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Malformed(s) | WireError::Cap(s) => f.write_str(s),
        }
    }
}

/// A field's payload as far as the key tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    Varint(u64),
    /// Fixed 32/64-bit values, already passed over.
    Fixed,
    /// A length-delimited field of this many bytes, starting at `pos()`: the
    /// caller reads it, descends into it, or calls `skip`.
    Len(u64),
}

pub struct Wire<R> {
    r: R,
    pos: u64,
    len: u64,
    read: u64,
    fields: u64,
}

impl<R: Read + Seek> Wire<R> {
    /// Start at the reader's beginning; `len` is the file's size.
    pub fn new(mut r: R) -> Result<Self, WireError> {
        let len = r
            .seek(SeekFrom::End(0))
            .and_then(|n| r.seek(SeekFrom::Start(0)).map(|_| n))
            .map_err(|e| WireError::Malformed(format!("cannot seek: {e}")))?;
        Ok(Wire {
            r,
            pos: 0,
            len,
            read: 0,
            fields: 0,
        })
    }

    pub fn pos(&self) -> u64 {
        self.pos
    }

    pub fn file_len(&self) -> u64 {
        self.len
    }

    fn malformed<T>(&self, what: &str) -> Result<T, WireError> {
        Err(WireError::Malformed(format!(
            "{what} at offset {} of {}",
            self.pos, self.len
        )))
    }

    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), WireError> {
        self.read += buf.len() as u64;
        if self.read > MAX_READ_BYTES {
            return Err(WireError::Cap(format!(
                "stopped after reading {MAX_READ_BYTES} bytes"
            )));
        }
        if let Err(e) = self.r.read_exact(buf) {
            return self.malformed(&format!("read failed ({e})"));
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn varint(&mut self, end: u64) -> Result<u64, WireError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            if self.pos >= end {
                return self.malformed("truncated varint");
            }
            let mut b = [0u8; 1];
            self.read_exact(&mut b)?;
            v |= u64::from(b[0] & 0x7f) << (7 * i);
            if b[0] & 0x80 == 0 {
                return Ok(v);
            }
        }
        self.malformed("varint longer than 10 bytes")
    }

    /// One varint of a packed repeated field that ends at `end`.
    pub fn varint_in(&mut self, end: u64) -> Result<u64, WireError> {
        self.varint(end)
    }

    /// The next field of the message ending at `end`, or `None` at its end.
    pub fn next_field(&mut self, end: u64) -> Result<Option<(u32, Payload)>, WireError> {
        if self.pos == end {
            return Ok(None);
        }
        if self.pos > end {
            return self.malformed("field runs past its message");
        }
        self.fields += 1;
        if self.fields > MAX_FIELDS {
            return Err(WireError::Cap(format!(
                "stopped after {MAX_FIELDS} protobuf fields"
            )));
        }
        let key = self.varint(end)?;
        let field = key >> 3;
        if field == 0 || field > (1 << 29) - 1 {
            return self.malformed(&format!("invalid field number {field}"));
        }
        let payload = match key & 7 {
            0 => Payload::Varint(self.varint(end)?),
            1 => {
                self.skip(8, end)?;
                Payload::Fixed
            }
            5 => {
                self.skip(4, end)?;
                Payload::Fixed
            }
            2 => {
                let n = self.varint(end)?;
                if n > end - self.pos {
                    return self.malformed(&format!(
                        "field {field} claims {n} bytes, {} are left in its message",
                        end - self.pos
                    ));
                }
                Payload::Len(n)
            }
            wt => return self.malformed(&format!("unsupported wire type {wt} (field {field})")),
        };
        Ok(Some((field as u32, payload)))
    }

    /// Pass over `n` bytes that must lie before `end` (and the file's end).
    pub fn skip(&mut self, n: u64, end: u64) -> Result<(), WireError> {
        if n > end.saturating_sub(self.pos) || self.pos + n > self.len {
            return self.malformed(&format!("{n} bytes to skip run past the end"));
        }
        if n >= SEEK_OVER {
            self.r
                .seek(SeekFrom::Current(n as i64))
                .map_err(|e| WireError::Malformed(format!("seek failed: {e}")))?;
            self.pos += n;
            return Ok(());
        }
        let mut buf = [0u8; 1024];
        let mut left = n;
        while left > 0 {
            let k = left.min(buf.len() as u64) as usize;
            self.read_exact(&mut buf[..k])?;
            left -= k as u64;
        }
        Ok(())
    }

    /// Read a length-delimited field of `n` bytes, keeping at most `cap`
    /// (the rest is skipped). Returns the bytes and whether they were cut.
    pub fn bytes(&mut self, n: u64, cap: usize) -> Result<(Vec<u8>, bool), WireError> {
        let end = self.pos + n;
        if end > self.len {
            return self.malformed(&format!("{n} bytes run past the end"));
        }
        let keep = n.min(cap as u64) as usize;
        let mut buf = vec![0u8; keep];
        self.read_exact(&mut buf)?;
        let rest = n - keep as u64;
        self.skip(rest, end)?;
        Ok((buf, rest > 0))
    }

    /// As `bytes`, decoded as UTF-8 (invalid sequences replaced).
    pub fn string(&mut self, n: u64, cap: usize) -> Result<(String, bool), WireError> {
        let (b, cut) = self.bytes(n, cap)?;
        Ok((String::from_utf8_lossy(&b).into_owned(), cut))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn reads_varints_strings_and_skips() {
        // field 1 varint 300, field 2 "hi", field 3 fixed32, field 4 fixed64
        let b = [
            0x08, 0xac, 0x02, 0x12, 0x02, b'h', b'i', 0x1d, 1, 2, 3, 4, 0x21, 1, 2, 3, 4, 5, 6, 7,
            8,
        ];
        let mut w = Wire::new(Cursor::new(&b[..])).unwrap();
        let end = w.file_len();
        assert_eq!(w.next_field(end).unwrap(), Some((1, Payload::Varint(300))));
        let Some((2, Payload::Len(n))) = w.next_field(end).unwrap() else {
            panic!()
        };
        assert_eq!(w.string(n, 1).unwrap(), ("h".to_string(), true));
        assert_eq!(w.next_field(end).unwrap(), Some((3, Payload::Fixed)));
        assert_eq!(w.next_field(end).unwrap(), Some((4, Payload::Fixed)));
        assert_eq!(w.next_field(end).unwrap(), None);
    }

    #[test]
    fn hostile_lengths_and_types_are_errors() {
        for bad in [
            &[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f, b'x'][..], // length past the end
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ], // 11-byte varint
            &[0x0b, 0x00],                                   // group start
            &[0x00, 0x01],                                   // field 0
            &[0x08],                                         // truncated varint
            &[0x21, 1, 2],                                   // truncated fixed64
        ] {
            let mut w = Wire::new(Cursor::new(bad)).unwrap();
            let end = w.file_len();
            let r = w.next_field(end);
            assert!(
                matches!(r, Err(WireError::Malformed(_))),
                "{bad:?} gave {r:?}"
            );
        }
    }
}
