#!/usr/bin/env bash
# [train] nonfinite = skip: a skipped step adds neither loss, nor rows, nor
# correct predictions to its epoch's means (it once counted its rows with a
# loss of 0). A NaN in rank 1's rows at step 1; each epoch's "batches loss,
# accuracy" must be the mean of its steps in metrics.jsonl, step 1 left out.
source "$(dirname "$0")/../lib.sh"
cat >"$TMP/m.ini" <<'M'
[input]
shape = 2

[fc]
type = dense
units = 4
activation = tanh

[out]
type = dense
units = 3
activation = softmax
M
cat >"$TMP/cfg.ini" <<C
[model]
file = $TMP/m.ini
[data]
source = blobs
n = 64
[optim]
type = gd
lr = 0.1
[train]
epochs = 2
global_batch = 16
log_every = 1
nonfinite = skip
[debug]
nan_step = 1
nan_rank = 1
C
out=$(runq 2 train "$TMP/cfg.ini" --out "$TMP/run" 2>&1) || fail "training failed: $out"
grep -q "^step 1 (epoch 0): a loss or gradient is not finite; step skipped" <<<"$out" || fail "no skip note: $out"
# mean LOSS|ACCURACY over epoch E's batches in metrics.jsonl, leaving out step SKIP (-1: none)
mean() {
    awk -v e="$1" -v skip="$2" -v f="$3" -F'[:,] *' '/"split": "batch"/ {
        for (i = 1; i < NF; i++) v[$i] = $(i + 1)
        if (v["{\"step\""] + 0 == skip || v["\"epoch\""] + 0 != e) next
        s += v["\"" f "\""]; n++ } END { printf "%.4f", s / n }' "$TMP/run/metrics.jsonl"
}
[ "$(grep -c '"split": "batch"' "$TMP/run/metrics.jsonl")" = 8 ] || fail "expected 8 batch lines: $(cat "$TMP/run/metrics.jsonl")"
# the skipped step measured nothing: its batch line has no loss and no accuracy
sk=$(grep '^{"step": 1, ' "$TMP/run/metrics.jsonl") || fail "no metrics line for step 1"
grep -q '"loss"\|"accuracy"' <<<"$sk" && fail "the skipped step logged a loss or an accuracy: $sk"
for e in 1 2; do
    skip=$([ "$e" = 1 ] && echo 1 || echo -1)
    line=$(grep "^epoch $e/2 done" <<<"$out") || fail "no summary of epoch $e: $out"
    got="$(awk '{ for (i = 1; i < NF; i++) if ($i == "batches") print $(i + 2) + 0, $(i + 4) + 0 }' <<<"$line")"
    want="$(mean $((e - 1)) "$skip" loss) $(mean $((e - 1)) "$skip" accuracy)"
    awk -v g="$got" -v w="$want" 'BEGIN { split(g, a, " "); split(w, b, " ")
        exit !(a[1] != "" && a[2] != "" && (a[1] - b[1])^2 < 2e-8 && (a[2] - b[2])^2 < 2e-8) }' || fail "epoch $e: batches loss, accuracy $got; the mean of its steps (step 1 left out) is $want: $out"
    ok "epoch $e: batches loss, accuracy $got = the mean of its unskipped steps"
done
with=$(mean 0 -1 loss)
[ "$with" != "$(mean 0 1 loss)" ] || fail "counting the skipped step would give the same mean ($with): the test checks nothing"
