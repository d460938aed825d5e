#!/usr/bin/env bash
# scaling_hosts.sh (launch/scaling.sh --hosts) — weak scaling across
# simulated hosts (launch/hosts.sh): the MLP and the CNN at 1, 2 and 4 hosts
# x 2 ranks, 64 rows per rank, with each host's link limited to 10 Gbit/s
# and to 1 Gbit/s. For each reduction ([dist] reduce = after: the tree by
# host; overlap: buckets by host under backward; flat: MPI_Allreduce blind to
# hosts) it prints images/s, the step time, the communication wait per step
# (ms and % of the step) and the bytes each rank sent to other hosts per
# step (counted on the hosts' links), with PyTorch DDP over gloo on the same
# hosts beside it. On a 2-core machine 4 and 8 ranks share the cores, so the
# rates measure time slicing; the waits and bytes are what scale.
# Prints figures; it is not a pass/fail test. Needs root (namespaces).
#
# Environment:
#   MODEL=all      mlp | cnn | all
#   HOSTS="1 2 4"  host counts; RPH=2 ranks per host; BATCH=64 rows per rank
#   RATES="10gbit 1gbit"
#   MODES="after overlap flat"
#   STEPS          steps per run (default 300 for mlp, 30 for cnn)
#   REPS=1         runs per figure (median)
#   BUILD=build    build directory (dtrain is built if stale)
#   PYTHON=/usr/bin/python3  for launch/bench_torch.py (needs torch; else no PyTorch column)
#   OUT            also write the rows as TSV to this file (for launch/scaling_model.py)
set -euo pipefail
cd "$(dirname "$0")/.."

MODEL=${MODEL:-all}
HOSTS=${HOSTS:-1 2 4}
RPH=${RPH:-2}
BATCH=${BATCH:-64}
RATES=${RATES:-10gbit 1gbit}
MODES=${MODES:-after overlap flat}
REPS=${REPS:-1}
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
die() { echo "scaling_hosts.sh: error: $*" >&2; exit 1; }
case $MODEL in mlp | cnn) models=("$MODEL") ;; all) models=(mlp cnn) ;; *) die "MODEL must be mlp, cnn or all (got '$MODEL')" ;; esac
for v in $HOSTS $RPH $BATCH $REPS ${STEPS:-1}; do [[ $v =~ ^[1-9][0-9]*$ ]] || die "expected a positive integer, got '$v'"; done
for m in $MODES; do [[ $m =~ ^(after|overlap|flat)$ ]] || die "MODES: after, overlap or flat (got '$m')"; done

ncpu=$(getconf _NPROCESSORS_ONLN) # (nproc would follow OMP_NUM_THREADS)
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export DTRAIN_HOSTS_NAME=sc DTRAIN_HOSTS_DIR=/tmp/dtrain-hosts-scaling
hosts=launch/hosts.sh
tmp=$(mktemp -d)
trap '$hosts down >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$tmp/cmake.log" 2>&1 || { cat "$tmp/cmake.log" >&2; die "cmake failed"; }
fi
cmake --build "$BUILD" -j"$ncpu" --target dtrain >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; die "building dtrain failed"; }
dtrain=$PWD/$BUILD/dtrain
have_torch=0
"$PYTHON" -c 'import torch' </dev/null >/dev/null 2>&1 && have_torch=1
((have_torch)) || echo "note: $PYTHON cannot import torch: no PyTorch column"

# Bytes sent by all hosts so far (their links' transmit counters).
sent() {
    local k total=0 b
    for ((k = 0; k < H; k++)); do
        b=$(ip netns exec "sc-h$k" cat "/sys/class/net/sc-h$k-in/statistics/tx_bytes")
        total=$((total + b))
    done
    echo "$total"
}

# dtrain at P ranks over the hosts, reduce mode $1: "rate step_ms wait_ms wait_pct bytes_per_rank_step"
dtrain_run() {
    local mode=$1 b0 b1 log=$tmp/dtrain.log
    b0=$(sent)
    $hosts run --timeout 600 -- mpiexec -np "$P" "$dtrain" train "$config" train.global_batch=0 \
        "train.batch_per_rank=$BATCH" "train.max_steps=$steps" train.log_every=0 train.eval_every=0 \
        data.limit_test=100 "dist.reduce=$mode" --out "$tmp/run" --quiet </dev/null >"$log" 2>&1 ||
        { cat "$log" >&2; die "dtrain failed: $MODEL_NOW, $H hosts, $mode"; }
    b1=$(sent)
    # done: N steps in T s (S s in training steps, X examples/s); communication wait W % of step time
    sed -n 's/^done: \([0-9]*\) steps in [0-9.]* s (\([0-9.]*\) s in training steps, \([0-9.]*\) examples\/s); communication wait \([0-9.]*\) %.*/\1 \2 \3 \4/p' "$log" |
        awk -v b=$((b1 - b0)) -v p="$P" '{ step = 1000 * $2 / $1; printf "%.0f %.2f %.2f %.1f %.0f\n", $3, step, step * $4 / 100, $4, b / ($1 * p) }'
}

# PyTorch DDP (gloo) at P ranks, one process per rank on its host: "rate bytes_per_rank_step"
torch_run() {
    local k j r=0 b0 b1 pids=() port=29511 log=$tmp/torch.log
    b0=$(sent)
    for ((k = 0; k < H; k++)); do
        for ((j = 0; j < RPH; j++)); do
            "$DTRAIN_HOSTS_DIR/nsrsh" "h$k" "cd $PWD && GLOO_SOCKET_IFNAME=sc-h$k-in OMP_NUM_THREADS=1 $PYTHON launch/bench_torch.py --model $MODEL_NOW --ranks $P --rank $r --master 198.18.0.10:$port --steps $steps --reps 1 --warmup 5 --batch $BATCH" \
                >"$tmp/torch.$r.log" 2>&1 </dev/null &
            pids+=($!)
            r=$((r + 1))
        done
    done
    local ok=1
    for pid in "${pids[@]}"; do wait "$pid" || ok=0; done
    b1=$(sent)
    ((ok)) || { cat "$tmp"/torch.*.log >&2; echo "warning: PyTorch DDP failed at $H hosts" >&2; echo "- -"; return; }
    sed -n 's/^result: \([0-9.]*\) img\/s/\1/p' "$tmp/torch.0.log" |
        awk -v b=$((b1 - b0)) -v p="$P" -v s="$steps" '{ printf "%.0f %.0f\n", $1, b / ((s + 5) * p) }'
}

echo "machine: $ncpu CPUs; $RPH ranks per host, $BATCH rows per rank; modes: $MODES"
[[ -n ${OUT:-} ]] && printf 'model\trate\thosts\tranks\tmode\timg_s\tstep_ms\twait_ms\twait_pct\tbytes_rank_step\n' >"$OUT"
for MODEL_NOW in "${models[@]}"; do
    case $MODEL_NOW in
    mlp) config=configs/fmnist_mlp.ini steps=${STEPS:-300} ;;
    cnn) config=configs/fmnist_cnn.ini steps=${STEPS:-30} ;;
    esac
    for rate in $RATES; do
        echo
        echo "== $MODEL_NOW, links of $rate, $steps steps, median of $REPS"
        printf '%5s %5s  %-8s %9s %9s %10s %7s %14s   %13s %14s\n' hosts ranks reduce "img/s" "step ms" "wait ms" wait \
            "bytes/rank/st" "PyTorch img/s" "bytes/rank/st"
        for H in $HOSTS; do
            P=$((H * RPH))
            $hosts up "$H" --ranks-per-host "$RPH" --rate "$rate" >/dev/null
            for mode in $MODES; do
                rows=()
                for ((r = 0; r < REPS; r++)); do rows+=("$(dtrain_run "$mode")"); done
                # the median rep by rate
                row=$(printf '%s\n' "${rows[@]}" | sort -g | awk -v n="${#rows[@]}" 'NR == int((n + 1) / 2)')
                t="- -"
                [[ $mode == after ]] && ((have_torch)) && t=$(torch_run)
                read -r img step wms wpct bytes <<<"$row"
                read -r timg tbytes <<<"$t"
                printf '%5d %5d  %-8s %9s %9s %10s %6s%% %14s   %13s %14s\n' "$H" "$P" "$mode" "$img" "$step" "$wms" "$wpct" \
                    "$bytes" "$timg" "$tbytes"
                [[ -n ${OUT:-} ]] && printf '%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n' "$MODEL_NOW" "$rate" "$H" "$P" "$mode" \
                    "$img" "$step" "$wms" "$wpct" "$bytes" >>"$OUT"
            done
        done
    done
done
echo
echo "scaling_hosts.sh took $SECONDS s"
