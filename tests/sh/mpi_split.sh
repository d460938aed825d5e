#!/usr/bin/env bash
# Communicators as values: a 2-rank world split into two independent 1-rank
# trainings (tests/tools/split_train.c). Trial 1's data file is missing: it
# ends with one error line, and trial 0 finishes with the same result, to
# the bit, as the same config trained alone on one rank. A non-finite loss
# in one trial ends that trial alone too, and so does a rank that hangs in a
# 2-rank trial: its partner's wait times out, and the 1-rank trial beside
# them finishes with its normal result before the job ends. Then two good
# trials side by side both finish.
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
bad_err=$err
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
# a 3-rank world: trial 0 on world ranks 0 and 2, whose rank 1 (world 2)
# hangs at step 5; trial 1 on world rank 1, training 3000 steps (seconds)
sed "s|^epochs = .*|epochs = 3000|" "$TMP/good.ini" >"$TMP/long.ini"
printf '[dist]\ntimeout = 0.5\n[debug]\nhang_step = 5\nhang_rank = 1\n' | cat "$TMP/long.ini" - >"$TMP/hang.ini"
alone=$(run 1 train "$TMP/long.ini" --out "$TMP/long" 2>&1) || fail "long alone: $alone"
t0=$SECONDS
out=$(timeout -k 5 120 mpiexec --oversubscribe -np 3 "$DTRAIN_SPLIT_TRAIN" "$TMP/hang.ini" "$TMP/h0" "$TMP/long.ini" "$TMP/h1" 2>&1)
rc=$? took=$((SECONDS - t0))
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "the run with a hanging rank hung: $out"
[ $rc -ne 0 ] || fail "the run with a hanging rank exited 0: $out"
err=$(grep "^trial 0: error:" <<<"$out")
[ "$(grep -c . <<<"$err")" -eq 1 ] || fail "the hanging trial did not end with one error line: $out"
grep -q "^trial 0: error: rank 0: waited [0-9.]* s in the .* for the other ranks: one of them has died or hangs (\[dist\] timeout = 0.5)" <<<"$err" ||
    fail "unclear timeout error: $err"
grep -q "^trial 0: rank 0: world rank 2 never finished" <<<"$out" || fail "the hanging rank was not named at the end: $out"
grep -q "^trial 1: done, 3000 steps" <<<"$out" || fail "trial 1 did not finish beside the hanging one: $out"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/long/checkpoint.h5" "$TMP/h1/checkpoint.h5" 0) || fail "trial 1's parameters differ: $diff"
[ "$took" -le 60 ] || fail "the run with a hanging rank took $took s to end"
hung="$(cut -c1-100 <<<"$err")... (ended in $took s)"
out=$(timeout -k 5 120 mpiexec --oversubscribe -np 2 "$DTRAIN_SPLIT_TRAIN" "$TMP/good.ini" "$TMP/u0" "$TMP/good.ini" "$TMP/u1" 2>&1) ||
    fail "two good trials: $out"
[ "$(grep -c "^trial [01]: done, 500 steps" <<<"$out")" -eq 2 ] || fail "not both trials finished: $out"
diff=$("$DTRAIN_CKPT_DIFF" "$TMP/u0/checkpoint.h5" "$TMP/u1/checkpoint.h5" 0) || fail "the two trials differ: $diff"
ok "a failing trial ended alone ($(cut -c1-80 <<<"$bad_err")...); the other matched the run alone ($got, $diff); a hanging rank: $hung"
