#!/usr/bin/env bash
# style_examples.sh — the README's style transfer examples: two (content,
# style) pairs from python3-skimage's pictures (launch/get_pictures.sh) at
# the course's 300x400 and 200 iterations, each result beside its content
# and style in OUT_DIR/<pair>-side.png (gnuplot), and the costs at the
# start and the end of each run.
#   launch/style_examples.sh [BUILD_DIR] [OUT_DIR]   (defaults build, style-examples)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build} out=${2:-style-examples}
launch/get_pictures.sh
pics=${DTRAIN_PICTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain/pictures}
mkdir -p "$out"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
for pair in chelsea:gravel coffee:brick; do
    c=${pair%%:*} s=${pair##*:}
    "$build/dtrain" style --content "$pics/$c.png" --style "$pics/$s.png" --out "$out/$c-$s.png" | tail -1
    # content, style and result side by side, each at 300x400
    gnuplot <<GP
set terminal pngcairo size 1200,320 noenhanced font ',10'
set output '$out/$c-$s-side.png'
set multiplot layout 1,3
unset border; unset tics; unset key
set size ratio -1
set title 'content: $c'
plot '$pics/$c.png' binary filetype=png with rgbimage
set title 'style: $s'
plot '$pics/$s.png' binary filetype=png with rgbimage
set title 'dtrain style (random multi-scale filters)'
plot '$out/$c-$s.png' binary filetype=png with rgbimage
unset multiplot
GP
    echo "wrote $out/$c-$s-side.png"
done
