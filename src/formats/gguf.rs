//! GGUF header reader: the fixed header, the key-value section and (cheaply) the
//! tensor infos, never the tensor data. Every length in the file is untrusted: counts,
//! string and array lengths are capped before anything is allocated, and the whole
//! read is bounded (`MAX_HEADER_BYTES`). Format: llama.cpp `docs/gguf.md`
//! (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md); little-endian only.

use crate::knowledge::ggml_types;
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::model::metadata::{
    ChatTemplate, EXCERPT_CHARS, MAX_FIELD_CHARS, ModelMetadata, excerpt, sanitize,
};

/// Bytes of the file read at most (header, key-values and tensor infos together).
pub const MAX_HEADER_BYTES: u64 = 64 * 1024 * 1024;
/// Longest chat template read (`tokenizer.chat_template*`).
pub const MAX_TEMPLATE_BYTES: u64 = 16 * 1024 * 1024;
/// Longest other string (keys and values).
pub const MAX_STRING_BYTES: u64 = 64 * 1024;
/// Most key-value pairs.
pub const MAX_KV_COUNT: u64 = 65_536;
/// Most elements of one array (tokenizer vocabularies reach ~260k; merges more).
pub const MAX_ARRAY_LEN: u64 = 1 << 24;
/// Deepest array nesting accepted (the spec allows arrays of arrays).
pub const MAX_ARRAY_DEPTH: u32 = 2;
/// Most tensor infos read for the parameter estimate.
pub const MAX_TENSOR_COUNT: u64 = 1 << 20;
const MAX_DIMS: u32 = 8;

/// Fingerprint a chat template: hash, length, excerpt and the markers it contains
/// (first occurrence of each, as a byte offset).
pub fn chat_template(raw: &[u8]) -> ChatTemplate {
    let text = String::from_utf8_lossy(raw);
    let ssti_markers = crate::knowledge::template_markers::markers()
        .iter()
        .filter_map(|m| text.find(m.as_str()).map(|at| format!("{m} at {at}")))
        .collect();
    ChatTemplate {
        sha256: hex(&Sha256::digest(raw)),
        length: raw.len() as u64,
        excerpt: excerpt(&text, EXCERPT_CHARS),
        ssti_markers,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Name of llama.cpp's `enum llama_ftype` value (`general.file_type`), from
/// `include/llama.h` (`LLAMA_FTYPE_*`, mirrored as `LlamaFileType` in gguf-py
/// `gguf/constants.py`). The `MOSTLY_` prefix is dropped, as llama.cpp prints them.
pub fn file_type_name(v: u64) -> Option<&'static str> {
    Some(match v {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        4 => "Q4_1_SOME_F16",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        33 => "Q4_0_4_4",
        34 => "Q4_0_4_8",
        35 => "Q4_0_8_8",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4_MOE",
        39 => "NVFP4",
        40 => "Q1_0",
        1024 => "GUESSED",
        _ => return None,
    })
}

/// Read the header of the GGUF file at `path` through a buffered, bounded reader.
pub fn read_gguf(path: &Path) -> Result<ModelMetadata, String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let len = f
        .metadata()
        .map_err(|e| format!("cannot stat {}: {e}", path.display()))?
        .len();
    parse(BufReader::with_capacity(64 * 1024, f), Some(len))
}

/// Parse a GGUF header from the first bytes of a file. A prefix that ends inside the
/// key-value section is an error; one that ends inside the tensor infos only loses
/// the parameter estimate (a note says so).
pub fn parse_gguf(header: &[u8]) -> Result<ModelMetadata, String> {
    parse(header, None)
}

/// [`parse_gguf`] of a whole file's bytes: the tensor layout is checked
/// against the file's size too.
pub fn parse_gguf_file(bytes: &[u8]) -> Result<ModelMetadata, String> {
    parse(bytes, Some(bytes.len() as u64))
}

struct Reader<R> {
    inner: R,
    pos: u64,
    /// v1 stores counts and lengths as u32.
    v1: bool,
    /// Numbers are big-endian (a GGUF written for a big-endian host).
    be: bool,
}

impl<R: Read> Reader<R> {
    fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<(), String> {
        let at = self.pos;
        self.budget(buf.len() as u64, what)?;
        let mut filled = 0;
        while filled < buf.len() {
            match self.inner.read(&mut buf[filled..]) {
                Ok(0) => {
                    return Err(format!(
                        "truncated at offset {}: {what} needs {} bytes from offset {at}",
                        at + filled as u64,
                        buf.len()
                    ));
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("read error at offset {}: {e}", at + filled as u64)),
            }
        }
        self.pos += buf.len() as u64;
        Ok(())
    }

    fn budget(&self, n: u64, what: &str) -> Result<(), String> {
        match self.pos.checked_add(n) {
            Some(end) if end <= MAX_HEADER_BYTES => Ok(()),
            _ => Err(format!(
                "{what} at offset {}: {n} bytes would pass the {MAX_HEADER_BYTES}-byte header cap",
                self.pos
            )),
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        let mut b = [0u8; 1];
        self.fill(&mut b, what)?;
        Ok(b[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let mut b = [0u8; 2];
        self.fill(&mut b, what)?;
        Ok(if self.be {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }
    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let mut b = [0u8; 4];
        self.fill(&mut b, what)?;
        Ok(if self.be {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
    fn u64(&mut self, what: &str) -> Result<u64, String> {
        let mut b = [0u8; 8];
        self.fill(&mut b, what)?;
        Ok(if self.be {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }
    /// A count or length: u32 in v1, u64 from v2 on.
    fn len(&mut self, what: &str) -> Result<u64, String> {
        if self.v1 {
            self.u32(what).map(u64::from)
        } else {
            self.u64(what)
        }
    }

    /// Read `n` bytes (already capped by the caller); allocation grows with what is
    /// actually read, so a short file with a large length costs nothing.
    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, String> {
        let at = self.pos;
        self.budget(n, what)?;
        let mut v = Vec::new();
        (&mut self.inner)
            .take(n)
            .read_to_end(&mut v)
            .map_err(|e| format!("read error in {what} at offset {at}: {e}"))?;
        self.pos += v.len() as u64;
        if (v.len() as u64) < n {
            return Err(format!(
                "truncated at offset {}: {what} of {n} bytes starts at offset {at}",
                self.pos
            ));
        }
        Ok(v)
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<(), String> {
        let at = self.pos;
        self.budget(n, what)?;
        let got = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink())
            .map_err(|e| format!("read error in {what} at offset {at}: {e}"))?;
        self.pos += got;
        if got < n {
            return Err(format!(
                "truncated at offset {}: {what} of {n} bytes starts at offset {at}",
                self.pos
            ));
        }
        Ok(())
    }

    /// A length-prefixed string of at most `cap` bytes.
    fn string(&mut self, cap: u64, what: &str) -> Result<Vec<u8>, String> {
        let at = self.pos;
        let n = self.len(what)?;
        if n > cap {
            return Err(format!(
                "{what} at offset {at} claims {n} bytes (cap {cap})"
            ));
        }
        self.bytes(n, what)
    }
}

enum Val {
    U(u64),
    I(i64),
    F(f64),
    Bool(bool),
    Str(Vec<u8>),
    Array,
}

impl Val {
    fn as_u64(&self) -> Option<u64> {
        match *self {
            Val::U(v) => Some(v),
            Val::I(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }
    fn text(&self) -> Option<String> {
        match self {
            Val::Str(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Val::U(v) => Some(v.to_string()),
            Val::I(v) => Some(v.to_string()),
            Val::F(v) => Some(v.to_string()),
            Val::Bool(v) => Some(v.to_string()),
            Val::Array => None,
        }
    }
}

/// Size of a fixed-width value type; None for string (8) and array (9).
fn fixed_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1),
        2 | 3 => Some(2),
        4..=6 => Some(4),
        10..=12 => Some(8),
        _ => None,
    }
}

fn value<R: Read>(r: &mut Reader<R>, t: u32, str_cap: u64, depth: u32) -> Result<Val, String> {
    let at = r.pos;
    Ok(match t {
        0 => Val::U(r.u8("u8 value")?.into()),
        1 => Val::I((r.u8("i8 value")? as i8).into()),
        2 => Val::U(r.u16("u16 value")?.into()),
        3 => Val::I((r.u16("i16 value")? as i16).into()),
        4 => Val::U(r.u32("u32 value")?.into()),
        5 => Val::I((r.u32("i32 value")? as i32).into()),
        6 => Val::F(f32::from_bits(r.u32("f32 value")?).into()),
        7 => match r.u8("bool value")? {
            0 => Val::Bool(false),
            1 => Val::Bool(true),
            b => return Err(format!("invalid bool {b} at offset {at}")),
        },
        8 => Val::Str(r.string(str_cap, "string value")?),
        9 => {
            if depth >= MAX_ARRAY_DEPTH {
                return Err(format!(
                    "array nested deeper than {MAX_ARRAY_DEPTH} at offset {at}"
                ));
            }
            let et = r.u32("array element type")?;
            let n_at = r.pos;
            let n = r.len("array length")?;
            if n > MAX_ARRAY_LEN {
                return Err(format!(
                    "array at offset {n_at} claims {n} elements (cap {MAX_ARRAY_LEN})"
                ));
            }
            if let Some(size) = fixed_size(et) {
                // n ≤ 2^24 and size ≤ 8: no overflow.
                r.skip(n * size, "array data")?;
            } else if et == 8 || et == 9 {
                for _ in 0..n {
                    if et == 8 {
                        let s_at = r.pos;
                        let len = r.len("array string length")?;
                        if len > MAX_STRING_BYTES {
                            return Err(format!(
                                "array string at offset {s_at} claims {len} bytes (cap {MAX_STRING_BYTES})"
                            ));
                        }
                        r.skip(len, "array string")?;
                    } else {
                        value(r, 9, MAX_STRING_BYTES, depth + 1)?;
                    }
                }
            } else {
                return Err(format!(
                    "unknown array element type {et} at offset {}",
                    n_at - 4
                ));
            }
            Val::Array
        }
        10 => Val::U(r.u64("u64 value")?),
        11 => Val::I(r.u64("i64 value")? as i64),
        12 => Val::F(f64::from_bits(r.u64("f64 value")?)),
        _ => {
            return Err(format!(
                "unknown value type {t} at offset {}",
                at.saturating_sub(4)
            ));
        }
    })
}

/// Fields of one `general.base_model.N.*` entry.
type BaseModel = BTreeMap<String, String>;

fn parse<R: Read>(inner: R, file_len: Option<u64>) -> Result<ModelMetadata, String> {
    let mut r = Reader {
        inner,
        pos: 0,
        v1: false,
        be: false,
    };
    let mut magic = [0u8; 4];
    r.fill(&mut magic, "magic")?;
    if &magic != b"GGUF" {
        return Err("not a GGUF file: magic at offset 0 is not \"GGUF\"".into());
    }
    let raw_version = r.u32("version")?;
    let version = match raw_version {
        1..=3 => raw_version,
        // gguf-py writes big-endian files on request; the version says so.
        v if (1..=3).contains(&v.swap_bytes()) => {
            r.be = true;
            v.swap_bytes()
        }
        v => return Err(format!("unsupported GGUF version {v} at offset 4")),
    };
    r.v1 = version == 1;
    let tensor_count = r.len("tensor count")?;
    if tensor_count > MAX_TENSOR_COUNT {
        return Err(format!(
            "tensor count {tensor_count} at offset 8 is implausible (cap {MAX_TENSOR_COUNT})"
        ));
    }
    let kv_at = r.pos;
    let kv_count = r.len("key-value count")?;
    if kv_count > MAX_KV_COUNT {
        return Err(format!(
            "key-value count {kv_count} at offset {kv_at} is implausible (cap {MAX_KV_COUNT})"
        ));
    }

    let mut m = ModelMetadata {
        tensor_count: Some(tensor_count),
        ..Default::default()
    };
    if r.be {
        m.note(
            "big-endian GGUF: llama.cpp on a little-endian host refuses it (endianness mismatch); gguf-py reads it"
                .to_string(),
        );
    }
    let mut keys: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
    let mut alignment: Option<u64> = None;
    let mut context_lengths: BTreeMap<String, u64> = BTreeMap::new();
    let mut base: BTreeMap<u64, BaseModel> = BTreeMap::new();
    let mut quant_version = None;
    let mut file_type = None;
    for i in 0..kv_count {
        let key_at = r.pos;
        let key = r
            .string(MAX_STRING_BYTES, "key")
            .map_err(|e| format!("key-value {i}: {e}"))?;
        if key.is_empty() {
            m.structure_errors
                .push(format!("key-value {i} at offset {key_at} has an empty key"));
        } else if keys.len() < MAX_KV_COUNT as usize && !keys.insert(key.clone()) {
            m.structure_errors.push(format!(
                "key-value {i} at offset {key_at} repeats the key {}",
                sanitize(&String::from_utf8_lossy(&key), 80)
            ));
        }
        let key = String::from_utf8_lossy(&key).into_owned();
        let t = r
            .u32("value type")
            .map_err(|e| format!("key-value {i}: {e}"))?;
        let is_template = key.starts_with("tokenizer.chat_template");
        let cap = if is_template {
            MAX_TEMPLATE_BYTES
        } else {
            MAX_STRING_BYTES
        };
        let val = value(&mut r, t, cap, 0)
            .map_err(|e| format!("key-value {i} ({}): {e}", sanitize(&key, 80)))?;
        if key == "general.alignment" {
            // gguf_init_from_file: a uint32 power of two.
            match (t, val.as_u64()) {
                (4, Some(a)) if a.is_power_of_two() => alignment = Some(a),
                (4, Some(a)) => m.structure_errors.push(format!(
                    "general.alignment at offset {key_at} is {a}, not a power of two"
                )),
                _ => m.structure_errors.push(format!(
                    "general.alignment at offset {key_at} has value type {t}; the loader requires uint32"
                )),
            }
        }
        apply(
            &mut m,
            &key,
            key_at,
            &val,
            &mut Fields {
                context_lengths: &mut context_lengths,
                base: &mut base,
                quant_version: &mut quant_version,
                file_type: &mut file_type,
            },
        );
    }

    if let Some(arch) = &m.architecture {
        m.context_length = context_lengths
            .get(&format!("{arch}.context_length"))
            .copied();
    }
    if let Some(ft) = file_type {
        let name = file_type_name(ft)
            .map(str::to_string)
            .unwrap_or_else(|| format!("unknown ({ft})"));
        m.quantization = Some(match quant_version {
            Some(q) => format!("{name} (ggml quantization version {q})"),
            None => name.clone(),
        });
        m.file_type = Some(name);
    } else if let Some(q) = quant_version {
        m.quantization = Some(format!("ggml quantization version {q}"));
    }
    for (_, b) in base.into_iter().take(16) {
        let mut line = b.get("name").cloned().unwrap_or_else(|| "(unnamed)".into());
        if let Some(o) = b.get("organization") {
            line.push_str(&format!(" [{o}]"));
        }
        if let Some(u) = b.get("repo_url").or_else(|| b.get("url")) {
            line.push_str(&format!(" <{u}>"));
        }
        m.base_models.push(sanitize(&line, MAX_FIELD_CHARS));
    }

    match tensor_infos(&mut r, tensor_count) {
        Ok(infos) => {
            if m.parameter_count.is_none() {
                m.parameter_count = element_total(&infos);
            }
            let alignment = alignment.unwrap_or(ggml_types::embedded().default_alignment);
            if m.structure_errors.is_empty() {
                let errors = layout_errors(&infos, alignment, r.pos, file_len);
                m.structure_errors.extend(errors);
            }
        }
        // A whole file whose tensor infos cannot be read is one the loader
        // refuses; a header prefix just ends early.
        Err(e) if file_len.is_some() => m
            .structure_errors
            .push(format!("the tensor infos cannot be read: {e}")),
        Err(e) => m.note(format!("parameter count not estimated: {e}")),
    }
    Ok(m)
}

struct Fields<'a> {
    context_lengths: &'a mut BTreeMap<String, u64>,
    base: &'a mut BTreeMap<u64, BaseModel>,
    quant_version: &'a mut Option<u64>,
    file_type: &'a mut Option<u64>,
}

fn apply(m: &mut ModelMetadata, key: &str, key_at: u64, val: &Val, f: &mut Fields) {
    let text = || val.text().map(|s| sanitize(&s, MAX_FIELD_CHARS));
    if let Some(name) = key.strip_prefix("tokenizer.chat_template") {
        let Val::Str(raw) = val else {
            m.note(format!(
                "{} at offset {key_at} is not a string",
                sanitize(key, 80)
            ));
            return;
        };
        let t = chat_template(raw);
        if name.is_empty() {
            m.chat_template = Some(t);
        } else {
            // Named templates (tool_use, rag…) are rendered too, when a
            // client asks for them: judged like the default one.
            let name = sanitize(name.trim_start_matches('.'), 64);
            if m.named_templates.len() < 16 {
                m.named_templates
                    .push(crate::model::sidecars::NamedTemplate {
                        source: format!("GGUF tokenizer.chat_template.{name}"),
                        template: t,
                    });
            } else {
                m.note(format!("named chat template {name} not kept (16 already)"));
            }
        }
        return;
    }
    if key.ends_with(".context_length") && f.context_lengths.len() < 64 {
        if let Some(v) = val.as_u64() {
            f.context_lengths.insert(key.to_string(), v);
        }
        return;
    }
    let Some(g) = key.strip_prefix("general.") else {
        return;
    };
    if let Some(rest) = g.strip_prefix("base_model.") {
        if let Some((idx, field)) = rest.split_once('.')
            && let Ok(idx) = idx.parse::<u64>()
            && let Some(t) = text()
            && (f.base.len() < 64 || f.base.contains_key(&idx))
        {
            f.base.entry(idx).or_default().insert(field.to_string(), t);
        }
        return;
    }
    match g {
        "architecture" => m.architecture = text(),
        "name" => m.name = text(),
        "organization" => m.organization = text(),
        "author" => m.author = text(),
        "version" => m.version = text(),
        "license" => m.license = text(),
        "source.url" | "url" => {
            if g == "source.url" || m.source_url.is_none() {
                m.source_url = text()
            }
        }
        "repo_url" | "source.repo_url" => {
            if g == "repo_url" || m.repo_url.is_none() {
                m.repo_url = text()
            }
        }
        "parameter_count" => m.parameter_count = val.as_u64(),
        "file_type" => *f.file_type = val.as_u64(),
        "quantization_version" => *f.quant_version = val.as_u64(),
        "base_model.count" | "alignment" => {}
        _ => {
            if let Val::Str(_) = val
                && let Some(t) = text()
            {
                m.put_general(g, &t);
            }
        }
    }
}

/// One tensor info as the file states it.
struct TensorInfo {
    name: Vec<u8>,
    at: u64,
    dims: Vec<u64>,
    ty: u32,
    offset: u64,
}

/// Reads the tensor infos (bounded: names, dimension counts).
fn tensor_infos<R: Read>(r: &mut Reader<R>, count: u64) -> Result<Vec<TensorInfo>, String> {
    let mut out = Vec::new();
    for i in 0..count {
        let at = r.pos;
        let name = r
            .string(MAX_STRING_BYTES, "tensor name")
            .map_err(|e| format!("tensor info {i} at offset {at}: {e}"))?;
        let d_at = r.pos;
        let n_dims = r.u32("dimension count")?;
        if n_dims > MAX_DIMS {
            return Err(format!(
                "tensor info {i}: {n_dims} dimensions at offset {d_at} (cap {MAX_DIMS})"
            ));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            dims.push(r.len("dimension")?);
        }
        let ty = r.u32("tensor type")?;
        let offset = r.u64("tensor data offset")?;
        out.push(TensorInfo {
            name,
            at,
            dims,
            ty,
            offset,
        });
    }
    Ok(out)
}

/// Sum of the element counts of the tensor infos. `None` when the file
/// declares none or the sum overflows.
fn element_total(infos: &[TensorInfo]) -> Option<u64> {
    if infos.is_empty() {
        return None;
    }
    infos.iter().try_fold(0u64, |total, t| {
        let n = t.dims.iter().try_fold(1u64, |n, d| n.checked_mul(*d))?;
        total.checked_add(n)
    })
}

/// Tensor infos checked as `gguf_init_from_file` (ggml/src/gguf.cpp) and
/// llama.cpp's model loader check them: names, dimensions, types, and data
/// offsets that are exactly the running, alignment-padded sum of the tensor
/// sizes before them, all inside the file. Each error names the tensor and
/// the offset of its info.
fn layout_errors(
    infos: &[TensorInfo],
    alignment: u64,
    infos_end: u64,
    file_len: Option<u64>,
) -> Vec<String> {
    const MAX_ERRORS: usize = 16;
    let types = ggml_types::embedded();
    let pad = |n: u64| {
        n.checked_add(alignment - 1)
            .map(|x| x / alignment * alignment)
    };
    let mut errors = Vec::new();
    let mut names: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    let mut expected: u64 = 0;
    let mut data_end: u64 = 0;
    for (i, t) in infos.iter().enumerate() {
        if errors.len() >= MAX_ERRORS {
            errors.push("further tensor infos not checked".into());
            break;
        }
        let name = sanitize(&String::from_utf8_lossy(&t.name), 80);
        let what = format!("tensor {i} ({name}) at offset {}", t.at);
        if t.name.len() >= types.max_name {
            errors.push(format!(
                "{what}: name of {} bytes, the loader allows {}",
                t.name.len(),
                types.max_name - 1
            ));
        }
        if !names.insert(&t.name) {
            errors.push(format!("{what}: the name is used by an earlier tensor"));
        }
        if t.dims.len() > types.max_dims as usize {
            errors.push(format!(
                "{what}: {} dimensions, the loader allows {}",
                t.dims.len(),
                types.max_dims
            ));
            break;
        }
        // ggml counts elements in int64.
        let elements = t
            .dims
            .iter()
            .try_fold(1u64, |n, d| n.checked_mul(*d))
            .filter(|n| *n <= i64::MAX as u64 && t.dims.iter().all(|d| *d <= i64::MAX as u64));
        let Some(elements) = elements else {
            errors.push(format!(
                "{what}: dimensions {:?} overflow the element count",
                t.dims
            ));
            break;
        };
        let Some(ty) = types.get(t.ty) else {
            errors.push(format!("{what}: unknown ggml type {}", t.ty));
            break;
        };
        let ne0 = t.dims.first().copied().unwrap_or(1);
        if ne0 % ty.block != 0 {
            errors.push(format!(
                "{what}: first dimension {ne0} is not a multiple of {}'s block of {}",
                ty.name, ty.block
            ));
            break;
        }
        let Some(nbytes) = (elements / ty.block).checked_mul(ty.bytes) else {
            errors.push(format!("{what}: its size in bytes overflows"));
            break;
        };
        if t.offset != expected {
            errors.push(format!(
                "{what}: data offset {} where the loader expects {expected} (the tensors before it, each padded to {alignment} bytes){}",
                t.offset,
                if t.offset < expected { ": it overlaps them" } else { ": a gap or misalignment" }
            ));
            break;
        }
        data_end = t.offset.saturating_add(nbytes);
        let Some(next) = pad(nbytes).and_then(|p| expected.checked_add(p)) else {
            errors.push(format!("{what}: the data section size overflows"));
            break;
        };
        expected = next;
    }
    if let (Some(len), false, Some(start)) = (file_len, infos.is_empty(), pad(infos_end)) {
        let end = start.saturating_add(data_end);
        if errors.is_empty() && end > len {
            errors.push(format!(
                "tensor data ends at offset {end} (data section from offset {start}), past the end of the {len}-byte file"
            ));
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        crate::test_support::fixture("models", name)
    }

    fn expect(name: &str) -> serde_json::Value {
        let p = fixture(&format!("{name}.expect.json"));
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    fn check_against_python(name: &str) -> ModelMetadata {
        let m = read_gguf(&fixture(name)).unwrap();
        let e = expect(name);
        let s = |k: &str| Some(e[k].as_str().unwrap().to_string());
        assert_eq!(m.architecture, s("architecture"));
        assert_eq!(m.name, s("name"));
        assert_eq!(m.organization, s("organization"));
        assert_eq!(m.author, s("author"));
        assert_eq!(m.version, s("version"));
        assert_eq!(m.license, s("license"));
        assert_eq!(m.source_url, s("source_url"));
        assert_eq!(m.repo_url, s("repo_url"));
        assert_eq!(m.file_type, s("file_type"));
        assert_eq!(
            m.quantization.as_deref(),
            Some("Q4_K_M (ggml quantization version 2)")
        );
        assert_eq!(m.context_length, e["context_length"].as_u64());
        assert_eq!(m.tensor_count, e["tensor_count"].as_u64());
        assert_eq!(m.parameter_count, e["parameter_count"].as_u64());
        assert_eq!(
            m.base_models,
            ["Base Llama [Example Org] <https://huggingface.co/example/base-llama>"]
        );
        assert_eq!(
            m.general.get("description").map(String::as_str),
            Some("a tiny fixture")
        );
        let t = m.chat_template.as_ref().unwrap();
        assert_eq!(Some(t.sha256.clone()), s("template_sha256"));
        assert_eq!(Some(t.length), e["template_length"].as_u64());
        assert!(m.notes.is_empty(), "{:?}", m.notes);
        m
    }

    #[test]
    fn provenance_fixture_matches_python() {
        let m = check_against_python("provenance.gguf");
        let t = m.chat_template.unwrap();
        assert!(t.ssti_markers.is_empty(), "{:?}", t.ssti_markers);
        assert!(t.excerpt.starts_with("{% for message in messages %}"));
        assert!(!t.excerpt.contains('\n'));
    }

    #[test]
    fn ssti_fixture_is_flagged() {
        let m = check_against_python("ssti.gguf");
        let t = m.chat_template.unwrap();
        let at = "{% for message in messages %}{{ message['content'] }}{% endfor %}{{ ''.".len();
        assert_eq!(
            t.ssti_markers,
            [
                format!("__class__ at {at}"),
                format!("__subclasses__ at {}", at + "__class__.__mro__[1].".len()),
                format!("__mro__ at {}", at + "__class__.".len()),
            ]
        );
    }

    #[test]
    fn many_kv_fixture_parses() {
        let m = check_against_python("many_kv.gguf");
        assert_eq!(
            m.general.get("tags.note").map(String::as_str),
            Some("kept in general")
        );
    }

    #[test]
    fn every_prefix_is_err_or_ok_never_panics() {
        let bytes = std::fs::read(fixture("provenance.gguf")).unwrap();
        let full = parse_gguf(&bytes).unwrap();
        let mut first_ok = None;
        for n in 0..bytes.len() {
            match parse_gguf(&bytes[..n]) {
                Ok(m) => {
                    first_ok.get_or_insert(n);
                    // Only the tensor infos may be cut: provenance is complete.
                    assert_eq!(m.chat_template, full.chat_template);
                    assert_eq!(m.name, full.name);
                }
                Err(e) => {
                    assert!(first_ok.is_none(), "prefix {n} failed after an Ok: {e}");
                    assert!(n < 4 || e.contains("offset"), "prefix {n}: {e}");
                }
            }
        }
        assert!(first_ok.is_some());
    }

    /// A hand-built header: magic, version, counts in the version's width.
    fn header(version: u32, tensors: u64, kvs: u64) -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend_from_slice(&version.to_le_bytes());
        for n in [tensors, kvs] {
            if version == 1 {
                b.extend_from_slice(&(n as u32).to_le_bytes());
            } else {
                b.extend_from_slice(&n.to_le_bytes());
            }
        }
        b
    }

    fn put_str(b: &mut Vec<u8>, version: u32, s: &str) {
        if version == 1 {
            b.extend_from_slice(&(s.len() as u32).to_le_bytes());
        } else {
            b.extend_from_slice(&(s.len() as u64).to_le_bytes());
        }
        b.extend_from_slice(s.as_bytes());
    }

    fn small(version: u32) -> Vec<u8> {
        let mut b = header(version, 0, 3);
        put_str(&mut b, version, "general.architecture");
        b.extend_from_slice(&8u32.to_le_bytes());
        put_str(&mut b, version, "qwen2");
        put_str(&mut b, version, "qwen2.context_length");
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&32768u32.to_le_bytes());
        put_str(&mut b, version, "general.file_type");
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&7u32.to_le_bytes());
        b
    }

    #[test]
    fn versions_1_2_3_with_their_widths() {
        for v in 1..=3 {
            let m = parse_gguf(&small(v)).unwrap();
            assert_eq!(m.architecture.as_deref(), Some("qwen2"), "v{v}");
            assert_eq!(m.context_length, Some(32768), "v{v}");
            assert_eq!(m.file_type.as_deref(), Some("Q8_0"), "v{v}");
            assert_eq!(m.tensor_count, Some(0));
            assert_eq!(m.parameter_count, None);
        }
        assert!(parse_gguf(&small(4)).unwrap_err().contains("version 4"));
        // Big-endian, as gguf-py writes it with endianess=BIG: every number
        // flipped; read the same, with a note.
        let mut be = b"GGUF".to_vec();
        be.extend_from_slice(&3u32.to_be_bytes());
        be.extend_from_slice(&0u64.to_be_bytes());
        be.extend_from_slice(&1u64.to_be_bytes());
        be.extend_from_slice(&(b"general.architecture".len() as u64).to_be_bytes());
        be.extend_from_slice(b"general.architecture");
        be.extend_from_slice(&8u32.to_be_bytes());
        be.extend_from_slice(&5u64.to_be_bytes());
        be.extend_from_slice(b"qwen2");
        let m = parse_gguf(&be).unwrap();
        assert_eq!(m.architecture.as_deref(), Some("qwen2"));
        assert!(m.notes[0].contains("big-endian"), "{:?}", m.notes);
        assert!(
            parse_gguf(b"GGML\x03\0\0\0")
                .unwrap_err()
                .contains("not a GGUF")
        );
    }

    #[test]
    fn hostile_counts_and_lengths_are_refused_without_allocating() {
        let e = parse_gguf(&header(3, 0, 1 << 60)).unwrap_err();
        assert!(
            e.contains("key-value count") && e.contains("offset 16"),
            "{e}"
        );
        let e = parse_gguf(&header(3, 1 << 60, 0)).unwrap_err();
        assert!(e.contains("tensor count"), "{e}");

        let mut b = header(3, 0, 1);
        put_str(&mut b, 3, "general.name");
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&(1u64 << 62).to_le_bytes());
        let e = parse_gguf(&b).unwrap_err();
        assert!(e.contains("claims 4611686018427387904 bytes"), "{e}");
        assert!(e.contains("offset 48"), "{e}");

        // A chat template may be large, but not past its cap nor past the file.
        let mut b = header(3, 0, 1);
        put_str(&mut b, 3, "tokenizer.chat_template");
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&(MAX_TEMPLATE_BYTES).to_le_bytes());
        b.extend_from_slice(b"{{ x }}");
        assert!(parse_gguf(&b).unwrap_err().contains("truncated"));

        let mut b = header(3, 0, 1);
        put_str(&mut b, 3, "tokenizer.ggml.tokens");
        b.extend_from_slice(&9u32.to_le_bytes());
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&(1u64 << 40).to_le_bytes());
        let e = parse_gguf(&b).unwrap_err();
        assert!(e.contains("1099511627776 elements"), "{e}");

        // Arrays of arrays of arrays: deeper than the cap.
        let mut b = header(3, 0, 1);
        put_str(&mut b, 3, "x");
        b.extend_from_slice(&9u32.to_le_bytes());
        for _ in 0..3 {
            b.extend_from_slice(&9u32.to_le_bytes());
            b.extend_from_slice(&1u64.to_le_bytes());
        }
        assert!(parse_gguf(&b).unwrap_err().contains("nested"));

        let mut b = header(3, 0, 1);
        put_str(&mut b, 3, "x");
        b.extend_from_slice(&99u32.to_le_bytes());
        assert!(
            parse_gguf(&b)
                .unwrap_err()
                .contains("unknown value type 99")
        );
    }

    #[test]
    fn overflowing_tensor_infos_are_structure_errors() {
        let mut b = small(3);
        b[8..16].copy_from_slice(&1u64.to_le_bytes());
        put_str(&mut b, 3, "t");
        b.extend_from_slice(&2u32.to_le_bytes());
        b.extend_from_slice(&(1u64 << 40).to_le_bytes());
        b.extend_from_slice(&(1u64 << 40).to_le_bytes());
        b.extend_from_slice(&[0; 12]);
        let m = parse_gguf(&b).unwrap();
        assert_eq!(m.parameter_count, None);
        assert!(
            m.structure_errors[0].contains("overflow the element count"),
            "{:?}",
            m.structure_errors
        );
    }

    #[test]
    fn markers_and_file_types_load() {
        assert_eq!(crate::knowledge::template_markers::markers().len(), 20);
        assert_eq!(file_type_name(1), Some("F16"));
        assert_eq!(file_type_name(7), Some("Q8_0"));
        assert_eq!(file_type_name(15), Some("Q4_K_M"));
        assert_eq!(file_type_name(5), None);
        let t = chat_template(b"{{ cycler.__init__.__globals__.os.popen('id') }}\x1b");
        assert_eq!(t.ssti_markers.len(), 4, "{:?}", t.ssti_markers);
        assert!(t.excerpt.ends_with('\u{FFFD}'));
    }
}
