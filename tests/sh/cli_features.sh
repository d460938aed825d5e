#!/usr/bin/env bash
# Headless networks and `dtrain eval --features`: a planar model is trained,
# then (1) its hidden layer's activations are written for the training split
# and (2) the same model cut after that layer, with no loss (headless), runs
# forward from the same checkpoint: `dtrain info` calls it headless, its
# eval prints no loss, and its features equal the full model's bitwise.
# Training a headless model is a one-line error.
source "$(dirname "$0")/../lib.sh"
need_course_data
cfg=configs/course/planar.ini
out=$(run 2 train "$cfg" train.epochs=300 --out "$TMP/run" 2>&1) || fail "training: $out"
ck="$TMP/run/checkpoint.h5"
out=$(run 2 eval "$cfg" --ckpt "$ck" --features "$TMP/full.h5" hidden 2>&1) || fail "eval --features: $out"
grep -q "features: layer 'hidden' (4 values per row) over the train split, 400 rows, in $TMP/full.h5" <<<"$out" ||
    fail "no features line: $out"
grep -q "^train loss " <<<"$out" || fail "the full model's eval lost its loss line: $out"
info=$("$DTRAIN" info "$TMP/full.h5") || fail "info on the features file: $info"
grep -q "/features .* \[400, 4\]" <<<"$info" || fail "features not [400, 4]: $info"
grep -q "/labels .* \[400\]" <<<"$info" || fail "no labels beside the features: $info"

# the model cut after `hidden`: headless
sed '/^\[out\]/,$d' models/planar.ini >"$TMP/headless.ini"
sed "s|^file = .*|file = $TMP/headless.ini|" "$cfg" >"$TMP/headless_cfg.ini"
info=$("$DTRAIN" info "$TMP/headless.ini") || fail "info: $info"
grep -q "no loss (headless: forward only)" <<<"$info" || fail "info does not call it headless: $info"
out=$(run 2 eval "$TMP/headless_cfg.ini" --ckpt "$ck" --features "$TMP/cut.h5" hidden 2>&1) || fail "headless eval: $out"
grep -q "loss" <<<"$out" && fail "a headless model reported a loss: $out"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/full.h5" "$TMP/cut.h5" 0 /) || fail "headless features differ: $diff"

err=$(runq 2 train "$TMP/headless_cfg.ini" --out "$TMP/h" 2>&1) && fail "a headless model trained"
grep -q "headless.ini: the model has no loss, so there is nothing to train" <<<"$err" || fail "unclear error: $err"
[ "$(grep -c . <<<"$err")" -eq 1 ] || fail "more than one line: $err"
err=$(runq 1 eval "$cfg" --ckpt "$ck" --features "$TMP/x.h5" nope 2>&1) && fail "an unknown layer was accepted"
grep -q -- "--features: 'nope' is not a layer of" <<<"$err" || fail "unclear error: $err"
[ -e "$TMP/x.h5" ] && fail "a features file was written after an error"
ok "features of 'hidden' for 400 rows, headless model bitwise the same ($diff)"
