#!/usr/bin/env bash
# A full disk while writing a checkpoint: a one-line error naming the file
# and the cause, every rank stops, and the previous checkpoint is intact.
# Needs a small tmpfs (mount, as root); reported skipped where that is not allowed.
source "$(dirname "$0")/../lib.sh"
need_fmnist
mnt=$TMP/small
mkdir -p "$mnt"
# the MLP's checkpoint (parameters + Adam state) is 2.8 MB in float, 5.6 in double:
# room for one, not for a second copy
size=4m
[ "${DTRAIN_REAL:-float}" = double ] && size=8m
if ! mount -t tmpfs -o size=$size tmpfs "$mnt" 2>/dev/null; then
    echo "SKIP: cannot mount a $size tmpfs here (needs root and mount permission)"
    exit 77
fi
trap 'umount "$mnt" 2>/dev/null; rm -rf "$TMP"' EXIT
mlp=(configs/fmnist_mlp.ini data.limit_train=2000 data.limit_test=200 train.log_every=0 train.eval_every=0
     train.checkpoint_steps=5 train.max_steps=12)
err=$(runq 2 train "${mlp[@]}" --out "$mnt/run" 2>&1 >/dev/null) && fail "disk full: exit status 0"
[ "$(wc -l <<<"$err")" = 1 ] || fail "disk full: expected one line, got: $err"
grep -q "checkpoint.h5: cannot write .*No space left on device" <<<"$err" || fail "disk full: $err"
out=$(runq 1 eval configs/fmnist_mlp.ini data.limit_test=200 --ckpt "$mnt/run/checkpoint.h5" 2>&1) ||
    fail "the previous checkpoint does not load: $out"
ls "$mnt/run" | grep -q tmp && fail "a partial temporary file was left: $(ls "$mnt/run")"
ok "disk full: $err; the step-5 checkpoint still loads and no temporary file is left"
