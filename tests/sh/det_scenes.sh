#!/usr/bin/env bash
# dtrain make-scenes: the detection data set of generated scenes.
#  - the file has the documented layout (uint8 pictures, float32 [n, items, 5]
#    boxes) and a training config reads it as dense targets;
#  - the same options give the same arrays, another seed others;
#  - bad options are one-line errors.
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

out=$("$DTRAIN" make-scenes --out "$TMP/d.h5" --size 8 2>&1) && fail "--size 8 accepted"
one_line "$out" "scenes: --size 8: expected 16 to 4096"
out=$("$DTRAIN" make-scenes --out "$TMP/d.h5" --min 30 --max 20 2>&1) && fail "--min > --max accepted"
one_line "$out" "item sizes 30..20"
out=$("$DTRAIN" make-scenes --train 5 2>&1) && fail "no --out accepted"
grep -q "missing --out" <<<"$out" || fail "no --out: $out"
out=$("$DTRAIN" make-scenes --out "$TMP/d.h5" --fmnist "$TMP/nowhere" 2>&1) && fail "a missing Fashion-MNIST accepted"
one_line "$out" "nowhere"
ok "bad options"
