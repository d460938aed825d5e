#!/usr/bin/env bash
# A regression on dense targets trains end to end: an mse loss section reads
# the last layer, [data] target = dense reads train_y [n, 2] as reals
# (tests/tools/make_regression.c writes the file). 1 and 2 ranks (global
# sharding, same global batch) give the same model; the test loss falls
# below 0.01 (from about 0.3 at the start), metrics.jsonl logs the loss by
# name, and a data set with the wrong target size is a clear error.
source "$(dirname "$0")/../lib.sh"
"$DTRAIN_MAKE_REGRESSION" "$TMP/reg.h5" 2000 || fail "cannot write the data"
cat >"$TMP/reg_model.ini" <<'M'
[input]
shape = 3
[h1]
type = dense
units = 32
activation = tanh
init = xavier
[h2]
type = dense
units = 32
activation = tanh
init = xavier
[out]
type = dense
units = 2
init = xavier
[fit]
type = mse
inputs = out
M
cat >"$TMP/reg.ini" <<C
[model]
file = $TMP/reg_model.ini
seed = 3
[data]
source = hdf5
train = $TMP/reg.h5
target = dense
[optim]
type = adam
lr = 0.01
[train]
epochs = 40
global_batch = 100
log_every = 200
eval_every = 10
C
out1=$(run 1 train "$TMP/reg.ini" --out "$TMP/r1" 2>&1) || fail "1 rank: $out1"
out2=$(run 2 train "$TMP/reg.ini" --out "$TMP/r2" 2>&1) || fail "2 ranks: $out2"
grep -q "parameters identical on all 2 ranks" <<<"$out2" || fail "replicas differ: $out2"
# "test  loss 0.003121 (500 rows)  [fit 0.003121]": no accuracy without a classifier
line=$(grep '^test ' <<<"$out2") || fail "no test line: $out2"
grep -q "(500 rows)  \[fit " <<<"$line" || fail "test line without its row count and the loss by name: $line"
grep -q accuracy <<<"$line" && fail "a regression reports an accuracy: $line"
loss=$(awk '{ print $3 }' <<<"$line")
first=$(awk '$3 == "step" && $4 == 0 { print $6; exit }' <<<"$out2")
awk -v a="$first" 'BEGIN { exit !(a + 0 > 0.1) }' || fail "the loss at step 0 is '$first': expected an untrained model's (> 0.1)"
awk -v a="$loss" 'BEGIN { exit !(a + 0 < 0.01) }' || fail "final test loss $loss, expected < 0.01"
grep -q '"losses": {"fit": ' "$TMP/r2/metrics.jsonl" || fail "metrics.jsonl lacks the loss by name"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/r1/checkpoint.h5" "$TMP/r2/checkpoint.h5" 1e-4) ||
    fail "1 rank vs 2 ranks: $diff (tolerance 1e-4)"
# a target of 2 values per row against a model output of 3
sed 's/^units = 2$/units = 3/' "$TMP/reg_model.ini" >"$TMP/bad_model.ini"
sed "s|^file = .*|file = $TMP/bad_model.ini|" "$TMP/reg.ini" >"$TMP/bad.ini"
err=$(runq 2 train "$TMP/bad.ini" --out "$TMP/bad" 2>&1) && fail "a target size mismatch was accepted"
grep -q "the losses read dense targets of 3 values per row, but the data has 2" <<<"$err" || fail "unclear error: $err"
[ "$(grep -c . <<<"$err")" -eq 1 ] || fail "more than one line: $err"
ok "mse regression: loss $first at step 0 -> test loss $loss; 1 vs 2 ranks $diff"
