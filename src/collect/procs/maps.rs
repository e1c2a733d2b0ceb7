//! The file-backed mappings listed in /proc/PID/maps.
//!
//! Parsed here rather than with procfs's `Process::maps`, because the kernel prints
//! a mapped file's name as raw bytes (only a newline is escaped, as `\012`) and
//! procfs 0.18 reads the file as UTF-8: one model named in Latin-1 made the whole
//! list an error, hiding every model the server had mapped. Its reader also
//! slices a name starting `/SYSV` at fixed offsets (a panic when shorter than
//! the kernel's shared-memory names) and, on smaps, multiplies a `kB` value
//! unchecked (an overflow the `proc_text` fuzz target found, 2026-12-01).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// One mapping of a file (anonymous and kernel mappings are left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedFile {
    pub start: u64,
    pub end: u64,
    /// As the kernel printed it, including a trailing " (deleted)".
    pub path: PathBuf,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("line {line} of the maps file is not in the kernel's format")]
pub struct MalformedMaps {
    pub line: usize,
}

/// Every file mapping in the text of a maps file, in order.
pub fn parse(text: &[u8]) -> Result<Vec<MappedFile>, MalformedMaps> {
    let mut out = Vec::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let bad = MalformedMaps { line: i + 1 };
        let (start, end, name) = header(line).ok_or(bad)?;
        if is_file(name) {
            out.push(MappedFile {
                start,
                end,
                path: if name.contains(&b'\\') {
                    PathBuf::from(OsStr::from_bytes(&unescape_newlines(name)))
                } else {
                    PathBuf::from(OsStr::from_bytes(name))
                },
            });
        }
    }
    Ok(out)
}

/// `START-END PERMS OFFSET MAJ:MIN INODE [padding NAME]` → (start, end, NAME).
fn header(line: &[u8]) -> Option<(u64, u64, &[u8])> {
    let mut fields = line.splitn(6, |&b| b == b' ');
    let range = fields.next()?;
    let perms = fields.next()?;
    let offset = fields.next()?;
    let dev = fields.next()?;
    let inode = fields.next()?;
    let rest = fields.next().unwrap_or_default();

    let dash = range.iter().position(|&b| b == b'-')?;
    let start = hex(&range[..dash])?;
    let end = hex(&range[dash + 1..])?;
    let colon = dev.iter().position(|&b| b == b':')?;
    let well_formed = perms.len() == 4
        && hex(offset).is_some()
        && hex(&dev[..colon]).is_some()
        && hex(&dev[colon + 1..]).is_some()
        && !inode.is_empty()
        && inode.iter().all(u8::is_ascii_digit);
    if !well_formed {
        return None;
    }
    let pad = rest.iter().take_while(|&&b| b == b' ').count();
    Some((start, end, &rest[pad..]))
}

fn hex(field: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(field).ok()?;
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// A path, not `[heap]`, `[anon:NAME]` and the like, nor System V shared memory
/// (`/SYSV` and eight hex digits, which names no file).
fn is_file(name: &[u8]) -> bool {
    if !name.starts_with(b"/") {
        return false;
    }
    let shm = name
        .strip_prefix(b"/SYSV")
        .map(|r| r.strip_suffix(b" (deleted)").unwrap_or(r))
        .is_some_and(|r| r.len() == 8 && r.iter().all(u8::is_ascii_hexdigit));
    !shm
}

/// The kernel writes a newline in a name as `\012`. It does not escape a
/// backslash, so a name holding those four characters reads the same; such a
/// name then fails to open and the model is reported unreadable, not skipped.
fn unescape_newlines(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        if name[i..].starts_with(b"\\012") {
            out.push(b'\n');
            i += 4;
        } else {
            out.push(name[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernels_lines_give_files_only() {
        let text = b"55d0c0a00000-55d0c0a21000 r--p 00000000 08:01 1234                       /usr/bin/llama-server\n\
7f00aa000000-7f00ab000000 r--s 00000000 fd:00 99                         /models/caf\xe9 model.gguf\n\
7f00ab000000-7f00ab001000 rw-s 00000000 00:01 5                          /SYSV0000abcd (deleted)\n\
7f00ab001000-7f00ab002000 r--p 00000000 00:1a 7                          /tmp/new\\012line.gguf (deleted)\n\
7f00ab002000-7f00ab003000 rw-p 00000000 00:00 0                          [heap]\n\
7f00ab003000-7f00ab004000 rw-p 00000000 00:00 0 \n\
7f00ab004000-7f00ab005000 rw-p 00000000 00:00 0                          [anon:/models/x]\n\
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n";
        let files = parse(text).expect("kernel shape");
        let paths: Vec<&[u8]> = files
            .iter()
            .map(|f| f.path.as_os_str().as_bytes())
            .collect();
        assert_eq!(
            paths,
            [
                &b"/usr/bin/llama-server"[..],
                b"/models/caf\xe9 model.gguf",
                b"/tmp/new\nline.gguf (deleted)",
            ]
        );
        assert_eq!(
            (files[1].start, files[1].end),
            (0x7f00aa000000, 0x7f00ab000000)
        );
    }

    #[test]
    fn a_file_named_like_shared_memory_but_not_its_shape_is_a_file() {
        let text = b"1000-2000 r--p 00000000 08:01 12 /SYSVab\n";
        let files = parse(text).expect("parses");
        assert_eq!(files.len(), 1);
    }

    #[test]
    fn text_not_from_the_kernel_is_an_error_with_its_line() {
        for bad in [
            &b"1000-2000 r--p 00000000 08:01 12 /a\nnot a mapping\n"[..],
            b"1000-2000 r--p 00000000 08:01 12 /a\n\n1000 r--p 0 08:01 12 /b\n",
            b"1000-2000 r--p 00000000 0801 12 /a\n",
            b"1000-2000 r--p 00000000 08:01 1x /a\n",
            b"1000-\xe9 r--p 00000000 08:01 1 /a\n",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            parse(b"1000-2000 r--p 0 08:01 1 /a\nx\n"),
            Err(MalformedMaps { line: 2 })
        );
    }
}
