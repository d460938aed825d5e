#!/usr/bin/env bash
# dtrain info: a model file's summary (shapes, parameters, FLOPs), --input,
# and a checkpoint's summary with its step and last metrics.
source "$(dirname "$0")/../lib.sh"
need_course_data
out=$("$DTRAIN" info models/fmnist_cnn.ini) || fail "info on a model failed: $out"
grep -Eq "^conv1 +conv2d +32x28x28 +320 +451584$" <<<"$out" || fail "conv1 row: $out"
grep -Eq "^conv2 +conv2d +64x14x14 +18496 +7225344$" <<<"$out" || fail "conv2 row: $out"
grep -Eq "^total +421642 +8482304$" <<<"$out" || fail "total row: $out"
out=$("$DTRAIN" info models/resnet_small.ini --input 1,32,32) || fail "info --input failed: $out"
grep -Eq "^stem +conv2d +16x32x32 " <<<"$out" || fail "--input did not change the shapes: $out"
"$DTRAIN" info models/fmnist_cnn.ini --input 1,2,2 >/dev/null 2>"$TMP/err" && fail "a 2x2 input must not fit 2 pools"
grep -q "^dtrain: error: " "$TMP/err" || fail "no error line: $(cat "$TMP/err")"
run 1 train configs/course/cat_logreg.ini train.epochs=30 --out "$TMP/run" --quiet >/dev/null 2>&1 || fail "training failed"
out=$("$DTRAIN" info "$TMP/run/checkpoint.h5") || fail "info on a checkpoint failed: $out"
grep -Eq "^out +dense +1 +12289 +24576$" <<<"$out" || fail "checkpoint summary: $out"
grep -q "^checkpoint at step 30, epoch 30$" <<<"$out" || fail "checkpoint progress: $out"
grep -q '"split": "test"' <<<"$out" || fail "last metrics missing: $out"
ok "model and checkpoint summaries"
