#!/usr/bin/env bash
# faces_examples.sh — the README's face pictures: the tiny face detector's
# boxes drawn on face-api's six demo photos and on python3-skimage's
# astronaut (launch/get_faces.sh, launch/get_pictures.sh), written to
# OUT_DIR/<name>.png, with the printed boxes; then faces.h5 of every face.
#   launch/faces_examples.sh [BUILD_DIR] [OUT_DIR]   (defaults build, faces-examples)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build} out=${2:-faces-examples}
launch/get_faces.sh "$build/dtrain"
launch/get_pictures.sh
faces=${DTRAIN_FACES:-${DTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain}/faces}
pics=${DTRAIN_PICTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain/pictures}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
"$build/dtrain" detect --ckpt "$faces/tiny_face_detector.h5" "$faces"/package/demo/sample[1-6].jpg "$pics/astronaut.png" --out "$out"
"$build/dtrain" faces "$faces"/package/demo/sample[1-6].jpg --out "$out/faces.h5" | tail -1
