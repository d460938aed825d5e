#!/usr/bin/env bash
# scaling.sh — weak and strong scaling of dtrain over rank counts, beside
# PyTorch DistributedDataParallel (gloo) in the same run, for
#   MODEL=mlp  the Fashion-MNIST MLP (configs/fmnist_mlp.ini)
#   MODEL=cnn  the Fashion-MNIST CNN (configs/fmnist_cnn.ini)
#   MODEL=all  both, one after the other
# Weak scaling keeps the batch per rank (the global batch grows with the
# ranks); strong scaling keeps the global batch (each rank's share shrinks).
# For each it prints images/s (summed over ranks), the efficiency
# rate(P) / (P x rate(1)), and the fraction of dtrain's step time spent
# waiting on communication. Prints figures; it is not a pass/fail test.
#
# Environment:
#   MODEL=all       mlp | cnn | all
#   RANKS           rank counts, e.g. "1 2 4" (default: powers of two up to nproc)
#   OVERSUBSCRIBE=0 1 allows more ranks than CPUs (mpirun --oversubscribe)
#   STEPS           training steps per measurement (default 2000 for mlp, 200 for cnn)
#   REPS=3          measurements per figure; the median is reported
#   BATCH=64        weak scaling: batch per rank
#   STRONG_BATCH    strong scaling: global batch (default BATCH x the least common
#                   multiple of RANKS, i.e. BATCH x the largest power of two: every
#                   rank count must divide it)
#   BUILD=build     build directory (configured as Release if new; dtrain is rebuilt if stale)
#   PYTHON=/usr/bin/python3   interpreter for launch/bench_torch.py (needs torch)
#
# launch/scaling.sh --hosts runs launch/scaling_hosts.sh instead: the same
# models across simulated hosts (see there).
set -euo pipefail

cd "$(dirname "$0")/.."
[[ ${1:-} == --hosts ]] && exec launch/scaling_hosts.sh
[[ $# -eq 0 ]] || { echo "scaling.sh: error: unknown argument '$1' (only --hosts; the rest is set by environment)" >&2; exit 2; }
MODEL=${MODEL:-all}
BUILD=${BUILD:-build}
REPS=${REPS:-3}
BATCH=${BATCH:-64}
PYTHON=${PYTHON:-/usr/bin/python3}
OVERSUBSCRIBE=${OVERSUBSCRIBE:-0}
ncpu=$(nproc)

die() { echo "scaling.sh: error: $*" >&2; exit 1; }
posint() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }
case $MODEL in
mlp | cnn) models=("$MODEL") ;;
all) models=(mlp cnn) ;;
*) die "MODEL must be mlp, cnn or all (got '$MODEL')" ;;
esac
posint "${STEPS-1}" || die "STEPS must be a positive integer (got '$STEPS')"
posint "$REPS" || die "REPS must be a positive integer (got '$REPS')"
posint "$BATCH" || die "BATCH must be a positive integer (got '$BATCH')"
[[ $OVERSUBSCRIBE == 0 || $OVERSUBSCRIBE == 1 ]] || die "OVERSUBSCRIBE must be 0 or 1 (got '$OVERSUBSCRIBE')"

# Rank counts: sorted, without repeats; none above the CPU count unless allowed.
if [[ -z ${RANKS:-} ]]; then
    RANKS=""
    for ((p = 1; p <= ncpu; p *= 2)); do RANKS+="$p "; done
fi
read -ra given <<<"$RANKS"
((${#given[@]})) || die "RANKS is empty"
for p in "${given[@]}"; do
    posint "$p" || die "RANKS must be positive integers separated by spaces (got '$p' in '$RANKS')"
    if ((p > ncpu)) && [[ $OVERSUBSCRIBE != 1 ]]; then
        die "$p ranks on $ncpu CPUs would oversubscribe them and measure time slicing, not scaling;" \
            "lower RANKS or set OVERSUBSCRIBE=1"
    fi
done
mapfile -t ranks < <(printf '%s\n' "${given[@]}" | sort -n -u)
p0=${ranks[0]}     # efficiencies are relative to the smallest rank count (normally 1)
pmax=${ranks[-1]}

gcd() { local a=$1 b=$2 t; while ((b)); do t=$((a % b)) a=$b b=$t; done; echo "$a"; }
if [[ -z ${STRONG_BATCH:-} ]]; then
    l=1
    for p in "${ranks[@]}"; do l=$((l * p / $(gcd "$l" "$p"))); done
    STRONG_BATCH=$((BATCH * l))
fi
posint "$STRONG_BATCH" || die "STRONG_BATCH must be a positive integer (got '$STRONG_BATCH')"
for p in "${ranks[@]}"; do
    ((STRONG_BATCH % p == 0)) ||
        die "STRONG_BATCH=$STRONG_BATCH is not divisible by $p ranks: PyTorch needs the same whole batch on every rank"
done

# One BLAS thread per rank: the comparison is per core, and P ranks use P cores.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

start=$SECONDS
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "machine: $ncpu CPUs, ${cpu_model:-unknown CPU}"
echo "ranks: ${ranks[*]}; weak scaling at $BATCH per rank, strong scaling at a global batch of $STRONG_BATCH"

# Configure a Release build if there is none; always bring dtrain up to date
# (a no-op when it is), so the figures are those of the current sources.
if [[ ! -f $BUILD/CMakeCache.txt ]]; then
    echo "configuring a Release build in $BUILD ..."
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$tmp/cmake.log" 2>&1 ||
        { cat "$tmp/cmake.log" >&2; die "cmake configure failed"; }
fi
cmake --build "$BUILD" -j"$ncpu" --target dtrain >"$tmp/build.log" 2>&1 ||
    { cat "$tmp/build.log" >&2; die "building dtrain failed"; }

# mpirun for each rank count (1 included, so every count is launched alike):
# pinned to cores like a production launch; some containers refuse binding.
declare -A mpi
over=()
[[ $OVERSUBSCRIBE == 1 ]] && over=(--oversubscribe)
for p in "${ranks[@]}"; do
    if mpirun -np "$p" "${over[@]}" --bind-to core true </dev/null >/dev/null 2>&1; then
        mpi[$p]="mpirun -np $p ${over[*]} --bind-to core"
    elif mpirun -np "$p" "${over[@]}" true </dev/null >/dev/null 2>&1; then
        mpi[$p]="mpirun -np $p ${over[*]}"
        echo "note: mpirun --bind-to core failed at $p rank(s); running them unbound"
    else
        die "mpirun -np $p ${over[*]} does not start"
    fi
done

source launch/bench_lib.sh
warn_if_busy

# One dtrain run at $1 ranks, the rest being config overrides; prints
# "RATE WAIT": examples/s and the communication wait in % of step time from the
# final line ("done: N steps in T s (S s in training steps, X examples/s);
# communication wait W % of step time; checkpoint PATH"); WAIT is n/a when the
# binary does not report it. $config and $steps are those of the caller.
dtrain_run() {
    local p=$1 log=$tmp/dtrain.log rate wait launch
    shift
    read -ra launch <<<"${mpi[$p]}"
    if ! "${launch[@]}" "$BUILD/dtrain" train "$config" "train.max_steps=$steps" train.log_every=0 \
        train.eval_every=0 "$@" --out "$tmp/run" --quiet </dev/null >"$log" 2>&1; then
        cat "$log" >&2
        die "dtrain run failed at $p rank(s): $config $*"
    fi
    rate=$(sed -n 's/^done: .* \([0-9.]*\) examples\/s).*/\1/p' "$log")
    [[ -n $rate ]] || { cat "$log" >&2; die "no 'done:' line from dtrain"; }
    wait=$(sed -n 's/^done: .*communication wait \([0-9.]*\) *%.*/\1/p' "$log")
    echo "$rate ${wait:-n/a}"
}

have_torch=0
if "$PYTHON" -c 'import torch' </dev/null >/dev/null 2>&1; then have_torch=1; fi
((have_torch)) || echo "note: $PYTHON cannot import torch: dtrain figures only, no PyTorch comparison"

# PyTorch's img/s (median, summed over ranks) for model $1, ranks $2, batch per
# rank $3; empty, with a warning, if the run fails. Its output also goes to
# stderr. $steps as above; warmup at most 100 steps and a tenth of the measurement.
torch_run() {
    local out=$tmp/torch-$1-$2.txt warmup=$((steps / 10 < 100 ? steps / 10 : 100))
    ((warmup > 0)) || warmup=1
    if ! "$PYTHON" launch/bench_torch.py --model "$1" --ranks "$2" --steps "$steps" --reps "$REPS" \
        --batch "$3" --warmup "$warmup" </dev/null 2>&1 | tee "$out" >&2; then
        echo "warning: launch/bench_torch.py --model $1 --ranks $2 --batch $3 failed: no PyTorch figure" >&2
        return 0
    fi
    sed -n 's/^result: \([0-9.]*\) img\/s/\1/p' "$out"
}

# efficiency in % of rate $1 at $2 ranks, against the rate $3 at $p0 ranks
eff() { awk -v r="$1" -v p="$2" -v b="$3" -v q="$p0" 'BEGIN { if (r != "" && b > 0) printf "%.0f", 100 * r * q / (p * b) }'; }

# Weak or strong scaling of one model: $1 mlp|cnn, $2 weak|strong.
scaling() {
    local model=$1 mode=$2 config steps tag p r rate wait args
    case $model in
    mlp) config=configs/fmnist_mlp.ini steps=${STEPS:-2000} ;;
    cnn) config=configs/fmnist_cnn.ini steps=${STEPS:-200} ;;
    esac
    tag=$(basename "$config" .ini)
    local -A rates waits drate dwait trate teff batch
    for p in "${ranks[@]}"; do
        if [[ $mode == weak ]]; then batch[$p]=$BATCH; else batch[$p]=$((STRONG_BATCH / p)); fi
    done
    if [[ $mode == weak ]]; then
        args=(train.global_batch=0 "train.batch_per_rank=$BATCH")
        echo "== $tag, weak scaling: $BATCH per rank (global batch $BATCH x ranks), $steps steps, $REPS reps"
    else
        args=(train.batch_per_rank=0 "train.global_batch=$STRONG_BATCH")
        echo "== $tag, strong scaling: global batch $STRONG_BATCH ($STRONG_BATCH / ranks per rank), $steps steps, $REPS reps"
    fi

    # dtrain: every rank count once per rep, so that drift in the machine's
    # speed spreads over all of them
    contention_start
    for ((r = 1; r <= REPS; r++)); do
        local line="rep $r:"
        for p in "${ranks[@]}"; do
            # a plain assignment, so that set -e sees a failed run
            rate=$(dtrain_run "$p" "${args[@]}")
            read -r rate wait <<<"$rate"
            rates[$p]+="$rate " waits[$p]+="$wait "
            [[ $wait == n/a ]] || wait+=" %"
            line+=" $p rank$([[ $p == 1 ]] || echo s) $rate img/s, comm wait $wait;"
        done
        echo "${line%;}"
    done
    contention_check "dtrain runs"
    for p in "${ranks[@]}"; do
        drate[$p]=$(tr ' ' '\n' <<<"${rates[$p]}" | grep . | median)
        # medians of the waits that were reported (none: an older binary)
        dwait[$p]=$(tr ' ' '\n' <<<"${waits[$p]}" | grep '^[0-9.]' | median || true)
    done

    if ((have_torch)); then
        contention_start
        for p in "${ranks[@]}"; do
            trate[$p]=$(torch_run "$model" "$p" "${batch[$p]}")
        done
        contention_check "PyTorch runs"
    fi

    echo
    echo "== $tag, $mode scaling: median of $REPS, img/s summed over ranks, efficiency = rate(P) / (P x rate($p0))"
    printf '%5s  %9s  %12s  %12s  %10s  %13s  %10s\n' ranks "batch/rank" "dtrain img/s" efficiency "comm wait" \
        "PyTorch img/s" efficiency
    local e
    for p in "${ranks[@]}"; do
        e=$(eff "${drate[$p]}" "$p" "${drate[$p0]}")
        teff[$p]=$(eff "${trate[$p]:-}" "$p" "${trate[$p0]:-}")
        awk -v p="$p" -v b="${batch[$p]}" -v d="${drate[$p]}" -v e="$e" -v w="${dwait[$p]}" -v t="${trate[$p]:-}" -v te="${teff[$p]}" 'BEGIN {
            printf "%5d  %9d  %12.0f  %10s %%  %10s  %13s  %10s\n", p, b, d, e,
                (w == "" ? "n/a" : sprintf("%.1f %%", w)),
                (t == "" ? "-" : sprintf("%.0f", t)), (te == "" ? "-" : te " %") }'
        effs[$tag-$mode-$p]=$e
    done

    # the targets: weak scaling only, against 1 rank
    if [[ $mode == strong ]]; then
        echo "strong scaling: no target (efficiency at $pmax ranks: dtrain ${effs[$tag-$mode-$pmax]} %${teff[$pmax]:+, PyTorch ${teff[$pmax]} %})"
    elif ((p0 != 1)); then
        echo "weak-scaling targets: not checked (they are against 1 rank, and RANKS lacks 1)"
    else
        local q goal checked=0
        for q in 2 16; do
            [[ -n ${drate[$q]:-} ]] || continue
            checked=1
            goal=$((q == 2 ? 90 : 85))
            awk -v q="$q" -v e="${effs[$tag-$mode-$q]}" -v g="$goal" -v te="${teff[$q]}" 'BEGIN {
                printf "weak-scaling target >= %d %% at %d ranks: %s (dtrain %d %%%s)\n", g, q,
                    (e + 0 >= g ? "met" : "NOT met"), e, (te == "" ? "" : ", PyTorch " te " %") }'
        done
        ((checked)) || echo "weak-scaling targets (at 2 and 16 ranks): not checked, neither count was run"
    fi
}

declare -A effs
first=1
for m in "${models[@]}"; do
    for mode in weak strong; do
        ((first)) || echo
        first=0
        scaling "$m" "$mode"
    done
done

echo
echo "scaling.sh took $((SECONDS - start)) s"
