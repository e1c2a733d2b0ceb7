//! HDF5 files (legacy Keras `.h5`): the superblock signature, then a bounded
//! byte search of the first MiBs for the root group's `model_config`
//! attribute (tf.keras/keras legacy_h5_format: `f.attrs["model_config"] =
//! json.dumps(...).encode("utf8")`). The name found is confirmed by the
//! attribute message header before it, and the value is read as the header
//! says: inline (fixed-length string) or from the global heap collection a
//! variable-length string points to (what h5py writes). No B-tree or object
//! walk: where the value is not in the window, layers are "not checked".
//!
//! Entry points: `read_hdf5(path)` and `parse_hdf5_prefix(bytes)` (a file's first bytes).

use std::io::Read;
use std::path::Path;

use super::keras::walk_config;
use crate::model::keras::KerasReport;
use crate::model::metadata::sanitize;

pub const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
/// Offsets where a superblock may start (0, then powers of two from 512).
pub const SIGNATURE_OFFSETS: [u64; 4] = [0, 512, 1024, 2048];
/// Bytes searched for the model_config attribute.
pub const SEARCH_WINDOW: u64 = 8 * 1024 * 1024;

/// Read the first `SEARCH_WINDOW` bytes of the HDF5 file at `path`.
pub fn read_hdf5(path: &Path) -> Result<KerasReport, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let len = f
        .metadata()
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))?
        .len();
    let mut buf = Vec::new();
    f.take(SEARCH_WINDOW)
        .read_to_end(&mut buf)
        .map_err(|e| format!("read error in {}: {e}", path.display()))?;
    let base =
        signature_offset(&buf).ok_or("no HDF5 signature at offset 0, 512, 1024 or 2048")? as usize;
    // The HDF5 library refuses a file shorter than the end-of-file address
    // its superblock records (H5F__super_read: "truncated file").
    let sb = Superblock::read(&buf, base)?;
    if let Some(eof) = sb.stored_eof
        && len < eof
    {
        return Err(format!(
            "truncated: the superblock at offset {base} records the file's end at {eof}, the file has {len} bytes"
        ));
    }
    parse_hdf5_prefix(&buf)
}

/// Where the HDF5 signature is in `bytes`, if at a superblock offset.
pub fn signature_offset(bytes: &[u8]) -> Option<u64> {
    SIGNATURE_OFFSETS.into_iter().find(|&o| {
        bytes
            .get(o as usize..o as usize + SIGNATURE.len())
            .is_some_and(|s| s == SIGNATURE)
    })
}

fn find_all<'a>(hay: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    hay.windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(|(i, _)| i)
}

/// Analyse the first bytes of an HDF5 file: Keras architecture if found.
pub fn parse_hdf5_prefix(bytes: &[u8]) -> Result<KerasReport, String> {
    let base =
        signature_offset(bytes).ok_or("no HDF5 signature at offset 0, 512, 1024 or 2048")? as usize;
    let sb = Superblock::read(bytes, base)?;
    let mut rep = KerasReport::default();
    let text = |name: &[u8], cap| {
        sb.attribute(bytes, name)
            .and_then(Result::ok)
            .map(|(v, _)| sanitize(&String::from_utf8_lossy(v), cap))
    };
    rep.keras_version = text(b"keras_version", 32);
    rep.backend = text(b"backend", 32);
    // Every model_config found is walked: a decoy on another object must
    // not hide the root group's (the one Keras reads).
    let (values, err) = sb.attributes(bytes, b"model_config");
    let mut offsets = Vec::new();
    let mut all_checked = !values.is_empty();
    for (json, at) in &values {
        let json = json.strip_suffix(b"\0").unwrap_or(json);
        match serde_json::from_slice::<serde_json::Value>(json) {
            Ok(v) => {
                rep.layers_checked = false;
                walk_config(&v, &mut rep);
                all_checked &= rep.layers_checked;
                offsets.push(at.to_string());
            }
            Err(e) => {
                all_checked = false;
                rep.notes.push(format!(
                    "model_config attribute at offset {at} is not JSON ({e}): layers not checked"
                ));
            }
        }
    }
    rep.layers_checked = all_checked;
    if !offsets.is_empty() {
        rep.config_source = Some(format!(
            "model_config attribute at offset {}",
            offsets.join(", ")
        ));
    }
    if values.len() > 1 {
        rep.notes.push(format!(
            "{} model_config attributes; all were walked",
            values.len()
        ));
    }
    match (values.is_empty(), err) {
        (true, Some(why)) => rep.notes.push(format!(
            "model_config attribute found, its value not read ({why}): layers not checked"
        )),
        (true, None) => rep.notes.push(format!(
            "no model_config attribute in the first {} bytes: layers not checked (weights-only \
             file, attributes in dense storage, or not Keras)",
            bytes.len()
        )),
        (false, _) => {}
    }
    Ok(rep)
}

fn le(b: &[u8], at: usize, n: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(n)?)?;
    Some(
        s.iter()
            .rev()
            .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)),
    )
}

/// The superblock fields an attribute value needs: where addresses start
/// and how wide offsets and lengths are.
struct Superblock {
    base: usize,
    offsets: usize,
    lengths: usize,
    /// End-of-file address the superblock records (`None`: undefined).
    stored_eof: Option<u64>,
}

impl Superblock {
    fn read(b: &[u8], base: usize) -> Result<Self, String> {
        let version = *b.get(base + 8).ok_or("superblock cut")?;
        let (o, l) = match version {
            0 | 1 => (base + 13, base + 14),
            2 | 3 => (base + 9, base + 10),
            v => return Err(format!("unknown superblock version {v} at offset {base}")),
        };
        let offsets = le(b, o, 1).ok_or("superblock cut")? as usize;
        let lengths = le(b, l, 1).ok_or("superblock cut")? as usize;
        if ![2, 4, 8].contains(&offsets) || ![2, 4, 8].contains(&lengths) {
            return Err(format!(
                "superblock at offset {base}: offset size {offsets}, length size {lengths}"
            ));
        }
        // Addresses after the fixed fields: base, (free space | extension),
        // end of file. v0 has 24 bytes of fixed fields, v1 28, v2/v3 12.
        let first = match version {
            0 => base + 24,
            1 => base + 28,
            _ => base + 12,
        };
        let stored_eof = le(b, first + 2 * offsets, offsets)
            .filter(|v| *v != u64::MAX >> (64 - 8 * offsets as u32));
        Ok(Superblock {
            base,
            offsets,
            lengths,
            stored_eof,
        })
    }

    /// The value of the first attribute message named `name` (found by byte
    /// search, confirmed by the message header before it) and its offset.
    /// `None`: no such name; `Err`: a header or value that does not add up.
    fn attribute<'a>(&self, b: &'a [u8], name: &[u8]) -> Option<Result<(&'a [u8], usize), String>> {
        let (values, err) = self.attributes(b, name);
        match values.into_iter().next() {
            Some(v) => Some(Ok(v)),
            None => err.map(Err),
        }
    }

    /// Every attribute message named `name` among the first 16 hits, with
    /// the last reason one could not be read.
    #[allow(clippy::type_complexity)]
    fn attributes<'a>(&self, b: &'a [u8], name: &[u8]) -> (Vec<(&'a [u8], usize)>, Option<String>) {
        let mut found = Vec::new();
        let mut last_err = None;
        for at in find_all(b, name).take(16) {
            match self.attribute_at(b, at, name.len()) {
                Some(Ok(v)) => found.push(v),
                Some(Err(e)) => last_err = Some(e),
                None => {}
            }
        }
        (found, last_err)
    }

    /// Attribute message layouts (HDF5 spec IV.A.2.m): version 1 pads name,
    /// datatype and dataspace to 8 bytes; 2 does not; 3 adds an encoding byte.
    fn attribute_at<'a>(
        &self,
        b: &'a [u8],
        at: usize,
        name_len: usize,
    ) -> Option<Result<(&'a [u8], usize), String>> {
        let pad8 = |n: usize| n.div_ceil(8) * 8;
        let (hdr, padded) = [(at.checked_sub(8)?, true), (at.checked_sub(9)?, false)]
            .into_iter()
            .find(|&(h, _)| {
                let v = b[h];
                let n = le(b, h + 2, 2) == Some(name_len as u64 + 1);
                n && (((v == 1 || v == 2) && at == h + 8) || (v == 3 && at == h + 9))
            })?;
        let padded = padded && b[hdr] == 1;
        let dt_size = le(b, hdr + 4, 2)? as usize;
        let ds_size = le(b, hdr + 6, 2)? as usize;
        let name_end = at
            + if padded {
                pad8(name_len + 1)
            } else {
                name_len + 1
            };
        let dt = name_end;
        let ds = dt + if padded { pad8(dt_size) } else { dt_size };
        let data = ds + if padded { pad8(ds_size) } else { ds_size };
        let class = *b.get(dt)? & 0x0f;
        let size = le(b, dt + 4, 4)? as usize;
        Some(match class {
            // Fixed-length string: the value is inline.
            3 => b
                .get(data..data + size)
                .map(|v| (v, data))
                .ok_or_else(|| format!("inline value at offset {data} cut")),
            // Variable-length string: length, global heap collection, object index.
            9 => self.global_heap(b, data),
            c => Err(format!("datatype class {c}, not a string")),
        })
    }

    /// A variable-length value: (u32 length, heap collection address, u32 index).
    fn global_heap<'a>(&self, b: &'a [u8], data: usize) -> Result<(&'a [u8], usize), String> {
        let cut = || format!("variable-length reference at offset {data} cut");
        let len = le(b, data, 4).ok_or_else(cut)? as usize;
        let addr = le(b, data + 4, self.offsets).ok_or_else(cut)? as usize;
        let index = le(b, data + 4 + self.offsets, 4).ok_or_else(cut)?;
        let col = self
            .base
            .checked_add(addr)
            .ok_or("heap address overflows")?;
        // An address past the window (or near usize::MAX) is not followed.
        if col >= b.len() || b.get(col..col + 4) != Some(b"GCOL") {
            return Err(format!(
                "no global heap collection at offset {col} (within the window)"
            ));
        }
        let col_size = le(b, col + 8, self.lengths).ok_or("heap header cut")? as usize;
        let end = col.saturating_add(col_size).min(b.len());
        let mut p = col + 8 + self.lengths;
        for _ in 0..65_536 {
            let idx = le(b, p, 2).ok_or("heap object cut")?;
            let size = le(b, p + 8, self.lengths).ok_or("heap object cut")? as usize;
            let start = p + 8 + self.lengths;
            if idx == 0 {
                break; // free space: the last object
            }
            if idx == index {
                let n = len.min(size);
                return b
                    .get(start..start.checked_add(n).ok_or("size overflows")?)
                    .map(|v| (v, start))
                    .ok_or_else(|| format!("heap object at offset {start} cut"));
            }
            p = start
                .checked_add(size.div_ceil(8).checked_mul(8).ok_or("size overflows")?)
                .ok_or("size overflows")?;
            if p >= end {
                break;
            }
        }
        Err(format!(
            "object {index} not in the heap collection at offset {col}"
        ))
    }
}
