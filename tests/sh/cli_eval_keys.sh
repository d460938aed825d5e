#!/usr/bin/env bash
# eval and gradcheck read a config with the readers training uses, so they
# accept every key training accepts ([data] augment, [dist] zero, [train]
# keep, ...), check their values alike, and still reject a misspelt key.
source "$(dirname "$0")/../lib.sh"
need_course_data
cat >"$TMP/tiny_cnn.ini" <<'M'
[input]
shape = 3,64,64

[conv1]
type = conv2d
filters = 2
kernel = 4
stride = 4
activation = tanh

[flat]
type = flatten

[out]
type = dense
units = 1
activation = sigmoid
M
cat >"$TMP/cfg.ini" <<C
[model]
file = $TMP/tiny_cnn.ini
[data]
source = hdf5
root = $DATA
train = course/train_catvnoncat.h5
train_x = train_set_x
train_y = train_set_y
test = course/test_catvnoncat.h5
test_x = test_set_x
test_y = test_set_y
limit_train = 32
limit_test = 16
augment = crop_flip
crop_pad = 1
[optim]
type = adam
lr = 0.001
lr_scale = linear
base_batch = 16
[train]
epochs = 1
global_batch = 16
keep = 2
checkpoint_steps = 1
nonfinite = skip
[dist]
zero = 1
timeout = 60
[debug]
nan_step = -1
C
out=$(run 2 train "$TMP/cfg.ini" --out "$TMP/run" --quiet 2>&1) || fail "training failed: $out"
ok "trained with augment, keep, zero and the other train-only keys"

out=$(runq 2 eval "$TMP/cfg.ini" --ckpt "$TMP/run/checkpoint.h5" 2>&1) || fail "eval failed: $out"
[ "$(field 'test ' 6 "$out")" = "$(field 'test ' 6 "$(runq 1 eval "$TMP/cfg.ini" --ckpt "$TMP/run/checkpoint.h5" 2>&1)")" ] ||
    fail "eval at 1 and 2 ranks differ: $out"
grep -Eq "^train .*\(([0-9]+)/32\)$" <<<"$out" || fail "eval: no train result over 32 rows: $out"
grep -Eq "^test .*\(([0-9]+)/16\)$" <<<"$out" || fail "eval: no test result over 16 rows: $out"
ok "eval of a config with train-only keys: $(tr '\n' ' ' <<<"$out")"

out=$("$DTRAIN" gradcheck "$TMP/cfg.ini" 2>&1) || fail "gradcheck failed: $out"
grep -q "^gradient check: relative difference .*: ok$" <<<"$out" || fail "gradcheck: $out"
ok "gradcheck of the same config: $(tail -1 <<<"$out")"

# a misspelt key, and a bad value of a train-only key, are errors for every command
for cmd in eval gradcheck train; do
    args=("$TMP/cfg.ini")
    [ "$cmd" = eval ] && args+=(--ckpt "$TMP/run/checkpoint.h5")
    [ "$cmd" = train ] && args+=(--out "$TMP/run2")
    err=$(runq 1 "$cmd" "${args[@]}" data.augmnet=flip 2>&1) && fail "$cmd accepted [data] augmnet"
    grep -q "^dtrain: error: $TMP/cfg.ini (command line): \[data\] unknown key 'augmnet'$" <<<"$err" ||
        fail "$cmd, misspelt key: $err"
    err=$(runq 1 "$cmd" "${args[@]}" train.keep=0 2>&1) && fail "$cmd accepted [train] keep = 0"
    grep -q "\[train\] keep = 0: expected an integer in \[1, " <<<"$err" || fail "$cmd, keep = 0: $err"
    err=$(runq 1 "$cmd" "${args[@]}" data.augment=rotate 2>&1) && fail "$cmd accepted [data] augment = rotate"
    grep -q "\[data\] augment = 'rotate': expected one of none, crop, flip, crop_flip" <<<"$err" ||
        fail "$cmd, augment = rotate: $err"
done
ok "misspelt keys and bad values are rejected by eval, gradcheck and train alike"
