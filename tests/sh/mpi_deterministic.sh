#!/usr/bin/env bash
# Deterministic mode ([dist] deterministic = 1): for one global batch, 1, 2,
# 4 and 8 ranks (oversubscribed) end with bitwise identical parameters
# (the tree read in shared memory, or exchanged by messages),
# optimizer state and batch-norm statistics, for an MLP with dropout (Adam)
# and a CNN with batch norm over micro-batches (momentum); ZeRO-1 (sharded
# optimizer state) gives bitwise the unsharded result; other rank counts get
# a one-line error.
source "$(dirname "$0")/../lib.sh"
need_fmnist

same() { # A B WHAT
    local d
    d=$("$DTRAIN_CKPT_DIFF" "$1" "$2" 0) || fail "$3: $d"
    ok "$3: $d"
}

mlp=(configs/fmnist_mlp.ini "model.file=$PWD/tests/models/mlp_dropout.ini" train.batch_per_rank=0 train.global_batch=128
     data.limit_train=3000 data.limit_test=300 train.max_steps=30 train.log_every=0 train.eval_every=0
     dist.deterministic=1 dist.micro_batch=32)
for np in 1 2 4; do
    out=$(run "$np" train "${mlp[@]}" --out "$TMP/m$np" 2>&1) || fail "MLP at $np ranks: $out"
done
# the same tree by messages (as across machines) instead of shared memory
out=$(DTRAIN_NO_SHARED_REDUCE=1 run 4 train "${mlp[@]}" --out "$TMP/m4msg" 2>&1) || fail "MLP at 4 ranks by messages: $out"
grep -q "fixed tree" <<<"$out" || fail "no step line: $out"
same "$TMP/m1/checkpoint.h5" "$TMP/m4msg/checkpoint.h5" "MLP with dropout, 1 vs 4 ranks with the tree over messages, bitwise"
run 8 train "${mlp[@]}" dist.micro_batch=16 --out "$TMP/m8" --quiet >/dev/null 2>&1 || fail "MLP at 8 ranks failed"
run 1 train "${mlp[@]}" dist.micro_batch=16 --out "$TMP/m8ref" --quiet >/dev/null 2>&1 || fail "MLP at 1 rank, micro 16 failed"
same "$TMP/m8ref/checkpoint.h5" "$TMP/m8/checkpoint.h5" "MLP with dropout, micro-batches of 16, 1 vs 8 ranks, bitwise"
grep -q "global batch 128 = 4 ranks x 1 micro-batch of 32 rows" <<<"$out" || fail "no step description line: $out"
same "$TMP/m1/checkpoint.h5" "$TMP/m2/checkpoint.h5" "MLP with dropout, 1 vs 2 ranks, bitwise"
same "$TMP/m1/checkpoint.h5" "$TMP/m4/checkpoint.h5" "MLP with dropout, 1 vs 4 ranks, bitwise"
# the comparison can fail: another micro-batch size is another computation
run 1 train "${mlp[@]}" dist.micro_batch=64 --out "$TMP/m64" --quiet >/dev/null 2>&1 || fail "MLP micro_batch 64 failed"
"$DTRAIN_CKPT_DIFF" "$TMP/m1/checkpoint.h5" "$TMP/m64/checkpoint.h5" 0 >/dev/null &&
    fail "micro-batches of 32 and 64 gave bitwise the same parameters: the comparison proves nothing"
for np in 2 4; do
    out=$(run "$np" train "${mlp[@]}" dist.zero=1 --out "$TMP/z$np" 2>&1) || fail "MLP ZeRO-1 at $np ranks: $out"
    same "$TMP/m1/checkpoint.h5" "$TMP/z$np/checkpoint.h5" "MLP, ZeRO-1 at $np ranks vs unsharded 1 rank, bitwise"
done
# optimizer memory per rank shrinks by the rank count (Adam: 2 arrays of 50896
# values with alignment padding; blocks of ceil(n/4) rounded up to 16)
line=$(grep "optimizer state per rank" <<<"$out")
grep -q "ZeRO-1 block of 12736 of 50896 values" <<<"$line" || fail "ZeRO-1 memory line: $line"
awk '{ for (i = 1; i <= NF; i++) if ($i == "KiB") k[++n] = $(i - 1) + 0 } END { exit !(n == 2 && k[2] / k[1] > 3.99) }' \
    <<<"${line//[();]/ }" || fail "ZeRO-1 at 4 ranks does not hold a quarter of the state: $line"
ok "ZeRO-1 at 4 ranks: $line"

cnn=(configs/fmnist_cnn.ini "model.file=$PWD/tests/models/cnn_bn.ini" train.batch_per_rank=0 train.global_batch=64
     data.limit_train=1000 data.limit_test=200 train.max_steps=12 train.log_every=0 train.eval_every=0
     optim.type=momentum optim.lr=0.05 dist.deterministic=1 dist.micro_batch=16)
for np in 1 2 4; do
    out=$(run "$np" train "${cnn[@]}" --out "$TMP/c$np" 2>&1) || fail "CNN at $np ranks: $out"
done
same "$TMP/c1/checkpoint.h5" "$TMP/c2/checkpoint.h5" "CNN with batch norm, 1 vs 2 ranks, bitwise"
same "$TMP/c1/checkpoint.h5" "$TMP/c4/checkpoint.h5" "CNN with batch norm, 1 vs 4 ranks, bitwise"
out=$(run 2 train "${cnn[@]}" dist.zero=1 --out "$TMP/cz" 2>&1) || fail "CNN ZeRO-1: $out"
same "$TMP/c1/checkpoint.h5" "$TMP/cz/checkpoint.h5" "CNN, ZeRO-1 at 2 ranks vs unsharded 1 rank, bitwise"

# 3 ranks cannot hold equal whole subtrees of 4 micro-batches
out=$(runq 3 train "${mlp[@]}" --out "$TMP/m3" 2>&1) && fail "3 ranks were accepted"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "3 ranks: expected a one-line error, got: $out"
grep -q "it runs on 1, 2, 4 ... up to 4 ranks (powers of two dividing 4), not 3" <<<"$out" || fail "3 ranks: $out"
ok "3 ranks: $out"
