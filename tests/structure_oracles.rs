//! `.npy` headers and HDF5 files judged against their reference loaders: the
//! real writers (numpy.save, h5py) make a file, it is rewritten into forms a
//! loader must refuse (a header that is code, not a literal; a shape whose
//! size overflows; a negative dimension; wrong keys; array bytes missing; an
//! HDF5 file cut short of the end its superblock records), and numpy.load /
//! h5py.File in a subprocess of the test say which they refuse. `aiposture
//! scan` must call every refused file an error, every accepted one clean.

mod support;

use std::collections::BTreeMap;
use std::process::Command;

const MAKE_AND_LOAD: &str = r#"
import json, struct, sys
import numpy as np, h5py

out = sys.argv[1]
np.save(f"{out}/valid.npy", np.arange(12, dtype=np.float32).reshape(3, 4))
raw = open(f"{out}/valid.npy", "rb").read()
hlen = struct.unpack("<H", raw[8:10])[0]
header = raw[10:10 + hlen].decode("latin1")
data = raw[10 + hlen:]

def npy(name, text, body=data):
    text = text.ljust(len(header) - 1) + "\n"
    if len(text) != len(header):
        text = text + " " * ((64 - (10 + len(text) + 1) % 64) % 64) + "\n"
        text = text.replace("\n", " ", 1) if text.count("\n") > 1 else text
    b = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1") + body
    open(f"{out}/{name}.npy", "wb").write(b)

npy("code", "{'descr': __import__('os').getcwd() and '<f4', 'fortran_order': False, 'shape': (3, 4), }")
npy("overflow", "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4), }")
npy("negative", "{'descr': '<f4', 'fortran_order': False, 'shape': (-3, 4), }")
npy("extra_key", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), 'x': 1, }")
npy("bad_dtype", "{'descr': '<q4', 'fortran_order': False, 'shape': (3, 4), }")
npy("short_data", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", data[:20])
npy("reshaped", "{'descr': '<f4', 'fortran_order': True, 'shape': (4, 3), }")

with h5py.File(f"{out}/valid.h5", "w") as f:
    f.create_dataset("w", data=np.arange(4096, dtype=np.float32))
    f.attrs["note"] = "weights"
h5 = open(f"{out}/valid.h5", "rb").read()
open(f"{out}/truncated.h5", "wb").write(h5[: len(h5) - 1024])

verdicts = {}
for name in ["valid", "code", "overflow", "negative", "extra_key", "bad_dtype", "short_data", "reshaped"]:
    try:
        np.load(f"{out}/{name}.npy", allow_pickle=False)
        verdicts[name + ".npy"] = "accepted"
    except Exception as e:
        verdicts[name + ".npy"] = "refused: " + type(e).__name__
for name in ["valid", "truncated"]:
    try:
        with h5py.File(f"{out}/{name}.h5", "r") as f:
            f["w"][()]
        verdicts[name + ".h5"] = "accepted"
    except Exception as e:
        verdicts[name + ".h5"] = "refused: " + type(e).__name__
print(json.dumps(verdicts))
"#;

#[test]
fn npy_and_hdf5_errors_are_exactly_what_their_loaders_refuse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(support::python())
        .arg("-c")
        .arg(MAKE_AND_LOAD)
        .arg(dir.path())
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "writer: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).expect("oracle json");
    let refused = oracle.values().filter(|v| v.starts_with("refused")).count();
    assert_eq!(
        refused, 7,
        "the broken variants must really be broken: {oracle:#?}"
    );

    assert_scan_agrees(dir.path(), &oracle);
}

/// `aiposture scan` of `dir` calls every file the loader refused an error
/// and every file it accepted clean.
fn assert_scan_agrees(dir: &std::path::Path, oracle: &BTreeMap<String, String>) {
    let (_, by_name) = support::scan_verdicts(&[dir]);
    let mut wrong = Vec::new();
    for (name, loader) in oracle {
        let Some((verdict, f)) = by_name.get(name) else {
            wrong.push(format!("{name}: not scanned"));
            continue;
        };
        let want = if loader == "accepted" {
            "clean"
        } else {
            "error"
        };
        if verdict != want {
            wrong.push(format!(
                "{name}: loader {loader}, scan {verdict}: {}",
                f["reasons"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// ONNX models written by the real `onnx` package (helper + numpy_helper),
/// then broken the ways a loader refuses: onnx.checker.check_model plus
/// onnx.load and numpy_helper.to_array on every initializer (what a runtime
/// does with them) say which they refuse.
const MAKE_AND_LOAD_ONNX: &str = r#"
import json, os, sys
import numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper

out = sys.argv[1]
X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
def W(): return numpy_helper.from_array(np.ones((3, 4), np.float32), "w")
C = numpy_helper.from_array(np.array(True), "c")
def model(inits=None, nodes=None, opsets=None, inputs=None):
    nodes = nodes if nodes is not None else [helper.make_node("MatMul", ["x", "w"], ["y"])]
    g = helper.make_graph(nodes, "g", inputs if inputs is not None else [X], [Y],
                          inits if inits is not None else [W()])
    return helper.make_model(g, opset_imports=opsets if opsets is not None else [helper.make_opsetid("", 17)])
def save(name, m): onnx.save(m, f"{out}/{name}.onnx")
def branch(name, src, dst):
    return helper.make_graph([helper.make_node("Relu", [src], [dst])], name, [],
                             [helper.make_tensor_value_info(dst, TensorProto.FLOAT, [2, 4])])
def with_if(then_g):
    return model(inits=[W(), C], nodes=[helper.make_node("MatMul", ["x", "w"], ["y0"]),
        helper.make_node("If", ["c"], ["y"], then_branch=then_g, else_branch=branch("else", "y0", "e"))])

save("valid", model())
save("subgraph_reads_outer_scope", with_if(branch("then", "y0", "t")))
save("optional_input_omitted", model(nodes=[helper.make_node("MatMul", ["x", "w"], ["y"]),
                                            helper.make_node("Clip", ["y", "", ""], ["z"])]))
w = numpy_helper.from_array(np.ones((0, 4), np.float32), "w"); w.ClearField("raw_data")
save("empty_tensor_without_data", model(inits=[w]))
w = helper.make_tensor("w", TensorProto.FLOAT, [3, 4], [1.0] * 12)
save("typed_float_data", model(inits=[w]))
onnx.save(model(), f"{out}/external.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
          size_threshold=0, location="external.bin")

w = W(); w.raw_data = w.raw_data[:20]; save("raw_short", model(inits=[w]))
w = W(); w.raw_data = w.raw_data + b"xxxx"; save("raw_long", model(inits=[w]))
w = W(); w.dims[0] = -3; save("negative_dim", model(inits=[w]))
w = W(); w.data_type = 0; save("undefined_type", model(inits=[w]))
w = W(); w.data_type = 99; save("unknown_type", model(inits=[w]))
w = helper.make_tensor("w", TensorProto.FLOAT, [3, 4], [1.0] * 12); del w.float_data[-1]
save("typed_short", model(inits=[w]))
w = helper.make_tensor("w", TensorProto.FLOAT, [3, 4], [1.0] * 12); w.float_data.append(2.0)
save("typed_long", model(inits=[w]))
w = helper.make_tensor("k", TensorProto.INT64, [3], [1, 2, 3]); del w.int64_data[-1]
save("int64_short", model(inits=[W(), w]))
w = W(); w.float_data.extend([1.0] * 12); save("two_value_fields", model(inits=[w]))
w = W(); w.ClearField("raw_data"); save("no_value_field", model(inits=[w]))
w = helper.make_tensor("s", TensorProto.STRING, [1], [b"a"]); w.ClearField("string_data"); w.raw_data = b"abc"
save("string_in_raw", model(inits=[W(), w]))
save("initializer_twice", model(inits=[W(), W()]))
save("input_twice", model(inputs=[X, X]))
save("output_twice", model(nodes=[helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["x"], ["y"])]))
save("output_overwrites_input", model(nodes=[helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["x"])]))
save("undefined_input", model(nodes=[helper.make_node("MatMul", ["x", "nope"], ["y"])]))
save("not_topological", model(nodes=[helper.make_node("Relu", ["t"], ["y"]), helper.make_node("MatMul", ["x", "w"], ["t"])]))
save("subgraph_undefined_input", with_if(branch("then", "ghost", "t")))
save("subgraph_shadows_outer", with_if(branch("then", "y0", "y0")))
save("domain_not_imported", model(nodes=[helper.make_node("MatMul", ["x", "w"], ["y"], domain="ai.onnx.ml")]))
m = model(); del m.opset_import[:]; save("no_opset_import", m)
save("empty_op_type", model(nodes=[helper.make_node("", ["x", "w"], ["y"])]))
save("unknown_operator", model(nodes=[helper.make_node("NoSuchOp", ["x", "w"], ["y"])]))
save("operator_newer_than_opset", model(nodes=[helper.make_node("MatMul", ["x", "w"], ["y0"]),
                                               helper.make_node("Gelu", ["y0"], ["y"])]))
onnx.save(model(), f"{out}/external_short.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
          size_threshold=0, location="external_short.bin")
b = open(f"{out}/external_short.bin", "rb").read(); open(f"{out}/external_short.bin", "wb").write(b[:20])
m = model(); onnx.save(m, f"{out}/external_long.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
          size_threshold=0, location="external_long.bin")
open(f"{out}/external_long.bin", "ab").write(b"\0" * 16)

verdicts = {}
for f in sorted(os.listdir(out)):
    if not f.endswith(".onnx"):
        continue
    try:
        onnx.checker.check_model(f"{out}/{f}")
        for t in onnx.load(f"{out}/{f}").graph.initializer:
            numpy_helper.to_array(t)
        verdicts[f] = "accepted"
    except Exception as e:
        verdicts[f] = "refused: " + type(e).__name__ + ": " + str(e).splitlines()[0][:160]
print(json.dumps(verdicts))
"#;

#[test]
fn onnx_errors_are_exactly_what_its_checker_and_loader_refuse() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = support::python_ok(
        &support::python(),
        &[
            "-c".as_ref(),
            MAKE_AND_LOAD_ONNX.as_ref(),
            dir.path().as_os_str(),
        ],
    );
    let oracle: BTreeMap<String, String> =
        serde_json::from_slice(&out.stdout).expect("oracle json");
    let accepted = oracle.values().filter(|v| *v == "accepted").count();
    assert_eq!(
        (accepted, oracle.len() - accepted),
        (7, 25),
        "the broken variants must really be broken: {oracle:#?}"
    );
    assert_scan_agrees(dir.path(), &oracle);
}
