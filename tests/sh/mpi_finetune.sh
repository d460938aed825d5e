#!/usr/bin/env bash
# Fine-tuning the last layer of a trained CNN: fmnist_cnn trains one epoch on
# 2000 images at 2 ranks; a second run starts from its weights ([model]
# weights) with conv1, conv2 and fc frozen ([train] freeze). The frozen
# layers come out bitwise unchanged, the last layer moves, only its
# 1296 values (1280 + 10 padded to a cache line) are reduced per step, the
# checkpoint holds every layer's parameters but optimizer state for `out`
# alone, and the fine-tuned model starts where the first one ended.
source "$(dirname "$0")/../lib.sh"
need_fmnist
common=(configs/fmnist_cnn.ini data.limit_train=2000 data.limit_test=1000 train.epochs=1 train.batch_per_rank=0
        train.global_batch=64 train.log_every=10 train.eval_every=0 data.augment=none)
out1=$(run 2 train "${common[@]}" --out "$TMP/a" 2>&1) || fail "first run: $out1"
a="$TMP/a/checkpoint.h5"
out2=$(run 2 train "${common[@]}" model.weights="$a" train.freeze=conv1,conv2,fc --out "$TMP/b" 2>&1) ||
    fail "fine-tuning: $out2"
b="$TMP/b/checkpoint.h5"
grep -q "1290 parameters trained (420352 frozen, left out of the gradient sum: 1296 of 421648 values reduced per step)" <<<"$out2" ||
    fail "the start line does not show the frozen layers and the reduced volume: $(head -3 <<<"$out2")"
for layer in conv1 conv2 fc; do
    d=$("$DTRAIN_CKPT_DIFF" "$a" "$b" 0 "/params/$layer") || fail "frozen $layer changed: $d"
done
d=$("$DTRAIN_CKPT_DIFF" "$a" "$b" 0 /params/out) && fail "the last layer did not train: $d"
info=$("$DTRAIN" info "$b") || fail "info: $info"
grep -q "^/optim/out/" <<<"$info" || fail "no optimizer state for the trained layer: $info"
grep -q "^/optim/conv1" <<<"$info" && fail "optimizer state for a frozen layer: $info"
grep -q "^/params/conv1/W " <<<"$info" || fail "the frozen layer's weights are missing from the checkpoint"
# it starts from the trained weights: its first loss is far below an untrained net's ln 10 = 2.30
l0=$(awk '$3 == "step" && $4 == 0 { print $6; exit }' <<<"$out2")
first=$(awk '$3 == "step" && $4 == 0 { print $6; exit }' <<<"$out1")
awk -v a="$l0" -v f="$first" 'BEGIN { exit !(a + 0 < 1.2 && f + 0 > 2.0) }' ||
    fail "fine-tuning's first loss $l0 (untrained: $first): the weights were not loaded"
acc1=$(field "test " 5 "$out1")
acc2=$(field "test " 5 "$out2")
awk -v a="$acc1" -v b="$acc2" 'BEGIN { exit !(b + 0 >= a - 0.02) }' || fail "fine-tuning lost accuracy: $acc1 -> $acc2"
err=$(runq 2 train "${common[@]}" train.freeze=conv1,nope --out "$TMP/c" 2>&1) && fail "an unknown layer was frozen"
grep -q "\[train\] freeze: 'nope' is not a layer of" <<<"$err" || fail "unclear error: $err"
ok "fine-tuned 'out' alone: first loss $first -> $l0 after loading; test accuracy $acc1 -> $acc2"
