#!/usr/bin/env bash
# bench.sh — training throughput of dtrain at 1 and 2 ranks, against PyTorch on
# the same model and data, and as a fraction of one core's sgemm peak, for
#   MODEL=mlp  the Fashion-MNIST MLP (configs/fmnist_mlp.ini)
#   MODEL=cnn  the Fashion-MNIST CNN (configs/fmnist_cnn.ini), with dtrain's
#              peak resident memory per rank
#   MODEL=det  the scenes detector (configs/scenes_yolo.ini: YOLOv2 loss, batch 16
#              per rank) on its first 2000 scenes, without augmentation (PyTorch
#              reads the same scenes from make-scenes' file), with peak memory
#   MODEL=resnet  the small ResNet (configs/fmnist_resnet.ini, models/resnet_small.ini)
#              at batch 32 per rank, without augmentation, with peak memory
#   MODEL=resnet50  the course's ResNet-50 (models/resnet50.ini) at batch 16 per
#              rank on random 64x64x3 images of 6 classes ([data] source =
#              random_images; PyTorch draws its own), with peak memory
#   MODEL=all  mlp and cnn, one after the other
# Prints figures; it is not a pass/fail test.
#
# Environment:
#   MODEL=mlp       mlp | cnn | det | resnet | resnet50 | all
#   BUILD=build     build directory (configured as Release if new; dtrain is rebuilt if stale)
#   STEPS           training steps per measurement (default 3000 for mlp, 300 for cnn, 100 for det
#                   and resnet, 20 for resnet50)
#   REPS=3          measurements per figure; the median is reported
#   PYTHON=/usr/bin/python3   interpreter for launch/bench_torch.py (needs torch)
#   ACCURACY=1      also train the full config (2 ranks, as configured) and print test accuracy
#   TORCH_NHWC=1    cnn: also time PyTorch with channels-last conv weights, oneDNN's
#                   faster layout on CPU (0: only the NCHW model, the reference)
set -euo pipefail

cd "$(dirname "$0")/.."
MODEL=${MODEL:-mlp}
BUILD=${BUILD:-build}
REPS=${REPS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
ACCURACY=${ACCURACY:-0}
TORCH_NHWC=${TORCH_NHWC:-1}
BATCH=64 # [train] batch_per_rank of the mlp and cnn configs (det: 16); PyTorch gets the same

die() { echo "bench.sh: error: $*" >&2; exit 1; }
case $MODEL in
mlp | cnn | det | resnet | resnet50) models=("$MODEL") ;;
all) models=(mlp cnn) ;;
*) die "MODEL must be mlp, cnn, det, resnet, resnet50 or all (got '$MODEL')" ;;
esac
[[ ${STEPS-1} =~ ^[1-9][0-9]*$ ]] || die "STEPS must be a positive integer (got '$STEPS')"
[[ $REPS =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive integer (got '$REPS')"

# One BLAS thread per rank: the comparison is per core, and 2 ranks use both cores.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Configure a Release build if there is none; always bring dtrain up to date
# (a no-op when it is), so the figures are those of the current sources.
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    echo "configuring a Release build in $BUILD ..."
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$tmp/cmake.log" 2>&1 ||
        { cat "$tmp/cmake.log" >&2; die "cmake configure failed"; }
fi
cmake --build "$BUILD" -j"$(nproc)" --target dtrain >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; die "building dtrain failed"; }
if [[ ! -x $BUILD/sgemm_peak || tests/tools/sgemm_peak.c -nt $BUILD/sgemm_peak ]]; then
    # shellcheck disable=SC2046 # pkg-config prints several words on purpose
    cc -O2 -march=native tests/tools/sgemm_peak.c $(pkg-config --cflags --libs openblas) \
        -o "$BUILD/sgemm_peak" || die "cannot compile tests/tools/sgemm_peak.c"
fi

# Pin ranks to cores like a production launch; some containers refuse binding.
mpi=(mpirun -np 2 --bind-to core)
if ! "${mpi[@]}" true </dev/null >/dev/null 2>&1; then
    mpi=(mpirun -np 2)
    "${mpi[@]}" true </dev/null >/dev/null 2>&1 || die "mpirun -np 2 does not start"
    echo "note: mpirun --bind-to core failed here; running 2 ranks unbound"
fi

source launch/bench_lib.sh
warn_if_busy

# examples/s from dtrain's final line: "done: N steps in T s (S s in training steps, X examples/s); ..."
# $config and $steps are those of the model being measured (locals of bench below).
# The log stays in $tmp/dtrain.log for the caller.
dtrain_rate() {
    local log=$tmp/dtrain.log rate
    if ! "$@" train "$config" "${extra[@]}" "train.max_steps=$steps" train.log_every=0 train.eval_every=0 \
        --out "$tmp/run" --quiet </dev/null >"$log" 2>&1; then
        cat "$log" >&2
        die "dtrain run failed: $*"
    fi
    rate=$(sed -n 's/^done: .* \([0-9.]*\) examples\/s).*/\1/p' "$log")
    [[ -n $rate ]] || { cat "$log" >&2; die "no 'done:' line from dtrain"; }
    echo "$rate"
}

# Peak resident memory of each dtrain process (cnn only, so that the mlp
# output stays as it was): GNU time runs as the rank and reports its child.
if [[ -x /usr/bin/time ]]; then
    rss_wrap=(/usr/bin/time -f 'bench-rss-kib %M')
else
    rss_wrap=()
    [[ $MODEL == mlp ]] || echo "note: /usr/bin/time is missing (apt-get install time): no peak memory figures"
fi
# Largest peak over the ranks and reps logged in file $1, in MiB ("" if none).
# (grep -o: at 2 ranks GNU time's line may land in the middle of another
# rank's output line, which left the 2-rank figure blank at times)
max_rss_mib() { grep -o 'bench-rss-kib [0-9]*' "$1" | awk '$2 > m { m = $2 } END { if (m) printf "%.0f", m / 1024 }'; }

# PyTorch's img/s (median, summed over ranks) for model $1, ranks $2, channels-last $3.
# Its output also goes to stderr and stays in $tmp/torch-$1-$2-$3.txt. $steps as above.
torch_run() {
    local out=$tmp/torch-$1-$2-$3.txt nhwc=()
    [[ $3 == 1 ]] && nhwc=(--channels-last 1)
    [[ $1 == det ]] && nhwc+=(--scenes "$tmp/scenes.h5")
    [[ $1 == resnet50 ]] && nhwc+=(--warmup 3) # a step takes seconds
    "$PYTHON" launch/bench_torch.py --model "$1" --ranks "$2" --steps "$steps" --reps "$REPS" --batch "$BATCH" \
        "${nhwc[@]}" </dev/null | tee "$out" >&2 || die "launch/bench_torch.py --model $1 --ranks $2 failed"
    sed -n 's/^result: \([0-9.]*\) img\/s/\1/p' "$out"
}
have_torch=0
if "$PYTHON" -c 'import torch' </dev/null >/dev/null 2>&1; then have_torch=1; fi

echo "== sgemm, one thread"
sg_models=() # sgemm_peak knows the mlp's and the cnn's products; its square-product peak serves all
for m in "${models[@]}"; do [[ $m == det || $m == resnet* ]] || sg_models+=("$m"); done
"$BUILD/sgemm_peak" "$BATCH" "${sg_models[@]}" | tee "$tmp/sgemm.txt"
peak=$(sed -n 's/^sgemm peak: \([0-9.]*\) GFLOP\/s/\1/p' "$tmp/sgemm.txt")

row() { # label dtrain_rate torch_label torch_rate target|note
    if [[ -n $4 ]]; then
        awk -v a="$1" -v d="$2" -v b="$3" -v t="$4" -v g="$5" \
            'BEGIN { printf "dtrain %-7s: %6.0f img/s   %-15s: %6.0f img/s   ratio %.2f (%s)\n", a, d, b, t, d / t,
                     (g ~ /^[0-9.]+$/ ? "target >= " g : g) }'
    else
        awk -v a="$1" -v d="$2" 'BEGIN { printf "dtrain %-7s: %6.0f img/s   (no PyTorch figure)\n", a, d }'
    fi
}

# "WHO achieved P % of sgemm peak ..." for a summed rate over N ranks, by the
# gemm FLOP count; with a convention label also by the convention's count.
fraction() { # who rate ranks target_pct|"" convention|""
    awk -v who="$1" -v r="$2" -v n="$3" -v tg="$4" -v conv="$5" -v fm="$flop_model" -v fg="$flop_gemm" -v p="$peak" 'BEGIN {
        r /= n; gm = r * fm * 1e-9; gg = r * fg * 1e-9
        printf "%s achieved %.0f %% of sgemm peak (%.1f GFLOP/s of %.1f) per rank at %d rank%s%s\n", who, 100 * gg / p, gg, p, n,
            (n > 1 ? "s" : ""), (tg != "" ? " (target >= " tg " %)" : "")
        if (conv != "") printf "    (by the %s convention: %.1f GFLOP/s, %.0f %%)\n", conv, gm, 100 * gm / p }'
}

# The whole comparison for one model.
bench() {
    local model=$1 config steps tag="" target1 target2 target_pct="" acc_target convention
    local flop_model flop_gemm
    extra=()
    case $model in
    mlp)
        config=configs/fmnist_mlp.ini steps=${STEPS:-3000} target1=1.5 target2=2.0 acc_target=0.885
        # FLOPs per training example, two ways:
        # - convention (3 x forward: the forward gemm, then the dW and dX gemms of backward):
        #     3 x 2 x (784*256 + 256*128 + 128*10)
        # - gemm work dtrain actually issues: the same less the first layer's dX, which
        #   nobody computes (the input needs no gradient): 2 x (3 x weights - 784*256).
        # The headline uses the second, so it cannot exceed 100 % of the sgemm peak.
        local w=$((784 * 256 + 256 * 128 + 128 * 10))
        flop_model=$((3 * 2 * w))
        flop_gemm=$((2 * (3 * w - 784 * 256)))
        convention="3 x 2 x weights"
        ;;
    cnn)
        config=configs/fmnist_cnn.ini steps=${STEPS:-300} target1=1.3 target2=1.5 target_pct=55 acc_target=0.915
        # FLOPs per training example. Forward, per layer (input 1x28x28, NCHW):
        #   conv 3x3, same: 2 * OH*OW*OC * (IC*3*3)   (the im2col gemm)
        #     conv1  1 -> 32 at 28x28: 2 * 28*28*32 * 9   =   451584
        #     conv2 32 -> 64 at 14x14: 2 * 14*14*64 * 288 =  7225344
        #   dense: 2 * in * out
        #     fc   3136 -> 128:        2 * 3136*128       =   802816
        #     out   128 -> 10:         2 * 128*10         =     2560
        #   (pooling, ReLU, bias and the loss are not counted: no multiply-adds)
        # Backward is 2 x forward (the weight and the input gradient), except
        # that conv1's input gradient is not computed (the images need none).
        # Headline: forward + backward as issued = 3 x forward - conv1;
        # convention: 3 x forward.
        local conv1=$((2 * 28 * 28 * 32 * 1 * 3 * 3)) conv2=$((2 * 14 * 14 * 64 * 32 * 3 * 3))
        local fc=$((2 * 64 * 7 * 7 * 128)) out=$((2 * 128 * 10))
        local fwd=$((conv1 + conv2 + fc + out))
        flop_model=$((3 * fwd))
        flop_gemm=$((3 * fwd - conv1))
        convention="3 x forward"
        ;;
    det)
        config=configs/scenes_yolo.ini steps=${STEPS:-100} target1=1.3 target2=1.5 acc_target=""
        BATCH=16
        "$BUILD/dtrain" make-scenes --out "$tmp/scenes.h5" --train 2000 --test 50 >/dev/null || die "make-scenes failed"
        extra=(data.n=2000 data.test_n=50 data.augment=none) # the file's scenes, bitwise
        # Forward multiply-adds per 1x128x128 scene (NCHW, 3x3 same convs):
        #   c1   1 -> 16  at 128x128: 128*128*16*9     =  2359296
        #   c2  16 -> 32  at 64x64:   64*64*32*16*9    = 18874368
        #   c3  32 -> 64  at 32x32:   32*32*64*32*9    = 18874368
        #   c4  64 -> 128 at 16x16:   16*16*128*64*9   = 18874368
        #   c5 128 -> 128 at 16x16:   16*16*128*128*9  = 37748736
        #   head 1x1 128 -> 75 at 16x16: 16*16*75*128  =  2457600
        # (batch norm, leaky ReLU, pools and the loss: no multiply-adds). As
        # for the cnn: backward is twice forward less c1's input gradient.
        local c1=$((2 * 128 * 128 * 16 * 9))
        local fwd=$((c1 + 2 * 3 * 18874368 + 2 * 37748736 + 2 * 2457600))
        flop_model=$((3 * fwd))
        flop_gemm=$((3 * fwd - c1))
        convention="3 x forward"
        ;;
    resnet)
        config=configs/fmnist_resnet.ini steps=${STEPS:-100} target1=2.0 target2=2.0 target_pct=50 acc_target=""
        BATCH=32
        extra=(train.batch_per_rank=32 data.augment=none) # PyTorch does not augment either
        # Forward multiply-adds per image, as `dtrain info` counts them (convs
        # and the dense layer; batch norm, relu, the adds and pooling have
        # none). Backward is twice forward less the stem's input gradient.
        local fwd stem=$((2 * 28 * 28 * 16 * 9))
        fwd=$("$BUILD/dtrain" info models/resnet_small.ini | awk '$1 == "total" { print $NF }')
        [[ $fwd =~ ^[0-9]+$ ]] || die "no FLOP count from dtrain info"
        flop_model=$((3 * fwd))
        flop_gemm=$((3 * fwd - stem))
        convention="3 x forward"
        ;;
    resnet50)
        config=$tmp/resnet50.ini steps=${STEPS:-20} target1=1.5 target2=1.5 target_pct="" acc_target=""
        BATCH=16
        cat >"$config" <<CFG || die "cannot write $config"
[model]
file = $PWD/models/resnet50.ini
[data]
source = random_images
shape = 64,64,3
classes = 6
n = 1024
test_n = 16
seed = 7
[optim]
type = adam
lr = 0.001
[train]
epochs = 1000
batch_per_rank = 16
shuffle = seeded
CFG
        # as for resnet: dtrain info's forward count, backward twice that
        # less the stem's input gradient (7x7/2, 3 -> 64 channels, 32x32 out)
        local fwd stem=$((2 * 32 * 32 * 64 * 3 * 49))
        fwd=$("$BUILD/dtrain" info models/resnet50.ini | awk '$1 == "total" { print $NF }')
        [[ $fwd =~ ^[0-9]+$ ]] || die "no FLOP count from dtrain info"
        flop_model=$((3 * fwd))
        flop_gemm=$((3 * fwd - stem))
        convention="3 x forward"
        ;;
    esac
    # mlp alone keeps its original headings
    [[ $MODEL == mlp ]] || tag=" $(basename "$config" .ini)"
    local wrap=()
    [[ $model != mlp ]] && wrap=("${rss_wrap[@]}")

    echo "==$tag dtrain, $steps steps, batch $BATCH per rank, $REPS reps"
    local d1=() d2=() r rate1 rate2 d1m d2m
    : >"$tmp/rss1.log"
    : >"$tmp/rss2.log"
    contention_start
    for ((r = 1; r <= REPS; r++)); do
        # plain assignments, so that set -e sees a failed run
        rate1=$(dtrain_rate "${wrap[@]}" "$BUILD/dtrain")
        cat "$tmp/dtrain.log" >>"$tmp/rss1.log"
        rate2=$(dtrain_rate "${mpi[@]}" "${wrap[@]}" "$BUILD/dtrain")
        cat "$tmp/dtrain.log" >>"$tmp/rss2.log"
        d1+=("$rate1") d2+=("$rate2")
        echo "rep $r: 1 rank ${d1[-1]} img/s, 2 ranks ${d2[-1]} img/s"
    done
    contention_check "dtrain runs"
    d1m=$(printf '%s\n' "${d1[@]}" | median)
    d2m=$(printf '%s\n' "${d2[@]}" | median)

    echo "==$tag PyTorch, same model, data and batches"
    local t1m="" t2m="" c1m="" c2m=""
    if ((have_torch)); then
        contention_start
        t1m=$(torch_run "$model" 1 0)
        t2m=$(torch_run "$model" 2 0)
        if [[ $model != mlp && $TORCH_NHWC == 1 ]]; then
            c1m=$(torch_run "$model" 1 1)
            c2m=$(torch_run "$model" 2 1)
        fi
        contention_check "PyTorch runs"
    else
        echo "PyTorch not installed: skipped comparison ($PYTHON cannot import torch)"
    fi

    echo
    echo "==$tag summary ($steps steps, median of $REPS; img/s summed over ranks)"
    row "1 rank" "$d1m" "PyTorch 1 proc" "$t1m" "$target1"
    row "2 ranks" "$d2m" "PyTorch DDP x2" "$t2m" "$target2"
    if [[ -n $c1m ]]; then
        row "1 rank" "$d1m" "PyTorch NHWC x1" "$c1m" "channels-last PyTorch, for reference"
        row "2 ranks" "$d2m" "PyTorch NHWC x2" "$c2m" "channels-last PyTorch, for reference"
    fi
    awk -v r1="$d1m" -v r2="$d2m" 'BEGIN { printf "dtrain 2-rank scaling: %.2fx the 1-rank rate\n", r2 / r1 }'
    fraction dtrain "$d1m" 1 "$target_pct" "$convention"
    fraction dtrain "$d2m" 2 "" "$convention"
    if [[ $model != mlp ]]; then
        [[ -n $t1m ]] && fraction PyTorch "$t1m" 1 "" ""
        [[ -n $t2m ]] && fraction PyTorch "$t2m" 2 "" ""
        [[ -n $c1m ]] && fraction "PyTorch NHWC" "$c1m" 1 "" ""
        [[ -n $c2m ]] && fraction "PyTorch NHWC" "$c2m" 2 "" ""
        if ((${#wrap[@]})); then
            echo "dtrain peak resident memory per rank: $(max_rss_mib "$tmp/rss1.log") MiB at 1 rank," \
                "$(max_rss_mib "$tmp/rss2.log") MiB at 2 ranks (largest rank)"
        fi
        if [[ -n $t1m ]]; then
            local m1 m2
            m1=$(sed -n 's/^pytorch peak resident memory, rank 0: \([0-9]*\) MiB/\1/p' "$tmp/torch-$model-1-0.txt")
            m2=$(sed -n 's/^pytorch peak resident memory, rank 0: \([0-9]*\) MiB/\1/p' "$tmp/torch-$model-2-0.txt")
            echo "PyTorch peak resident memory per process: $m1 MiB at 1 process, $m2 MiB at 2 (rank 0)"
        fi
    fi

    if [[ $ACCURACY == 1 && -n $acc_target ]]; then
        echo
        echo "==$tag accuracy: $config as configured, 2 ranks (target test accuracy >= $acc_target)"
        "${mpi[@]}" "$BUILD/dtrain" train "$config" --out "$tmp/acc" --quiet </dev/null >"$tmp/acc.log" 2>&1 ||
            { cat "$tmp/acc.log" >&2; die "accuracy run failed"; }
        # the last "test" line is the evaluation after the final epoch
        local acc_line acc
        acc_line=$(grep '^test ' "$tmp/acc.log" | tail -n 1)
        [[ -n $acc_line ]] || { cat "$tmp/acc.log" >&2; die "no test accuracy line from dtrain"; }
        echo "$acc_line"
        grep '^done:' "$tmp/acc.log" || true
        acc=$(sed -n 's/.*accuracy \([0-9.]*\) .*/\1/p' <<<"$acc_line")
        awk -v a="$acc" -v t="$acc_target" 'BEGIN {
            printf "test accuracy %.4f: %s\n", a, (a >= t ? "meets the target (>= " t ")" : "BELOW the target (>= " t ")") }'
    fi
}

for m in "${models[@]}"; do
    [[ $m == "${models[0]}" ]] || echo
    bench "$m"
done

echo "bench.sh took $((SECONDS - start)) s"
