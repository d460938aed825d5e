#!/usr/bin/env bash
# dtrain make-scenes: the detection data set of generated scenes.
#  - the file has the documented layout (uint8 pictures, float32 [n, items, 5]
#    boxes) and a training config reads it as dense targets;
#  - the same options give the same arrays, another seed others;
#  - [data] source = scenes draws the same scenes in memory: a run on it
#    trains bitwise the model a run on the file trains;
#  - dtrain anchors clusters the training boxes (the same anchors at 1 and
#    2 ranks, global or contiguous sharding);
#  - bad options are one-line errors, and so are bad boxes: outside the
#    picture, empty, of an unknown class, or a box data set that does not
#    match the pictures (rows, boxes per picture), each naming the file, row
#    (the picture's index), box and field.
source "$(dirname "$0")/../lib.sh"
need_fmnist
a=$TMP/a.h5
out=$(timeout -k 5 120 "$DTRAIN" make-scenes --out "$a" --train 60 --test 20 --seed 3 2>&1) || fail "make-scenes: $out"
grep -q "^60 train and 20 test scenes of 128x128" <<<"$out" || fail "make-scenes: $out"
info=$("$DTRAIN" info "$a") || fail "info: $info"
for d in "/train_x *uint8 \[60, 128, 128\]" "/train_y *float32 \[60, 5, 5\]" "/test_x *uint8 \[20, 128, 128\]" \
    "/test_y *float32 \[20, 5, 5\]" '@kind = "dtrain scenes"'; do
    grep -q "$d" <<<"$info" || fail "layout: no $d in: $info"
done
ok "layout: $out"

timeout -k 5 120 "$DTRAIN" make-scenes --out "$TMP/b.h5" --train 60 --test 20 --seed 3 >/dev/null || fail "second run"
"$DTRAIN_CKPT_DIFF" "$a" "$TMP/b.h5" 0 / >/dev/null || fail "the same options gave different arrays"
timeout -k 5 120 "$DTRAIN" make-scenes --out "$TMP/c.h5" --train 60 --test 20 --seed 4 >/dev/null || fail "seed 4"
"$DTRAIN_CKPT_DIFF" "$a" "$TMP/c.h5" 0 / >/dev/null && fail "seeds 3 and 4 gave the same scenes"
ok "deterministic by seed"

# read as dense targets by an ordinary config: a tiny regression on the box array
cat >"$TMP/m.ini" <<INI
[input]
shape = 1,128,128
[pool]
type = avgpool
kernel = 8
[flat]
type = flatten
[boxes]
type = dense
units = 25
[fit]
type = mse
inputs = boxes
INI
{ printf '[model]\nfile = %s\n' "$TMP/m.ini"; scenes_data "$a"; } >"$TMP/c.ini"
cat >>"$TMP/c.ini" <<INI
[optim]
type = adam
lr = 0.001
[train]
epochs = 1
batch_per_rank = 10
INI
out=$(run 2 train "$TMP/c.ini" --out "$TMP/run" --quiet 2>&1) || fail "training on the scenes: $out"
grep -q "summary:" <<<"$out" || fail "no summary: $out"
ok "a 2-rank run reads the boxes as dense targets"
out=$(runq 1 train "$TMP/c.ini" --out "$TMP/run1" data.augment=flip 2>&1) && fail "augment with dense targets that are not boxes accepted"
one_line "$out" "\\[data\\] augment moves pixels, and only boxes of a yolo loss"
ok "augment refused for targets that cannot move with the pixels"

# the same scenes drawn in memory: the same model, bitwise
{ printf '[model]\nfile = %s\n[data]\nsource = scenes\nn = 60\ntest_n = 20\nseed = 3\n' "$TMP/m.ini"
  sed -n '/^\[optim\]/,$p' "$TMP/c.ini"; } >"$TMP/g.ini"
out=$(run 2 train "$TMP/g.ini" --out "$TMP/g2" --quiet 2>&1) || fail "source = scenes: $out"
"$DTRAIN_CKPT_DIFF" "$TMP/run/checkpoint.h5" "$TMP/g2/checkpoint.h5" 0 >/dev/null ||
    fail "source = scenes trained another model than the file at 2 ranks"
loss_f=$(field "summary:" 5 "$out" | tr -d ';')
[ -n "$loss_f" ] || fail "no final loss: $out"
ok "source = scenes: the file's scenes, bitwise (final test loss $loss_f)"
out=$(runq 1 train "$TMP/g.ini" --out "$TMP/g3" data.size=8 2>&1) && fail "data.size = 8 accepted"
one_line "$out" "\\[data\\] size = 8: expected an integer in \\[16, 4096\\]"
out=$(runq 1 train "$TMP/g.ini" --out "$TMP/g3" data.min_item=30 data.max_item=20 2>&1) && fail "min_item > max_item accepted"
one_line "$out" "source = scenes: scenes: item sizes 30..20"
out=$(runq 1 train "$TMP/g.ini" --out "$TMP/g3" data.target=label 2>&1) && fail "data.target = label accepted"
one_line "$out" "target = label: scenes give boxes"
out=$(runq 1 train "$TMP/g.ini" --out "$TMP/g3" data.fmnist="$TMP/nowhere" 2>&1) && fail "a missing fmnist accepted"
one_line "$out" "nowhere.*\\[data\\] fmnist"

out=$("$DTRAIN" make-scenes --out "$TMP/d.h5" --size 8 2>&1) && fail "--size 8 accepted"
one_line "$out" "scenes: --size 8: expected 16 to 4096"
out=$("$DTRAIN" make-scenes --out "$TMP/d.h5" --min 30 --max 20 2>&1) && fail "--min > --max accepted"
one_line "$out" "item sizes 30..20"
out=$("$DTRAIN" make-scenes --train 5 2>&1) && fail "no --out accepted"
grep -q "missing --out" <<<"$out" || fail "no --out: $out"
out=$("$DTRAIN" make-scenes --out "$TMP/d.h5" --fmnist "$TMP/nowhere" 2>&1) && fail "a missing Fashion-MNIST accepted"
one_line "$out" "nowhere"
ok "bad options"

# bad boxes, each in a copy of the file: a detector config names the file, row, box and field
cat >"$TMP/det.ini" <<INI
[input]
shape = 1,128,128
[pool]
type = maxpool
kernel = 16
[head]
type = conv2d
filters = 75
kernel = 1
[det]
type = yolo
anchors = 1,1, 2,2, 3,3, 4,4, 5,5
classes = 10
image = 128
boxes = 5
INI
bad_boxes() { # WHAT INDEX VALUE PATTERN: train_y[INDEX] = VALUE is refused naming PATTERN
    cp "$a" "$TMP/bad.h5"
    "$DTRAIN_H5EDIT" set "$TMP/bad.h5" train_y "$2" "$3" || fail "h5edit"
    { printf '[model]\nfile = %s\n' "$TMP/det.ini"; scenes_data "$TMP/bad.h5"; sed -n '/^\[optim\]/,$p' "$TMP/c.ini"; } >"$TMP/bad.ini"
    out=$(runq 2 train "$TMP/bad.ini" --out "$TMP/badrun" 2>&1) && fail "$1 accepted"
    one_line "$out" "$4"
}
# row 7 is train_y[7, :, :], from flat index 7*25; its box 0 is "class, x1, y1, x2, y2"
bad_boxes "a box outside the picture" $((7 * 25 + 3)) 140 "bad.h5: 'train_y': row 7, box 0: x2 = 140 is outside the picture (expected 0 to 128)"
bad_boxes "a negative coordinate" $((9 * 25 + 2)) -3 "bad.h5: 'train_y': row 9, box 0: y1 = -3 is outside the picture"
bad_boxes "an empty box" $((11 * 25 + 3)) 0 "bad.h5: 'train_y': row 11, box 0: x2 = 0 makes an empty box (expected x1 < x2)"
bad_boxes "an unknown class" $((12 * 25)) 10 "bad.h5: 'train_y': row 12, box 0: class = 10 is not a class of the model (expected -1 for no box, or 0 to 9)"
bad_boxes "a fractional class" $((13 * 25)) 2.5 "row 13, box 0: class = 2.5 is not a class"
bad_boxes "a coordinate that is not a number" $((14 * 25 + 1)) nan "bad.h5: data set 'train_y': row 14 has a non-finite value"
# boxes of another file: fewer rows, or 3 boxes per picture where the model reads 5
timeout -k 5 120 "$DTRAIN" make-scenes --out "$TMP/few.h5" --train 50 --test 20 --items 3 >/dev/null || fail "make-scenes --items 3"
cp "$a" "$TMP/rows.h5"
"$DTRAIN_H5EDIT" graft "$TMP/rows.h5" train_y "$TMP/few.h5" || fail "h5edit graft"
{ printf '[model]\nfile = %s\n' "$TMP/det.ini"; scenes_data "$TMP/rows.h5"; sed -n '/^\[optim\]/,$p' "$TMP/c.ini"; } >"$TMP/bad.ini"
out=$(runq 2 train "$TMP/bad.ini" --out "$TMP/badrun" 2>&1) && fail "boxes of 50 pictures for 60 accepted"
one_line "$out" "rows.h5: targets 'train_y' have 50 rows but 'train_x' has 60"
{ printf '[model]\nfile = %s\n' "$TMP/det.ini"; scenes_data "$TMP/few.h5"; sed -n '/^\[optim\]/,$p' "$TMP/c.ini"; } >"$TMP/bad.ini"
out=$(runq 2 train "$TMP/bad.ini" --out "$TMP/badrun" 2>&1) && fail "3 boxes per picture for a model of 5 accepted"
one_line "$out" "few.h5: 'train_y' with .*det.ini: the losses read dense targets of 25 values per row, but the data has 15"
[ ! -e "$TMP/badrun" ] || [ -z "$(ls -A "$TMP/badrun")" ] || fail "a refused run left files: $(ls "$TMP/badrun")"
ok "bad boxes: outside, empty, unknown class, not a number, other rows or boxes per picture"

# anchors by k-means over the training boxes: rank count and sharding do not change them
{ printf '[model]\nfile = %s\n' "$TMP/det.ini"; scenes_data "$a"; } >"$TMP/anc.ini"
a1=$(run 1 anchors "$TMP/anc.ini" 2>&1) || fail "anchors: $a1"
a2=$(run 2 anchors "$TMP/anc.ini" --k 5 data.sharding=contiguous 2>&1) || fail "anchors at 2 ranks: $a2"
grep -q "^k-means (distance 1 - IoU) of 178 training boxes in 8x8 grid cells:$" <<<"$a1" || fail "anchors: $a1"
line=$(grep "^anchors = " <<<"$a1")
[ "$(grep -o ',' <<<"$line" | wc -l)" -eq 9 ] || fail "not 5 anchors: $line"
[ "$a1" = "$a2" ] || fail "1 rank and 2 contiguous ranks differ: $a1 / $a2"
iou=$(grep -o "mean best IoU [0-9.]*" <<<"$a1" | awk '{print $4}')
awk -v v="$iou" 'BEGIN { exit !(v > 0.5 && v <= 1) }' || fail "mean best IoU $iou"
out=$(runq 1 anchors "$TMP/c.ini" 2>&1) && fail "anchors of a model without a yolo loss accepted"
one_line "$out" "m.ini: the model has no yolo loss"
out=$(runq 1 anchors "$TMP/anc.ini" --k 0 2>&1) && fail "--k 0 accepted"
one_line "$out" "--k wants a whole number from 1 to 64"
ok "anchors: $line (mean best IoU $iou)"
