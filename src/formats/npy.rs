//! NumPy `.npy`: a small header (a Python dict literal) then the data. An object
//! array's data is a pickle, so loading it with allow_pickle=True runs whatever
//! that pickle imports. Only the header's `descr` is read here (format spec:
//! numpy/lib/format.py); the payload goes to the pickle walker.

use std::io::Read;
use std::path::Path;

use super::npy_header::NpyHeader;
use super::pickle::scan;
use crate::knowledge::pickle_rules::PickleRules;
use crate::model::pickle::PickleReport;

/// Header cap: numpy pads headers to 64 bytes; real ones are well under 4 KiB.
pub(super) const HEADER_CAP: usize = 64 * 1024;
/// Object-array payloads above this are not read.
pub(super) const PAYLOAD_CAP: u64 = 256 * 1024 * 1024;

/// `Some(header text)` for a well-formed prefix, with the payload offset.
pub(super) fn header(head: &[u8]) -> Result<(String, usize), String> {
    if !head.starts_with(b"\x93NUMPY") || head.len() < 10 {
        return Err("not an .npy file".into());
    }
    let major = head[6];
    let (len, start) = match major {
        1 => (u16::from_le_bytes([head[8], head[9]]) as usize, 10),
        2 | 3 => {
            let b = head.get(8..12).ok_or("truncated header length")?;
            (u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize, 12)
        }
        v => return Err(format!("unknown .npy format version {v}")),
    };
    if len > HEADER_CAP {
        return Err(format!("header claims {len} bytes (cap {HEADER_CAP})"));
    }
    let text = head.get(start..start + len).ok_or("truncated header")?;
    Ok((String::from_utf8_lossy(text).into_owned(), start + len))
}

/// The header checked as numpy checks it, and for plain arrays whether the
/// file holds all of the array's bytes (`payload`: bytes after the header).
pub(super) fn checked(text: &str, start: usize, payload: Option<u64>) -> Result<NpyHeader, String> {
    let h = super::npy_header::parse(text)
        .map_err(|e| format!("np.load refuses the header (which ends at offset {start}): {e}"))?;
    if let (Some(need), Some(have)) = (h.data_bytes, payload)
        && have < need
    {
        return Err(format!(
            "the array needs {need} bytes of data after the header (offset {start}), the file holds {have}"
        ));
    }
    Ok(h)
}

/// The pickle walk of an object array's payload; `Ok(None)` for plain arrays.
pub fn scan_npy(path: &Path, rules: &PickleRules) -> Result<Option<PickleReport>, String> {
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = f.metadata().map_err(|e| e.to_string())?.len();
    let mut head = vec![0u8; HEADER_CAP + 12];
    let mut filled = 0;
    while filled < head.len() {
        match f.read(&mut head[filled..]).map_err(|e| e.to_string())? {
            0 => break,
            n => filled += n,
        }
    }
    head.truncate(filled);
    let (text, offset) = header(&head)?;
    let h = checked(&text, offset, Some(len.saturating_sub(offset as u64)))?;
    if !h.object {
        return Ok(None);
    }
    let mut payload = head.split_off(offset.min(head.len()));
    f.take(PAYLOAD_CAP)
        .read_to_end(&mut payload)
        .map_err(|e| e.to_string())?;
    Ok(Some(scan(&payload, rules)))
}

/// As [`scan_npy`], for a whole `.npy` held in memory (fuzzing, tests).
pub fn scan_npy_bytes(bytes: &[u8], rules: &PickleRules) -> Result<Option<PickleReport>, String> {
    let head = &bytes[..bytes.len().min(HEADER_CAP + 12)];
    let (text, offset) = header(head)?;
    let have = bytes.len().saturating_sub(offset) as u64;
    if !checked(&text, offset, Some(have))?.object {
        return Ok(None);
    }
    let end = bytes.len().min(offset.saturating_add(PAYLOAD_CAP as usize));
    Ok(Some(scan(
        bytes.get(offset..end).unwrap_or_default(),
        rules,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pickle::PickleVerdict;

    fn fixture(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/npy")
            .join(name)
    }

    #[test]
    fn object_arrays_written_by_numpy_are_walked() {
        let rules = PickleRules::embedded().expect("rules");
        assert_eq!(scan_npy(&fixture("plain.npy"), &rules), Ok(None));
        let objects = scan_npy(&fixture("objects.npy"), &rules)
            .expect("read")
            .expect("object array");
        assert_ne!(
            crate::rules::pickle::verdict(&objects),
            PickleVerdict::Dangerous,
            "{objects:#?}"
        );
        let evil = scan_npy(&fixture("evil.npy"), &rules)
            .expect("read")
            .expect("object array");
        assert_eq!(
            crate::rules::pickle::verdict(&evil),
            PickleVerdict::Dangerous,
            "{evil:#?}"
        );
        assert!(evil.globals.iter().any(|g| g.name == "system"), "{evil:#?}");
    }

    #[test]
    fn hostile_headers_fail_cleanly() {
        assert!(header(b"\x93NUMPY\x01\x00").is_err());
        assert!(header(b"\x93NUMPY\x01\x00\xff\xff{'descr'").is_err());
        assert!(header(b"\x93NUMPY\x09\x00\x10\x00{}").is_err());
        assert!(header(b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{").is_err());
        let bytes = std::fs::read(fixture("evil.npy")).expect("fixture");
        for cut in 0..bytes.len() {
            let _ = header(&bytes[..cut]);
        }
    }
}
