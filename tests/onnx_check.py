#!/usr/bin/python3
"""onnx_check.py MODEL OUT.json: validates an ONNX file with the onnx package (Debian's
python3-onnx): onnx.checker.check_model with full_check (strict shape inference), then writes
what the test compares to OUT.json: IR version, opsets, input and output names, element types
and shapes (a symbolic dimension as its name), node and initializer counts, metadata_props.
Exit 77 when the onnx package is not installed, 1 when the model is invalid."""
import json
import sys

try:
    import onnx
except ImportError:
    print("onnx_check: the onnx Python package is not installed (python3-onnx)", file=sys.stderr)
    sys.exit(77)


def value_info(v):
    t = v.type.tensor_type
    dims = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in t.shape.dim]
    return {"name": v.name, "elem_type": t.elem_type, "dims": dims}


def main():
    path, out = sys.argv[1], sys.argv[2]
    model = onnx.load(path)
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # the checker's own exception types differ between versions
        print(f"onnx_check: {path}: {e}", file=sys.stderr)
        sys.exit(1)
    report = {
        "ir_version": model.ir_version,
        "opsets": {o.domain: o.version for o in model.opset_import},
        "producer": model.producer_name,
        "inputs": [value_info(v) for v in model.graph.input],
        "outputs": [value_info(v) for v in model.graph.output],
        "nodes": len(model.graph.node),
        "initializers": len(model.graph.initializer),
        "metadata": {p.key: p.value for p in model.metadata_props},
    }
    with open(out, "w") as f:
        json.dump(report, f)


main()
