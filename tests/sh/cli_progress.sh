#!/usr/bin/env bash
# Progress output of dtrain train: plain lines when stdout is not a terminal
# (also under mpiexec, which gives ranks a pseudo-terminal of its own), the
# per-epoch and final summaries, --quiet, and the live line on a terminal.
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "$0")/../lib.sh"
need_course_data
cfg=(configs/course/cat_logreg.ini train.epochs=6 train.eval_every=2 train.log_every=2)

# has OUTPUT REGEX WHAT: OUTPUT has a line matching REGEX (extended)
has() { grep -Eq -- "$2" <<<"$1" || fail "$3: no line matching /$2/ in:"$'\n'"$1"; }

for np in 1 2; do
    out=$(unset DTRAIN_PROGRESS; run "$np" train "${cfg[@]}" --out "$TMP/plain$np" 2>&1) ||
        fail "training at $np rank(s) failed: $out"
    [[ $out != *$'\r'* ]] || fail "$np rank(s), output not a terminal: it has carriage returns (a live line)"
    has "$out" "^epoch 1/6  step 0  loss [0-9.]+  accuracy " "$np rank(s): plain step line"
    has "$out" "^epoch 5/6  step 4  loss .* examples/s  ETA [0-9]+:[0-9]{2}$" "$np rank(s): step line with ETA"
    for e in 2 4; do
        has "$out" "^epoch $e/6 done in [0-9.]+ s[^:]*: .*test loss [0-9.]+ accuracy 0\.[0-9]+ \(best 0\.[0-9]+\)$" \
            "$np rank(s): summary of epoch $e"
    done
    # the final result comes once, in the format the course tests parse
    [ "$(grep -c '^train ' <<<"$out")" = 1 ] || fail "$np rank(s): more than one 'train ' line: $out"
    [[ $(field 'train ' 6 "$out") =~ ^\([0-9]+/209\)$ ]] || fail "$np rank(s): final train accuracy: $out"
    test_count=$(field 'test ' 6 "$out" | tr -d '()')
    [[ $test_count =~ ^[0-9]+/50$ ]] || fail "$np rank(s): final test accuracy: $out"
    final=$(awk -v f="$test_count" 'BEGIN { split(f, p, "/"); printf "%.4f", p[1] / p[2] }')
    has "$out" "^done: 6 steps in [0-9.]+ s \(.* examples/s\); communication wait [0-9.]+ % of step time; checkpoint $TMP/plain$np/checkpoint.h5$" "$np rank(s): done line"
    has "$out" "^summary: final test accuracy $final, best 0\.[0-9]+ after epoch [246]; wall time [0-9.]+ s; checkpoint $TMP/plain$np/checkpoint.h5$" \
        "$np rank(s): final summary"
    if [ "$np" = 1 ]; then want_test=$test_count; fi
    [ "$test_count" = "$want_test" ] || fail "2 ranks end at test $test_count, 1 rank at $want_test"
    [ "$(tail -1 <<<"$out" | cut -c1-8)" = "summary:" ] || fail "$np rank(s): the summary is not the last line: $out"
    ok "plain progress at $np rank(s)"
done

# --quiet: the final result and nothing else
out=$(run 2 train "${cfg[@]}" --out "$TMP/quiet" --quiet 2>&1) || fail "quiet training failed: $out"
[ "$(wc -l <<<"$out")" = 4 ] || fail "--quiet printed more than the 4 final lines: $out"
[ "$(cut -c1-6 <<<"$out" | tr '\n' '|')" = "train |test  |done: |summar|" ] || fail "--quiet lines: $out"
ok "--quiet prints only the final result"

# A terminal (forced): a live line redrawn with \r, and the same final lines.
out=$(DTRAIN_PROGRESS=live "$DTRAIN" train "${cfg[@]}" --out "$TMP/live" 2>&1) || fail "live training failed: $out"
[[ $out == *$'\r'"epoch "*"ETA "* ]] || fail "DTRAIN_PROGRESS=live: no live line in: $(cat -A <<<"$out")"
clean=${out//$'\e[K'/}
clean=${clean//$'\r'/$'\n'} # each redraw on a line of its own
[ "$(field 'test ' 6 "$clean")" = "($want_test)" ] || fail "live: final test line: $clean"
has "$clean" "^epoch 4/6 done in " "live: epoch summary"
has "$clean" "^summary: final test accuracy $final" "live: final summary"
ok "live line with DTRAIN_PROGRESS=live"

# A real pseudo-terminal, where util-linux's script is there: found without help.
if command -v script >/dev/null 2>&1; then
    out=$(script -qec "$(printf '%q ' "$DTRAIN" train "${cfg[@]}" --out "$TMP/pty")" /dev/null </dev/null 2>&1) ||
        fail "training on a pseudo-terminal failed: $out"
    [[ $out == *$'\r'"epoch "*"ETA "* ]] || fail "on a terminal: no live line in: $(cat -A <<<"$out")"
    ok "live line on a pseudo-terminal"
fi
