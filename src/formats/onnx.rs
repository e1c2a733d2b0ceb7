//! ONNX model reader: walks the ModelProto (onnx/onnx.proto) with the streaming
//! wire reader of `protowire`, reading provenance, opsets, the op_type and
//! domain of every node (graph, subgraphs, training graphs, functions) and the
//! external_data of initializers; tensor bytes are seeked over.
//!
//! Entry points: `read_onnx(path)` (also judges external-data locations against
//! the model's directory) and `parse_onnx(reader)` / `parse_onnx_bytes(bytes)`.

use std::collections::BTreeSet;
use std::io::{Read, Seek};
use std::path::{Component, Path};

use super::onnx_structure::{
    self as structure, Defs, INT32_DATA, INT64_DATA, NodeDraft, RAW_DATA, STRING_DATA, TensorFacts,
    UINT64_DATA,
};
use super::protowire::{Payload, Wire, WireError};
use crate::model::metadata::{MAX_FIELD_CHARS, ModelMetadata, excerpt, sanitize};
use crate::model::onnx::{
    ExternalResolution, MAX_EXTERNAL, MAX_OPS, OnnxExternalData, OnnxOp, OnnxOpset, OnnxReport,
};

/// Subgraph nesting (If/Loop/Scan bodies inside bodies) followed at most.
pub const MAX_GRAPH_DEPTH: u32 = 16;
/// Longest name, domain or op_type kept (they are identifiers).
const NAME_CAP: usize = 256;
/// Longest external-data location judged (PATH_MAX).
const LOCATION_CAP: usize = 4096;
/// Dimensions kept per tensor; more and no element count is judged.
const MAX_TENSOR_DIMS: usize = 64;
/// Packed varint value fields longer than this are not counted (a typed
/// field that large is not what writers use for weights: raw_data is).
const VARINT_COUNT_CAP: u64 = 1024 * 1024;
/// Bytes of doc_string read for the excerpt.
const DOC_CAP: usize = 1024;
/// ir_versions the sniffer accepts: 3 is ONNX 1.0, onnx 1.23 writes 14.
/// Below 3 also keeps out TensorFlow's saved_model.pb (field 1 = 1).
const IR_VERSIONS: std::ops::RangeInclusive<u64> = 3..=20;

/// What the parser says of a location it could not judge without the directory.
const NOT_JUDGED: &str = "not judged: no model directory";

/// Read the ONNX model at `path` and judge its external-data locations.
pub fn read_onnx(path: &Path) -> Result<(ModelMetadata, OnnxReport), String> {
    let f =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let (mut m, mut rep) = parse_onnx(std::io::BufReader::new(f))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut errs = Vec::new();
    for x in rep.external_data.iter_mut() {
        if matches!(&x.resolution, ExternalResolution::Unknown { why } if why == NOT_JUDGED) {
            x.resolution = resolve(dir, &x.location);
        }
        // Only a file inside the directory is sized; a missing or escaping
        // one has a finding of its own.
        if x.resolution != ExternalResolution::Inside {
            continue;
        }
        match std::fs::metadata(dir.join(&x.location)) {
            Ok(md) if md.is_file() => errs.extend(structure::check_external_range(
                &x.tensor,
                x.offset,
                x.length,
                x.expected_bytes,
                md.len(),
            )),
            Ok(_) => errs.push(format!(
                "external data of tensor '{}': {} is not a regular file",
                x.tensor,
                sanitize(&x.location, MAX_FIELD_CHARS)
            )),
            Err(_) => {}
        }
    }
    if !errs.is_empty() {
        let mut all = std::mem::take(&mut m.structure_errors);
        all.extend(errs);
        m.structure_errors = structure::cap_errors(all);
    }
    Ok((m, rep))
}

/// Parse an ONNX ModelProto from a seekable reader (external data left unjudged).
pub fn parse_onnx<R: Read + Seek>(r: R) -> Result<(ModelMetadata, OnnxReport), String> {
    let wire = Wire::new(r).map_err(|e| e.to_string())?;
    let mut w = Walk {
        w: wire,
        meta: ModelMetadata::default(),
        rep: OnnxReport::default(),
        ops: BTreeSet::new(),
        ops_dropped: 0,
        external_dropped: 0,
        producer: (None, None),
        defs: Defs::default(),
        structure: Vec::new(),
    };
    let end = w.w.file_len();
    match w.model(end) {
        Ok(()) => w.rep.complete = true,
        Err(WireError::Cap(why)) => w.meta.note(format!("partial: {why}")),
        Err(WireError::Malformed(why)) => return Err(format!("not a readable ONNX model: {why}")),
    }
    if w.rep.ir_version.is_none() && w.rep.opsets.is_empty() && w.rep.node_count == 0 {
        return Err("no ModelProto fields found (ir_version, opset_import, graph)".into());
    }
    Ok(w.finish())
}

/// Parse an ONNX file held in memory.
pub fn parse_onnx_bytes(bytes: &[u8]) -> Result<(ModelMetadata, OnnxReport), String> {
    parse_onnx(std::io::Cursor::new(bytes))
}

struct Walk<R> {
    w: Wire<R>,
    meta: ModelMetadata,
    rep: OnnxReport,
    ops: BTreeSet<OnnxOp>,
    ops_dropped: u64,
    external_dropped: u64,
    producer: (Option<String>, Option<String>),
    /// Names and node order of the main graph, for the loader's order checks.
    defs: Defs,
    /// What the loader refuses, with offsets.
    structure: Vec<String>,
}

type Res = Result<(), WireError>;
/// A name's bytes as in the file (up to the cap) and whether they were cut.
type RawName = (Vec<u8>, bool);

impl<R: Read + Seek> Walk<R> {
    fn finish(mut self) -> (ModelMetadata, OnnxReport) {
        if self.rep.complete {
            self.judge_model();
        }
        self.rep.ops = self.ops.into_iter().collect();
        if self.ops_dropped > 0 {
            self.meta.note(format!(
                "{} more distinct operators than the {MAX_OPS} listed",
                self.ops_dropped
            ));
        }
        if self.external_dropped > 0 {
            self.meta.note(format!(
                "{} more external-data tensors than the {MAX_EXTERNAL} listed",
                self.external_dropped
            ));
        }
        match self.producer {
            (Some(n), Some(v)) => self.meta.put_general("onnx.producer", &format!("{n} {v}")),
            (Some(n), None) => self.meta.put_general("onnx.producer", &n),
            (None, Some(v)) => self.meta.put_general("onnx.producer_version", &v),
            (None, None) => {}
        }
        self.rep.opsets.sort();
        self.meta.structure_errors = structure::cap_errors(self.structure);
        (self.meta, self.rep)
    }

    /// The model-level checks of onnx.checker, once every field was read.
    fn judge_model(&mut self) {
        let domains: Vec<String> = self.rep.opsets.iter().map(|o| o.domain.clone()).collect();
        if self.rep.ir_version.is_some_and(|v| v >= 3)
            && !domains.iter().any(|d| d.is_empty() || d == "ai.onnx")
        {
            self.structure
                .push("IR version 3 or later without an opset import for the ONNX domain".into());
        }
        // A capped opset list cannot say a domain is missing.
        if self.rep.opsets.len() < MAX_OPS {
            self.structure
                .extend(self.defs.unimported_domains(&domains));
            let unregistered = self
                .defs
                .unregistered_ops(&self.rep.opsets, &self.rep.functions);
            self.structure.extend(unregistered);
        }
        match &self.defs.abandoned {
            Some(why) => self
                .meta
                .note(format!("node order and SSA form not checked: {why}")),
            None => self.defs.check_order(&mut self.structure),
        }
    }

    /// A name as raw bytes (for the order checks) and as shown.
    fn raw_name(&mut self, n: u64) -> Result<(Vec<u8>, bool), WireError> {
        self.w.bytes(n, structure::NAME_CAP)
    }

    fn name(&mut self, n: u64) -> Result<String, WireError> {
        Ok(sanitize(&self.w.string(n, NAME_CAP)?.0, NAME_CAP))
    }

    fn model(&mut self, end: u64) -> Res {
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Varint(v)) => self.rep.ir_version = Some(v),
                (2, Payload::Len(n)) => self.producer.0 = Some(self.name(n)?),
                (3, Payload::Len(n)) => self.producer.1 = Some(self.name(n)?),
                (4, Payload::Len(n)) => {
                    let d = self.name(n)?;
                    self.meta.organization = Some(d);
                }
                (5, Payload::Varint(v)) => self.meta.version = Some((v as i64).to_string()),
                (6, Payload::Len(n)) => {
                    let (s, cut) = self.w.string(n, DOC_CAP)?;
                    let mut e = excerpt(&s, MAX_FIELD_CHARS);
                    if cut && !e.ends_with('…') {
                        e.push('…');
                    }
                    self.meta.general.insert("onnx.doc_string".into(), e);
                }
                (7, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    let g = self.defs.new_graph();
                    self.graph(e, 0, Some(g))?
                }
                (8, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    let o = self.opset(e)?;
                    if self.rep.opsets.len() < MAX_OPS {
                        self.rep.opsets.push(o);
                    }
                }
                (14, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    let (k, v) = self.entry(e, MAX_FIELD_CHARS)?;
                    self.meta.put_general(&format!("onnx.metadata.{k}"), &v);
                }
                (20, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.training_info(e)?
                }
                (25, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.function(e)?
                }
                (_, p) => self.pass(p, end)?,
            }
        }
        Ok(())
    }

    /// Skip a field this walk does not need.
    fn pass(&mut self, p: Payload, end: u64) -> Res {
        match p {
            Payload::Len(n) => self.w.skip(n, end),
            Payload::Varint(_) | Payload::Fixed => Ok(()),
        }
    }

    fn opset(&mut self, end: u64) -> Result<OnnxOpset, WireError> {
        let mut o = OnnxOpset {
            domain: String::new(),
            version: 0,
        };
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Len(n)) => o.domain = self.name(n)?,
                (2, Payload::Varint(v)) => o.version = v as i64,
                (_, p) => self.pass(p, end)?,
            }
        }
        Ok(o)
    }

    /// A StringStringEntryProto, both sides capped at `cap` bytes.
    fn entry(&mut self, end: u64, cap: usize) -> Result<(String, String), WireError> {
        let (mut k, mut v) = (String::new(), String::new());
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Len(n)) => k = self.w.string(n, NAME_CAP)?.0,
                (2, Payload::Len(n)) => v = self.w.string(n, cap)?.0,
                (_, p) => self.pass(p, end)?,
            }
        }
        Ok((k, v))
    }

    fn training_info(&mut self, end: u64) -> Res {
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1 | 2, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.graph(e, 1, None)?
                }
                (_, p) => self.pass(p, end)?,
            }
        }
        Ok(())
    }

    fn function(&mut self, end: u64) -> Res {
        let mut f = OnnxOp {
            domain: String::new(),
            op_type: String::new(),
        };
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Len(n)) => f.op_type = self.name(n)?,
                (10, Payload::Len(n)) => f.domain = self.name(n)?,
                (7, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.node(e, 1, None)?
                }
                (_, p) => self.pass(p, end)?,
            }
        }
        if self.rep.functions.len() < MAX_OPS {
            self.rep.functions.push(f);
        }
        Ok(())
    }

    /// A GraphProto; `track` is its index in `defs` when it is the main graph
    /// or one of its subgraphs (training graphs and functions have scopes of
    /// their own and are not order-checked).
    fn graph(&mut self, end: u64, depth: u32, track: Option<usize>) -> Res {
        if depth > MAX_GRAPH_DEPTH {
            return Err(WireError::Cap(format!(
                "subgraphs nested deeper than {MAX_GRAPH_DEPTH}"
            )));
        }
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.node(e, depth, track)?
                }
                (5, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    let (name, cut) = self.tensor(e)?;
                    if let Some(g) = track {
                        self.defs.initializer(g, &name, cut);
                    }
                }
                (11, Payload::Len(n)) if track.is_some() => {
                    let e = self.w.pos() + n;
                    let (name, cut) = self.value_info_name(e)?;
                    if let Some(g) = track {
                        self.defs.graph_input(g, &name, cut);
                    }
                }
                (15, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    let (name, cut) = self.sparse(e)?;
                    if let Some(g) = track {
                        self.defs.initializer(g, &name, cut);
                    }
                }
                (_, p) => self.pass(p, end)?,
            }
        }
        Ok(())
    }

    /// The name of a ValueInfoProto (a graph input).
    fn value_info_name(&mut self, end: u64) -> Result<(Vec<u8>, bool), WireError> {
        let mut name = (Vec::new(), false);
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Len(n)) => name = self.raw_name(n)?,
                (_, p) => self.pass(p, end)?,
            }
        }
        Ok(name)
    }

    fn node(&mut self, end: u64, depth: u32, track: Option<usize>) -> Res {
        let at = self.w.pos();
        let mut op = OnnxOp {
            domain: String::new(),
            op_type: String::new(),
        };
        let mut draft = NodeDraft::default();
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Len(n)) if track.is_some() => {
                    let (name, cut) = self.raw_name(n)?;
                    self.defs.node_input(&mut draft, &name, cut);
                }
                (2, Payload::Len(n)) if track.is_some() => {
                    let (name, cut) = self.raw_name(n)?;
                    self.defs.node_output(&mut draft, &name, cut);
                }
                (4, Payload::Len(n)) => op.op_type = self.name(n)?,
                (7, Payload::Len(n)) => op.domain = self.name(n)?,
                (5, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.attribute(e, depth, track.map(|_| &mut draft))?
                }
                (_, p) => self.pass(p, end)?,
            }
        }
        if op.op_type.is_empty() {
            self.structure
                .push(format!("node at offset {at}: op_type is empty"));
        }
        if let Some(g) = track {
            self.defs.node_done(g, at, draft, &op.domain, &op.op_type);
        }
        self.rep.node_count += 1;
        if self.ops.len() < MAX_OPS || self.ops.contains(&op) {
            self.ops.insert(op);
        } else {
            self.ops_dropped += 1;
        }
        Ok(())
    }

    /// Attributes hold tensors (which may be external) and subgraphs; a
    /// tracked node's subgraphs are tracked too.
    fn attribute(&mut self, end: u64, depth: u32, mut node: Option<&mut NodeDraft>) -> Res {
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (5 | 10, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.tensor(e)?;
                }
                (6 | 11, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    let g = match node.as_deref_mut() {
                        Some(d) => {
                            let g = self.defs.new_graph();
                            d.add_subgraph(g);
                            Some(g)
                        }
                        None => None,
                    };
                    self.graph(e, depth + 1, g)?
                }
                (22 | 23, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.sparse(e)?;
                }
                (_, p) => self.pass(p, end)?,
            }
        }
        Ok(())
    }

    /// A SparseTensorProto; its name is that of its values tensor.
    fn sparse(&mut self, end: u64) -> Result<(Vec<u8>, bool), WireError> {
        let mut name = (Vec::new(), false);
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    name = self.tensor_facts(e)?.1;
                }
                (2, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    self.tensor_facts(e)?;
                }
                (_, p) => self.pass(p, end)?,
            }
        }
        Ok(name)
    }

    /// A dense TensorProto: its facts are judged as onnx.checker does.
    /// Returns its raw name.
    fn tensor(&mut self, end: u64) -> Result<(Vec<u8>, bool), WireError> {
        let (facts, name, ext) = self.tensor_facts(end)?;
        let (errs, expected) = facts.check();
        self.structure.extend(errs);
        if let Some(i) = ext {
            self.rep.external_data[i].expected_bytes = expected;
        }
        Ok(name)
    }

    /// Read a TensorProto: its data facts, its raw name, and the index of
    /// its external-data entry if it has one.
    fn tensor_facts(
        &mut self,
        end: u64,
    ) -> Result<(TensorFacts, RawName, Option<usize>), WireError> {
        let mut facts = TensorFacts {
            at: self.w.pos(),
            ..Default::default()
        };
        let mut raw_name = (Vec::new(), false);
        let mut location: Option<(String, bool)> = None;
        while let Some((field, p)) = self.w.next_field(end)? {
            match (field, p) {
                (1, Payload::Varint(v)) => self.dim(&mut facts, v),
                (1, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    while self.w.pos() < e {
                        let v = self.w.varint_in(e)?;
                        self.dim(&mut facts, v);
                    }
                }
                (2, Payload::Varint(v)) => facts.data_type = Some(v),
                (8, Payload::Len(n)) => {
                    raw_name = self.raw_name(n)?;
                    facts.name = sanitize(&String::from_utf8_lossy(&raw_name.0), NAME_CAP);
                }
                (RAW_DATA, Payload::Len(n)) => {
                    facts.raw = Some(n);
                    self.w.skip(n, end)?;
                }
                (STRING_DATA, Payload::Len(n)) => {
                    facts.add_typed(STRING_DATA, Some(1));
                    self.w.skip(n, end)?;
                }
                // Packed repeated numbers: fixed-width ones counted by length,
                // varints by reading them (up to a cap).
                (f @ (structure::FLOAT_DATA | structure::DOUBLE_DATA), Payload::Len(n)) => {
                    let width = if f == structure::FLOAT_DATA { 4 } else { 8 };
                    facts.add_typed(f, (n % width == 0).then_some(n / width));
                    self.w.skip(n, end)?;
                }
                (f @ (INT32_DATA | INT64_DATA | UINT64_DATA), Payload::Len(n)) => {
                    let count = if n <= VARINT_COUNT_CAP {
                        let (b, _) = self.w.bytes(n, n as usize)?;
                        Some(b.iter().filter(|x| **x & 0x80 == 0).count() as u64)
                    } else {
                        self.w.skip(n, end)?;
                        None
                    };
                    facts.add_typed(f, count);
                }
                (
                    f @ (structure::FLOAT_DATA
                    | structure::DOUBLE_DATA
                    | INT32_DATA
                    | INT64_DATA
                    | UINT64_DATA),
                    Payload::Varint(_) | Payload::Fixed,
                ) => facts.add_typed(f, Some(1)),
                (13, Payload::Len(n)) => {
                    let e = self.w.pos() + n;
                    let (k, v) = self.entry(e, LOCATION_CAP + 1)?;
                    match k.as_str() {
                        "location" => {
                            // Cut, not UTF-8, or with control/bidi characters: shown
                            // sanitised, never resolved as a different path.
                            let cut = v.len() > LOCATION_CAP
                                || v.contains('\u{FFFD}')
                                || sanitize(&v, LOCATION_CAP + 1) != v;
                            location = Some((v, cut));
                        }
                        "offset" => facts.ext_offset = Some(v),
                        "length" => facts.ext_length = Some(v),
                        _ => {}
                    }
                }
                (14, Payload::Varint(v)) => facts.external = v == 1,
                (_, p) => self.pass(p, end)?,
            }
        }
        // onnx.load reads external data only for data_location EXTERNAL.
        if !facts.external {
            return Ok((facts, raw_name, None));
        }
        let mut number = |what: &str, v: &Option<String>| match v {
            None => None,
            Some(t) => {
                let n = structure::external_number(t);
                if n.is_none() {
                    self.structure.push(format!(
                        "external data of tensor '{}' at offset {}: {what} is not a number",
                        facts.name, facts.at
                    ));
                }
                n
            }
        };
        let offset = number("offset", &facts.ext_offset);
        let length = number("length", &facts.ext_length);
        if self.rep.external_data.len() >= MAX_EXTERNAL {
            self.external_dropped += 1;
            return Ok((facts, raw_name, None));
        }
        let (location, resolution) = match location {
            None => (
                String::new(),
                ExternalResolution::Unknown {
                    why: "data_location EXTERNAL without a location entry".into(),
                },
            ),
            Some((v, true)) => (
                sanitize(&v, MAX_FIELD_CHARS),
                ExternalResolution::Unknown {
                    why: format!(
                        "location over {LOCATION_CAP} bytes, not UTF-8, or with control characters"
                    ),
                },
            ),
            Some((v, false)) => (
                v,
                ExternalResolution::Unknown {
                    why: NOT_JUDGED.into(),
                },
            ),
        };
        self.rep.external_data.push(OnnxExternalData {
            tensor: facts.name.clone(),
            location,
            resolution,
            offset,
            length,
            expected_bytes: None,
        });
        let i = self.rep.external_data.len() - 1;
        Ok((facts, raw_name, Some(i)))
    }

    fn dim(&mut self, facts: &mut TensorFacts, v: u64) {
        if facts.dims.len() < MAX_TENSOR_DIMS {
            facts.dims.push(v as i64);
        } else {
            facts.dims_cut = true;
        }
    }
}

/// Where `location` leads from the model's directory `dir`. Syntax first
/// (absolute, `..`), then the file system (symlinks out, missing).
pub fn resolve(dir: &Path, location: &str) -> ExternalResolution {
    if location.is_empty() {
        return ExternalResolution::Unknown {
            why: "empty location".into(),
        };
    }
    let p = Path::new(location);
    if p.is_absolute() {
        return ExternalResolution::Absolute;
    }
    if p.components().any(|c| c == Component::ParentDir) {
        return ExternalResolution::ParentTraversal;
    }
    let base = match std::fs::canonicalize(dir) {
        Ok(b) => b,
        Err(e) => {
            return ExternalResolution::Unknown {
                why: format!("model directory: {e}"),
            };
        }
    };
    match std::fs::canonicalize(dir.join(p)) {
        Ok(real) if real.starts_with(&base) => ExternalResolution::Inside,
        Ok(real) => ExternalResolution::OutsideDir {
            target: sanitize(&real.to_string_lossy(), MAX_FIELD_CHARS),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ExternalResolution::Missing,
        Err(e) => ExternalResolution::Unknown { why: e.to_string() },
    }
}

/// Is `head` (a file's first bytes) the start of a ModelProto? ONNX has no
/// magic, so: field 1 (ir_version) must come first as a varint in 3..=20,
/// as every writer (onnx, PyTorch, TensorFlow, ORT) emits it, and be followed
/// by at least one more ModelProto field of the right wire type; every field
/// that fits in `head` must be well formed (strings UTF-8 without control
/// characters, opset entries parseable); only a graph, training info or
/// function list may run past the head (strings and opsets are short). Random
/// or other-format bytes (other protobufs included) fail
/// this within the first few bytes; a model without ir_version is not
/// recognised (conservative: no false positives).
pub fn looks_like_onnx(head: &[u8]) -> bool {
    sniff_fields(head).unwrap_or(false)
}

fn sniff_fields(head: &[u8]) -> Option<bool> {
    let mut w = Wire::new(std::io::Cursor::new(head)).ok()?;
    let end = head.len() as u64;
    let (1, Payload::Varint(ir)) = w.next_field(end).ok()?? else {
        return Some(false);
    };
    if !IR_VERSIONS.contains(&ir) {
        return Some(false);
    }
    let mut seen = 0;
    loop {
        let before = w.pos();
        let field = match w.next_field(end) {
            Ok(Some(f)) => f,
            Ok(None) => return Some(seen > 0),
            // The field runs past the head: judge by its key alone.
            Err(_) => return Some(before < end && key_only_ok(&head[before as usize..])),
        };
        match field {
            (5, Payload::Varint(_)) => {}
            (2 | 3 | 4 | 6, Payload::Len(n)) => {
                let s = w.bytes(n, usize::MAX).ok()?.0;
                let text = std::str::from_utf8(&s).ok()?;
                if text
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
                {
                    return Some(false);
                }
            }
            (8, Payload::Len(n)) => {
                let e = w.pos() + n;
                while let Some(f) = w.next_field(e).ok()? {
                    match f {
                        (1, Payload::Len(k)) => {
                            std::str::from_utf8(&w.bytes(k, usize::MAX).ok()?.0).ok()?;
                        }
                        (2, Payload::Varint(_)) => {}
                        _ => return Some(false),
                    }
                }
            }
            (7 | 14 | 20 | 25 | 26, Payload::Len(n)) => w.skip(n, end).ok()?,
            _ => return Some(false),
        }
        seen += 1;
    }
}

/// A field cut by the end of the head: one of the ModelProto fields that
/// are large (graph, training_info, functions); a graph must start like a
/// GraphProto (node, name or initializer first, in field-number order).
fn key_only_ok(rest: &[u8]) -> bool {
    fn varint(b: &[u8]) -> Option<(u64, usize)> {
        let mut v = 0u64;
        for (i, x) in b.iter().take(10).enumerate() {
            v |= u64::from(x & 0x7f) << (7 * i);
            if x & 0x80 == 0 {
                return Some((v, i + 1));
            }
        }
        None
    }
    let Some((key, k)) = varint(rest) else {
        return false;
    };
    let field = key >> 3;
    if key & 7 != 2 || !matches!(field, 7 | 20 | 25) {
        return false;
    }
    let Some((_, l)) = varint(&rest[k..]) else {
        return false;
    };
    match rest.get(k + l) {
        Some(first) if field == 7 => matches!(first, 0x0a | 0x12 | 0x2a),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffer_wants_ir_version_then_model_fields() {
        // ir_version 8, producer "x", graph of 1000 bytes (cut by the head).
        let mut b = vec![0x08, 0x08, 0x12, 0x01, b'x', 0x3a, 0xe8, 0x07, 0x0a];
        assert!(looks_like_onnx(&b));
        // A graph that starts with something no GraphProto starts with.
        assert!(!looks_like_onnx(&[0x08, 0x08, 0x3a, 0xe8, 0x07, 0x08]));
        b[1] = 99;
        assert!(!looks_like_onnx(&b));
        assert!(!looks_like_onnx(&[0x08, 0x08]));
        assert!(!looks_like_onnx(&[0x08, 0x08, 0x12, 0x02, 0x1b, b'[']));
        assert!(!looks_like_onnx(&[0x08, 0x08, 0x50, 0x01]));
        // TensorFlow saved_model.pb: schema version 1, then a large meta_graphs.
        assert!(!looks_like_onnx(&[
            0x08, 0x01, 0x12, 0xe8, 0x07, 0x0a, 0x05
        ]));
        // A string field cannot run past the head.
        assert!(!looks_like_onnx(&[0x08, 0x08, 0x12, 0xe8, 0x07, b'a']));
    }

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn len_field(field: u64, payload: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        varint(field << 3 | 2, &mut b);
        varint(payload.len() as u64, &mut b);
        b.extend_from_slice(payload);
        b
    }

    fn model(graph: &[u8]) -> Vec<u8> {
        let mut b = vec![0x08, 0x08];
        b.extend(len_field(7, graph));
        b
    }

    #[test]
    fn location_with_control_characters_is_not_resolved() {
        let mut entry = len_field(1, b"location");
        entry.extend(len_field(2, b"w\x1b[2J.bin"));
        let mut tensor = len_field(8, b"t");
        tensor.extend(len_field(13, &entry));
        tensor.extend([14 << 3, 1]);
        let (_, r) = parse_onnx_bytes(&model(&len_field(5, &tensor))).unwrap();
        assert_eq!(r.external_data.len(), 1);
        assert_eq!(r.external_data[0].location, "w\u{FFFD}[2J.bin");
        assert!(
            matches!(&r.external_data[0].resolution, ExternalResolution::Unknown { why } if why.contains("control")),
            "{:?}",
            r.external_data[0].resolution
        );
    }

    #[test]
    fn nested_subgraphs_stop_at_the_cap_with_a_note() {
        let mut g = len_field(1, &len_field(4, b"Relu"));
        for _ in 0..(MAX_GRAPH_DEPTH + 4) {
            let attr = len_field(6, &g);
            g = len_field(1, &len_field(5, &attr));
        }
        let (m, r) = parse_onnx_bytes(&model(&g)).unwrap();
        assert!(!r.complete);
        assert!(m.notes[0].contains("nested deeper"), "{:?}", m.notes);
    }

    #[test]
    fn resolution_by_syntax() {
        let d = Path::new("/nonexistent-aiposture");
        assert_eq!(resolve(d, "/etc/passwd"), ExternalResolution::Absolute);
        assert_eq!(
            resolve(d, "a/../../etc/passwd"),
            ExternalResolution::ParentTraversal
        );
        assert!(matches!(
            resolve(d, "w.bin"),
            ExternalResolution::Unknown { .. }
        ));
    }

    #[test]
    fn symlink_out_of_the_directory_is_outside() {
        let t = tempfile::tempdir().unwrap();
        let m = t.path().join("m");
        std::fs::create_dir(&m).unwrap();
        std::fs::write(t.path().join("secret"), b"x").unwrap();
        std::os::unix::fs::symlink(t.path().join("secret"), m.join("w.bin")).unwrap();
        std::fs::write(m.join("ok.bin"), b"x").unwrap();
        assert!(matches!(
            resolve(&m, "w.bin"),
            ExternalResolution::OutsideDir { .. }
        ));
        assert_eq!(resolve(&m, "ok.bin"), ExternalResolution::Inside);
        assert_eq!(resolve(&m, "gone.bin"), ExternalResolution::Missing);
    }
}
