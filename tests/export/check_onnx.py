# Checks an ONNX file written by hgqc with the standard ONNX tooling: onnx.load, the full
# checker (with strict shape inference), and that the expected DOMAIN:OP nodes are there.
# Usage: /usr/bin/python3 check_onnx.py MODEL.onnx [DOMAIN:OP ...]
import sys

import onnx

path, expected = sys.argv[1], sys.argv[2:]
model = onnx.load(path)
onnx.checker.check_model(model, full_check=True)
ops = {(n.domain, n.op_type) for n in model.graph.node}
for e in expected:
    domain, _, op = e.rpartition(":")
    if (domain, op) not in ops:
        sys.exit(f"{path}: no {op} node in domain '{domain}'")
opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
print(f"onnx {onnx.__version__}: checker accepts {path} (IR {model.ir_version}; {opsets}; "
      f"{len(model.graph.node)} nodes)")
