#!/usr/bin/env bash
# get_pictures.sh — photographs and textures for `dtrain style` (its tests
# and README), from Debian's python3-skimage package: the .deb is
# downloaded (apt-get download) and only its picture files are unpacked,
# so nothing is installed and none of its dependencies are needed.
#   launch/get_pictures.sh [DIR]   (default $DTRAIN_PICTURES, else
#                                   ~/.cache/dtrain/pictures); a re-run is a no-op
set -euo pipefail
dir=${1:-${DTRAIN_PICTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain/pictures}}
want=(astronaut.png chelsea.png coffee.png brick.png gravel.png grass.png)
have=1
for f in "${want[@]}"; do [ -s "$dir/$f" ] || have=0; done
[ $have -eq 1 ] && exit 0
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# apt-get download needs the package lists; fetch them once if they are missing
if ! apt-get download python3-skimage >/dev/null 2>&1; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    apt-get download python3-skimage >/dev/null 2>&1 || { echo "get_pictures: cannot download python3-skimage" >&2; exit 1; }
fi
dpkg-deb -x python3-skimage_*.deb x
for f in "${want[@]}"; do cp "x/usr/lib/python3/dist-packages/skimage/data/$f" "$dir/"; done
echo "get_pictures: ${want[*]} in $dir (from $(ls python3-skimage_*.deb))"
