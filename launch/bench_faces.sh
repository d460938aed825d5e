#!/usr/bin/env bash
# bench_faces.sh — inference speed of the face networks, dtrain against its
# PyTorch twin (launch/faces_torch.py, built from the same converted
# checkpoints and checked to give the same outputs), one thread each, in
# alternating runs: the detector at 416x416 (batch 1 and 8), the recogniser
# (150x150) and the landmark net (112x112) at batch 16. Prints the median
# ms per image of ROUNDS rounds side by side. Not a pass/fail test.
#
# Environment:
#   BUILD=build     build directory (tests/tools/faces_bench is built there)
#   ROUNDS=3        alternating rounds; each round is itself a median of 5 runs
#   PYTHON=/usr/bin/python3   interpreter with torch and h5py
#   DTRAIN_FACES    the checkpoints of launch/get_faces.sh (default ~/.cache/dtrain/faces)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROUNDS=${ROUNDS:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
FACES=${DTRAIN_FACES:-${DTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain}/faces}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1

die() { echo "bench_faces.sh: error: $*" >&2; exit 1; }
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer (got '$ROUNDS')"
[ -f "$BUILD/CMakeCache.txt" ] || cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" --target faces_bench dtrain -j "$(nproc)" >/dev/null || die "cannot build faces_bench"
launch/get_faces.sh "$BUILD/dtrain" || die "launch/get_faces.sh failed"
"$PYTHON" -c "import torch, h5py" 2>/dev/null || die "$PYTHON lacks torch or h5py (apt-get install python3-torch python3-h5py)"
"$PYTHON" launch/faces_torch.py --models "$FACES" --check-only || die "the PyTorch twin does not match the checkpoints"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in $(seq "$ROUNDS"); do
    "$BUILD/tests/faces_bench" "$FACES" 5 3 >>"$tmp/all.txt"
    "$PYTHON" launch/faces_torch.py --models "$FACES" --reps 5 | grep "ms/image" >>"$tmp/all.txt"
done
echo "ms per image, one thread, median of $ROUNDS alternating rounds (lower is faster)"
printf '%-30s %9s %9s %11s\n' "" dtrain torch torch-nhwc
for what in "detector 416 batch 1" "detector 416 batch 8" "recognizer 150 batch 16" "landmarks 112 batch 16"; do
    med() { grep "^$1 $what:" "$tmp/all.txt" | awk '{print $(NF-1)}' | sort -g | awk '{v[NR]=$1} END {print NR ? v[int((NR+1)/2)] : "-"}'; }
    printf '%-30s %9s %9s %11s\n' "$what" "$(med dtrain)" "$(med torch)" "$(med torch-nhwc)"
done
