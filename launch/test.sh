#!/usr/bin/env bash
# test.sh — install what is missing, build the float, the double and an
# AddressSanitizer+UBSan variant, and run the whole ctest suite on each.
# Course data comes from $DTRAIN_DATA (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/setup.sh
dt_install
dt_pictures
export DTRAIN_DATA=${DTRAIN_DATA:-$(cd .. && pwd)/shared/data}
status=0
for variant in float double asan; do
    case $variant in
    float) dir=build opts=() ;;
    double) dir=build-double opts=(-DDTRAIN_DOUBLE=ON) ;;
    asan) dir=build-asan opts=(-DDTRAIN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
    esac
    echo "== $variant build ($dir)"
    dt_build "$dir" "${opts[@]}"
    echo "== $variant tests"
    (cd "$dir" && ctest -j "$(nproc)" --output-on-failure --timeout 900) || status=1
done
[ $status -eq 0 ] && echo "all variants passed" || echo "some tests FAILED"
exit $status
