#!/usr/bin/env bash
# [model] init and init_scale in a config reach every layer that takes
# `init` (dense and conv2d), not dense layers alone, and leave the others
# (batch norm) be: a run with them equals one whose model file sets them on
# each such layer. lr = 0, so the checkpoint holds the initial values.
source "$(dirname "$0")/../lib.sh"
need_course_data
# model LAYER-KEYS: a small CNN with batch norm, LAYER-KEYS added to conv1 and out
model() {
    cat <<M
[input]
shape = 3,64,64

[conv1]
type = conv2d
filters = 2
kernel = 4
stride = 4
activation = relu
$1

[bn1]
type = batchnorm

[flat]
type = flatten

[out]
type = dense
units = 1
activation = sigmoid
$1
M
}
# train NAME MODEL-KEYS CONFIG-KEYS: one step at lr 0, checkpoint in $TMP/NAME
train() {
    model "$2" >"$TMP/$1.model.ini"
    cat >"$TMP/$1.ini" <<C
[model]
file = $TMP/$1.model.ini
$3
[data]
source = hdf5
root = $DATA
train = course/train_catvnoncat.h5
train_x = train_set_x
train_y = train_set_y
limit_train = 16
[optim]
lr = 0
[train]
epochs = 1
max_steps = 1
C
    local out
    out=$(run 1 train "$TMP/$1.ini" --out "$TMP/$1" --quiet 2>&1) || fail "$1: training failed: $out"
}
train he "" ""
for init in "init = zeros" $'init = normal\ninit_scale = 0.5'; do
    train model "$init" ""
    train config "" "$init"
    d=$("$DTRAIN_CKPT_DIFF" "$TMP/model/checkpoint.h5" "$TMP/config/checkpoint.h5") ||
        fail "[model] ${init//$'\n'/, } in the config differs from it on each layer: $d"
    d=$("$DTRAIN_CKPT_DIFF" "$TMP/he/checkpoint.h5" "$TMP/config/checkpoint.h5") &&
        fail "[model] ${init//$'\n'/, } gave He's initial values: $d"
    ok "[model] ${init//$'\n'/, } in the config = on conv1 and out in the model (and differs from He: $d)"
done
