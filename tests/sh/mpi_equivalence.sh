#!/usr/bin/env bash
# 2 ranks with the same global batch train the same model as 1 rank:
# Fashion-MNIST MLP, 50 momentum-SGD steps, global batch 128 (float: max abs
# parameter difference <= 1e-5), and every rank ends with identical parameters.
source "$(dirname "$0")/../lib.sh"
need_fmnist
args=(configs/fmnist_mlp.ini optim.type=momentum optim.lr=0.05 train.batch_per_rank=0
      train.global_batch=128 train.max_steps=50 train.log_every=10 train.eval_every=0)
out1=$(run 1 train "${args[@]}" --out "$TMP/r1" 2>&1) || fail "1 rank: $out1"
out2=$(run 2 train "${args[@]}" --out "$TMP/r2" 2>&1) || fail "2 ranks: $out2"
grep -q "parameters identical on all 2 ranks" <<<"$out2" || fail "the 2 ranks ended with different parameters"
grep -q "global batch 128 rows" <<<"$out2" || fail "the 2-rank run did not use global batch 128: $out2"
# the runs must have learned something, or the comparison proves nothing
l0=$(awk '$3 == "step" && $4 == 0 { print $6 }' <<<"$out1")
l40=$(awk '$3 == "step" && $4 == 40 { print $6 }' <<<"$out1")
[ -n "$l0" ] && [ -n "$l40" ] || fail "no loss lines for steps 0 and 40 in: $out1"
awk -v a="$l0" -v b="$l40" 'BEGIN { exit !(b + 0 < (a + 0) * 0.8) }' || fail "loss did not fall: $l0 -> $l40"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/r1/checkpoint.h5" "$TMP/r2/checkpoint.h5" 1e-5) ||
    fail "1 rank vs 2 ranks: $diff (tolerance 1e-5)"
ok "1 vs 2 ranks after 50 steps: $diff; loss $l0 -> $l40"
