#!/usr/bin/env bash
# Fail fast, never hang, at 2 ranks:
#  - SIGKILL of one rank mid-training: the other exits non-zero within 30 s
#    with a message, whichever collective it was waiting in;
#  - a rank that stops answering (SIGSTOP): the others' waits time out after
#    [dist] timeout seconds, naming what they waited in, and the job ends;
#  - a non-finite value on one rank stops every rank with one line naming
#    the rank and the step (default, ZeRO-1 and deterministic modes), or is
#    skipped on every rank with [train] nonfinite = skip;
#  - a rank whose shard runs out a step earlier does not hang the others.
source "$(dirname "$0")/../lib.sh"
need_fmnist
need_course_data

long=(configs/fmnist_mlp.ini train.epochs=200 train.log_every=50 train.eval_every=0 data.limit_test=200)

# start_long NAME ARGS...: a long 2-rank run in the background; waits until it
# has trained 100 steps, sets $mpid and $victim (the last rank's pid).
start_long() {
    local name=$1 i
    shift
    timeout -k 5 120 mpiexec --quiet -np 2 "$DTRAIN" train "${long[@]}" "$@" --out "$TMP/$name" \
        >"$TMP/$name.out" 2>"$TMP/$name.err" &
    mpid=$!
    for i in $(seq 600); do
        grep -q "step 100 " "$TMP/$name.out" 2>/dev/null && break
        kill -0 "$mpid" 2>/dev/null || fail "$name: the run ended early: $(cat "$TMP/$name.err")"
        sleep 0.1
    done
    grep -q "step 100 " "$TMP/$name.out" || fail "$name: no step 100 within 60 s: $(cat "$TMP/$name.out")"
    victim=$(pgrep -f "$DTRAIN train" -P "$(pgrep -P "$mpid" -f mpiexec || echo "$mpid")" | tail -1)
    [ -n "$victim" ] || victim=$(pgrep -f "$DTRAIN train ${long[0]}" | grep -v "^$mpid$" | tail -1)
    [ -n "$victim" ] || fail "$name: cannot find the ranks' processes"
}

# finish_long NAME: wait for the run; fails unless it ended non-zero within 30 s.
finish_long() {
    local name=$1 t0=$SECONDS rc=0
    wait "$mpid" || rc=$?
    local took=$((SECONDS - t0))
    [ "$rc" != 0 ] || fail "$name: exit status 0"
    [ "$rc" != 124 ] && [ "$rc" != 137 ] || [ "$took" -lt 30 ] || fail "$name: still running after 30 s (timeout)"
    [ "$took" -le 30 ] || fail "$name: took $took s to end"
    ok "$name: ended in $took s with exit $rc: $(head -1 "$TMP/$name.err")"
}

start_long killed
kill -KILL "$victim"
finish_long killed
grep -q "terminated by the launcher" "$TMP/killed.err" || fail "killed: no message from the surviving rank: $(cat "$TMP/killed.err")"

start_long stopped dist.timeout=3
kill -STOP "$victim"
finish_long stopped
kill -KILL "$victim" 2>/dev/null || true
grep -q "waited [0-9.]* s in .* for the other ranks: one of them has died or hangs (\[dist\] timeout = 3)" "$TMP/stopped.err" ||
    fail "stopped: no timeout message: $(cat "$TMP/stopped.err")"

# a NaN in rank 1's rows at step 3
nan=(configs/fmnist_mlp.ini data.limit_train=2000 data.limit_test=200 train.max_steps=8 train.eval_every=0 train.log_every=0
     debug.nan_step=3 debug.nan_rank=1)
for mode in "" dist.zero=1 dist.deterministic=1; do
    err=$(runq 2 train "${nan[@]}" $mode --out "$TMP/nan" 2>&1 >/dev/null) && fail "NaN ($mode): exit status 0"
    [ "$(wc -l <<<"$err")" = 1 ] || fail "NaN ($mode): expected one line, got: $err"
    grep -q "^dtrain: error: rank 1: step 3 (epoch 0): the gradient is not finite on this rank's rows" <<<"$err" ||
        fail "NaN ($mode): $err"
    ok "NaN on rank 1 (${mode:-default mode}): $err"
done
out=$(runq 2 train "${nan[@]}" train.nonfinite=skip --out "$TMP/skip" 2>&1) || fail "nonfinite = skip: $out"
grep -q "step 3 (epoch 0): a loss or gradient is not finite; step skipped" <<<"$out" || fail "no skip note: $out"
grep -q "parameters identical on all 2 ranks" <<<"$out" || fail "skip: replicas differ"
ok "nonfinite = skip: step 3 skipped on every rank, the run went on"

# contiguous shards of 105 and 104 rows in batches of 52: rank 1's shard ends a
# step before rank 0's (its third step has no rows)
out=$(runq 2 train configs/course/cat_deep.ini data.sharding=contiguous train.batch_per_rank=52 train.epochs=4 \
      --out "$TMP/uneven" 2>&1) || fail "uneven shards: $out"
grep -q "3 steps per epoch" <<<"$out" || fail "uneven shards: expected 3 steps per epoch: $out"
grep -q "parameters identical on all 2 ranks" <<<"$out" || fail "uneven shards: replicas differ"
ok "uneven contiguous shards (105 and 104 rows, batch 52): 3 steps per epoch, no hang"
