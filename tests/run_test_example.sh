#!/bin/sh
# run_test_example.sh BUILD_ROOT SOURCE_ROOT TEST_EXPORT [SANITIZE]: checks that what `meson install`
# puts in place is enough to use the inference library: installs the build into a staging
# folder (DESTDIR), compiles docs/example/lpt_example.c with nothing but the installed
# header, library and pkg-config file (`pkg-config --cflags --libs lpt`, the staged prefix
# put in with --define-variable), checks that the shared library exports only the public API,
# then runs the example on the test images of a model trained and exported by
# `TEST_EXPORT --make-example` and compares its output with the library's own results.
# SANITIZE is the build's b_sanitize option: a library built with sanitizers needs the same
# -fsanitize flags in the program that links it (the ASan run of the suite), none otherwise.
set -eu
build=$1 src=$2 texe=$3 sanitize=${4:-none}
sanflags=""
[ "$sanitize" = none ] || sanflags="-fsanitize=$sanitize"
work=$(mktemp -d "${TMPDIR:-/tmp}/lpt-example-XXXXXX")
trap 'rm -rf "$work"' EXIT

meson install -C "$build" --no-rebuild --quiet --destdir "$work/stage" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log"; echo "meson install failed"; exit 1; }
pc=$(find "$work/stage" -name lpt.pc | head -n 1)
[ -n "$pc" ] || { echo "no lpt.pc was installed"; exit 1; }
export PKG_CONFIG_PATH="$(dirname "$pc")"
prefix=$(pkg-config --variable=prefix lpt)
staged="$work/stage$prefix"
pcflags=$(pkg-config --define-variable=prefix="$staged" --cflags --libs lpt)
libdir=$(pkg-config --define-variable=prefix="$staged" --variable=libdir lpt)
echo "pkg-config --cflags --libs lpt: $pcflags"

# shellcheck disable=SC2086 # the flags are words
cc -std=c11 -Wall -Wextra -Wpedantic -Werror $sanflags "$src/docs/example/lpt_example.c" $pcflags \
    -o "$work/lpt_example"

# the shared library exports the public API and nothing else
nm -D --defined-only "$libdir/liblpt.so" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' |
    sort >"$work/exports"
if grep -v -E '^lpt_(model_|error_|status_name$)' "$work/exports"; then
    echo "liblpt.so exports internal symbols (above)"
    exit 1
fi
grep -q '^lpt_model_predict$' "$work/exports" || { echo "lpt_model_predict is not exported"; exit 1; }

mkdir "$work/model"
TMPDIR="$work" "$texe" --make-example "$work/model" >"$work/make.log" 2>&1 ||
    { cat "$work/make.log"; echo "making the example's model failed"; exit 1; }
# shellcheck disable=SC2046 # one path a line, no spaces (the test's own temporary files)
LD_LIBRARY_PATH="$libdir" "$work/lpt_example" "$work/model/model.lptmodel" \
    $(cat "$work/model/images.txt") >"$work/got.txt"
if ! cmp -s "$work/got.txt" "$work/model/expected.txt"; then
    diff "$work/model/expected.txt" "$work/got.txt" || true
    echo "the example's output differs from the library's results"
    exit 1
fi
echo "the example built against the installed library predicted $(wc -l <"$work/got.txt") images as expected"
