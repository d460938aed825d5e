#!/usr/bin/env bash
# Convolutional networks across ranks:
#  - a CNN with batch norm (statistics over fixed groups of 16 rows) trains to
#    the same parameters at 1 rank with global batch 32 as at 2 ranks with 16
#    each (max abs difference <= 1e-5), with running statistics identical on
#    every rank after evaluation;
#  - the same with synchronised batch norm (sync = 1, no groups);
#  - checkpoint + resume of the small ResNet reproduces an uninterrupted run.
source "$(dirname "$0")/../lib.sh"
need_fmnist
base=(configs/fmnist_cnn.ini "model.file=$PWD/tests/models/cnn_bn.ini" train.batch_per_rank=0 train.global_batch=32
      data.limit_train=2000 data.limit_test=500
      optim.type=momentum optim.lr=0.05 train.max_steps=40 train.log_every=10 train.eval_every=0)
out1=$(run 1 train "${base[@]}" --out "$TMP/g1" 2>&1) || fail "1 rank: $out1"
out2=$(run 2 train "${base[@]}" --out "$TMP/g2" 2>&1) || fail "2 ranks: $out2"
grep -q "parameters identical on all 2 ranks" <<<"$out2" || fail "replicas (parameters or running statistics) differ"
l0=$(awk '$3 == "step" && $4 == 0 { print $6 }' <<<"$out1"); l30=$(awk '$3 == "step" && $4 == 30 { print $6 }' <<<"$out1")
awk -v a="$l0" -v b="$l30" 'BEGIN { exit !(b + 0 < (a + 0) * 0.8) }' || fail "loss did not fall: $l0 -> $l30"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/g1/checkpoint.h5" "$TMP/g2/checkpoint.h5" 1e-5) || fail "grouped BN, 1 vs 2 ranks: $diff"
ok "batch norm over groups of 16, 1 rank x 32 vs 2 ranks x 16: $diff (loss $l0 -> $l30)"

sed 's/^group = 16/sync = 1/' tests/models/cnn_bn.ini >"$TMP/cnn_sync.ini"
sync=("${base[@]}" "model.file=$TMP/cnn_sync.ini")
out1=$(run 1 train "${sync[@]}" --out "$TMP/s1" 2>&1) || fail "1 rank (sync): $out1"
out2=$(run 2 train "${sync[@]}" --out "$TMP/s2" 2>&1) || fail "2 ranks (sync): $out2"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/s1/checkpoint.h5" "$TMP/s2/checkpoint.h5" 1e-5) || fail "synchronised BN, 1 vs 2 ranks: $diff"
ok "synchronised batch norm, 1 rank x 32 vs 2 ranks x 16: $diff"

res=(configs/fmnist_resnet.ini train.batch_per_rank=8 train.epochs=1 train.log_every=0 train.eval_every=0
     data.limit_train=400 data.limit_test=100 train.max_steps=24)
run 2 train "${res[@]}" --out "$TMP/rfull" --quiet >/dev/null 2>&1 || fail "resnet uninterrupted run failed"
run 2 train "${res[@]}" train.max_steps=11 --out "$TMP/rpart" --quiet >/dev/null 2>&1 || fail "resnet partial run failed"
out=$(run 2 train "${res[@]}" --resume "$TMP/rpart/checkpoint.h5" --out "$TMP/rrest" 2>&1) || fail "resnet resume failed: $out"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/rrest/checkpoint.h5" "$TMP/rfull/checkpoint.h5" 0) || fail "resnet resumed run differs: $diff"
ok "resnet stopped at step 11 and resumed at 2 ranks equals the uninterrupted 24 steps: $diff"
