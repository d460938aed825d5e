#!/usr/bin/env bash
# Communicators as values: a 2-rank world split into two independent 1-rank
# trainings (tests/tools/split_train.c). Trial 1's data file is missing: it
# ends with one error line, and trial 0 finishes with the same result, to
# the bit, as the same config trained alone on one rank. A non-finite loss
# in one trial ends that trial alone too. Then two good trials side by
# side both finish.
source "$(dirname "$0")/../lib.sh"
need_course_data
cfg=configs/course/planar.ini
cp "$cfg" "$TMP/good.ini"
sed -i "s|^file = models/|file = $PWD/models/|; s|^epochs = .*|epochs = 500|" "$TMP/good.ini"
sed "s|^train = .*|train = $TMP/no_such.h5|" "$TMP/good.ini" >"$TMP/bad.ini"
alone=$(run 1 train "$TMP/good.ini" --out "$TMP/alone" 2>&1) || fail "alone: $alone"
out=$(timeout -k 5 120 mpiexec --oversubscribe -np 2 "$DTRAIN_SPLIT_TRAIN" "$TMP/good.ini" "$TMP/t0" "$TMP/bad.ini" "$TMP/t1" 2>&1)
rc=$?
[ $rc -ne 124 ] || fail "the split run hung: $out"
err=$(grep "^trial 1:" <<<"$out")
[ "$(grep -c . <<<"$err")" -eq 1 ] || fail "the failing trial did not end with one line: $out"
grep -q "^trial 1: error: .*no_such.h5: cannot open" <<<"$err" || fail "unclear error: $err"
grep -q "^trial 0: done, 500 steps" <<<"$out" || fail "the good trial did not finish: $out"
want=$(grep '^train ' <<<"$alone" | awk '{ print $3, $5, $6 }')
got=$(grep '^trial 0: train ' <<<"$out" | awk '{ print $5, $7, $8 }')
[ -n "$want" ] && [ "$want" = "$got" ] || fail "trial 0's result '$got' differs from the run alone '$want'"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/alone/checkpoint.h5" "$TMP/t0/checkpoint.h5" 0) || fail "trial 0's parameters differ: $diff"
# a non-finite loss in trial 0 ([debug] nan_step): it stops alone, trial 1 finishes
printf '[debug]\nnan_step = 5\nnan_rank = 0\n' | cat "$TMP/good.ini" - >"$TMP/nan.ini"
out=$(timeout -k 5 120 mpiexec --oversubscribe -np 2 "$DTRAIN_SPLIT_TRAIN" "$TMP/nan.ini" "$TMP/n0" "$TMP/good.ini" "$TMP/n1" 2>&1)
[ $? -ne 124 ] || fail "the split run hung: $out"
grep -q "^trial 0: error: step 5 (epoch 5): the training loss is not finite" <<<"$out" || fail "no non-finite error from trial 0: $out"
grep -q "^trial 1: done, 500 steps" <<<"$out" || fail "trial 1 did not finish beside the failing one: $out"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/alone/checkpoint.h5" "$TMP/n1/checkpoint.h5" 0) || fail "trial 1's parameters differ: $diff"
out=$(timeout -k 5 120 mpiexec --oversubscribe -np 2 "$DTRAIN_SPLIT_TRAIN" "$TMP/good.ini" "$TMP/u0" "$TMP/good.ini" "$TMP/u1" 2>&1) ||
    fail "two good trials: $out"
[ "$(grep -c "^trial [01]: done, 500 steps" <<<"$out")" -eq 2 ] || fail "not both trials finished: $out"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/u0/checkpoint.h5" "$TMP/u1/checkpoint.h5" 0) || fail "the two trials differ: $diff"
ok "a failing trial ended alone ($(cut -c1-80 <<<"$err")...); the other matched the run alone ($got, $diff)"
