#!/usr/bin/env bash
# dtrain sweep on the Fashion-MNIST MLP, cut small (2000 training rows, 3
# epochs, a dev split of 500 rows):
#  - scheduling at 1, 2 and 4 ranks (1-rank groups, and 2-rank groups at 4):
#    every trial is recorded once, groups take trials as they free up, and
#    a trial's parameters and result do not depend on the rank count;
#  - the test split is read once, for the chosen trial only;
#  - a failing trial (a bad value, a non-finite loss) is recorded with its
#    one-line reason and the others finish;
#  - a killed sweep resumes without running finished trials again; another
#    seed in the same directory is refused;
#  - bad arguments are one-line errors.
source "$(dirname "$0")/../lib.sh"
need_fmnist
small=(train.epochs=3 data.limit_train=2000 data.limit_test=500 train.log_every=0 train.eval_train=0)
specs=(--param optim.lr=log:1e-4:1e-1 --param optim.beta1=1-log:0.8:0.999)

# trial_field FILE TRIAL KEY: a field of that trial's record in sweep.jsonl
trial_field() { grep "\"trial\":$2," "$1" | head -1 | sed -E "s/.*\"$3\":(\"[^\"]*\"|[^,}]*).*/\1/"; }

sweep() { # sweep NP OUT ARGS...
    local np=$1 out=$2
    shift 2
    timeout -k 5 300 mpiexec --oversubscribe -np "$np" "$DTRAIN" sweep configs/fmnist_mlp.ini "${small[@]}" "$@" --out "$out" 2>&1
}

for np in 1 2 4; do
    out=$(sweep "$np" "$TMP/s$np" --trials 6 "${specs[@]}" --seed 5 --no-early-stop) || fail "$np ranks: $out"
    f=$TMP/s$np/sweep.jsonl
    [ "$(grep -c . "$f")" -eq 6 ] || fail "$np ranks: not 6 records: $(cat "$f")"
    for k in 0 1 2 3 4 5; do
        [ "$(grep -c "\"trial\":$k," "$f")" -eq 1 ] || fail "$np ranks: trial $k recorded $(grep -c "\"trial\":$k," "$f") times"
        [ "$(trial_field "$f" $k status)" = '"done"' ] || fail "$np ranks: trial $k: $(grep "\"trial\":$k," "$f")"
    done
    groups=$(sed -E 's/.*"group":([0-9]+).*/\1/' "$f" | sort -u | tr '\n' ' ')
    [ "$np" -eq 1 ] && [ "$groups" != "0 " ] && fail "1 rank: groups $groups"
    [ "$np" -gt 1 ] && [ "$(wc -w <<<"$groups")" -lt 2 ] && fail "$np ranks: only group(s) $groups took trials"
    grep -q "^sweep: 6 trials (6 done, 0 stopped early, 0 failed)" <<<"$out" || fail "$np ranks: no summary: $out"
    grep -q "^chosen: trial [1-6] (dev accuracy 0\.[0-9]*); test split, evaluated once for it: loss [0-9.]* accuracy 0\.[0-9]* (\?[0-9]*/500)" <<<"$out" ||
        fail "$np ranks: no test line for the chosen trial: $out"
    ! grep -lq '"split": "test"' "$TMP/s$np"/trial-*/metrics.jsonl || fail "$np ranks: a trial read the test split"
    [ -s "$TMP/s$np/table.txt" ] || fail "$np ranks: no table.txt"
done
# 1-rank trials: the same parameters and the same result at 1, 2 and 4 ranks
for k in 0 1 2 3 4 5; do
    a=$(trial_field "$TMP/s1/sweep.jsonl" $k params; trial_field "$TMP/s1/sweep.jsonl" $k final)
    for np in 2 4; do
        b=$(trial_field "$TMP/s$np/sweep.jsonl" $k params; trial_field "$TMP/s$np/sweep.jsonl" $k final)
        [ "$a" = "$b" ] || fail "trial $k differs between 1 and $np ranks: $a / $b"
    done
done
ok "6 trials at 1, 2 and 4 ranks: each recorded once, the same parameters and dev accuracy ($(trial_field "$TMP/s1/sweep.jsonl" 0 final) for trial 1)"

# 2-rank groups at 4 ranks
out=$(sweep 4 "$TMP/g2" --trials 4 "${specs[@]}" --ranks-per-trial 2 --no-early-stop) || fail "2-rank groups: $out"
grep -q "on 2 groups of 2 ranks" <<<"$out" || fail "2-rank groups: $out"
[ "$(grep -c '"status":"done"' "$TMP/g2/sweep.jsonl")" -eq 4 ] || fail "2-rank groups: $(cat "$TMP/g2/sweep.jsonl")"
ok "4 ranks in 2 groups of 2: 4 trials done"

# failures: a value the config refuses, a non-finite loss; the others finish
# (seed 5 draws lr -5 for trial 4, nan_step 2 for trials 1, 2 and 6)
out=$(sweep 2 "$TMP/bad" --trials 6 --param optim.lr=choice:0.001,-5 --param debug.nan_step=choice:-1,-1,2 --seed 5 --no-early-stop) ||
    fail "failing trials stopped the sweep: $out"
f=$TMP/bad/sweep.jsonl
[ "$(grep -c . "$f")" -eq 6 ] || fail "not 6 records with failures: $(cat "$f")"
grep -q '"status":"failed","reason":"[^"]*optim\] lr = ' "$f" || fail "no failed record naming optim.lr: $(cat "$f")"
grep -q '"status":"failed","reason":"step 2 (epoch 0): the gradient is not finite' "$f" ||
    fail "no failed record for the non-finite loss: $(cat "$f")"
nd=$(grep -c '"status":"done"' "$f")
[ "$nd" -ge 1 ] || fail "no trial finished beside the failing ones: $(cat "$f")"
grep -q "^trial [1-6]/6 \[group [01]\]: .*: failed: " <<<"$out" || fail "no failure line: $out"
ok "failing trials recorded with their reasons, $nd others done"

# a rank that hangs in a 2-rank trial (seed 0 draws hang_step 5 for trial 4
# alone; whichever group takes it, its rank 1, world rank 1 or 3, hangs):
# its partner's wait times out, the trial is recorded as failed,
# that group takes no more trials, the other group runs the rest, rank 0
# prints the table, and the job ends with the hung rank
out=$(timeout -k 5 200 mpiexec --oversubscribe -np 4 "$DTRAIN" sweep configs/fmnist_mlp.ini "${small[@]}" train.epochs=2 \
    dist.timeout=4 debug.hang_rank=1 --trials 6 --ranks-per-trial 2 --param optim.lr=log:1e-4:1e-1 \
    --param debug.hang_step=choice:-1,-1,-1,5 --seed 0 --no-early-stop --out "$TMP/hang" 2>&1)
rc=$?
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "the sweep with a hanging rank hung: $out"
f=$TMP/hang/sweep.jsonl
[ "$(grep -c . "$f")" -eq 6 ] || fail "hang: not 6 records: $(cat "$f")"
grep -q '"trial":3,"status":"failed","reason":"rank 0: waited [0-9.]* s in the .* for the other ranks' "$f" ||
    fail "hang: trial 4 not recorded as a timeout: $(cat "$f")"
[ "$(grep -c '"status":"done"' "$f")" -eq 5 ] || fail "hang: the other trials did not all finish: $(cat "$f")"
grep -q "^sweep: 6 trials (5 done, 0 stopped early, 1 failed)" <<<"$out" || fail "hang: no table: $out"
grep -q "world rank [13] never finished" <<<"$out" || fail "hang: the hung rank was not named: $out"
ok "a hanging rank: its trial failed with a timeout, 5 others done, the job ended (exit $rc)"

# the same rank slow rather than hung (6 s, timeout 4): both ranks of its
# group time out and say so; nobody is left behind at the end
out=$(timeout -k 5 200 mpiexec --oversubscribe -np 4 "$DTRAIN" sweep configs/fmnist_mlp.ini "${small[@]}" train.epochs=2 \
    dist.timeout=4 debug.hang_rank=1 debug.hang_seconds=6 --trials 6 --ranks-per-trial 2 --param optim.lr=log:1e-4:1e-1 \
    --param debug.hang_step=choice:-1,-1,-1,5 --seed 0 --no-early-stop --out "$TMP/slow" 2>&1)
rc=$?
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "the sweep with a slow rank hung: $out"
grep -q "^sweep: 6 trials (5 done, 0 stopped early, 1 failed)" <<<"$out" || fail "slow: no table: $out"
grep -q "^chosen: trial" <<<"$out" || fail "slow: no test line: $out"
grep -q "never finished" <<<"$out" && fail "slow: a rank that was only slow was left behind: $out"
ok "a slow rank: its trial failed, the table and the test line were printed, nobody left behind"

# resume: two of four records survive a kill; the rerun runs the other two
out=$(sweep 2 "$TMP/r" --trials 4 "${specs[@]}" --no-early-stop) || fail "resume, first run: $out"
head -2 "$TMP/r/sweep.jsonl" >"$TMP/r/kept" && mv "$TMP/r/kept" "$TMP/r/sweep.jsonl"
kept=$(sed -E 's/.*"trial":([0-9]+).*/\1/' "$TMP/r/sweep.jsonl" | sort | tr '\n' ' ')
out=$(sweep 2 "$TMP/r" --trials 4 "${specs[@]}" --no-early-stop) || fail "resume: $out"
[ "$(grep -c "^trial [1-4]/4" <<<"$out")" -eq 2 ] || fail "the resumed sweep did not run exactly the two missing trials: $out"
for k in $kept; do grep -q "^trial $((k + 1))/4" <<<"$out" && fail "trial $((k + 1)) ran again: $out"; done
[ "$(grep -c . "$TMP/r/sweep.jsonl")" -eq 4 ] || fail "not 4 records after the resume"
grep -q "^sweep: 4 trials (4 done" <<<"$out" || fail "the resumed table does not hold all 4: $out"
err=$(sweep 1 "$TMP/r" --trials 4 "${specs[@]}" --seed 9) && fail "another seed in the same directory was accepted"
grep -q "error: .*sweep.jsonl:1: trial [0-9]* ran with optim.lr = .*, this sweep draws .*: give another --out" <<<"$err" ||
    fail "unclear resume mismatch: $err"
ok "resume ran the 2 missing trials (kept: $kept); another seed refused"

# early stopping (rung at epoch 1 of 3, eta 3): some trials stop there, and
# none that stopped had the best dev accuracy at that rung
out=$(sweep 2 "$TMP/asha" --trials 6 "${specs[@]}" --seed 5) || fail "early stopping: $out"
f=$TMP/asha/sweep.jsonl
grep -q "a trial goes on at epochs 1 only if in the top 1/3 of its rung so far" <<<"$out" || fail "no rung line: $out"
ns=$(grep -c '"status":"stopped"' "$f")
[ "$ns" -ge 1 ] || fail "no trial stopped early: $(cat "$f")"
top=$(sed -E 's/.*"rungs":\[([^],]*).*/\1/' "$f" | sort -g | tail -1)
grep '"status":"stopped"' "$f" | grep -q "\"rungs\":\[$top\]" && fail "a trial with the best rung result ($top) was stopped"
grep '"status":"stopped"' "$f" | grep -vq '"epochs":1,' && fail "a stopped trial ran past its rung: $(cat "$f")"
ok "early stopping: $ns of 6 trials stopped at epoch 1 (best rung result $top went on)"

# bad arguments
check_err() { # check_err WANT ARGS...
    local want=$1 e
    shift
    e=$(timeout -k 5 60 mpiexec --quiet --oversubscribe -np 2 "$DTRAIN" sweep "$@" 2>&1) && fail "accepted: $*"
    [ "$(grep -c . <<<"$e")" -eq 1 ] || fail "not one line for '$*': $e"
    grep -q -- "$want" <<<"$e" || fail "'$*': '$e' lacks '$want'"
}
check_err "--ranks-per-trial 3: the 2 ranks do not split into groups of 3" configs/fmnist_mlp.ini --trials 2 "${specs[@]}" --ranks-per-trial 3
check_err "unknown kind 'exp'" configs/fmnist_mlp.ini --trials 2 --param optim.lr=exp:1:2
check_err "how many trials" configs/fmnist_mlp.ini "${specs[@]}"
check_err "nothing to search" configs/fmnist_mlp.ini --trials 2
check_err "optim.lr is given twice" configs/fmnist_mlp.ini --trials 2 --param optim.lr=log:1e-3:1e-2 --param optim.lr=log:1e-3:1e-2
check_err "--trials wants a whole number" configs/fmnist_mlp.ini --trials x
printf '[sweep]\ntrails = 3\n' | cat configs/fmnist_mlp.ini - | sed "s|^file = models/|file = $PWD/models/|" >"$TMP/typo.ini"
check_err "typo.ini:[0-9]*: \[sweep\] unknown key 'trails'" "$TMP/typo.ini" --trials 2 "${specs[@]}"
e=$(runq 1 train configs/fmnist_mlp.ini model.fc9.units=3 2>&1) && fail "model.fc9.units accepted"
grep -q "override 'model.fc9.units=3': .*fmnist_mlp.ini has no section \[fc9\]" <<<"$e" || fail "unclear model override error: $e"
ok "bad arguments: one line each"
