#!/usr/bin/env bash
# gradcheck on a model with batch norm: its running statistics are buffers
# without gradients, left out of the check (they once were read past the
# gradient buffer), while gamma and beta are checked like any parameter.
source "$(dirname "$0")/../lib.sh"
cat >"$TMP/bn.ini" <<'M'
[input]
shape = 2

[fc1]
type = dense
units = 6
activation = linear
bias = 0  ; batch norm cancels a bias: its gradient is 0, its relative difference noise

[bn1]
type = batchnorm

[act1]
type = activation
activation = tanh

[out]
type = dense
units = 3
activation = softmax
M
cat >"$TMP/bn_cfg.ini" <<C
[model]
file = $TMP/bn.ini
[data]
source = blobs
n = 64
[optim]
lr = 0.1
[train]
epochs = 1
C
out=$("$DTRAIN" gradcheck "$TMP/bn_cfg.ini" 2>&1) || fail "gradcheck failed: $out"
grep -q "^gradient check: relative difference .*: ok$" <<<"$out" || fail "gradcheck: $out"
for t in "fc1 +W" "bn1 +gamma" "bn1 +beta" "out +W" "out +b"; do
    rel=$(awk -v t="^$t +relative" '$0 ~ t { print $NF }' <<<"$out")
    [ -n "$rel" ] || fail "gradcheck did not report $t: $out"
    awk -v r="$rel" 'BEGIN { exit !(r < 1e-2) }' || fail "$t: relative difference $rel: $out"
done
! grep -q "running_" <<<"$out" || fail "gradcheck checked a running statistic: $out"
rel=$(awk '/^gradient check:/ { print $5 }' <<<"$out")
awk -v r="$rel" 'BEGIN { exit !(r > 0 && r < 1e-2) }' || fail "relative difference $rel not in (0, 1e-2): $out"
ok "$(tail -1 <<<"$out")"
