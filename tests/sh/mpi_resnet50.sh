#!/usr/bin/env bash
# The course's ResNet-50 (models/resnet50.ini, 23.5 M trained parameters)
# takes 3 steps at 2 ranks on generated 64x64x3 images of 6 classes
# ([data] source = random_images), global batch 4, plain gradient descent
# (no optimizer state, so the checkpoint stays at the parameters' 95 MB):
# the run ends OK with finite losses and the same parameters on both ranks,
# and its checkpoint holds every layer's arrays with their shapes (the last
# stage's convs included) and 23,600,006 values in all, the course's count.
source "$(dirname "$0")/../lib.sh"
cat >"$TMP/r50.ini" <<CFG
[model]
file = $PWD/models/resnet50.ini
[data]
source = random_images
shape = 64,64,3
classes = 6
n = 12
test_n = 4
seed = 7
[optim]
type = gd
lr = 0.01
[train]
epochs = 1
global_batch = 4
max_steps = 3
log_every = 1
CFG
out=$(run 2 train "$TMP/r50.ini" --out "$TMP/run" 2>&1) || fail "2-rank run failed: $out"
grep -q "^done: 3 steps" <<<"$out" || fail "no 'done: 3 steps' line: $out"
grep -q "23546886 parameters" <<<"$out" || fail "parameter count not announced: $out"
grep -q "parameters identical on all 2 ranks" <<<"$out" || fail "replicas differ: $out"
m="$TMP/run/metrics.jsonl"
nb=$(grep -c '"split": "batch"' "$m")
[ "$nb" -eq 3 ] || fail "expected 3 batch losses in metrics.jsonl, found $nb: $(cat "$m")"
# every loss (batches, train and test splits) a finite number
awk -F'"loss": ' 'NF > 1 { split($2, a, ","); v = a[1]; if (v !~ /^-?[0-9.]+(e[-+]?[0-9]+)?$/) bad++ }
                  END { exit bad > 0 }' "$m" || fail "a loss is not finite: $(cat "$m")"
ck="$TMP/run/checkpoint.h5"
[ -s "$ck" ] || fail "no checkpoint"
info=$("$DTRAIN" info "$ck") || fail "info on the checkpoint failed: $info"
grep -q "^checkpoint at step 3, epoch 0$" <<<"$info" || fail "checkpoint step: $info"
shape() { grep -Eq "^/params/$1 +$2 \[$3\]$" <<<"$info" || fail "/params/$1: expected [$3]: $(grep "/params/$1 " <<<"$info")"; }
real=$([ "${DTRAIN_REAL:-float}" = double ] && echo float64 || echo float32)
shape conv1/W "$real" "64, 3, 7, 7"
shape res5a_branch1/W "$real" "2048, 1024, 1, 1"
shape res5c_branch2a/W "$real" "512, 2048, 1, 1"
shape res5c_branch2b/W "$real" "512, 512, 3, 3"
shape res5c_branch2c/W "$real" "2048, 512, 1, 1"
shape res5c_branch2c/b "$real" "2048"
shape bn5c_branch2c/running_var "$real" "2048"
shape fc6/W "$real" "6, 2048"
# all arrays under /params: trained parameters and batch-norm buffers
sums=$(awk '$1 ~ /^\/params\// && $3 ~ /^\[/ { s = $0; sub(/^[^[]*\[/, "", s); sub(/\].*/, "", s)
            n = split(s, d, ", "); v = 1; for (i = 1; i <= n; i++) v *= d[i]
            all += v; if ($1 ~ /running_(mean|var)$/) buf += v; k++ }
            END { print all, buf, k }' <<<"$info")
[ "$sums" = "23600006 53120 320" ] || fail "checkpoint: expected 23600006 values, 53120 in buffers, 320 arrays; got $sums"
ok "resnet50, 3 steps at 2 ranks on random images: checkpoint of 320 arrays, 23600006 values (53120 batch-norm buffers)"
