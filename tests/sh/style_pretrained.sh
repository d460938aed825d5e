#!/usr/bin/env bash
# dtrain style through pretrained feature networks (face-api's, converted by
# launch/get_faces.sh), in their own pixel scale ([preprocess] mean / 255):
#  - the tiny face detector's backbone and the landmark net's feature
#    extractor both run at a size they were not built for (fully
#    convolutional), and the style cost falls at least 10x in 60 iterations;
#  - the result is a picture of the requested size that differs from the content;
#  - started from the content itself, the content cost starts at 0, which
#    checks that pictures reach the network in its own scale both ways.
source "$(dirname "$0")/../lib.sh"
need_pictures
need_faces
c=$PICTURES/chelsea.png s=$PICTURES/gravel.png
for net in detector_features:tiny_face_detector face_features:face_landmark_68; do
    m=$DTRAIN_SRC/models/style/${net%%:*}.ini ck=$FACES/${net#*:}.h5
    out=$(timeout -k 5 300 "$DTRAIN" style --net "$m" --ckpt "$ck" --size 64x80 --content "$c" --style "$s" --iters 60 \
        --out "$TMP/${net%%:*}.png" 2>&1) || fail "${net%%:*}: $out"
    final=$(grep -- "->" <<<"$out")
    read -r c0 s0 s1 < <(sed -E 's/.*J_content ([^ ]+) -> [^,]+, J_style ([^ ]+) -> ([^;]+);.*/\1 \2 \3/' <<<"$final")
    [ -n "$s1" ] || fail "${net%%:*}: no final cost line: $out"
    awk -v a="$s0" -v b="$s1" 'BEGIN { exit !(b < a / 10) }' || fail "${net%%:*}: J_style fell from $s0 to $s1 only (< 10x)"
    file "$TMP/${net%%:*}.png" | grep -q "PNG image data, 80 x 64" || fail "not an 80x64 PNG: $(file "$TMP/${net%%:*}.png")"
    out=$(timeout -k 5 300 "$DTRAIN" style --net "$m" --ckpt "$ck" --size 64x80 --content "$c" --style "$s" --iters 1 \
        --noise 0 --out "$TMP/same.png" 2>&1) || fail "${net%%:*} --noise 0: $out"
    z=$(grep -- "->" <<<"$out" | sed -E 's/.*J_content ([^ ]+) -> .*/\1/')
    [ -n "$z" ] || fail "${net%%:*} --noise 0: no final cost line: $out"
    awk -v a="$z" 'BEGIN { exit !(a < 1e-9) }' || fail "${net%%:*}: from the content itself J_content starts at $z, not 0"
    ok "${net%%:*}: J_style $s0 -> $s1 in 60 iterations; the content itself costs $z"
done
