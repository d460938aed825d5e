#!/usr/bin/env bash
# gradcheck, eval and info on real configs and checkpoints.
source "$(dirname "$0")/../lib.sh"
need_course_data
out=$("$DTRAIN" gradcheck configs/course/reg_dropout.ini optim.l2=0.7 2>&1) || fail "gradcheck failed: $out"
grep -q "^gradient check: relative difference .*: ok$" <<<"$out" || fail "gradcheck: $out"
[ "$(grep -c 'relative difference' <<<"$out")" -ge 7 ] || fail "gradcheck did not report every tensor: $out"
ok "$(tail -1 <<<"$out")"

run 2 train configs/course/cat_logreg.ini --out "$TMP/run" --quiet >/dev/null 2>&1 || fail "training failed"
out=$(run 2 eval configs/course/cat_logreg.ini --ckpt "$TMP/run/checkpoint.h5" 2>&1) || fail "eval failed: $out"
[ "$(field 'train ' 6 "$out")" = "(207/209)" ] || fail "eval of the trained checkpoint: $out"
[ "$(field 'test ' 6 "$out")" = "(35/50)" ] || fail "eval of the trained checkpoint: $out"
ok "eval reproduces the run's accuracies"

out=$("$DTRAIN" info "$TMP/run/checkpoint.h5" 2>&1) || fail "info failed: $out"
grep -Eq "/params/out/W +float(32|64) +\[1, 12288\]" <<<"$out" || fail "info does not show W [1, 12288]: $out"
grep -q "@step = 2000" <<<"$out" || fail "info does not show the step: $out"
ok "info lists parameters in PyTorch layout"
