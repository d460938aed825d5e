#!/usr/bin/env bash
# Verification on unseen identities ([data] train_classes, test_classes,
# [train] verify): a network trained on Fashion-MNIST classes 0-6 is
# evaluated by pairs of test pictures of classes 7-9 (train/verify.h):
#  - metrics.jsonl gets verify_auc, verify_accuracy, verify_threshold, the
#    eval line and the summary show them, and no accuracy is claimed for
#    identities the classifier has never seen;
#  - dtrain eval gives the same figures at 1 and 2 ranks (every rank's
#    features gathered on rank 0), and a trained network verifies better
#    than an untrained one;
#  - a triplet-loss embedding is verified the same way;
#  - bad keys are one-line errors.
source "$(dirname "$0")/../lib.sh"
need_fmnist
cat >"$TMP/soft.ini" <<INI
[input]
shape = 784
[emb]
type = dense
units = 32
activation = relu
[out]
type = dense
units = 7
activation = softmax
INI
cat >"$TMP/c.ini" <<INI
[model]
file = $TMP/soft.ini
seed = 0
[data]
source = idx
root = /usr/share/datasets/fashion-mnist
train_images = train-images-idx3-ubyte.gz
train_labels = train-labels-idx1-ubyte.gz
test_images = t10k-images-idx3-ubyte.gz
test_labels = t10k-labels-idx1-ubyte.gz
train_classes = 0-6
test_classes = 7-9
[optim]
type = adam
lr = 0.003
[train]
epochs = 1
max_steps = 60
global_batch = 128
batch_per_rank = 0
eval_every = 0
verify = emb
INI
out=$(run 2 train "$TMP/c.ini" --out "$TMP/r2" 2>&1) || fail "training: $out"
line=$(grep '"split": "test"' "$TMP/r2/metrics.jsonl" | tail -1)
auc=$(sed -E 's/.*"verify_auc": ([^,]+),.*/\1/' <<<"$line")
grep -q '"verify_accuracy": .*"verify_threshold": ' <<<"$line" || fail "metrics.jsonl: $line"
grep -q '"accuracy"' <<<"$line" && fail "an accuracy was claimed for unseen identities: $line"
grep -q "^test .*verification AUC $(printf '%.4f' "$auc"), accuracy" <<<"$out" || fail "no verification on the test line: $out"
grep -q "^summary: final test verification AUC $(printf '%.4f' "$auc")" <<<"$out" || fail "summary: $out"
grep -q "^train .*accuracy 0\\.[0-9]* (.*/42000)" <<<"$out" || fail "the training split is not the 42000 pictures of 7 classes: $out"
grep -q "^test .*(3000 rows)" <<<"$out" || fail "the test split is not the 3000 pictures of classes 7-9: $out"
ok "2 ranks, 60 steps: $(grep '^test ' <<<"$out")"

e1=$(run 1 eval "$TMP/c.ini" --ckpt "$TMP/r2/checkpoint.h5" 2>&1) || fail "eval, 1 rank: $e1"
e2=$(run 2 eval "$TMP/c.ini" --ckpt "$TMP/r2/checkpoint.h5" 2>&1) || fail "eval, 2 ranks: $e2"
v1=$(grep -o "verification AUC .*" <<<"$e1") v2=$(grep -o "verification AUC .*" <<<"$e2")
[ -n "$v1" ] && [ "$v1" = "$v2" ] || fail "eval at 1 and 2 ranks: '$v1' vs '$v2'"
run 1 train "$TMP/c.ini" optim.lr=0 train.max_steps=1 --out "$TMP/r0" --quiet >/dev/null 2>&1 || fail "untrained run"
a0=$(grep '"split": "test"' "$TMP/r0/metrics.jsonl" | tail -1 | sed -E 's/.*"verify_auc": ([^,]+),.*/\1/')
awk -v a="$a0" -v b="$auc" 'BEGIN { exit !(b > a && b > 0.8) }' || fail "training did not improve verification: AUC $a0 -> $auc"
ok "eval: the same at 1 and 2 ranks ($v1); AUC $a0 untrained -> $auc"

cat >"$TMP/trip.ini" <<INI
[input]
shape = 784
[emb]
type = dense
units = 16
[unit]
type = l2norm
[trip]
type = triplet
mining = semi_hard
INI
out=$(run 2 train "$TMP/c.ini" model.file="$TMP/trip.ini" train.max_steps=20 --out "$TMP/t2" 2>&1) || fail "triplet: $out"
grep -q "^test .*\\[trip [0-9.]*\\], verification AUC 0\\.[0-9]*" <<<"$out" || fail "triplet: $out"
ok "triplet embedding: $(grep '^test ' <<<"$out")"

bad() { # WHAT PATTERN OVERRIDE...
    local what=$1 pat=$2
    shift 2
    out=$(runq 1 train "$TMP/c.ini" "$@" --out "$TMP/bad" 2>&1) && fail "$what accepted"
    one_line "$out" "$pat"
}
bad "verify = a missing layer" "\\[train\\] verify = nope: the model .*soft.ini has no layer of that name" train.verify=nope
bad "a class beyond the data" "\\[data\\] train_classes = '0-12': expected labels and ranges of the 10 classes" data.train_classes=0-12
bad "a class twice" "\\[data\\] test_classes = '7,7,9'" data.test_classes=7,7,9
bad "classes with contiguous sharding" "\\[data\\] train_classes needs class labels and sharding = global" data.sharding=contiguous
ok "bad keys"
