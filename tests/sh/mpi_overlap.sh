#!/usr/bin/env bash
# The default mode's gradient reduction and large-batch options, at 2 ranks:
#  - bucketed non-blocking allreduce started during backward gives bitwise
#    the parameters of one reduction after backward (2 ranks: a + b either way);
#  - --trace writes a Chrome trace per rank in which an allreduce bucket
#    starts before the backward pass of its step ends (the overlap);
#  - gradient accumulation: 2 ranks x 32 rows x 2 accumulation steps trains
#    like 2 ranks x 64 rows (to rounding);
#  - the linear scaling rule with warmup: the learning rate printed and logged.
source "$(dirname "$0")/../lib.sh"
need_fmnist

mlp=(configs/fmnist_mlp.ini data.limit_train=3000 data.limit_test=200 train.max_steps=20 train.log_every=0 train.eval_every=0)
out=$(runq 2 train "${mlp[@]}" dist.bucket_kb=64 --out "$TMP/b64" --trace "$TMP/trace.json" 2>&1) || fail "buckets: $out"
grep -q "gradients summed in 64 KiB buckets during backward, in shared memory (overlap: asked for in \[dist\])" <<<"$out" ||
    fail "no bucket line: $out"
grep -Eq "communication wait [0-9.]+ % of step time" <<<"$out" || fail "no communication wait figure: $out"
out=$(runq 2 train "${mlp[@]}" dist.bucket_kb=0 --out "$TMP/b0" 2>&1) || fail "one allreduce: $out"
grep -q "gradients summed after backward by recursive halving in shared memory" <<<"$out" || fail "bucket_kb = 0: $out"
d=$("$DTRAIN_CKPT_DIFF" "$TMP/b64/checkpoint.h5" "$TMP/b0/checkpoint.h5" 0) || fail "buckets vs one allreduce: $d"
ok "overlapped 64 KiB buckets vs one reduction after backward: $d"

for r in 0 1; do
    f=$TMP/trace.rank$r.json
    [ -s "$f" ] || fail "no trace file $f"
    head -c 16 "$f" | grep -q '^{"traceEvents":\[' || fail "$f does not start like a Chrome trace"
    tail -c 80 "$f" | grep -q '"dropped_events":0}}' || fail "$f: events were dropped or the file is cut"
    for name in data forward backward "allreduce bucket" optimizer checkpoint "evaluate test"; do
        grep -q "\"name\":\"$name\"" "$f" || fail "$f has no '$name' span"
    done
done
# per step: the backward span, then the buckets launched inside it
overlap=$(awk -F'"ts":|,"dur":|,"pid"' '
    /"name":"backward"/ { bs = $2 + 0; be = bs + $3 }
    /"name":"allreduce bucket"/ { n++; if ($2 + 0 >= bs && $2 + 0 < be) inside++ }
    END { printf "%d %d", n, inside }' "$TMP/trace.rank0.json")
read -r nb inside <<<"$overlap"
[ "$nb" -ge 40 ] || fail "expected at least 2 buckets per step over 20 steps, found $nb"
[ "$inside" -ge 20 ] || fail "only $inside of $nb buckets started during a backward pass"
ok "trace: $nb allreduce buckets over 20 steps, $inside started before their backward pass ended"

runq 2 train "${mlp[@]}" train.batch_per_rank=64 --out "$TMP/a1" --quiet >/dev/null 2>&1 || fail "batch 64 run failed"
out=$(runq 2 train "${mlp[@]}" train.batch_per_rank=32 train.accumulate=2 --out "$TMP/a2" 2>&1) || fail "accumulate: $out"
grep -q "global batch 128 = 2 ranks x 32 rows x 2 accumulation steps" <<<"$out" || fail "no accumulation line: $out"
d=$("$DTRAIN_CKPT_DIFF" "$TMP/a1/checkpoint.h5" "$TMP/a2/checkpoint.h5" 1e-5) || fail "accumulation vs one batch: $d"
ok "2 ranks x 32 rows x 2 accumulation steps vs 2 ranks x 64 rows: $d"

out=$(runq 2 train "${mlp[@]}" optim.lr_scale=linear optim.base_batch=64 optim.warmup_steps=10 train.log_every=1 \
      --out "$TMP/lr" 2>&1) || fail "linear scaling: $out"
grep -q "learning rate 0.002 = 0.001 x 128 / 64 (linear scaling) after 10 warmup steps" <<<"$out" ||
    fail "no learning-rate line: $out"
grep -q "step 0 .* lr 0.0002 " <<<"$out" || fail "step 0 should use 1/10 of 0.002: $(grep 'step 0 ' <<<"$out")"
grep -q "step 12 .* lr 0.002 " <<<"$out" || fail "step 12 should use 0.002: $(grep 'step 12 ' <<<"$out")"
ok "linear scaling rule: 0.001 x 128/64 = 0.002, warmed up from 0.0002 over 10 steps"
