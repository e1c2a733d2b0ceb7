//! Model-file recognition by content. A file's name can lie; its first bytes
//! rarely do. Only a short header is read, never the file.

use std::io::{Read, Seek};
use std::path::Path;

use crate::model::ModelFormat;
use crate::model::archive::ArchiveKind;

/// Bytes read from the start of a file: enough for every magic below, the
/// first zip member's name and the first fields of an ONNX ModelProto.
pub const HEADER_LEN: usize = 512;

// Safetensors headers are JSON; real ones are kilobytes to a few MB. A larger
// length is not a safetensors file, whatever its first byte says.
const SAFETENSORS_MAX_HEADER: u64 = 100 * 1024 * 1024;

/// Classify the first bytes of a file.
pub fn sniff(head: &[u8]) -> Option<ModelFormat> {
    if head.starts_with(b"GGUF") && head.len() >= 8 {
        let version = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        // A big-endian file's version reads byte-swapped.
        let version = match version.swap_bytes() {
            v @ 1..=3 if version > 3 => v,
            _ => version,
        };
        return Some(ModelFormat::Gguf { version });
    }
    if head.starts_with(b"\x93NUMPY") {
        return Some(ModelFormat::Numpy);
    }
    if head.starts_with(b"PK\x03\x04") {
        // torch.save names its first member <archive>/data.pkl; numpy.savez
        // names every member <key>.npy; Keras 3 starts with its config.
        return first_zip_member(head).and_then(|name| {
            if name.ends_with("data.pkl") {
                Some(ModelFormat::PytorchZip)
            } else if name.ends_with(".npy") {
                Some(ModelFormat::Npz)
            } else if KERAS_MEMBERS.contains(&name) {
                // Confirmed from the central directory by `sniff_file`.
                Some(ModelFormat::Keras)
            } else {
                None
            }
        });
    }
    if head.starts_with(super::hdf5::SIGNATURE) {
        return Some(ModelFormat::Hdf5);
    }
    if super::torch_legacy::sniff(head) {
        return Some(ModelFormat::PytorchLegacy);
    }
    if let Some(compression) = super::joblib::sniff_compressed(head) {
        return Some(ModelFormat::Joblib { compression });
    }
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Some(ModelFormat::Pickle { protocol: head[1] });
    }
    if head.len() >= 9 && head[8] == b'{' {
        let mut len = [0u8; 8];
        len.copy_from_slice(&head[..8]);
        let n = u64::from_le_bytes(len);
        if (2..=SAFETENSORS_MAX_HEADER).contains(&n) {
            return Some(ModelFormat::Safetensors);
        }
    }
    if super::onnx::looks_like_onnx(head) {
        return Some(ModelFormat::Onnx);
    }
    None
}

/// Members a Keras 3 archive starts with (saving_lib writes metadata.json first).
const KERAS_MEMBERS: [&str; 3] = ["metadata.json", "config.json", "model.weights.h5"];

/// Name of the first local file header of a zip archive, if it fits in `head`.
fn first_zip_member(head: &[u8]) -> Option<&str> {
    let len = u16::from_le_bytes([*head.get(26)?, *head.get(27)?]) as usize;
    let name = head.get(30..30 + len)?;
    std::str::from_utf8(name).ok()
}

/// What the snapshot's discovery and `aiposture scan` both go by: the file's
/// content, and for a file named as a pickle whose content has no magic
/// (protocols 0 and 1, a cut or broken stream), the pickle reading anyway, so
/// a file `scan` would judge is never "no model" to discovery.
pub fn recognise(path: &Path) -> std::io::Result<Option<ModelFormat>> {
    Ok(match sniff_file(path)? {
        Some(f) => Some(f),
        None if named_as_pickle(path) => Some(ModelFormat::Pickle { protocol: 0 }),
        None => None,
    })
}

/// Extensions that only pickles (or zips of them, sniffed by content) carry.
fn named_as_pickle(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .is_some_and(|e| {
            matches!(
                e.as_str(),
                "pkl" | "pickle" | "pt" | "pth" | "ckpt" | "joblib" | "dill" | "sav"
            )
        })
}

/// Read the header of the file at `path` and classify it. Errors are returned
/// so the caller can tell an unreadable file from a non-model one.
pub fn sniff_file(path: &Path) -> std::io::Result<Option<ModelFormat>> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = [0u8; HEADER_LEN];
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let head = &buf[..filled];
    match sniff(head) {
        // bz2 and lz4 decode whole blocks: their first bytes need more than
        // the header, read through a capped decoder.
        None if head.starts_with(b"PK\x03\x04") => {
            f.seek(std::io::SeekFrom::Start(0))?;
            if let Some(found) = super::npz::sniff_archive(std::io::BufReader::new(&f)) {
                return Ok(Some(found));
            }
            // Any other zip that holds a model or a member that cannot be
            // read: judged member by member.
            f.seek(std::io::SeekFrom::Start(0))?;
            Ok(
                zip_holds_models(std::io::BufReader::new(f)).then_some(ModelFormat::Archive {
                    archive: ArchiveKind::Zip,
                }),
            )
        }
        // A 7z names no content without decoding it: every one is judged.
        None if head.starts_with(SEVEN_Z_MAGIC) => Ok(Some(ModelFormat::Archive {
            archive: ArchiveKind::SevenZ,
        })),
        None if is_tar(head) => {
            f.seek(std::io::SeekFrom::Start(0))?;
            Ok(
                tar_holds_models(std::io::BufReader::new(f)).then_some(ModelFormat::Archive {
                    archive: ArchiveKind::Tar,
                }),
            )
        }
        None if super::joblib::compression_of(head).is_some() => {
            f.seek(std::io::SeekFrom::Start(0))?;
            Ok(super::joblib::sniff_compressed(f)
                .map(|compression| ModelFormat::Joblib { compression }))
        }
        // The first member fits; the central directory must agree.
        Some(ModelFormat::Keras) => {
            let keras = super::keras::zip_members(std::io::BufReader::new(f))
                .is_ok_and(|(_, names)| super::keras::is_keras_layout(&names));
            Ok(keras.then_some(ModelFormat::Keras))
        }
        Some(found) => Ok(Some(found)),
        // HDF5 may start after a user block.
        None if hdf5_after_user_block(&f) => Ok(Some(ModelFormat::Hdf5)),
        // Protocol 0/1 pickles have no magic: their opcodes must parse and the
        // file must end with STOP, as every pickle.dump output does.
        None => Ok(text_pickle(head)
            .filter(|_| ends_with_stop(&mut f))
            .map(|protocol| ModelFormat::Pickle { protocol })),
    }
}

fn ends_with_stop(f: &mut std::fs::File) -> bool {
    use std::io::{Seek, SeekFrom};
    let mut last = [0u8; 1];
    f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok() && last[0] == b'.'
}

/// Opcodes a protocol 0 or 1 stream needs before the header ends, when the
/// header holds no STOP: enough that text rarely parses this far by chance.
const TEXT_PICKLE_MIN_OPCODES: usize = 8;

/// Does `head` parse as the start of a protocol 0 (text) or 1 pickle? Returns
/// the protocol: 1 when a binary opcode was seen. Arguments are checked as the
/// unpickler would read them; prose, JSON or ELF fail within a few bytes.
pub fn text_pickle(head: &[u8]) -> Option<u8> {
    // A newline-terminated argument of printable ASCII, and where the next opcode is.
    let line = |i: usize| -> Option<(&[u8], usize)> {
        let rest = head.get(i..)?;
        let end = rest.iter().position(|&b| b == b'\n')?;
        let l = &rest[..end];
        l.iter()
            .all(|&b| (0x20..0x7f).contains(&b))
            .then_some((l, i + end + 1))
    };
    let ident = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    };
    let number = |s: &[u8]| {
        !s.is_empty()
            && s.iter().all(|&b| {
                b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'L')
            })
    };
    let mut i = 0usize;
    let mut opcodes = 0usize;
    let mut binary = false;
    while i < head.len() {
        let op = head[i];
        i += 1;
        opcodes += 1;
        let (next, bin) = match op {
            b'.' => return (opcodes > 1).then_some(u8::from(binary)),
            b'(' | b'0' | b'2' | b'N' | b'R' | b'a' | b'b' | b'd' | b'l' | b's' | b't' | b'u'
            | b'e' | b'o' | b'1' => (Some(i), false),
            b')' | b']' | b'}' | b'Q' => (Some(i), true),
            b'I' | b'L' | b'F' | b'p' | b'g' => {
                (line(i).and_then(|(l, n)| number(l).then_some(n)), false)
            }
            b'S' => (
                line(i).and_then(|(l, n)| {
                    let quoted =
                        l.len() >= 2 && matches!(l[0], b'\'' | b'"') && l.last() == Some(&l[0]);
                    quoted.then_some(n)
                }),
                false,
            ),
            b'V' | b'P' => (line(i).map(|(_, n)| n), false),
            b'c' | b'i' => (
                line(i).and_then(|(m, n)| {
                    ident(m)
                        .then(|| line(n).and_then(|(name, n2)| ident(name).then_some(n2)))
                        .flatten()
                }),
                false,
            ),
            b'K' | b'h' | b'q' => (Some(i + 1), true),
            b'M' => (Some(i + 2), true),
            b'J' | b'j' | b'r' => (Some(i + 4), true),
            b'G' => (Some(i + 8), true),
            b'U' => (head.get(i).map(|&n| i + 1 + n as usize), true),
            b'T' | b'X' => (
                head.get(i..i + 4)
                    .map(|b| i + 4 + u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize),
                true,
            ),
            _ => (None, false),
        };
        binary |= bin;
        match next {
            Some(n) => i = n,
            // A line argument cut by the end of the header: judge what parsed.
            None if head.len() - i < 256 && opcodes > TEXT_PICKLE_MIN_OPCODES => {
                return Some(u8::from(binary));
            }
            None => return None,
        }
    }
    (opcodes > TEXT_PICKLE_MIN_OPCODES).then_some(u8::from(binary))
}

fn hdf5_after_user_block(f: &std::fs::File) -> bool {
    use std::os::unix::fs::FileExt;
    let sig = super::hdf5::SIGNATURE;
    super::hdf5::SIGNATURE_OFFSETS[1..].iter().any(|&o| {
        let mut b = [0u8; 8];
        f.read_exact_at(&mut b, o).is_ok() && &b == sig
    })
}

/// The 7z signature.
pub const SEVEN_Z_MAGIC: &[u8] = b"7z\xbc\xaf\x27\x1c";

/// Whether a zip is worth judging as a model container: a member sniffs as a
/// model format or an archive, or cannot be read (encrypted, unknown
/// compression). Reads at most the first bytes of each member.
pub fn zip_holds_models<R: Read + Seek>(reader: R) -> bool {
    let Ok(mut z) = zip::ZipArchive::new(reader) else {
        return false;
    };
    (0..z.len().min(10_000)).any(|i| {
        let encrypted = z.by_index_raw(i).is_ok_and(|f| f.encrypted());
        match z.by_index(i) {
            Err(_) => true,
            Ok(f) if f.is_dir() => false,
            Ok(f) => encrypted || head_holds_model(f),
        }
    })
}

/// Whether a tar holds a model-format member (by content) or a nested archive.
pub fn tar_holds_models(reader: impl Read) -> bool {
    let mut t = tar::Archive::new(reader);
    let Ok(entries) = t.entries() else {
        return false;
    };
    entries
        .take(10_000)
        .any(|e| e.is_ok_and(|e| e.header().entry_type().is_file() && head_holds_model(e)))
}

fn head_holds_model(r: impl Read) -> bool {
    let mut head = Vec::new();
    if r.take(super::magic::HEADER_LEN as u64)
        .read_to_end(&mut head)
        .is_err()
    {
        return true;
    }
    sniff(&head).is_some()
        || head.starts_with(b"PK\x03\x04")
        || head.starts_with(SEVEN_Z_MAGIC)
        || is_tar(&head)
        || text_pickle(&head).is_some()
}

/// The POSIX/GNU tar magic at offset 257.
pub fn is_tar(head: &[u8]) -> bool {
    head.get(257..262) == Some(b"ustar")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gguf_with_version() {
        assert_eq!(
            sniff(b"GGUF\x03\x00\x00\x00rest"),
            Some(ModelFormat::Gguf { version: 3 })
        );
    }

    #[test]
    fn safetensors_needs_sane_length_and_json() {
        let mut h = 20u64.to_le_bytes().to_vec();
        h.extend_from_slice(b"{\"a\":1}");
        assert_eq!(sniff(&h), Some(ModelFormat::Safetensors));
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.push(b'{');
        assert_eq!(sniff(&huge), None);
    }

    #[test]
    fn zip_only_counts_with_a_pickle_member() {
        let mut z = b"PK\x03\x04".to_vec();
        z.resize(26, 0);
        z.extend_from_slice(&16u16.to_le_bytes());
        z.extend_from_slice(&[0, 0]);
        z.extend_from_slice(b"archive/data.pkl");
        assert_eq!(sniff(&z), Some(ModelFormat::PytorchZip));
        let mut jar = z[..26].to_vec();
        jar.extend_from_slice(&20u16.to_le_bytes());
        jar.extend_from_slice(&[0, 0]);
        jar.extend_from_slice(b"META-INF/MANIFEST.MF");
        assert_eq!(sniff(&jar), None);
    }

    #[test]
    fn protocol_zero_and_one_pickles_parse_and_text_does_not() {
        assert_eq!(text_pickle(b"cos\nsystem\n(S'echo hi'\ntR."), Some(0));
        assert_eq!(text_pickle(b"(lp0\nI1\naVtwo\np1\naF3.0\na."), Some(0));
        assert_eq!(
            text_pickle(b"]q\x00(K\x01X\x03\x00\x00\x00twoq\x01e."),
            Some(1)
        );
        for text in [
            &b"hello world, this is text."[..],
            b"(a parenthesis starts this sentence).",
            b"{\"json\": true}.",
            b"I am not a number\n.",
            b"cos system\n.",
            b"\x7fELF\x02\x01\x01.",
            b".",
            b"",
        ] {
            assert_eq!(text_pickle(text), None, "{}", String::from_utf8_lossy(text));
        }
    }

    #[test]
    fn new_formats_written_by_real_writers_are_told_by_content() {
        use crate::model::Compression;
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/formats");
        let sniffed = |name: &str| sniff_file(&dir.join(name)).expect("fixture");
        for name in [
            "torch_legacy.pt",
            "torch_legacy_evil.pt",
            "torch_legacy_p4.pt",
            "torch_legacy_p1.pt",
        ] {
            assert_eq!(sniffed(name), Some(ModelFormat::PytorchLegacy), "{name}");
        }
        for name in [
            "plain.npz",
            "compressed.npz",
            "evil.npz",
            "tricks.npz",
            "hidden.npz",
        ] {
            assert_eq!(sniffed(name), Some(ModelFormat::Npz), "{name}");
        }
        for (ext, compression) in [
            ("zlib", Compression::Zlib),
            ("gzip", Compression::Gzip),
            ("bz2", Compression::Bz2),
            ("lzma", Compression::Lzma),
            ("xz", Compression::Xz),
            ("lz4", Compression::Lz4),
        ] {
            let found = sniffed(&format!("model.joblib.{ext}"));
            assert_eq!(found, Some(ModelFormat::Joblib { compression }), "{ext}");
        }
        // Uncompressed joblib is a pickle (analysed with joblib's inline arrays).
        assert_eq!(
            sniffed("model.joblib"),
            Some(ModelFormat::Pickle { protocol: 4 })
        );
    }

    #[test]
    fn elf_text_and_truncated_headers_are_not_models() {
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01"), None);
        assert_eq!(sniff(b"hello world, this is text"), None);
        assert_eq!(sniff(b"GGU"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"PK\x03\x04\x00"), None);
    }
}
