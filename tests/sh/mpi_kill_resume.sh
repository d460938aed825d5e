#!/usr/bin/env bash
# Exact resume after a crash, at any rank count (deterministic mode):
#  - a 2-rank CNN run checkpointing every 10 steps (keeping the last 2) is
#    killed with SIGKILL at an arbitrary step; resumed from its latest
#    checkpoint at 2, 1 and 4 ranks it ends bitwise equal to an uninterrupted
#    2-rank run;
#    (and at 4 ranks with ZeRO-1, the optimizer state split by block);
#  - a checkpoint that cannot be written stops the run with a clear error
#    and leaves the previous checkpoint loadable;
#  - resuming mid-epoch with another global batch is refused.
source "$(dirname "$0")/../lib.sh"
need_fmnist

cnn=(configs/fmnist_cnn.ini train.batch_per_rank=0 train.global_batch=64 data.limit_train=6400 data.limit_test=200
     train.epochs=1 train.log_every=0 train.eval_every=0 dist.deterministic=1 dist.micro_batch=16
     train.checkpoint_steps=10 train.keep=2)
runq 2 train "${cnn[@]}" --out "$TMP/full" --quiet >/dev/null 2>&1 || fail "uninterrupted run failed"

# the run to kill: as soon as its third checkpoint exists, kill one rank
timeout -k 5 120 mpiexec --quiet -np 2 "$DTRAIN" train "${cnn[@]}" --out "$TMP/crash" >"$TMP/crash.out" 2>&1 &
mpid=$!
for _ in $(seq 1200); do
    [ -e "$TMP/crash/ckpt-00000030.h5" ] && break
    kill -0 "$mpid" 2>/dev/null || fail "the run to kill ended early: $(cat "$TMP/crash.out")"
    sleep 0.05
done
[ -e "$TMP/crash/ckpt-00000030.h5" ] || fail "no checkpoint at step 30 within 60 s"
pkill -KILL -f "$DTRAIN train ${cnn[0]} .*--out $TMP/crash" || fail "nothing to kill"
wait "$mpid" && fail "the killed run exited 0"
[ -e "$TMP/crash/ckpt-00000100.h5" ] && fail "the run finished before the kill: the test proves nothing"
latest=$(readlink "$TMP/crash/checkpoint.h5") || fail "checkpoint.h5 is not a link to the latest checkpoint"
n=$(find "$TMP/crash" -name 'ckpt-*.h5' | wc -l)
[ "$n" -le 2 ] || fail "keep = 2, but $n checkpoints are left: $(ls "$TMP/crash")"
ok "killed after $latest; $n checkpoint(s) kept, checkpoint.h5 -> $latest"

for np in 2 1 4; do
    out=$(runq "$np" train "${cnn[@]}" --resume "$TMP/crash/checkpoint.h5" --out "$TMP/rest$np" 2>&1) ||
        fail "resume at $np ranks: $out"
    d=$("$DTRAIN_CKPT_DIFF" "$TMP/rest$np/checkpoint.h5" "$TMP/full/checkpoint.h5" 0) ||
        fail "resumed at $np ranks from $latest: differs from the uninterrupted run: $d"
    ok "resumed from $latest at $np rank(s): bitwise equal to the uninterrupted run ($d)"
done

# the same checkpoint into a ZeRO-1 run: optimizer state scattered by block
out=$(runq 4 train "${cnn[@]}" dist.zero=1 --resume "$TMP/crash/checkpoint.h5" --out "$TMP/restz" 2>&1) ||
    fail "resume at 4 ranks with ZeRO-1: $out"
d=$("$DTRAIN_CKPT_DIFF" "$TMP/restz/checkpoint.h5" "$TMP/full/checkpoint.h5" 0) || fail "resumed with ZeRO-1 at 4 ranks: $d"
ok "resumed from $latest at 4 ranks with ZeRO-1: bitwise equal ($d)"

# an unwritable checkpoint (a directory where it goes): error, previous one kept
mkdir -p "$TMP/wfail/ckpt-00000020.h5"
err=$(runq 2 train "${cnn[@]}" train.max_steps=30 --out "$TMP/wfail" 2>&1 >/dev/null) && fail "unwritable checkpoint: exit 0"
[ "$(wc -l <<<"$err")" = 1 ] || fail "unwritable checkpoint: expected one line, got: $err"
grep -q "ckpt-00000020.h5: cannot" <<<"$err" || fail "unwritable checkpoint: $err"
[ "$(readlink "$TMP/wfail/checkpoint.h5")" = ckpt-00000010.h5 ] || fail "checkpoint.h5 no longer points to step 10"
runq 2 eval "${cnn[@]}" --ckpt "$TMP/wfail/checkpoint.h5" >/dev/null 2>&1 || fail "the step-10 checkpoint does not load"
ok "unwritable checkpoint: $err; the previous one still loads"

# mid-epoch, another global batch cuts the epoch differently
mlp=(configs/fmnist_mlp.ini data.limit_train=2000 data.limit_test=200 train.eval_every=0 train.log_every=0)
runq 2 train "${mlp[@]}" train.max_steps=5 --out "$TMP/g128" >/dev/null 2>&1 || fail "2-rank MLP run failed"
err=$(runq 1 train "${mlp[@]}" --resume "$TMP/g128/checkpoint.h5" --out "$TMP/g64" 2>&1 >/dev/null) &&
    fail "resuming mid-epoch with global batch 64 was accepted"
grep -q "written mid-epoch with a global batch of 128 rows; this run's is 64 (set \[train\] global_batch = 128" <<<"$err" ||
    fail "global batch change: $err"
ok "mid-epoch resume with another global batch: $err"

# at an epoch boundary the epoch is not cut: another global batch is fine
mlp=(configs/fmnist_mlp.ini data.limit_train=1280 data.limit_test=200 train.eval_every=0 train.log_every=0)
runq 2 train "${mlp[@]}" train.max_steps=10 --out "$TMP/e128" >/dev/null 2>&1 || fail "2-rank MLP epoch run failed"
out=$(runq 1 train "${mlp[@]}" train.epochs=2 --resume "$TMP/e128/checkpoint.h5" --out "$TMP/e64" 2>&1) ||
    fail "resume at an epoch boundary with another global batch: $out"
ok "resume at an epoch boundary with global batch 64 after 128: accepted"

# keep = 2 keeps the newest two of this run, and leaves a later step's file (another run's) alone
mkdir -p "$TMP/keep" && echo other >"$TMP/keep/ckpt-00000100.h5" && echo junk >"$TMP/keep/ckpt-00000003.h5.tmp.1"
runq 2 train "${mlp[@]}" train.checkpoint_steps=2 train.keep=2 train.max_steps=7 --out "$TMP/keep" >/dev/null 2>&1 ||
    fail "keep = 2 run failed"
kept=$(cd "$TMP/keep" && echo ckpt-*)
[ "$kept" = "ckpt-00000006.h5 ckpt-00000007.h5 ckpt-00000100.h5" ] || fail "keep = 2: left $kept"
[ "$(readlink "$TMP/keep/checkpoint.h5")" = ckpt-00000007.h5 ] || fail "checkpoint.h5 does not link to step 7"
ok "keep = 2: $kept (step 100 is another run's; the stale temporary file is gone)"
