#!/usr/bin/env bash
# verify_compare.sh — verification on unseen identities, side by side: the
# same network trained on Fashion-MNIST classes 0-6 with the triplet loss
# (configs/fmnist_verify_triplet.ini) and with softmax cross-entropy
# (configs/fmnist_verify_softmax.ini), both verified on pairs of test
# pictures of classes 7-9 by their [emb] features. Prints each run's test
# line and a summary; it is a benchmark, not a pass/fail test.
#   launch/verify_compare.sh [BUILD=build] [NP=2] [section.key=value ...]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
NP=${NP:-2}
export OPENBLAS_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=${OUT:-runs/verify_compare}
mkdir -p "$out"
for k in triplet softmax; do
    echo "== $k: configs/fmnist_verify_$k.ini, $NP ranks"
    start=$SECONDS
    mpiexec --oversubscribe -np "$NP" "$BUILD/dtrain" train "configs/fmnist_verify_$k.ini" "$@" --out "$out/$k" --quiet \
        </dev/null >"$out/$k.log" 2>&1 || { cat "$out/$k.log" >&2; exit 1; }
    grep -E '^(test|summary)' "$out/$k.log"
    echo "$k: $((SECONDS - start)) s"
done
echo
echo "== unseen identities (Fashion-MNIST 7-9), pairs of the test half"
for k in triplet softmax; do
    line=$(grep '"split": "test"' "$out/$k/metrics.jsonl" | tail -1)
    auc=$(sed -E 's/.*"verify_auc": ([^,]+),.*/\1/' <<<"$line")
    acc=$(sed -E 's/.*"verify_accuracy": ([^,]+),.*/\1/' <<<"$line")
    printf '%-8s ROC AUC %.4f   accuracy %.4f\n' "$k" "$auc" "$acc"
done
