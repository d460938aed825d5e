#!/usr/bin/env bash
# Checkpoint + resume ends with the same parameters as an uninterrupted run:
# stopped mid-epoch (max_steps), resumed with --resume, at 1 and 2 ranks, for
# Adam with mini-batches (optimizer state, shuffling) and for dropout
# (masks keyed by step and sample).
source "$(dirname "$0")/../lib.sh"
need_course_data
check_resume() { # NP CONFIG STOP-AT ARGS...
    local np=$1 cfg=$2 stop=$3 d="$TMP/$np-$(basename "$2" .ini)"
    shift 3
    run "$np" train "$cfg" "$@" --out "$d/full" --quiet >/dev/null 2>&1 || fail "uninterrupted run of $cfg failed"
    run "$np" train "$cfg" "$@" "train.max_steps=$stop" --out "$d/part" --quiet >/dev/null 2>&1 || fail "partial run failed"
    out=$(run "$np" train "$cfg" "$@" --resume "$d/part/checkpoint.h5" --out "$d/rest" 2>&1) || fail "resume failed: $out"
    "$DTRAIN_CKPT_DIFF" "$d/part/checkpoint.h5" "$d/full/checkpoint.h5" >/dev/null &&
        fail "$cfg: the partial run already equals the full one; the test would prove nothing"
    diff=$("$DTRAIN_CKPT_DIFF" "$d/rest/checkpoint.h5" "$d/full/checkpoint.h5" 0) ||
        fail "$cfg at $np ranks: resumed run differs from the uninterrupted one: $diff"
    ok "$cfg at $np rank(s), stopped at step $stop and resumed: $diff"
}
for np in 1 2; do
    check_resume "$np" configs/course/opt_adam.ini 97 train.epochs=40       # 5 steps per epoch: mid-epoch stop
    check_resume "$np" configs/course/reg_dropout.ini 123 train.epochs=300
done
# the cosine schedule's clock is the configured epochs, not max_steps
check_resume 2 configs/course/opt_adam.ini 97 train.epochs=40 optim.decay=cosine
# a resumed run's metrics continue the first run's file
grep -q '"step": 0' "$TMP/2-opt_adam/part/metrics.jsonl" || fail "metrics.jsonl of the partial run has no step 0"
