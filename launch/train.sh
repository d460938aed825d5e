#!/usr/bin/env bash
# train.sh — install what is missing, build, and run the main job: a 2-rank
# training of the MLP 784-256-128-10 on Fashion-MNIST (Debian's
# dataset-fashion-mnist), printing progress and the final test accuracy.
#   launch/train.sh [section.key=value ...]     e.g. train.epochs=2
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/setup.sh
dt_install
dt_build build
ranks=${RANKS:-2}
exec mpiexec --quiet --oversubscribe -np "$ranks" build/dtrain train configs/fmnist_mlp.ini --out runs/fmnist_mlp "$@"
