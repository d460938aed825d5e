#!/usr/bin/env bash
# style_examples.sh — the README's style transfer examples: two (content,
# style) pairs from python3-skimage's pictures (launch/get_pictures.sh) at
# the course's 300x400 and 200 iterations, through each feature network:
#   random     models/style/random_multiscale.ini (the default; no weights)
#   detector   models/style/detector_features.ini (face-api's tiny face detector)
#   landmarks  models/style/face_features.ini (face-api's landmark net)
# (the pretrained ones from launch/get_faces.sh), the results beside their
# content and style in OUT_DIR/<pair>-side.png (gnuplot), and the costs at
# the start and the end of each run.
#   launch/style_examples.sh [BUILD_DIR] [OUT_DIR]   (defaults build, style-examples)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build} out=${2:-style-examples}
launch/get_pictures.sh
launch/get_faces.sh "$build/dtrain"
pics=${DTRAIN_PICTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain/pictures}
faces=${DTRAIN_FACES:-${DTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain}/faces}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
nets=(random: detector:"--net models/style/detector_features.ini --ckpt $faces/tiny_face_detector.h5"
      landmarks:"--net models/style/face_features.ini --ckpt $faces/face_landmark_68.h5")
for pair in chelsea:gravel coffee:brick; do
    c=${pair%%:*} s=${pair##*:}
    for n in "${nets[@]}"; do
        # shellcheck disable=SC2086 # the options split into words on purpose
        echo "${n%%:*}: $("$build/dtrain" style ${n#*:} --content "$pics/$c.png" --style "$pics/$s.png" \
            --out "$out/$c-$s-${n%%:*}.png" | tail -1)"
    done
    # content, style and the three results side by side, each at 300x400
    gnuplot <<GP
set terminal pngcairo size 2000,320 noenhanced font ',10'
set output '$out/$c-$s-side.png'
set multiplot layout 1,5
unset border; unset tics; unset key
set size ratio -1
set title 'content: $c'
plot '$pics/$c.png' binary filetype=png with rgbimage
set title 'style: $s'
plot '$pics/$s.png' binary filetype=png with rgbimage
set title 'random multi-scale filters (default)'
plot '$out/$c-$s-random.png' binary filetype=png with rgbimage
set title 'tiny face detector features'
plot '$out/$c-$s-detector.png' binary filetype=png with rgbimage
set title 'landmark net features'
plot '$out/$c-$s-landmarks.png' binary filetype=png with rgbimage
unset multiplot
GP
    echo "wrote $out/$c-$s-side.png"
done
