#!/bin/sh
# fetch_onnxruntime.sh DIR: makes ONNX Runtime for Node.js (the npm package onnxruntime-node,
# pinned below) available under DIR/npm and prints the package's directory.
#
# The package ships its native libraries for linux/x64 and linux/arm64 (and macOS, Windows)
# inside the npm tarball (bin/napi-v6/<os>/<arch>/onnxruntime_binding.node and
# libonnxruntime.so.1), so nothing else is downloaded: ONNXRUNTIME_NODE_INSTALL=skip and
# --ignore-scripts keep its postinstall script (which would fetch the CUDA/TensorRT
# providers) from running. About 290 MB on disk, installed once.
# Exit status 1 (nothing on stdout) when node or npm is missing, the install fails (offline),
# or the package cannot be loaded on this machine; the ONNX test then skips its runtime checks.
set -eu
version=1.30.0
dir=${1:?usage: fetch_onnxruntime.sh DIR}
pkg=$dir/npm/node_modules/onnxruntime-node
command -v node >/dev/null 2>&1 || { echo "fetch_onnxruntime: node not found" >&2; exit 1; }

mkdir -p "$dir"
exec 9>"$dir/.lock" # one install at a time (the cpu and vulkan runs share DIR)
command -v flock >/dev/null 2>&1 && flock 9
installed=$(node -p "require('$pkg/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$version" ]; then
    command -v npm >/dev/null 2>&1 || { echo "fetch_onnxruntime: npm not found" >&2; exit 1; }
    mkdir -p "$dir/npm"
    ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save --no-audit --no-fund --ignore-scripts \
        --fetch-retries=1 --prefix "$dir/npm" "onnxruntime-node@$version" >&2 ||
        { echo "fetch_onnxruntime: npm install onnxruntime-node@$version failed" >&2; exit 1; }
fi
node -e 'require(process.argv[1])' "$pkg" >&2 ||
    { echo "fetch_onnxruntime: onnxruntime-node@$version does not load here" >&2; exit 1; }
printf '%s\n' "$pkg"
