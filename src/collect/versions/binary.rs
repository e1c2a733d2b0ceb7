//! Versions embedded in a server's executable, read through `/proc/PID/exe`
//! (the exact inode the process runs, even when replaced or deleted on disk):
//! Go build info and llama.cpp's build symbols. ELF headers, section headers
//! and symbol tables only, through `object`'s lazy reader; never the code.

use std::fs::File;
use std::path::Path;

use object::read::ReadCache;
use object::{Object, ObjectSection, ObjectSymbol};

use super::gobuild;

/// Symbol and string tables larger than this are not read (a large C++ server has ~3 MiB).
const MAX_SYMTAB: u64 = 64 << 20;
/// Longest C string read from the data segment (a commit hash is 7–40 bytes).
const MAX_CSTR: u64 = 128;

#[derive(Debug, Default, PartialEq)]
pub struct BinaryVersions {
    pub go: Option<Result<gobuild::BuildInfo, String>>,
    pub llama: Option<LlamaBuild>,
}

/// llama.cpp's `common/build-info.cpp`: `int LLAMA_BUILD_NUMBER`, `char const *LLAMA_COMMIT`.
#[derive(Debug, Clone, PartialEq)]
pub struct LlamaBuild {
    pub number: i32,
    pub commit: Option<String>,
}

pub fn read(path: &Path) -> Result<BinaryVersions, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let cache = ReadCache::new(Windowed::new(file).map_err(|e| e.to_string())?);
    let obj = match object::File::parse(&cache) {
        Ok(o) => o,
        // Not an ELF we can read (a script, a foreign format): nothing embedded.
        Err(_) => return Ok(BinaryVersions::default()),
    };
    let mut out = BinaryVersions::default();
    if let Some(sec) = obj.section_by_name(".go.buildinfo") {
        let size = sec.size().min(gobuild::MAX_STRING * 2);
        out.go = Some(
            sec.data_range(sec.address(), size)
                .map_err(|e| e.to_string())
                .and_then(|d| d.ok_or_else(|| "empty .go.buildinfo section".into()))
                .and_then(gobuild::parse),
        );
        // A Go binary does not carry llama.cpp's C++ build info (Ollama's runners are separate files).
        return Ok(out);
    }
    out.llama = llama_build(&obj);
    Ok(out)
}

/// A file read through one 64 KiB window. `ReadCache` seeks and reads 256
/// bytes for every symbol name it looks up: a llama-server's few thousand
/// symbols were ten thousand syscalls per snapshot. Names sit together in the
/// string table, so a window serves them with a handful of reads.
struct Windowed {
    file: File,
    len: u64,
    pos: u64,
    start: u64,
    window: Vec<u8>,
}

const WINDOW: usize = 64 * 1024;

impl Windowed {
    fn new(file: File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(Windowed {
            file,
            len,
            pos: 0,
            start: 0,
            window: Vec::new(),
        })
    }
}

impl std::io::Read for Windowed {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use std::os::unix::fs::FileExt;
        if buf.len() >= WINDOW {
            // A whole section: straight into the caller's buffer.
            let n = self.file.read_at(buf, self.pos)?;
            self.pos += n as u64;
            return Ok(n);
        }
        let end = self.start + self.window.len() as u64;
        if self.pos < self.start || self.pos >= end {
            self.window.resize(WINDOW, 0);
            let n = self.file.read_at(&mut self.window, self.pos)?;
            self.window.truncate(n);
            self.start = self.pos;
        }
        let at = usize::try_from(self.pos - self.start).unwrap_or(usize::MAX);
        let available = self.window.get(at..).unwrap_or_default();
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl std::io::Seek for Windowed {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        use std::io::SeekFrom;
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| std::io::Error::other("seek out of range"))?;
        Ok(self.pos)
    }
}

fn symtab_too_large<'a, R: object::ReadRef<'a>>(obj: &object::File<'a, R>) -> bool {
    [".symtab", ".strtab", ".dynsym", ".dynstr"]
        .iter()
        .filter_map(|n| obj.section_by_name(n))
        .map(|s| s.size())
        .sum::<u64>()
        > MAX_SYMTAB
}

fn llama_build<'a, R: object::ReadRef<'a>>(obj: &object::File<'a, R>) -> Option<LlamaBuild> {
    if symtab_too_large(obj) {
        return None;
    }
    let find = |name: &str| {
        obj.symbols()
            .chain(obj.dynamic_symbols())
            .find(|s| s.name() == Ok(name))
            .map(|s| s.address())
    };
    let number_at = find("LLAMA_BUILD_NUMBER")?;
    let number = read_at(obj, number_at, 4)
        .and_then(|b| b.try_into().ok())
        .map(i32::from_le_bytes)?;
    let commit = find("LLAMA_COMMIT")
        .and_then(|at| pointer_target(obj, at))
        .and_then(|p| c_string(obj, p));
    Some(LlamaBuild { number, commit })
}

fn read_at<'a, R: object::ReadRef<'a>>(
    obj: &object::File<'a, R>,
    addr: u64,
    size: u64,
) -> Option<&'a [u8]> {
    obj.sections()
        .filter(|s| s.address() <= addr && addr < s.address() + s.size())
        .find_map(|s| s.data_range(addr, size).ok().flatten())
}

/// The address a pointer variable holds. In a PIE the linker stores it in place
/// and again as a RELATIVE relocation's addend; take the relocation when the
/// slot is zero (linkers that leave it so).
fn pointer_target<'a, R: object::ReadRef<'a>>(obj: &object::File<'a, R>, at: u64) -> Option<u64> {
    let width = if obj.is_64() { 8 } else { 4 };
    let bytes = read_at(obj, at, width)?;
    let value = match width {
        8 => u64::from_le_bytes(bytes.try_into().ok()?),
        _ => u64::from(u32::from_le_bytes(bytes.try_into().ok()?)),
    };
    if value != 0 {
        return Some(value);
    }
    obj.dynamic_relocations()?
        .find(|(off, _)| *off == at)
        .map(|(_, r)| r.addend() as u64)
}

fn c_string<'a, R: object::ReadRef<'a>>(obj: &object::File<'a, R>, addr: u64) -> Option<String> {
    let sec = obj
        .sections()
        .find(|s| s.address() <= addr && addr < s.address() + s.size())?;
    let len = (sec.address() + sec.size() - addr).min(MAX_CSTR);
    let bytes = sec.data_range(addr, len).ok().flatten()?;
    let end = bytes.iter().position(|&b| b == 0)?;
    let s = std::str::from_utf8(&bytes[..end]).ok()?;
    // A commit hash or `unknown`: anything else is not what we were looking for.
    (!s.is_empty() && s.chars().all(|c| c.is_ascii_graphic())).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom};

    #[test]
    fn the_window_reads_what_the_file_holds_wherever_it_is_sought() {
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let tmp = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(tmp.path(), &bytes).expect("write");
        let mut w = Windowed::new(File::open(tmp.path()).expect("open")).expect("windowed");
        assert_eq!(w.seek(SeekFrom::End(0)).expect("end"), bytes.len() as u64);
        // Short reads inside, across and past a window, backwards, a whole section, the end.
        for (at, len) in [
            (10u64, 256usize),
            (65_500, 256),
            (200, 300),
            (70_000, 100_000),
            (199_990, 256),
        ] {
            w.seek(SeekFrom::Start(at)).expect("seek");
            let mut buf = vec![0; len];
            let mut got = 0;
            while got < len {
                let n = w.read(&mut buf[got..]).expect("read");
                if n == 0 {
                    break;
                }
                got += n;
            }
            let want = &bytes[at as usize..(at as usize + len).min(bytes.len())];
            assert_eq!(&buf[..got], want, "at {at}, {len} bytes");
        }
        assert!(w.seek(SeekFrom::Current(-1_000_000)).is_err());
    }
}
