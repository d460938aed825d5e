#!/usr/bin/env bash
# Running out of memory (issue 16 item 3): under `ulimit -v`, a model too big
# for the memory left ends every rank within END_LIMIT with one line naming
# what was being allocated; the run directory's files are not damaged.
source "$(dirname "$0")/../lib.sh"
# the sanitizers reserve terabytes of address space: ulimit -v cannot work there
[ "${DTRAIN_SANITIZE:-0}" = 0 ] || { echo "SKIP: ulimit -v under a sanitizer (DTRAIN_SANITIZE=$DTRAIN_SANITIZE)"; exit 77; }
cfg() { # cfg UNITS: 100 features in, UNITS hidden, two classes out
    printf '[input]\nshape = 100\n[fc]\ntype = dense\nunits = %s\n[out]\ntype = dense\nunits = 2\nactivation = softmax\n' "$1" \
        >"$TMP/m$1.ini"
    printf '[model]\nfile = %s\n[data]\nsource = random_images\nshape = 100\nclasses = 2\nn = 64\ntest_n = 16\n[optim]\ntype = adam\nlr = 0.01\n[train]\nepochs = 1\n' \
        "$TMP/m$1.ini" >"$TMP/c$1.ini"
}
cfg 8
cfg 12000000 # 1.24e9 parameters: 4.9 GB of them, as much again of gradients, twice that for Adam
runq 2 train "$TMP/c8.ini" --out "$TMP/run" >/dev/null 2>&1 || fail "the small model did not train"
before=$(md5sum "$TMP/run/checkpoint.h5" "$TMP/run/metrics.jsonl")
start=$(date +%s)
out=$(ulimit -v 3000000 && runq 2 train "$TMP/c12000000.ini" --out "$TMP/run" 2>&1) && fail "a 4.9 GB model trained under ulimit -v 3 GB"
took=$(($(date +%s) - start))
[ $took -le "$END_LIMIT" ] || fail "the ranks took $took s to end (limit $END_LIMIT s)"
one_line "$out" "out of memory for the network (1236000002 parameters"
[ "$(md5sum "$TMP/run/checkpoint.h5" "$TMP/run/metrics.jsonl")" = "$before" ] || fail "the failed run changed the run directory"
pgrep -f "$TMP/c12000000.ini" >/dev/null && fail "a rank is still running"
ok "out of memory under ulimit -v: '$out' after $took s, the run directory intact"
