#!/usr/bin/env bash
# Every sub-command has --help (exit 0, a usage line); bad usage exits 2 with one line.
source "$(dirname "$0")/../lib.sh"
for c in train eval gradcheck info predict; do
    out=$("$DTRAIN" "$c" --help) || fail "dtrain $c --help exited non-zero"
    grep -q "^usage: dtrain $c" <<<"$out" || fail "dtrain $c --help: no usage line"
done
"$DTRAIN" --help | grep -q "^usage: dtrain COMMAND" || fail "dtrain --help"
for args in "" "frobnicate" "train" "train a.ini --bogus" "eval configs/course/planar.ini" "info"; do
    # shellcheck disable=SC2086
    "$DTRAIN" $args >/dev/null 2>"$TMP/err"; rc=$?
    [ "$rc" = 2 ] || fail "dtrain $args: exit $rc, expected 2"
    head -1 "$TMP/err" | grep -q "^dtrain: error: " || fail "dtrain $args: no error line"
done
ok "help and usage errors"
