#!/usr/bin/env bash
# Bad convolutional models: each a one-line error naming the model file,
# section and key, a non-zero exit, and every rank done within 10 s (30 s under a sanitizer).
source "$(dirname "$0")/../lib.sh"
need_course_data
expect() { # NAME PATTERN MODEL-TEXT [CONFIG]
    local name=$1 pattern=$2 cfg=${4:-configs/cat_cnn.ini} rc
    printf '%b' "$3" >"$TMP/m.ini"
    timeout -k 2 "$END_LIMIT" mpiexec --quiet --oversubscribe -np 2 "$DTRAIN" train "$cfg" "model.file=$TMP/m.ini" \
        --out "$TMP/o" >/dev/null 2>"$TMP/err"
    rc=$?
    [ "$rc" != 124 ] && [ "$rc" != 137 ] || fail "$name: the ranks did not end within $END_LIMIT s"
    [ "$rc" != 0 ] || fail "$name: exit status 0"
    [ "$(wc -l <"$TMP/err")" = 1 ] || fail "$name: expected one line on stderr, got: $(cat "$TMP/err")"
    grep -Eq -- "$pattern" "$TMP/err" || fail "$name: message does not match /$pattern/: $(cat "$TMP/err")"
    ok "$name: $(cat "$TMP/err")"
}
head='[input]\nshape = 3,64,64\n'
tail='[flat]\ntype = flatten\n[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n'
expect "kernel larger than the padded input" "m.ini:[0-9]+: \[big\] kernel" \
    "${head}[pool]\ntype = maxpool\nkernel = 16\n[big]\ntype = conv2d\nfilters = 4\nkernel = 7\n${tail}"
expect "residual add of mismatched shapes" "m.ini:[0-9]+: \[sum\] inputs = .*differ" \
    "${head}[a]\ntype = conv2d\nfilters = 4\nkernel = 3\n[b]\ntype = conv2d\ninputs = input\nfilters = 8\nkernel = 3\n[sum]\ntype = add\ninputs = a, b\n${tail}"
expect "inputs naming no layer" "m.ini:[0-9]+: \[sum\] inputs: 'nope' is not an earlier layer" \
    "${head}[a]\ntype = conv2d\nfilters = 4\nkernel = 3\n[sum]\ntype = add\ninputs = a, nope\n${tail}"
expect "inputs pointing forward" "m.ini:[0-9]+: \[sum\] inputs: 'later' is not an earlier layer" \
    "${head}[a]\ntype = conv2d\nfilters = 4\nkernel = 3\n[sum]\ntype = add\ninputs = a, later\n[later]\ntype = flatten\n${tail}"
expect "channels that do not match the data" "m.ini:2: \[input\] shape = 1,64,64 \(C,H,W\) does not match the data's images \(64 x 64, 3 channels\)" \
    "[input]\nshape = 1,64,64\n[c]\ntype = conv2d\nfilters = 2\nkernel = 3\n${tail}"
