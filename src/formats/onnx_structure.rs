//! What ONNX's reference loader refuses, judged from facts the streaming walk
//! of `onnx.rs` collects (no tensor bytes read): `onnx.checker.check_model`
//! (tensor value fields, element types, dimensions, SSA form, topological
//! order with subgraph scopes, opset imports) and `numpy_helper.to_array`
//! (data sizes, external data ranges). Each violation names its file offset.

use std::collections::{HashMap, HashSet};

use crate::knowledge::onnx_types;
use crate::model::metadata::sanitize;

/// Errors listed per file; more are counted.
pub const MAX_ERRORS: usize = 32;
/// Name bytes kept for the definition-order check; a larger graph is not
/// checked for it (said in a note), so memory stays bounded.
const NAME_BUDGET: usize = 8 * 1024 * 1024;
/// Node input/output references kept for the same check.
const REF_BUDGET: usize = 4_000_000;
/// Names longer than this are not interned (no loader-written name is).
pub const NAME_CAP: usize = 4096;
/// "No name": an omitted optional input or output.
const EMPTY: u32 = u32::MAX;

/// TensorProto fields.
pub const FLOAT_DATA: u32 = 4;
pub const INT32_DATA: u32 = 5;
pub const STRING_DATA: u32 = 6;
pub const INT64_DATA: u32 = 7;
pub const RAW_DATA: u32 = 9;
pub const DOUBLE_DATA: u32 = 10;
pub const UINT64_DATA: u32 = 11;

fn field_name(f: u32) -> &'static str {
    match f {
        FLOAT_DATA => "float_data",
        INT32_DATA => "int32_data",
        STRING_DATA => "string_data",
        INT64_DATA => "int64_data",
        DOUBLE_DATA => "double_data",
        UINT64_DATA => "uint64_data",
        _ => "raw_data",
    }
}

/// What one TensorProto declares about its data.
#[derive(Debug, Default)]
pub struct TensorFacts {
    pub at: u64,
    pub name: String,
    pub dims: Vec<i64>,
    pub dims_cut: bool,
    pub data_type: Option<u64>,
    /// raw_data's length, when present (presence counts, as in proto2).
    pub raw: Option<u64>,
    /// Typed value fields present: (field, values, or None where not counted).
    pub typed: Vec<(u32, Option<u64>)>,
    pub external: bool,
    pub ext_offset: Option<String>,
    pub ext_length: Option<String>,
}

impl TensorFacts {
    /// Count `k` values of typed `field` (None: present, not counted).
    pub fn add_typed(&mut self, field: u32, k: Option<u64>) {
        match self.typed.iter_mut().find(|(f, _)| *f == field) {
            Some((_, n)) => *n = n.zip(k).map(|(a, b)| a + b),
            None => self.typed.push((field, k)),
        }
    }

    fn elements(&self) -> Result<Option<u64>, String> {
        if self.dims_cut {
            return Ok(None);
        }
        let mut n: u64 = 1;
        for d in &self.dims {
            let d = u64::try_from(*d).map_err(|_| "negative dimension".to_string())?;
            n = n
                .checked_mul(d)
                .ok_or_else(|| format!("dimensions {:?} overflow an element count", self.dims))?;
        }
        Ok(Some(n))
    }

    /// What onnx.checker and numpy_helper.to_array refuse in this tensor, and
    /// the bytes its data takes (for external data, checked against the file).
    pub fn check(&self) -> (Vec<String>, Option<u64>) {
        let mut errs = Vec::new();
        let who = format!("tensor '{}' at offset {}", self.name, self.at);
        let n = match self.elements() {
            Ok(n) => n,
            Err(e) => {
                errs.push(format!("{who}: {e}"));
                return (errs, None);
            }
        };
        let ty = match self.data_type.unwrap_or(0) {
            0 => {
                errs.push(format!("{who}: data_type is UNDEFINED"));
                return (errs, None);
            }
            id => match u32::try_from(id).ok().and_then(onnx_types::get) {
                Some(t) => t,
                None => {
                    errs.push(format!("{who}: data_type {id} is not an ONNX element type"));
                    return (errs, None);
                }
            },
        };
        let expected_raw = n.and_then(|n| ty.raw_bytes(n));
        if self.external {
            return (errs, expected_raw);
        }
        let fields = usize::from(self.raw.is_some()) + self.typed.len();
        if fields > 1 || (fields == 0 && n != Some(0)) {
            errs.push(format!(
                "{who}: {fields} value fields, the loader wants exactly one"
            ));
            return (errs, None);
        }
        if let Some(len) = self.raw {
            if ty.name == "STRING" {
                errs.push(format!("{who}: STRING data in raw_data"));
            } else if let Some(want) = expected_raw.filter(|w| *w != len) {
                errs.push(format!(
                    "{who}: raw_data holds {len} bytes, {} {:?} need {want}",
                    ty.name, self.dims
                ));
            }
        }
        for (field, count) in &self.typed {
            if field_name(*field) != ty.field && n != Some(0) {
                errs.push(format!(
                    "{who}: {} values stored in {}, the loader reads {}",
                    ty.name,
                    field_name(*field),
                    ty.field
                ));
                continue;
            }
            let want = n.and_then(|n| ty.typed_values(n));
            if let (Some(have), Some(want)) = (count, want)
                && *have != want
            {
                errs.push(format!(
                    "{who}: {} holds {have} values, {:?} needs {want}",
                    field_name(*field),
                    self.dims
                ));
            }
        }
        (errs, None)
    }
}

/// Parse an external_data offset/length as onnx does (`int(value)`).
pub fn external_number(v: &str) -> Option<u64> {
    let t = v.trim().replace('_', "");
    t.strip_prefix('+').unwrap_or(&t).parse().ok()
}

/// The external-data range checks `onnx.load` makes, once the file's size is
/// known: `length` bytes from `offset` (to the end when no length) must be in
/// the file and be what the tensor's shape and type take.
pub fn check_external_range(
    tensor: &str,
    offset: Option<u64>,
    length: Option<u64>,
    expected: Option<u64>,
    file_len: u64,
) -> Option<String> {
    let who = format!("external data of tensor '{tensor}'");
    let off = offset.unwrap_or(0);
    let avail = file_len.saturating_sub(off);
    let len = match length {
        None => avail,
        Some(l) if l > avail => {
            return Some(format!(
                "{who}: {l} bytes from offset {off}, the file holds {avail} there"
            ));
        }
        Some(l) => l,
    };
    match expected {
        Some(want) if want != len => Some(format!(
            "{who}: {len} bytes, the tensor's shape and type need {want}"
        )),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct GraphRec {
    inputs: Vec<u32>,
    inits: Vec<u32>,
    nodes: Vec<NodeRec>,
}

#[derive(Debug)]
struct NodeRec {
    at: u64,
    ins: Vec<u32>,
    outs: Vec<u32>,
    subgraphs: Vec<usize>,
}

/// Names and node order of the main graph and its subgraphs, for the SSA and
/// topological-order checks, with the domains its nodes use.
#[derive(Debug, Default)]
pub struct Defs {
    graphs: Vec<GraphRec>,
    names: HashMap<Box<[u8]>, u32>,
    name_bytes: usize,
    refs: usize,
    /// Why the order checks were given up (a budget), if they were.
    pub abandoned: Option<String>,
    /// Domains of tracked nodes, each with the first node's offset.
    domains: HashMap<String, u64>,
    /// (domain, op_type) of tracked nodes, each with the first node's offset.
    ops: HashMap<(String, String), u64>,
}

/// Distinct operators kept for the registry check.
const MAX_TRACKED_OPS: usize = 4096;

/// A node being read.
#[derive(Debug, Default)]
pub struct NodeDraft {
    ins: Vec<u32>,
    outs: Vec<u32>,
    subgraphs: Vec<usize>,
}

impl NodeDraft {
    pub fn add_subgraph(&mut self, g: usize) {
        self.subgraphs.push(g);
    }
}

impl Defs {
    fn intern(&mut self, name: &[u8], cut: bool) -> Option<u32> {
        if self.abandoned.is_some() {
            return None;
        }
        if cut {
            self.abandoned = Some(format!("a name longer than {NAME_CAP} bytes"));
            return None;
        }
        if name.is_empty() {
            return Some(EMPTY);
        }
        self.refs += 1;
        if self.refs > REF_BUDGET {
            self.abandoned = Some(format!("more than {REF_BUDGET} node inputs and outputs"));
            return None;
        }
        if let Some(id) = self.names.get(name) {
            return Some(*id);
        }
        self.name_bytes += name.len();
        if self.name_bytes > NAME_BUDGET {
            self.abandoned = Some(format!("names over {NAME_BUDGET} bytes"));
            return None;
        }
        let id = self.names.len() as u32;
        self.names.insert(name.into(), id);
        Some(id)
    }

    fn name_of(&self, id: u32) -> String {
        self.names
            .iter()
            .find(|(_, v)| **v == id)
            .map(|(k, _)| sanitize(&String::from_utf8_lossy(k), 256))
            .unwrap_or_default()
    }

    pub fn new_graph(&mut self) -> usize {
        self.graphs.push(GraphRec::default());
        self.graphs.len() - 1
    }

    pub fn graph_input(&mut self, g: usize, name: &[u8], cut: bool) {
        if let Some(id) = self.intern(name, cut) {
            self.graphs[g].inputs.push(id);
        }
    }

    pub fn initializer(&mut self, g: usize, name: &[u8], cut: bool) {
        if let Some(id) = self.intern(name, cut) {
            self.graphs[g].inits.push(id);
        }
    }

    pub fn node_input(&mut self, n: &mut NodeDraft, name: &[u8], cut: bool) {
        if let Some(id) = self.intern(name, cut) {
            n.ins.push(id);
        }
    }

    pub fn node_output(&mut self, n: &mut NodeDraft, name: &[u8], cut: bool) {
        if let Some(id) = self.intern(name, cut) {
            n.outs.push(id);
        }
    }

    pub fn node_done(&mut self, g: usize, at: u64, n: NodeDraft, domain: &str, op_type: &str) {
        self.domains.entry(domain.to_string()).or_insert(at);
        if self.ops.len() < MAX_TRACKED_OPS {
            self.ops
                .entry((domain.to_string(), op_type.to_string()))
                .or_insert(at);
        }
        self.graphs[g].nodes.push(NodeRec {
            at,
            ins: n.ins,
            outs: n.outs,
            subgraphs: n.subgraphs,
        });
    }

    /// Domains the tracked nodes use that `imported` does not declare
    /// ("" and "ai.onnx" are one domain).
    pub fn unimported_domains(&self, imported: &[String]) -> Vec<String> {
        let norm = |d: &str| {
            if d == "ai.onnx" {
                String::new()
            } else {
                d.to_string()
            }
        };
        let have: HashSet<String> = imported.iter().map(|d| norm(d)).collect();
        let mut out: Vec<(u64, String)> = self
            .domains
            .iter()
            .filter(|(d, _)| !have.contains(&norm(d)))
            .map(|(d, at)| (*at, d.clone()))
            .collect();
        out.sort();
        out.into_iter()
            .map(|(at, d)| {
                let shown = if d.is_empty() {
                    "ai.onnx (default)".into()
                } else {
                    sanitize(&d, 256)
                };
                format!("node at offset {at}: no opset import for domain '{shown}'")
            })
            .collect()
    }

    /// Operators of registered domains (ai.onnx, ai.onnx.ml …) that the
    /// operator registry does not define at the imported opset version
    /// (model-local functions excepted): onnx.checker's "No Op registered".
    pub fn unregistered_ops(
        &self,
        opsets: &[crate::model::onnx::OnnxOpset],
        local: &[crate::model::onnx::OnnxOp],
    ) -> Vec<String> {
        fn norm(d: &str) -> &str {
            if d == "ai.onnx" { "" } else { d }
        }
        let mut out: Vec<(u64, String)> = Vec::new();
        for ((domain, op), at) in &self.ops {
            if op.is_empty()
                || local
                    .iter()
                    .any(|f| f.domain == *domain && f.op_type == *op)
            {
                continue;
            }
            let Some(version) = opsets
                .iter()
                .find(|o| norm(&o.domain) == norm(domain))
                .map(|o| o.version)
            else {
                continue;
            };
            if crate::knowledge::onnx_ops::defined_at(domain, op, version) == Some(false) {
                let shown = if norm(domain).is_empty() {
                    "ai.onnx"
                } else {
                    domain
                };
                out.push((
                    *at,
                    format!(
                        "node at offset {at}: no operator {} in domain {shown} at opset {version}",
                        sanitize(op, 256)
                    ),
                ));
            }
        }
        out.sort();
        out.into_iter().map(|(_, m)| m).collect()
    }

    /// SSA and topological order of the main graph (index 0) and its
    /// subgraphs, each subgraph seeing the names defined before its node.
    pub fn check_order(&self, errs: &mut Vec<String>) {
        if self.abandoned.is_some() || self.graphs.is_empty() {
            return;
        }
        let mut defined = HashSet::new();
        self.check_graph(0, &mut defined, errs);
    }

    fn check_graph(&self, g: usize, defined: &mut HashSet<u32>, errs: &mut Vec<String>) {
        let graph = &self.graphs[g];
        let mut added = Vec::new();
        let mut seen = HashSet::new();
        for i in &graph.inputs {
            if *i != EMPTY && !seen.insert(*i) {
                errs.push(format!(
                    "graph input '{}' is declared more than once (not SSA form)",
                    self.name_of(*i)
                ));
            }
        }
        let mut inits = HashSet::new();
        for i in &graph.inits {
            if *i != EMPTY && !inits.insert(*i) {
                errs.push(format!(
                    "initializer name '{}' is not unique",
                    self.name_of(*i)
                ));
            }
        }
        for i in graph.inputs.iter().chain(&graph.inits) {
            if *i != EMPTY && defined.insert(*i) {
                added.push(*i);
            }
        }
        for node in &graph.nodes {
            for i in &node.ins {
                if *i != EMPTY && !defined.contains(i) {
                    errs.push(format!(
                        "node at offset {}: input '{}' is not defined before it (not topologically sorted)",
                        node.at,
                        self.name_of(*i)
                    ));
                }
            }
            for s in &node.subgraphs {
                self.check_graph(*s, defined, errs);
            }
            for o in &node.outs {
                if *o == EMPTY {
                    continue;
                }
                if defined.insert(*o) {
                    added.push(*o);
                } else {
                    errs.push(format!(
                        "node at offset {}: output '{}' is already defined (not SSA form)",
                        node.at,
                        self.name_of(*o)
                    ));
                }
            }
        }
        for a in added {
            defined.remove(&a);
        }
    }
}

/// Keep at most `MAX_ERRORS`, saying how many more there were.
pub fn cap_errors(mut errs: Vec<String>) -> Vec<String> {
    if errs.len() > MAX_ERRORS {
        let more = errs.len() - MAX_ERRORS;
        errs.truncate(MAX_ERRORS);
        errs.push(format!("… and {more} more"));
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(dims: &[i64]) -> TensorFacts {
        TensorFacts {
            name: "w".into(),
            dims: dims.to_vec(),
            data_type: Some(1),
            ..Default::default()
        }
    }

    #[test]
    fn raw_data_must_match_shape_and_type() {
        let mut t = float(&[3, 4]);
        t.raw = Some(48);
        assert!(t.check().0.is_empty());
        t.raw = Some(52);
        assert!(t.check().0[0].contains("need 48"), "{:?}", t.check().0);
        t.dims = vec![0, 4];
        t.raw = None;
        assert!(
            t.check().0.is_empty(),
            "an empty tensor needs no value field"
        );
        t.dims = vec![i64::MAX, 4];
        assert!(t.check().0[0].contains("overflow"));
    }

    #[test]
    fn typed_fields_are_the_types_own_and_counted() {
        let mut t = float(&[2]);
        t.add_typed(FLOAT_DATA, Some(1));
        t.add_typed(FLOAT_DATA, Some(1));
        assert!(t.check().0.is_empty(), "{:?}", t.check().0);
        let mut t = float(&[2]);
        t.add_typed(INT64_DATA, Some(2));
        assert!(t.check().0[0].contains("loader reads float_data"));
        let mut t = float(&[2]);
        t.add_typed(FLOAT_DATA, Some(2));
        t.raw = Some(8);
        assert!(t.check().0[0].contains("2 value fields"));
    }

    #[test]
    fn external_ranges_follow_onnx_load() {
        assert_eq!(check_external_range("w", None, None, Some(48), 48), None);
        assert!(check_external_range("w", Some(40), Some(48), Some(48), 64).is_some());
        assert_eq!(
            check_external_range("w", Some(16), Some(48), Some(48), 64),
            None
        );
        assert_eq!(external_number(" 1_024 "), Some(1024));
        assert_eq!(external_number("x"), None);
        assert!(check_external_range("w", None, None, Some(48), 20).is_some());
    }

    #[test]
    fn order_and_ssa_with_subgraph_scopes() {
        let mut d = Defs::default();
        let g = d.new_graph();
        let sub = d.new_graph();
        let mut n = NodeDraft::default();
        d.node_input(&mut n, b"x", false);
        d.node_output(&mut n, b"y0", false);
        d.node_done(g, 10, n, "", "MatMul");
        // The subgraph reads y0 from the outer scope: fine.
        let mut s = NodeDraft::default();
        d.node_input(&mut s, b"y0", false);
        d.node_output(&mut s, b"t", false);
        d.node_done(sub, 30, s, "", "Relu");
        let mut n = NodeDraft::default();
        d.node_input(&mut n, b"c", false);
        d.node_input(&mut n, b"", false);
        d.node_output(&mut n, b"y", false);
        n.add_subgraph(sub);
        d.node_done(g, 20, n, "", "If");
        d.graph_input(g, b"x", false);
        d.initializer(g, b"c", false);
        let mut errs = Vec::new();
        d.check_order(&mut errs);
        assert!(errs.is_empty(), "{errs:?}");
        // A later node writing x (a graph input) breaks SSA; one reading
        // t (defined only inside the subgraph) is out of order.
        let mut n = NodeDraft::default();
        d.node_input(&mut n, b"t", false);
        d.node_output(&mut n, b"x", false);
        d.node_done(g, 40, n, "com.example", "Steal");
        d.check_order(&mut errs);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(
            d.unimported_domains(&["ai.onnx".into()]),
            vec!["node at offset 40: no opset import for domain 'com.example'".to_string()]
        );
    }
}
