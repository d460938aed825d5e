#!/usr/bin/env bash
# setup.sh — install what dtrain needs (Debian 12) when it is missing, and
# build one variant. Sourced by train.sh and test.sh; usable alone:
#   launch/setup.sh [BUILD_DIR [cmake options...]]
set -euo pipefail

DT_PACKAGES=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin libopenblas-dev
             libhdf5-dev check libinih-dev zlib1g-dev libcjson-dev libstb-dev dataset-fashion-mnist gnuplot-nox)

# dt_install [EXTRA_PACKAGE...]
dt_install() {
    local missing=()
    for p in "${DT_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" </dev/null
}

# Pictures for dtrain style's tests (python3-skimage's, unpacked, not installed).
dt_pictures() {
    launch/get_pictures.sh
}

# dt_build DIR [cmake options...]
dt_build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
    cmake --build "$dir" -j "$(nproc)"
}

# Open MPI refuses root without these; CI runs as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# one BLAS thread per rank: ranks are the parallelism
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    cd "$(dirname "$0")/.."
    dt_install
    dt_build "${1:-build}" "${@:2}"
fi
