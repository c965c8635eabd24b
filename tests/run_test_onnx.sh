#!/bin/sh
# run_test_onnx.sh TEST_BINARY CACHE_DIR [ARGS...]: makes ONNX Runtime for Node.js available in
# CACHE_DIR (tests/fetch_onnxruntime.sh: npm, once) and runs the ONNX test with it, the runner
# (onnx_run.js) and the structural checker (onnx_check.py). When the runtime cannot be had
# (no node/npm, offline) the test runs its other checks and exits 77 (skip).
set -u
exe=$1 cache=$2
shift 2
here=$(dirname "$0")
if ort=$(sh "$here/fetch_onnxruntime.sh" "$cache"); then
    exec "$exe" "$@" --ort "$ort" --runner "$here/onnx_run.js" --checker "$here/onnx_check.py"
fi
exec "$exe" "$@" --checker "$here/onnx_check.py"
