#!/usr/bin/env bash
# A model of many layers (here 130 batch norms: 1052 arrays with Adam's
# state) trains and writes its checkpoint whole; there is no fixed limit on
# the number of arrays (one once aborted the run at its last checkpoint).
source "$(dirname "$0")/../lib.sh"
{
    printf '[input]\nshape = 2\n\n[fc]\ntype = dense\nunits = 4\n\n'
    for i in $(seq 130); do printf '[bn%d]\ntype = batchnorm\n\n' "$i"; done
    printf '[out]\ntype = dense\nunits = 3\nactivation = softmax\n'
} >"$TMP/deep_bn.ini"
cat >"$TMP/cfg.ini" <<C
[model]
file = $TMP/deep_bn.ini
[data]
source = blobs
n = 64
[optim]
type = adam
lr = 0.01
[train]
epochs = 1
global_batch = 16
C
out=$(run 2 train "$TMP/cfg.ini" --out "$TMP/run" --quiet 2>&1) || fail "training failed: $out"
[ -f "$TMP/run/checkpoint.h5" ] || fail "no checkpoint: $out"
info=$("$DTRAIN" info "$TMP/run/checkpoint.h5" 2>&1) || fail "info failed: $info"
np=$(grep -Ec "^/params/[^ ]+ +float(32|64) " <<<"$info")
no=$(grep -Ec "^/optim/[^ ]+ +float(32|64) " <<<"$info")
# params: 130 x (gamma, beta, running_mean, running_var) + 2 x (W, b);
# optim: Adam's two states of each of 130 x 2 + 2 x 2 trained arrays
[ "$np" = 524 ] && [ "$no" = 528 ] || fail "expected 524 parameter and 528 optimizer arrays, got $np and $no: $info"
grep -Eq "^/params/bn130/running_var +float(32|64) +\[4\]" <<<"$info" || fail "no /params/bn130/running_var [4]: $info"
grep -Eq "^/optim/bn130/v_gamma +float(32|64) +\[4\]" <<<"$info" || fail "no /optim/bn130/v_gamma [4]: $info"
out=$(run 1 train "$TMP/cfg.ini" train.epochs=2 --resume "$TMP/run/checkpoint.h5" --out "$TMP/run2" --quiet 2>&1) ||
    fail "resume from it failed: $out"
ok "130 batch-norm layers: $np parameter and $no optimizer arrays written, and resumed from"
