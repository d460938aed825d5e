#!/usr/bin/env bash
# fuzz.sh — one AFL++ campaign against one input format.
#   launch/fuzz.sh TARGET SECONDS [JOBS]
# TARGET: ini idx hdf5 boxes ckpt image tfjs (tests/fuzz/fuzz_TARGET.c).
# Installs afl++ and clang (Debian) when missing, builds the targets with
# afl-clang-fast, AddressSanitizer and UBSan in build-fuzz/, and fuzzes from
# tests/fuzz/corpus/TARGET for SECONDS with JOBS instances (default 1; one
# main, the rest secondary). Findings land in fuzz-out/TARGET/; the summary
# prints executions, crashes and hangs. A crash worth keeping goes into
# tests/fuzz/regress/TARGET/ (named bad-* when dtrain must refuse it), where
# ctest's fuzz_TARGET replays it in every build.
#
# FUZZ_SANITIZE=undefined fuzzes a UBSan-only build (build-fuzz-ubsan/)
# instead, for more executions where ASan costs most, and then replays
# every input the campaign kept (queue, crashes, hangs) through the
# ASan+UBSan target, so memory errors on the paths it found are still
# caught. (The HDF5 targets keep libhdf5's free lists, so ASan no longer
# maps its 1 MB cache afresh at every open: see dt_fuzz_hdf5_lists.)
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/setup.sh
[ $# -ge 2 ] || { echo "usage: launch/fuzz.sh TARGET SECONDS [JOBS]" >&2; exit 2; }
target=$1 seconds=$2 jobs=${3:-1}
[ -f "tests/fuzz/fuzz_$target.c" ] || { echo "fuzz.sh: no target '$target' (tests/fuzz/fuzz_*.c)" >&2; exit 2; }
san=${FUZZ_SANITIZE:-address}
case $san in address | undefined) ;; *) echo "fuzz.sh: FUZZ_SANITIZE is address or undefined, not '$san'" >&2; exit 2 ;; esac
dt_install afl++ clang
fuzz_build() { # fuzz_build DIR SANITIZE
    CC=afl-clang-fast cmake -S . -B "$1" -DDTRAIN_FUZZ=ON -DDTRAIN_SANITIZE="$2" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$1" -j "$(nproc)" --target "fuzz_$target" >/dev/null
}
fuzz_build build-fuzz address
bin=build-fuzz/tests/fuzz/fuzz_$target
if [ "$san" = undefined ]; then
    fuzz_build build-fuzz-ubsan undefined
    bin=build-fuzz-ubsan/tests/fuzz/fuzz_$target
fi
out=fuzz-out/$target
mkdir -p "$out"
# AFL++ wants these for sanitizer builds; a fuzzed model may ask for any
# amount of memory, and dtrain must then fail cleanly (NULL, not a report)
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=2048
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:symbolize=0
export AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export HDF5_USE_FILE_LOCKING=FALSE
# the targets' scratch files (tmpfs where there is one); AFL ends children
# with SIGKILL, so what they leave is removed here
shm=/dev/shm; [ -d $shm ] || shm=${TMPDIR:-/tmp}
export DT_FUZZ_TMP=$(mktemp -d "$shm/dtrain-fuzz-$target.XXXXXX")
trap 'rm -rf "$DT_FUZZ_TMP"' EXIT
dict=()
[ -f "tests/fuzz/$target.dict" ] && dict=(-x "tests/fuzz/$target.dict")
resume=tests/fuzz/corpus/$target
[ -d "$out/main/queue" ] && resume=-   # go on from an earlier campaign
pids=()
for ((j = 0; j < jobs; j++)); do
    role=(-M main)
    [ $j -gt 0 ] && role=(-S "s$j")
    afl-fuzz -i "$resume" -o "$out" "${role[@]}" "${dict[@]}" -m none -t 1000 -V "$seconds" \
        -- "$bin" >"$out/afl-$j.log" 2>&1 &
    pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
execs=0 crashes=0 hangs=0
for s in "$out"/*/fuzzer_stats; do
    execs=$((execs + $(awk '$1 == "execs_done" {print $3}' "$s")))
    crashes=$((crashes + $(awk '$1 == "saved_crashes" || $1 == "unique_crashes" {print $3}' "$s" | head -1)))
    hangs=$((hangs + $(awk '$1 == "saved_hangs" || $1 == "unique_hangs" {print $3}' "$s" | head -1)))
done
echo "fuzz $target ($san): $execs executions in ${seconds} s x $jobs, $crashes crashes, $hangs hangs (findings: $out/*/crashes, $out/*/hangs)"
if [ "$san" = undefined ]; then
    # the ASan target reads one input from stdin when AFL is not driving it
    n=0 bad=0
    for f in "$out"/*/queue/id* "$out"/*/crashes/id* "$out"/*/hangs/id*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        # (in a subshell that exits by itself: bash reports a command killed by a signal)
        (ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 timeout 10 build-fuzz/tests/fuzz/fuzz_$target <"$f" \
            >/dev/null 2>"$out/asan-last.log"; exit $?) || { bad=$((bad + 1)); echo "$f" >>"$out/asan.txt"; }
    done
    echo "fuzz $target: $n kept inputs replayed under ASan+UBSan, $bad failed (list: $out/asan.txt)"
fi
[ $status -eq 0 ] || { echo "fuzz.sh: afl-fuzz failed; see $out/afl-*.log" >&2; tail -20 "$out/afl-0.log" >&2; exit 1; }
