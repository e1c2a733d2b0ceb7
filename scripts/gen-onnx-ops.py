"""Write assets/onnx_ops.toml from the onnx package's operator registry.

Run with the test venv's Python (it has onnx): the table says, per domain and
operator, at which opset versions a schema was (re)defined; a node whose
operator has no schema at or below its domain's imported version is what
onnx.checker refuses with "No Op registered for ...".
"""
import collections, sys
import onnx, onnx.defs

ops = collections.defaultdict(set)
for s in onnx.defs.get_all_schemas_with_history():
    ops[(s.domain, s.name)].add(s.since_version)
out = [
    "# ONNX operators per domain and the opset versions at which each was (re)defined,",
    "# from onnx's operator registry (onnx.defs.get_all_schemas_with_history). onnx.checker",
    "# refuses a node of a registered domain whose operator has no schema at or below the",
    "# version the model imports for that domain. Regenerate: scripts/gen-onnx-ops.py.",
    f'source = "onnx {onnx.__version__}: onnx.defs.get_all_schemas_with_history()"',
    "# The newest opset version the registry knows per domain: a model importing a newer one",
    "# is not judged (its operators may postdate this table).",
    "[max_version]",
]
newest = {"": onnx.defs.onnx_opset_version()}
for (domain, _), since in ops.items():
    newest[domain] = max(newest.get(domain, 0), max(since))
for d in sorted(newest):
    out.append(f'"{d}" = {newest[d]}')
out.append("")
for (domain, name) in sorted(ops):
    since = ", ".join(str(v) for v in sorted(ops[(domain, name)]))
    out.append(f'[[op]]\ndomain = "{domain}"\nname = "{name}"\nsince = [{since}]\n')
open(sys.argv[1] if len(sys.argv) > 1 else "assets/onnx_ops.toml", "w").write("\n".join(out))
