#!/usr/bin/env bash
# mpirun.sh — dtrain on N ranks of this machine, each bound to its own cores.
#
#   launch/mpirun.sh [-n N] [COMMAND] CONFIG [section.key=value ...] [--out DIR] [--quiet] ...
#
# COMMAND is train (default), eval or gradcheck; the rest goes to dtrain.
# N defaults to the number of physical cores this shell may use. Each rank
# gets cores/N of them, is bound to them, and runs that many OpenBLAS
# threads, so ranks x threads = cores: ranks are the cheaper parallelism
# (one allreduce per step), threads fill the cores that ranks leave. More
# ranks than cores runs oversubscribed, unbound, one thread each.
#
# Environment: DTRAIN_BIN (default build/dtrain), DTRAIN_MPI_ARGS (more
# mpiexec options, split on spaces), and --dry-run as the first argument
# prints the command instead of running it. Open MPI's mpiexec (what
# launch/setup.sh installs); for other nodes see launch/slurm.sbatch and
# launch/hostfile.example.
set -euo pipefail

die() {
    echo "mpirun.sh: $*" >&2
    exit 2
}

root=$(cd "$(dirname "$0")/.." && pwd)
dry=0
if [ "${1:-}" = --dry-run ]; then
    dry=1
    shift
fi
ranks=""
case ${1:-} in
-h | --help)
    sed -n '2,18s/^# \{0,1\}//p' "$0"
    exit 0
    ;;
-n | -np)
    [ $# -ge 2 ] || die "missing N after $1"
    ranks=$2
    shift 2
    ;;
esac
cmd=train
case ${1:-} in
train | eval | gradcheck)
    cmd=$1
    shift
    ;;
esac
[ $# -ge 1 ] || die "usage: launch/mpirun.sh [-n N] [COMMAND] CONFIG [args...] (see --help)"

bin=${DTRAIN_BIN:-$root/build/dtrain}
[ -x "$bin" ] || die "$bin not found: build it first (launch/setup.sh), or set DTRAIN_BIN"
command -v mpiexec >/dev/null 2>&1 || die "mpiexec not found: install Open MPI (launch/setup.sh does)"
mpiexec --version 2>&1 | grep -Eq "Open MPI|OpenRTE" ||
    die "this launcher speaks Open MPI's mpiexec; with another MPI run: mpiexec -n N $bin $cmd ..."

# Physical cores among the CPUs we may run on: hyper-threads share a core's
# arithmetic units, so they would only split the same gemm throughput.
count_cores() {
    local allowed n=0
    allowed=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status 2>/dev/null || true)
    if [ -n "$allowed" ] && command -v lscpu >/dev/null 2>&1; then
        n=$(lscpu -p=CPU,CORE,SOCKET 2>/dev/null | awk -F, -v allowed="$allowed" '
            BEGIN {
                k = split(allowed, r, ",")
                for (i = 1; i <= k; i++) {
                    m = split(r[i], b, "-")
                    for (c = b[1] + 0; c <= (m > 1 ? b[2] : b[1]) + 0; c++) ok[c] = 1
                }
            }
            /^#/ { next }
            ($1 + 0) in ok { core[$3 "," $2] = 1 }
            END { for (x in core) n++; print n + 0 }')
    fi
    [ "${n:-0}" -gt 0 ] || n=$(nproc)
    echo "$n"
}

cores=$(count_cores)
ranks=${ranks:-$cores}
[[ $ranks =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive whole number, not '$ranks'"

if [ "$ranks" -le "$cores" ]; then
    threads=$((cores / ranks))
    placement=(--map-by "slot:PE=$threads" --bind-to core)
else
    threads=1
    placement=(--oversubscribe --bind-to none)
    echo "mpirun.sh: $ranks ranks on $cores cores: oversubscribed, not bound" >&2
fi
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads
# Open MPI refuses root without these (containers, CI)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

read -r -a extra <<<"${DTRAIN_MPI_ARGS:-}"
run=(mpiexec --quiet -np "$ranks" "${placement[@]}" -x OPENBLAS_NUM_THREADS -x OMP_NUM_THREADS
     "${extra[@]}" "$bin" "$cmd" "$@")
echo "mpirun.sh: $ranks rank(s) x $threads OpenBLAS thread(s) on $cores core(s)" >&2
if [ $dry = 1 ]; then
    printf '%q ' "${run[@]}"
    echo
    exit 0
fi
exec "${run[@]}"
