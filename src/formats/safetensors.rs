//! Safetensors header reader: the 8-byte little-endian length and the JSON header it
//! announces, never the tensor data. Format: https://github.com/huggingface/safetensors
//! (README "Format"). The length is capped before anything is allocated.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use crate::model::metadata::{MAX_FIELD_CHARS, ModelMetadata, sanitize};

/// Longest JSON header accepted (the reference implementation's own limit is 100 MB).
pub const MAX_HEADER_BYTES: u64 = 100 * 1024 * 1024;

/// Read the header of the safetensors file at `path`.
pub fn read_safetensors(path: &Path) -> Result<ModelMetadata, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let size = f
        .metadata()
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))?
        .len();
    parse(f, size)
}

/// Parse a whole safetensors file (or a prefix; offsets are then judged against it).
pub fn parse_safetensors(bytes: &[u8]) -> Result<ModelMetadata, String> {
    parse(bytes, bytes.len() as u64)
}

fn parse<R: Read>(mut r: R, file_size: u64) -> Result<ModelMetadata, String> {
    let mut len = [0u8; 8];
    r.read_exact(&mut len)
        .map_err(|e| format!("truncated at offset 0: the 8-byte header length is missing ({e})"))?;
    let n = u64::from_le_bytes(len);
    if n > MAX_HEADER_BYTES {
        return Err(format!(
            "header length {n} at offset 0 is over the {MAX_HEADER_BYTES}-byte cap"
        ));
    }
    if n > file_size.saturating_sub(8) {
        return Err(format!(
            "header length {n} at offset 0 runs past the end of the {file_size}-byte file"
        ));
    }
    let mut json = Vec::new();
    r.take(n)
        .read_to_end(&mut json)
        .map_err(|e| format!("read error in the header at offset 8: {e}"))?;
    if (json.len() as u64) < n {
        return Err(format!(
            "truncated at offset {}: the header has {n} bytes from offset 8",
            8 + json.len()
        ));
    }
    let data_len = file_size - 8 - n;
    from_header(&json, 8 + n, data_len)
}

/// Element size of a safetensors dtype, in bits (sub-byte types exist).
fn dtype_bits(d: &str) -> Option<u64> {
    Some(match d {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

/// Violations kept per file; the rest are counted.
const MAX_STRUCTURE_ERRORS: usize = 8;

/// Map the JSON header to metadata; the byte buffer after it starts at file
/// offset `data_start` and holds `data_len` bytes. What the reference loader
/// (safetensors' `SafeTensors::deserialize`) rejects goes to `structure_errors`:
/// an unknown dtype, offsets that run backwards or past the buffer, a size that
/// is not dtype × shape, tensors that are not contiguous from offset 0 (gaps and
/// overlaps) or do not cover the whole buffer.
pub fn from_header(json: &[u8], data_start: u64, data_len: u64) -> Result<ModelMetadata, String> {
    let v: Value = serde_json::from_slice(json)
        .map_err(|e| format!("the header at offset 8 is not JSON: {e}"))?;
    let Value::Object(map) = v else {
        return Err("the header at offset 8 is not a JSON object".into());
    };
    let mut m = ModelMetadata::default();
    let mut dtypes: BTreeMap<String, u64> = BTreeMap::new();
    let mut params: Option<u64> = Some(0);
    let mut tensors: u64 = 0;
    let mut bad_offsets: u64 = 0;
    let mut structure: Vec<String> = Vec::new();
    let mut spans: Vec<(u64, u64, String)> = Vec::new();
    for (name, t) in &map {
        if name == "__metadata__" {
            metadata(&mut m, t);
            continue;
        }
        tensors += 1;
        let shown = sanitize(name, 80);
        let Some(obj) = t.as_object() else {
            m.note(format!("tensor {shown} is not an object"));
            params = None;
            continue;
        };
        let dtype = obj.get("dtype").and_then(Value::as_str).unwrap_or("?");
        let dtype = sanitize(dtype, 16);
        if dtypes.len() < 32 || dtypes.contains_key(&dtype) {
            *dtypes.entry(dtype.clone()).or_default() += 1;
        }
        let shape: Option<Vec<u64>> = obj
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let elems = shape
            .as_ref()
            .map(|s| s.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d)));
        match elems {
            None => {
                m.note(format!("tensor {shown} has no valid shape"));
                params = None;
            }
            Some(None) => {
                m.note(format!("tensor {shown}: element count overflows u64"));
                params = None;
            }
            Some(Some(e)) => {
                params = params.and_then(|p| p.checked_add(e));
                if params.is_none() {
                    m.note("parameter total overflows u64");
                }
            }
        }
        let offsets: Option<Vec<u64>> = obj
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let bits = dtype_bits(&dtype);
        let at = |b: u64| data_start.saturating_add(b);
        let mut problem = match offsets.as_deref() {
            Some(&[b, e]) if b > e => Some(format!(
                "data_offsets [{b}, {e}] run backwards (file offset {})",
                at(b)
            )),
            Some(&[b, e]) if e > data_len => Some(format!(
                "data_offsets [{b}, {e}] pass the end of the {data_len}-byte data section (file offset {})",
                at(e)
            )),
            Some(&[b, e]) => match (elems, bits) {
                (Some(Some(n)), Some(bits)) => match n.checked_mul(bits) {
                    None => Some("dtype × shape overflows".to_string()),
                    Some(nbits) if nbits % 8 != 0 => Some(format!(
                        "{dtype} {shape:?} is {nbits} bits, not whole bytes"
                    )),
                    Some(nbits) => (nbits / 8 != e - b).then(|| {
                        format!(
                            "data_offsets [{b}, {e}] hold {} bytes, {dtype} {shape:?} needs {} (file offset {})",
                            e - b,
                            nbits / 8,
                            at(b)
                        )
                    }),
                },
                _ => None,
            },
            _ => Some("data_offsets missing or not two integers".into()),
        };
        if bits.is_none() && problem.is_none() {
            problem = Some(format!("unknown dtype {dtype}"));
        }
        if let Some(&[b, e]) = offsets.as_deref() {
            spans.push((b, e, shown.clone()));
        }
        if let Some(p) = problem {
            bad_offsets += 1;
            if structure.len() < MAX_STRUCTURE_ERRORS {
                structure.push(format!("tensor {shown}: {p}"));
            }
        }
    }
    // The reference loader sorts by offsets and wants each tensor to start
    // where the previous one ends, from 0 to the end of the buffer.
    spans.sort();
    let mut end_of_last = 0u64;
    for (b, e, name) in &spans {
        if *b != end_of_last {
            bad_offsets += 1;
            if structure.len() < MAX_STRUCTURE_ERRORS {
                let what = if *b < end_of_last {
                    "overlaps"
                } else {
                    "leaves a gap before"
                };
                structure.push(format!(
                    "tensor {name}: data_offsets [{b}, {e}] {what} the previous tensor's end {end_of_last} (file offset {})",
                    data_start.saturating_add(*b)
                ));
            }
        }
        end_of_last = end_of_last.max(*e);
    }
    if end_of_last < data_len {
        bad_offsets += 1;
        if structure.len() < MAX_STRUCTURE_ERRORS {
            structure.push(format!(
                "the tensors cover {end_of_last} of the {data_len}-byte data section: {} bytes from file offset {} belong to none",
                data_len - end_of_last,
                data_start.saturating_add(end_of_last)
            ));
        }
    }
    if bad_offsets as usize > structure.len() {
        structure.push(format!("{bad_offsets} structure errors in all"));
    }
    m.structure_errors = structure;
    m.tensor_count = Some(tensors);
    if tensors > 0 {
        m.parameter_count = params;
    }
    let mut by_count: Vec<(String, u64)> = dtypes.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if !by_count.is_empty() {
        m.quantization = Some(by_count[0].0.clone());
        m.file_type = Some(
            by_count
                .iter()
                .map(|(d, n)| format!("{d} ({n} tensor{})", if *n == 1 { "" } else { "s" }))
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    Ok(m)
}

fn metadata(m: &mut ModelMetadata, v: &Value) {
    let Some(obj) = v.as_object() else {
        m.note("__metadata__ is not an object");
        return;
    };
    for (k, v) in obj {
        let Some(s) = v.as_str() else {
            m.note(format!(
                "__metadata__ value of {} is not a string",
                sanitize(k, 80)
            ));
            continue;
        };
        let text = Some(sanitize(s, MAX_FIELD_CHARS));
        // Keys seen in the wild: plain ones and the Stability "modelspec.*" ones.
        match k.as_str() {
            "name" | "model_name" | "modelspec.title" => m.name = text,
            "license" | "modelspec.license" => m.license = text,
            "author" | "modelspec.author" => m.author = text,
            "architecture" | "modelspec.architecture" => m.architecture = text,
            "version" | "modelspec.version" => m.version = text,
            "organization" => m.organization = text,
            "source" | "source_url" | "url" => m.source_url = text,
            "repo_url" => m.repo_url = text,
            "base_model" => m.base_models.push(sanitize(s, MAX_FIELD_CHARS)),
            _ => m.put_general(k, s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        crate::test_support::fixture("models", name)
    }

    #[test]
    fn real_file_matches_python() {
        let m = read_safetensors(&fixture("tiny.safetensors")).unwrap();
        let e: Value = serde_json::from_str(
            &std::fs::read_to_string(fixture("tiny.safetensors.expect.json")).unwrap(),
        )
        .unwrap();
        let s = |k: &str| Some(e[k].as_str().unwrap().to_string());
        assert_eq!(m.name, s("name"));
        assert_eq!(m.license, s("license"));
        assert_eq!(m.source_url, s("source_url"));
        assert_eq!(m.tensor_count, e["tensor_count"].as_u64());
        assert_eq!(m.parameter_count, e["parameter_count"].as_u64());
        assert_eq!(m.file_type, s("file_type"));
        assert_eq!(m.quantization.as_deref(), Some("F16"));
        let general: BTreeMap<String, String> =
            serde_json::from_value(e["general"].clone()).unwrap();
        assert_eq!(m.general, general);
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        assert!(m.structure_errors.is_empty(), "{:?}", m.structure_errors);
    }

    #[test]
    fn every_prefix_is_err_or_ok() {
        let bytes = std::fs::read(fixture("tiny.safetensors")).unwrap();
        for n in 0..bytes.len() {
            let _ = parse_safetensors(&bytes[..n]);
        }
        // Cut in the data section: the header parses, the offsets are flagged.
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let m = parse_safetensors(&bytes[..8 + n + 4]).unwrap();
        assert!(
            m.structure_errors
                .iter()
                .any(|n| n.contains("pass the end")),
            "{:?}",
            m.structure_errors
        );
    }

    fn file(header: &str) -> Vec<u8> {
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(header.as_bytes());
        b
    }

    #[test]
    fn hostile_headers() {
        let mut b = (1u64 << 63).to_le_bytes().to_vec();
        b.push(b'{');
        let e = parse_safetensors(&b).unwrap_err();
        assert!(
            e.contains("9223372036854775808") && e.contains("cap"),
            "{e}"
        );

        let mut b = 1000u64.to_le_bytes().to_vec();
        b.extend_from_slice(b"{}");
        assert!(parse_safetensors(&b).unwrap_err().contains("past the end"));

        assert!(
            parse_safetensors(&file("not json at all"))
                .unwrap_err()
                .contains("not JSON")
        );
        assert!(
            parse_safetensors(&file("[1,2]"))
                .unwrap_err()
                .contains("not a JSON object")
        );
        assert!(parse_safetensors(&file(&"[".repeat(10_000))).is_err());
        assert!(
            parse_safetensors(b"\x01\0\0")
                .unwrap_err()
                .contains("offset 0")
        );

        let m = parse_safetensors(&file(
            r#"{"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,0]},
                "b":{"dtype":"F16","shape":[2],"data_offsets":[8,4]},
                "c":{"dtype":"F16","shape":[2],"data_offsets":[0,99]},
                "__metadata__":{"name":"x\u001b[2Jy","n":1}}"#,
        ))
        .unwrap();
        assert_eq!(m.parameter_count, None);
        assert_eq!(m.tensor_count, Some(3));
        assert_eq!(m.name.as_deref(), Some("x\u{FFFD}[2Jy"));
        let notes = m.notes.join("\n");
        assert!(notes.contains("overflows"), "{notes}");
        assert!(notes.contains("not a string"), "{notes}");
        let errors = m.structure_errors.join("\n");
        assert!(errors.contains("run backwards"), "{errors}");
        assert!(errors.contains("pass the end"), "{errors}");

        // Offsets inside the file but the wrong size for the dtype and shape.
        let mut b = file(r#"{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,8]}}"#);
        b.extend_from_slice(&[0; 16]);
        let m = parse_safetensors(&b).unwrap();
        assert_eq!(m.parameter_count, Some(4));
        assert!(
            m.structure_errors[0].contains("needs 16"),
            "{:?}",
            m.structure_errors
        );
    }

    /// What safetensors' own loader rejects (tensor.rs `validate` and
    /// `deserialize`): tensors must follow each other from offset 0 to the end
    /// of the buffer, in whole bytes, with a known dtype.
    #[test]
    fn layouts_the_reference_loader_rejects_are_errors() {
        let with_data = |header: &str, data: usize| {
            let mut b = file(header);
            b.extend(std::iter::repeat_n(0u8, data));
            parse_safetensors(&b).expect("header parses")
        };
        let errors = |m: ModelMetadata| m.structure_errors.join("\n");
        // Contiguous and covering: clean, whatever the name order.
        let m = with_data(
            r#"{"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}"#,
            8,
        );
        assert!(m.structure_errors.is_empty(), "{:?}", m.structure_errors);
        // Two tensors on the same bytes.
        let e = errors(with_data(
            r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#,
            8,
        ));
        assert!(e.contains("overlaps"), "{e}");
        // Bytes that belong to no tensor, between and after.
        let e = errors(with_data(
            r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#,
            8,
        ));
        assert!(e.contains("gap"), "{e}");
        assert!(e.contains("cover 6 of the 8-byte"), "{e}");
        // An unknown dtype, and a sub-byte tensor that ends mid-byte.
        let e = errors(with_data(
            r#"{"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"F4","shape":[3],"data_offsets":[2,4]}}"#,
            4,
        ));
        assert!(e.contains("unknown dtype Q9"), "{e}");
        assert!(e.contains("not whole bytes"), "{e}");
        // Only metadata, yet bytes after the header: the loader rejects it too.
        let e = errors(with_data(r#"{"__metadata__":{"a":"b"}}"#, 3));
        assert!(e.contains("cover 0 of the 3-byte"), "{e}");
        // The file offset of a violation is given (8 + header length + offset).
        let header = r#"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[3,5]}}"#;
        let e = errors(with_data(header, 5));
        assert!(
            e.contains(&format!("file offset {}", 8 + header.len() + 3)),
            "{e}"
        );
    }
}
