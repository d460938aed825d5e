#!/usr/bin/env bash
# dtrain bench: a row per layer with its forward and backward time, the
# shares adding up to the step, folded activations shown as such (and kept
# apart with --no-fold), 2 ranks, and bad arguments as one-line errors.
source "$(dirname "$0")/../lib.sh"
need_fmnist
cfg=(configs/fmnist_resnet.ini data.limit_train=64 data.limit_test=16)
out=$(run 1 bench "${cfg[@]}" --steps 2 --batch 8) || fail "bench failed: $out"
grep -q "^bench: models/resnet_small.ini, 8 rows per step on each of 1 rank, 2 steps (after 3 untimed), 13 activations folded$" <<<"$out" ||
    fail "no header: $out"
rows=$(grep -cE "^[a-z0-9_]+ +(conv2d|batchnorm|activation|add|global_avg|dense) " <<<"$out")
[ "$rows" -eq 65 ] || fail "$rows layer rows, not 65: $out"
grep -Eq "^s1b1_c2 +conv2d +16x28x28 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$" <<<"$out" || fail "conv row: $out"
grep -Eq "^s1b1_bn1_relu +activation +16x28x28 +0\.000 +0\.000 +0\.0 *$" <<<"$out" || fail "a folded relu takes time: $out"
grep -Eq "^step: [0-9.]+ ms, [0-9]+ images/s, 139\.2 MFLOP per image, [0-9.]+ GFLOP/s = [0-9]+% of this core's sgemm peak" <<<"$out" ||
    fail "no step line: $out"
# the shares of the layers, the losses and the rest are the whole step
sum=$(awk '$NF ~ /^[0-9.]+$/ && NF >= 6 && $1 != "layer" {s += ($2 ~ /^(conv2d|dense)$/) ? $(NF-1) : $NF} /^\(/ {s += $NF} END {printf "%.0f", s}' <<<"$out")
[ "$sum" -ge 98 ] && [ "$sum" -le 102 ] || fail "the shares add up to $sum %, not 100: $out"
out=$(run 1 bench "${cfg[@]}" --steps 2 --batch 8 --no-fold) || fail "bench --no-fold failed: $out"
grep -q ", 0 activations folded$" <<<"$out" || fail "--no-fold folded: $out"
# unfolded, the relu has time of its own (any amount: sanitizer builds are slow)
awk '$1 == "s1b1_bn1_relu" && $2 == "activation" && $4 + $5 > 0 {found = 1} END {exit !found}' <<<"$out" ||
    fail "an unfolded relu takes no time: $out"
out=$(run 2 bench "${cfg[@]}" --steps 2) || fail "bench at 2 ranks failed: $out"
grep -q "16 rows per step on each of 2 ranks" <<<"$out" || fail "2 ranks: the config's batch per rank not used: $out"
for bad in "--steps 0" "--batch x" "--frobnicate"; do
    # shellcheck disable=SC2086 # the words of $bad are separate arguments
    err=$(run 1 bench "${cfg[@]}" $bad 2>&1) && fail "accepted $bad"
    [ "$(grep -c "^dtrain: error: " <<<"$err")" -eq 1 ] || fail "$bad: not one error line: $err"
done
err=$(run 1 bench configs/fmnist_resnet.ini train.frobnicate=1 2>&1) && fail "accepted an unknown key"
grep -q "frobnicate" <<<"$err" || fail "unknown key not named: $err"
ok "per-layer table (shares add up to $sum %), folding shown and turned off, 2 ranks, bad arguments"
