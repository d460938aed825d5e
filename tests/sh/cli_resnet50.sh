#!/usr/bin/env bash
# dtrain info on the course's ResNet-50 (models/resnet50.ini): shapes, the
# parameter count and the forward FLOPs, each derived independently below.
#
# Parameters (Keras's summary of the course's model: 23,600,006 in all, of
# which 53,120 are batch-norm moving statistics). dtrain info counts trained
# parameters only, so its total is 23,600,006 - 53,120 = 23,546,886. By hand:
#   conv1: 64*3*7*7 + 64 = 9,472; bottleneck convs F*C*k*k + F each;
#   batch norm: gamma + beta = 2C trained (running mean and var: 2C buffers);
#   fc6: 6*2048 + 6 = 12,294.
# FLOPs: 2 per multiply-add of the layers with weights (biases and batch norm
# not counted): 2 * |W| * OH * OW per conv, 2 * |W| for the dense layer. The
# resolutions are 32 (conv1), 15 (stage 2), 8, 4, 2 (stages 3-5), and the
# awk below sums both counts from the filter table, apart from dtrain.
source "$(dirname "$0")/../lib.sh"
out=$("$DTRAIN" info models/resnet50.ini) || fail "info failed: $out"
expect=$(awk 'BEGIN {
    h = 32; p = 64 * 3 * 49 + 64 + 2 * 64; b = 64; f = 2 * 64 * 3 * 49 * h * h
    h = 15; c = 64
    split("64 128 256 512", f1); split("3 4 6 3", nb); split("1 2 2 2", st)
    for (s = 1; s <= 4; s++) {
        F = f1[s]; F3 = 4 * F
        if (st[s] == 2) h = int((h - 1) / 2) + 1
        for (k = 1; k <= nb[s]; k++) {
            w = F * c + F * F * 9 + F3 * F     # 1x1, 3x3, 1x1 weights
            if (k == 1) w += F3 * c            # projection shortcut
            p += w + (k == 1 ? 2 * F3 : F3) + 2 * F   # conv biases
            p += 2 * (2 * F + (k == 1 ? 2 : 1) * F3)  # batch-norm gamma, beta
            b += 2 * F + (k == 1 ? 2 : 1) * F3        # channels of its buffers (x2 below)
            f += 2 * w * h * h
            c = F3
        }
    }
    p += 2048 * 6 + 6; f += 2 * 2048 * 6
    printf "%d %d %d\n", p, 2 * b, f }')
read -r params buffers flops <<<"$expect"
[ "$params $buffers $flops" = "23546886 53120 616357888" ] || fail "the awk count is off: $expect"
[ $((params + buffers)) -eq 23600006 ] || fail "trained + buffers is not the course's 23,600,006"
grep -Eq "^total +$params +$flops$" <<<"$out" || fail "total row, expected $params parameters and $flops FLOPs: $out"
grep -Eq "^model models/resnet50.ini, input 3x64x64, " <<<"$out" || fail "header: $out"
grep -Eq "^conv1 +conv2d +64x32x32 +9472 +19267584$" <<<"$out" || fail "conv1 row: $out"
grep -Eq "^max_pool +maxpool +64x15x15 " <<<"$out" || fail "max_pool row: $out"
grep -Eq "^res2a_branch1 +conv2d +256x15x15 +16640 +7372800$" <<<"$out" || fail "res2a_branch1 row: $out"
grep -Eq "^res3a_branch2a +conv2d +128x8x8 " <<<"$out" || fail "res3a_branch2a row: $out"
grep -Eq "^res4f +add +1024x4x4 " <<<"$out" || fail "res4f row: $out"
grep -Eq "^res5c_branch2c +conv2d +2048x2x2 +1050624 +8388608$" <<<"$out" || fail "res5c_branch2c row: $out"
grep -Eq "^avg_pool +avgpool +2048 " <<<"$out" || fail "avg_pool row: $out"
grep -Eq "^fc6 +dense +6 +12294 +24576$" <<<"$out" || fail "fc6 row: $out"
n=$(grep -Ec "^res[2-5][a-f] +add " <<<"$out")
[ "$n" -eq 16 ] || fail "expected 16 residual blocks, found $n"
ok "resnet50: $params trained parameters + $buffers batch-norm buffers = 23600006, $flops FLOPs per example"
