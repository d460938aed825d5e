#!/usr/bin/env bash
# dtrain's face pipeline against face-api 1.7.15 itself (tests/faces/ref, made
# by tests/tools/faceapi_reference.sh in Node; see its README):
#  - the raw outputs of the detector, the landmark net and the recogniser on
#    fixed inputs agree to 1e-3;
#  - on the six demo photos (decoded by stb_image into PNGs, as the fixtures
#    were), the same faces are found, every box overlaps face-api's with
#    IoU >= 0.98, landmarks agree within 1 pixel and descriptors within
#    Euclidean distance 0.01;
#  - every face stays within 0.6 of a mirrored, a shifted (a tenth of its
#    box) and a 20 % brighter copy of itself (README's figures).
source "$(dirname "$0")/../lib.sh"
need_faces
for k in 1 2 3 4 5 6; do
    "$DTRAIN_TOPNG" "$FACES/package/demo/sample$k.jpg" "$TMP/sample$k.png" || fail "topng sample$k.jpg"
done
out=$(timeout -k 5 300 "$DTRAIN_FACES_CHECK" agree "$FACES" "$DTRAIN_SRC/tests/faces/ref" "$TMP" 2>&1) || fail "$out"
echo "$out"
grep -q "^20 faces of 6 photos" <<<"$out" || fail "expected face-api's 20 faces: $out"
ok "agrees with face-api"
out=$(timeout -k 5 300 "$DTRAIN_FACES_CHECK" figures "$FACES" "$TMP"/sample[1-6].png 2>&1) || fail "$out"
echo "$out"
ok "every face is within 0.6 of its changed copies"
