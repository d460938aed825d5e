#!/bin/sh
# faceapi_reference.sh — run tests/tools/faceapi_reference.mjs (reference
# outputs of @vladmandic/face-api 1.7.15 on the pure-JS TensorFlow.js cpu
# back end) with pinned npm packages.
#
#   tests/tools/faceapi_reference.sh regen [OUT_DIR]
#       regenerate the committed fixtures: builds tests/tools/topng.c, turns
#       the package's demo/sample1..6.jpg into PNGs with stb_image, and writes
#       OUT_DIR/sample1..6.json and OUT_DIR/fixed_inputs.json
#       (OUT_DIR defaults to tests/faces/ref)
#   tests/tools/faceapi_reference.sh [--models DIR] --out DIR [--fixed FILE] IMAGE...
#       any other arguments go to faceapi_reference.mjs; --modules is added
#
# The npm packages (exact versions below; no native code) are installed once
# with `npm install --ignore-scripts` into $DTRAIN_CACHE/faceapi-ref
# (DTRAIN_CACHE defaults to ~/.cache/dtrain), never into the repository.
# Needs node >= 18 and npm (and the npm registry for the first install);
# regen also needs gcc and stb (Debian libstb-dev: /usr/include/stb).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${DTRAIN_CACHE:-$HOME/.cache/dtrain}/faceapi-ref
faceapi_integrity='sha512-WDMmK3CfNLo8jylWqMoQgf4nIst3M0fzx1dnac96wv/dvMTN4DxC/Pq1DGtduDk1lktCamQ3MIDXFnvrdHTXDw=='

mkdir -p "$cache"
cat > "$cache/package.json.want" <<'EOF'
{
  "name": "dtrain-faceapi-ref",
  "private": true,
  "version": "0.0.0",
  "dependencies": {
    "@vladmandic/face-api": "1.7.15",
    "@tensorflow/tfjs": "4.22.0",
    "@tensorflow/tfjs-core": "4.22.0",
    "@tensorflow/tfjs-backend-cpu": "4.22.0",
    "@tensorflow/tfjs-backend-wasm": "4.22.0",
    "jpeg-js": "0.4.4",
    "pngjs": "7.0.0"
  }
}
EOF
if ! cmp -s "$cache/package.json.want" "$cache/package.json" \
    || [ ! -f "$cache/node_modules/@vladmandic/face-api/package.json" ] \
    || [ ! -f "$cache/node_modules/pngjs/package.json" ]; then
    cp "$cache/package.json.want" "$cache/package.json"
    echo "faceapi_reference: installing npm packages into $cache" >&2
    (cd "$cache" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
fi
rm -f "$cache/package.json.want"

# the lock file must name the expected face-api tarball and tfjs 4.22.0
node -e '
const lock = require(process.argv[1] + "/package-lock.json").packages;
const want = { "node_modules/@vladmandic/face-api": "1.7.15", "node_modules/@tensorflow/tfjs": "4.22.0",
  "node_modules/@tensorflow/tfjs-core": "4.22.0", "node_modules/@tensorflow/tfjs-backend-cpu": "4.22.0" };
for (const [k, v] of Object.entries(want))
  if (!lock[k] || lock[k].version !== v) { console.error(`faceapi_reference: ${k} is not ${v}`); process.exit(1); }
if (lock["node_modules/@vladmandic/face-api"].integrity !== process.argv[2]) {
  console.error("faceapi_reference: @vladmandic/face-api integrity mismatch"); process.exit(1);
}' "$cache" "$faceapi_integrity"

mods=$cache/node_modules
script=$here/faceapi_reference.mjs

if [ "${1:-}" != regen ]; then
    exec node "$script" --modules "$mods" "$@"
fi

out=${2:-$root/tests/faces/ref}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
gcc -O2 -I/usr/include/stb -o "$tmp/topng" "$here/topng.c" -lm
set --
for k in 1 2 3 4 5 6; do
    "$tmp/topng" "$mods/@vladmandic/face-api/demo/sample$k.jpg" "$tmp/sample$k.png"
    set -- "$@" "$tmp/sample$k.png"
done
mkdir -p "$out"
node "$script" --modules "$mods" --out "$out" --fixed "$out/fixed_inputs.json" "$@"
