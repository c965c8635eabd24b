#!/bin/sh
# make_review_project.sh OUT.lptproj [LPT]: a small trained and evaluated project for the
# Review page's app tests (tests/app/test_review.c, test_review_queues.c), made with the
# `lpt` command line as a user would (the demo recipe at a reduced size).
#
#   1. Fashion-MNIST-LT from Debian's dataset-fashion-mnist (`lpt dataset build`), cut down
#      to a tenth of each class's training images (600, 359, ..., 6: still a long tail with
#      many, medium and few classes under the default 100 / 20 thresholds) and the first
#      TEST_PER test images of each class, into OUT-data/ beside the project;
#   2. `lpt import` of its train.txt and test.txt (val taken from train);
#   3. the demo backbones of data/backbones: the vision one, and the vision-language one when
#      it exists with its CLIP vocabulary (then the first run is LPT++ with both experts and
#      the scorer, else LPT with the vision expert alone);
#   4. two runs with a few epochs each: run 1 the method above, run 2 the linear probe;
#   5. `lpt eval` of both on the test split, which records every image's prediction.
#
# LPT is the lpt executable (default: `lpt` on PATH). Prints the project's path last. Exit 0
# on success, 77 (skip) when Debian's Fashion-MNIST is not installed, 1 on any failure.
set -eu

usage() { echo "usage: $0 OUT.lptproj [LPT]" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
out=$1
lpt=${2:-lpt}
case $out in *.lptproj) ;; *) echo "$0: '$out' does not end in .lptproj" >&2; exit 2 ;; esac
[ -e "$out" ] && { echo "$0: '$out' exists already" >&2; exit 1; }

TEST_PER=${TEST_PER:-40}
here=$(cd "$(dirname "$0")" && pwd)
backbones=$here/../../data/backbones
source=/usr/share/datasets/fashion-mnist
[ -f "$source/t10k-images-idx3-ubyte.gz" ] || {
    echo "$0: Debian's dataset-fashion-mnist is not installed: skipped"; exit 77; }

data=${out%.lptproj}-data
full=$data/full
mkdir -p "$data"
"$lpt" dataset build fashion-mnist-lt --out "$full" >/dev/null

# The lists, cut down: a tenth of each class's training images, TEST_PER test images each.
awk '{ n[$2]++; line[NR] = $0; label[NR] = $2 }
     END { for (i = 1; i <= NR; i++) if (kept[label[i]]++ < int(n[label[i]] / 10)) print line[i] }' \
    "$full/train.txt" > "$data/train.txt.tmp"
awk -v per="$TEST_PER" '{ if (kept[$2]++ < per) print }' "$full/test.txt" > "$data/test.txt.tmp"
sed 's|^|full/|' "$data/train.txt.tmp" > "$data/train.txt"
sed 's|^|full/|' "$data/test.txt.tmp" > "$data/test.txt"
rm -f "$data/train.txt.tmp" "$data/test.txt.tmp"

"$lpt" import --project "$out" "$data/train.txt" "$data/test.txt" >/dev/null
"$lpt" backbone add --project "$out" --role vision \
    "$backbones/demo-vit-mnist.safetensors" >/dev/null
# The VL expert's head starts from the class texts through the backbone's text tower, which
# needs the CLIP vocabulary beside the backbone.
method=lpt
has_vocab=no
for v in bpe_simple_vocab_16e6.txt.gz bpe_simple_vocab_16e6.txt vocab.json; do
    [ -f "$backbones/$v" ] && has_vocab=yes
done
if [ -f "$backbones/demo-clip-mnist.safetensors" ] && [ $has_vocab = yes ]; then
    "$lpt" backbone add --project "$out" --role vl \
        "$backbones/demo-clip-mnist.safetensors" >/dev/null
    method=lpt++
fi

cat > "$data/run1.json" <<EOF
{"method": "$method", "seed": 1,
 "train": {"batch_size": 64, "warmup_epochs": 0, "phase1_epochs": 2, "phase2_epochs": 1},
 "scorer": {"epochs": 3, "views": 1}}
EOF
cat > "$data/run2.json" <<EOF
{"method": "linear_probe", "seed": 1,
 "train": {"batch_size": 64, "warmup_epochs": 0, "phase1_epochs": 3}}
EOF
"$lpt" train --project "$out" --config "$data/run1.json" --new >/dev/null
"$lpt" train --project "$out" --config "$data/run2.json" --new >/dev/null
"$lpt" eval --project "$out" --run 1 >/dev/null
"$lpt" eval --project "$out" --run 2 >/dev/null
echo "$out"
