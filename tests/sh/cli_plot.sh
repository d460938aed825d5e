#!/usr/bin/env bash
# dtrain eval --grid on 2-D data, and launch/plot.sh: the curves of one run,
# two runs overlaid, and decision boundaries (two classes and four). The
# grid checks run everywhere; without gnuplot the test then reports
# SKIPPED (exit 77) instead of drawing.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
need_course_data
plot=${DTRAIN_SRC:-.}/launch/plot.sh
planar=(configs/course/planar.ini train.epochs=200 train.log_every=10)

for lr in 1.2 0.1; do
    out=$("$DTRAIN" train "${planar[@]}" optim.lr=$lr --out "$TMP/lr$lr" --quiet 2>&1) || fail "training lr $lr: $out"
done

# the grid: N x N rows of x,y,p over the points' bounding box, and the points
out=$(run 2 eval configs/course/planar.ini --ckpt "$TMP/lr1.2/checkpoint.h5" --grid "$TMP/planar.csv" \
    --grid-size 50 2>&1) || fail "eval --grid failed: $out"
grep -q "^grid: 50 x 50 probabilities of class 1 over " <<<"$out" || fail "eval --grid did not say what it wrote: $out"
[ "$(head -1 "$TMP/planar.csv")" = x,y,p ] || fail "grid header: $(head -1 "$TMP/planar.csv")"
[ "$(wc -l <"$TMP/planar.csv")" = 2501 ] || fail "grid of 50 x 50 has $(($(wc -l <"$TMP/planar.csv") - 1)) rows"
awk -F, 'NR > 1 && !(NF == 3 && $3 >= 0 && $3 <= 1) { exit 1 }' "$TMP/planar.csv" ||
    fail "grid rows are not x,y,p with p in [0, 1]"
[ "$(head -1 "$TMP/planar.points.csv")" = x,y,label ] || fail "points header: $(head -1 "$TMP/planar.points.csv")"
[ "$(awk -F, 'NR > 1 && ($3 == 0 || $3 == 1)' "$TMP/planar.points.csv" | wc -l)" = 400 ] ||
    fail "the points file does not hold the 400 labelled training points"
# the grid covers every point, with a margin
awk -F, 'FNR == 1 { next }
    NR == FNR { gx0 = gx0 == "" || $1 < gx0 ? $1 : gx0; gx1 = gx1 == "" || $1 > gx1 ? $1 : gx1
                gy0 = gy0 == "" || $2 < gy0 ? $2 : gy0; gy1 = gy1 == "" || $2 > gy1 ? $2 : gy1; next }
    $1 <= gx0 || $1 >= gx1 || $2 <= gy0 || $2 >= gy1 { bad = 1 }
    END { exit bad }' "$TMP/planar.csv" "$TMP/planar.points.csv" || fail "the grid does not cover the training points"
ok "eval --grid writes a 50 x 50 grid of p(class 1) and the 400 points"

# more than two classes: the predicted class
cat >"$TMP/blobs_model.ini" <<'EOF'
[input]
shape = 2
[hidden]
type = dense
units = 8
activation = relu
[out]
type = dense
units = 4
activation = softmax
EOF
cat >"$TMP/blobs.ini" <<'EOF'
[model]
file = blobs_model.ini
[data]
source = blobs
n = 200
classes = 4
noise = 1.5
seed = 3
[optim]
type = adam
lr = 0.01
[train]
epochs = 100
EOF
out=$("$DTRAIN" train "$TMP/blobs.ini" --out "$TMP/blobs" --quiet 2>&1) || fail "training on blobs: $out"
out=$("$DTRAIN" eval "$TMP/blobs.ini" --ckpt "$TMP/blobs/checkpoint.h5" --grid "$TMP/blobs.csv" --grid-size 40 2>&1) ||
    fail "eval --grid on blobs: $out"
[ "$(head -1 "$TMP/blobs.csv")" = x,y,class ] || fail "4-class grid header: $(head -1 "$TMP/blobs.csv")"
awk -F, 'NR > 1 && !($3 == 0 || $3 == 1 || $3 == 2 || $3 == 3) { exit 1 }' "$TMP/blobs.csv" ||
    fail "4-class grid rows are not x,y,class with class in 0..3"
ok "eval --grid writes predicted classes for 4 classes"

# not points in the plane: a one-line error before any work
rc=0
out=$("$DTRAIN" eval configs/course/cat_logreg.ini --ckpt "$TMP/lr1.2/checkpoint.h5" --grid "$TMP/cat.csv" 2>&1) || rc=$?
if [ "$rc" != 2 ] || ! grep -q "^dtrain: error: --grid needs a data set of 2 features.*has 12288$" <<<"$out"; then
    fail "eval --grid on 12288 features: exit $rc: $out"
fi
[ ! -e "$TMP/cat.csv" ] || fail "eval --grid wrote a grid for 12288 features"
ok "eval --grid refuses data that is not 2-D"

if ! command -v gnuplot >/dev/null 2>&1; then
    echo "SKIPPED: gnuplot is not installed (apt-get install gnuplot-nox); plot.sh not tested"
    exit 77
fi

# is_png FILE: there, not tiny, and starting with PNG's signature
is_png() {
    [ -f "$1" ] || fail "$1 was not written"
    [ "$(wc -c <"$1")" -gt 2000 ] || fail "$1 is almost empty"
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$1 is not a PNG file"
}

out=$("$plot" "$TMP/lr1.2" 2>&1) || fail "plot.sh RUN_DIR: $out"
is_png "$TMP/lr1.2/curves.png"
ok "plot.sh draws the curves of one run"

out=$("$plot" -o "$TMP/figs" "$TMP/lr1.2" "$TMP/lr0.1/" 2>&1) || fail "plot.sh -o DIR RUN RUN: $out"
for f in lr1.2-curves lr0.1-curves compare; do is_png "$TMP/figs/$f.png"; done
grep -q "wrote $TMP/figs/compare.png" <<<"$out" || fail "plot.sh did not name the comparison it wrote: $out"
ok "plot.sh overlays two runs"

out=$("$plot" --boundary "$TMP/planar.csv" --out "$TMP/boundary.png" 2>&1) || fail "plot.sh --boundary: $out"
is_png "$TMP/boundary.png"
out=$("$plot" --boundary "$TMP/blobs.csv" 2>&1) || fail "plot.sh --boundary on 4 classes: $out"
is_png "$TMP/blobs.png"
ok "plot.sh draws decision boundaries for 2 and 4 classes"

rc=0
out=$("$plot" "$TMP/figs" 2>&1) || rc=$?
if [ "$rc" != 1 ] || ! grep -q "no metrics.jsonl" <<<"$out"; then
    fail "plot.sh on a folder without metrics: exit $rc: $out"
fi
ok "plot.sh names a folder that is not a run"
