#!/usr/bin/env bash
# Detector training on generated scenes, small:
#  - 1 and 2 ranks train bitwise the same detector in deterministic mode
#    (the yolo loss assigns boxes from each picture alone), with crops and
#    flips that move the boxes (drawn per picture, whichever rank holds it);
#  - evaluation reports mAP@0.5 (metrics.jsonl "map50", the eval lines) and
#    dtrain eval gives the same mAP at 1 and 2 ranks (detections gathered on
#    rank 0, not averaged per rank), with a per-class table;
#  - training lowers the test loss;
#  - dtrain detect runs the trained grey detector on scene pictures (its
#    anchors from the yolo loss, names and thresholds from [yolo]) and draws them.
source "$(dirname "$0")/../lib.sh"
need_fmnist
sc=$TMP/scenes.h5
"$DTRAIN" make-scenes --out "$sc" --train 96 --test 40 --size 64 --min 10 --max 32 --items 3 >/dev/null || fail "make-scenes"
cat >"$TMP/m.ini" <<INI
[input]
shape = 1,64,64
[c1]
type = conv2d
filters = 8
kernel = 3
padding = same
activation = leaky_relu
alpha = 0.1
[p1]
type = maxpool
kernel = 2
[c2]
type = conv2d
filters = 16
kernel = 3
padding = same
activation = leaky_relu
alpha = 0.1
[p2]
type = maxpool
kernel = 2
[c3]
type = conv2d
filters = 16
kernel = 3
padding = same
activation = leaky_relu
alpha = 0.1
[p3]
type = maxpool
kernel = 2
[head]
type = conv2d
filters = 45
kernel = 1
init = xavier
[det]
type = yolo
anchors = 1,1, 2,2, 3,3
classes = 10
image = 64
boxes = 3
[preprocess]
divide = 255
[yolo]
classes = T-shirt/top,Trouser,Pullover,Dress,Coat,Sandal,Shirt,Sneaker,Bag,Ankle boot
score = 0.05
INI
{ printf '[model]\nfile = %s\n' "$TMP/m.ini"; scenes_data "$sc"; } >"$TMP/c.ini"
cat >>"$TMP/c.ini" <<INI
augment = crop_flip
crop_pad = 6
[optim]
type = adam
lr = 0.003
[train]
epochs = 8
batch_per_rank = 0
global_batch = 16
eval_every = 4
[dist]
deterministic = 1
micro_batch = 8
INI
out1=$(run 1 train "$TMP/c.ini" --out "$TMP/r1" --quiet 2>&1) || fail "1 rank: $out1"
out2=$(run 2 train "$TMP/c.ini" --out "$TMP/r2" --quiet 2>&1) || fail "2 ranks: $out2"
"$DTRAIN_CKPT_DIFF" "$TMP/r1/checkpoint.h5" "$TMP/r2/checkpoint.h5" 0 >/dev/null || fail "1 and 2 ranks trained different detectors"
ok "1 and 2 ranks: bitwise the same detector"

grep -q '"split": "test".*"map50": ' "$TMP/r2/metrics.jsonl" || fail "no map50 in metrics.jsonl: $(tail -2 "$TMP/r2/metrics.jsonl")"
ok "metrics.jsonl has map50"

# the untrained detector (a 1-epoch run at lr 0): its chance boxes give a small, nonzero mAP
run 1 train "$TMP/c.ini" optim.lr=0 train.epochs=1 --out "$TMP/r0" --quiet >/dev/null 2>&1 || fail "untrained run"
e1=$(run 1 eval "$TMP/c.ini" --ckpt "$TMP/r0/checkpoint.h5" 2>&1) || fail "eval 1 rank: $e1"
e2=$(run 2 eval "$TMP/c.ini" --ckpt "$TMP/r0/checkpoint.h5" 2>&1) || fail "eval 2 ranks: $e2"
m1=$(grep "^test " <<<"$e1" | grep -o "mAP@0.5 [0-9.]*") m2=$(grep "^test " <<<"$e2" | grep -o "mAP@0.5 [0-9.]*")
[ -n "$m1" ] && [ "$m1" = "$m2" ] || fail "eval mAP differs between 1 and 2 ranks: '$m1' vs '$m2'"
awk -v a="${m1#mAP@0.5 }" 'BEGIN { exit !(a > 0) }' || fail "the untrained detector's mAP is 0: the comparison would prove nothing"
grep -q "^test: average precision at IoU 0.5 per class" <<<"$e2" || fail "no per-class table: $e2"
[ "$(grep -cE '^ +[0-9]+ ' <<<"$e2")" -ge 20 ] || fail "the per-class tables are short: $e2"
ok "eval: $m1 at 1 and 2 ranks, per-class table"

# training lowers the test loss (mAP needs far longer than a test may take: configs/scenes_yolo.ini)
l0=$(grep "^test " <<<"$e1" | awk '{print $3}')
l1=$(grep '"split": "test"' "$TMP/r2/metrics.jsonl" | tail -1 | sed -E 's/.*"loss": ([^,]+),.*/\1/')
awk -v a="$l0" -v b="$l1" 'BEGIN { exit !(b < a) }' || fail "training did not lower the test loss: $l0 -> $l1"
ok "test loss $l0 untrained -> $l1 after 8 epochs"

"$DTRAIN" make-scenes --out "$TMP/p.h5" --train 1 --test 2 --size 64 --min 10 --max 32 --items 3 --png "$TMP/png" >/dev/null ||
    fail "make-scenes --png"
out=$("$DTRAIN" detect --ckpt "$TMP/r2/checkpoint.h5" "$TMP/png/test_0000.png" "$TMP/png/test_0001.png" --out "$TMP/det" --score 0.001 2>&1) ||
    fail "detect: $out"
grep -q "^$TMP/png/test_0000.png: [0-9]* box.* (64x64)$" <<<"$out" || fail "detect: $out"
n=$(grep -cE "^  (T-shirt/top|Trouser|Pullover|Dress|Coat|Sandal|Shirt|Sneaker|Bag|Ankle boot) +0\.[0-9]+ " <<<"$out")
[ "$n" -gt 0 ] || fail "detect found nothing at score 0.001: $out"
[ -s "$TMP/det/test_0000.png" ] && [ -s "$TMP/det/test_0001.png" ] || fail "no pictures drawn in $TMP/det"
ok "detect on grey scenes: $n boxes drawn"
