#!/usr/bin/env bash
# get_faces.sh — the pretrained face networks for `dtrain detect`, `faces`,
# `verify` and `identify`: fetches the npm package @vladmandic/face-api
# 1.7.15 (MIT licence) with `npm pack`, checks its integrity hash, unpacks
# its model/ and demo/ folders, and converts its three TensorFlow.js networks
# into dtrain checkpoints with `dtrain import tfjs` and models/faces/*.ini.
# Nothing of the package is committed to dtrain.
#   launch/get_faces.sh [DTRAIN_BINARY]
# The cache is $DTRAIN_FACES, else ${DTRAIN_CACHE:-~/.cache/dtrain}/faces; it
# ends up holding tiny_face_detector.h5, face_landmark_68.h5,
# face_recognition.h5 and package/{model,demo}. A re-run is a no-op (a
# checkpoint older than its model file or the dtrain binary is converted
# again). A registry found unreachable is not tried again for 10 minutes.
# Exit status: 0 ready; 3 the package cannot be had (no npm registry);
# 1 anything else.
set -euo pipefail
# paths as given, resolved before the cd below
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
src=$(cd "$(dirname "$0")/.." && pwd)
dtrain=$(abs "${1:-${DTRAIN_BIN:-$src/build/dtrain}}")
dir=$(abs "${DTRAIN_FACES:-${DTRAIN_CACHE:-${XDG_CACHE_HOME:-${HOME:?neither DTRAIN_FACES nor HOME is set}/.cache}/dtrain}/faces}")
cd "$src"
pkg=@vladmandic/face-api
ver=1.7.15
integrity=sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw==
nets=(tiny_face_detector:tiny_face_detector_model face_landmark_68:face_landmark_68_model
      face_recognition:face_recognition_model)

say() { echo "get_faces: $*" >&2; }
mkdir -p "$dir"
# one at a time: tests running side by side share the cache
exec 9>"$dir/.lock"
flock -w 900 9 || { say "another get_faces.sh has held $dir/.lock for 15 minutes"; exit 1; }
# a registry found unreachable in the last 10 minutes is not tried again (each try may take minutes)
if [ ! -e "$dir/package/.complete-$ver" ] && [ -n "$(find "$dir/.unreachable" -mmin -10 2>/dev/null)" ]; then
    say "the npm registry was unreachable less than 10 minutes ago: $(cat "$dir/.unreachable")"
    exit 3
fi

if [ ! -e "$dir/package/.complete-$ver" ]; then
    if ! command -v npm >/dev/null; then
        say "installing npm (Debian)"
        sudo=()
        [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
        { "${sudo[@]}" apt-get update -qq </dev/null &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq npm </dev/null >/dev/null; } ||
            { say "cannot install npm (apt-get failed, or no root)"; exit 3; }
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    # bounded: a registry that does not answer is a skip, not a hung test
    if ! (cd "$tmp" && timeout 300 npm pack "$pkg@$ver" --fetch-retries=1 --fetch-timeout=60000 --loglevel=error \
              >/dev/null 2>"$tmp/npm.err"); then
        why=$(grep -m1 -E "reason:|code E|error 40" "$tmp/npm.err" || grep . "$tmp/npm.err" | tail -n 1 || echo "npm pack failed")
        echo "$why" >"$dir/.unreachable"
        say "cannot fetch $pkg@$ver from the npm registry: $why"
        exit 3
    fi
    tgz=$(ls "$tmp"/*.tgz)
    # npm's own integrity format, computed with the node that npm runs on
    got=$(node -e 'const c = require("crypto"), fs = require("fs");
        console.log("sha512-" + c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$tgz")
    if [ "$got" != "$integrity" ]; then
        say "$(basename "$tgz"): integrity $got, expected $integrity: refusing it"
        exit 1
    fi
    rm -rf "$dir/package"
    tar -xzf "$tgz" -C "$dir" package/model package/demo package/LICENSE
    : >"$dir/package/.complete-$ver"
    say "$pkg@$ver unpacked in $dir/package (integrity checked)"
fi

[ -x "$dtrain" ] || { say "no dtrain binary at $dtrain (build first, or pass its path)"; exit 1; }
for n in "${nets[@]}"; do
    ini=models/faces/${n%%:*}.ini
    out=$dir/${n%%:*}.h5
    # converted again when the model file or the converter changed
    [ -s "$out" ] && [ "$out" -nt "$ini" ] && [ "$out" -nt "$dtrain" ] && continue
    OMPI_MCA_ess_singleton_isolated=1 "$dtrain" import tfjs "$dir/package/model/${n#*:}-weights_manifest.json" \
        --model "$ini" --out "$out" >&2
done
