//! Model-file recognition by content. A file's name can lie; its first bytes
//! rarely do. Only a short header is read, never the file.

use std::io::{Read, Seek};
use std::path::Path;

use crate::model::ModelFormat;

/// Bytes read from the start of a file: enough for every magic below and for
/// the first zip member's name.
pub const HEADER_LEN: usize = 512;

// Safetensors headers are JSON; real ones are kilobytes to a few MB. A larger
// length is not a safetensors file, whatever its first byte says.
const SAFETENSORS_MAX_HEADER: u64 = 100 * 1024 * 1024;

/// Classify the first bytes of a file.
pub fn sniff(head: &[u8]) -> Option<ModelFormat> {
    if head.starts_with(b"GGUF") && head.len() >= 8 {
        let version = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        return Some(ModelFormat::Gguf { version });
    }
    if head.starts_with(b"\x93NUMPY") {
        return Some(ModelFormat::Numpy);
    }
    if head.starts_with(b"PK\x03\x04") {
        // torch.save names its first member <archive>/data.pkl; numpy.savez
        // names every member <key>.npy.
        return match first_zip_member(head) {
            Some(name) if name.ends_with("data.pkl") => Some(ModelFormat::PytorchZip),
            Some(name) if name.ends_with(".npy") => Some(ModelFormat::Npz),
            _ => None,
        };
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
    None
}

/// Name of the first local file header of a zip archive, if it fits in `head`.
fn first_zip_member(head: &[u8]) -> Option<&str> {
    let len = u16::from_le_bytes([*head.get(26)?, *head.get(27)?]) as usize;
    let name = head.get(30..30 + len)?;
    std::str::from_utf8(name).ok()
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
            Ok(super::npz::sniff_archive(std::io::BufReader::new(f)))
        }
        None if super::joblib::compression_of(head).is_some() => {
            f.seek(std::io::SeekFrom::Start(0))?;
            Ok(super::joblib::sniff_compressed(f)
                .map(|compression| ModelFormat::Joblib { compression }))
        }
        found => Ok(found),
    }
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
