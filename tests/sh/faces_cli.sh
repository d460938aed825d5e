#!/usr/bin/env bash
# dtrain detect, faces, verify, identify and import tfjs from the command line:
#  - detect prints face-api's three boxes of demo photo 1 and draws them;
#    --score drops the weakest; --size runs the network at another size;
#    a picture without faces gives "0 boxes";
#  - faces writes boxes, landmarks, aligned crops and descriptors to HDF5;
#  - verify: a photo and its PNG copy are one person (distance 0), two
#    photos of different people are apart (changed copies: faces_agree);
#  - identify --add enrols people, identify names them or says they are not
#    in the database;
#  - bad pictures, databases, manifests and options are one-line errors,
#    and a failed import leaves an existing output file as it was.
source "$(dirname "$0")/../lib.sh"
need_faces
for k in 1 2 3 5; do "$DTRAIN_TOPNG" "$FACES/package/demo/sample$k.jpg" "$TMP/sample$k.png" || fail "topng"; done
det=$FACES/tiny_face_detector.h5
q() { timeout -k 5 120 "$DTRAIN" "$@" 2>&1; }

# detect
out=$(q detect --ckpt "$det" "$TMP/sample1.png" --out "$TMP/det") || fail "detect: $out"
grep -q "sample1.png: 3 boxes (1920x1280)" <<<"$out" || fail "detect: $out"
# face-api's boxes (tests/faces/ref/sample1.json): x1 y1 of the best one
awk 'NR == 2 { found = $1 == "face" && $2 >= 0.7797 && $2 <= 0.7799 && $3 >= 775.9 && $3 <= 776.0 && $4 >= 445.2 && $4 <= 445.3 }
     END { exit !found }' <<<"$out" ||
    fail "the best box is not face-api's (score 0.7798 at 775.94, 445.28): $out"
file "$TMP/det/sample1.png" | grep -q "PNG image data, 1920 x 1280" || fail "no drawn picture: $(ls "$TMP/det")"
out=$(q detect --ckpt "$det" "$TMP/sample1.png" --score 0.75) || fail "detect --score: $out"
grep -q "sample1.png: 2 boxes" <<<"$out" || fail "--score 0.75 should keep 2 of 3 boxes: $out"
out=$(q detect --ckpt "$det" "$TMP/sample5.png" --size 608) || fail "detect --size: $out"
grep -q "sample5.png: [1-9] box" <<<"$out" || fail "--size 608 found nothing: $out"
printf 'P6\n64 48\n255\n' >"$TMP/grey.ppm"
head -c $((64 * 48 * 3)) /dev/zero | tr '\0' '\200' >>"$TMP/grey.ppm"
out=$(q detect --ckpt "$det" "$TMP/grey.ppm") || fail "detect on grey: $out"
grep -q "grey.ppm: 0 boxes" <<<"$out" || fail "a grey picture has no faces: $out"
ok "detect: face-api's boxes, drawn; --score, --size; none on grey"

# faces
out=$(q faces "$TMP/sample1.png" "$TMP/sample2.png" --out "$TMP/f.h5") || fail "faces: $out"
grep -q "^4 faces in 2 pictures written" <<<"$out" || fail "faces: $out"
out=$(q info "$TMP/f.h5") || fail "info: $out"
for d in "boxes.*4, 5" "landmarks.*4, 68, 2" "descriptors.*4, 128" "aligned.*4, 4"; do
    grep -q "$d" <<<"$out" || fail "faces output lacks $d: $out"
done
ok "faces: 4 faces with boxes, landmarks, crops, descriptors"

# verify
out=$(q verify "$TMP/sample2.png" "$TMP/sample5.png") || fail "verify: $out"
grep -q "different people" <<<"$out" || fail "samples 2 and 5: $out"
out=$(q verify "$TMP/sample2.png" "$FACES/package/demo/sample2.jpg") || fail "verify: $out"
grep -q "distance 0.0000: same person" <<<"$out" || fail "the picture and its PNG copy: $out"
ok "verify: same and different"

# identify
db=$TMP/db.h5
out=$(q identify --add ann "$TMP/sample2.png" --db "$db") || fail "identify --add: $out"
grep -q "added ann" <<<"$out" || fail "$out"
out=$(q identify --add crowd "$TMP/sample5.png" --db "$db") || fail "identify --add: $out"
grep -q "(2 people in" <<<"$out" || fail "$out"
out=$(q identify "$FACES/package/demo/sample2.jpg" --db "$db") || fail "identify: $out"
grep -q "face 0 .*: ann (distance 0.0000)" <<<"$out" || fail "ann not recognised: $out"
out=$(q identify "$TMP/sample3.png" --db "$db") || fail "identify: $out"
[ "$(grep -c "not in the database" <<<"$out")" -eq 3 ] || fail "sample3's three faces are not in the database: $out"
ok "identify: enrols, recognises, rejects strangers"

# one-line errors
out=$(q verify "$TMP/grey.ppm" "$TMP/sample1.png") && fail "no face accepted"
one_line "$out" "grey.ppm: no face found"
head -c 1000 /dev/urandom >"$TMP/junk.jpg"
out=$(q detect --ckpt "$det" "$TMP/junk.jpg") && fail "junk picture accepted"
one_line "$out" "junk.jpg: cannot read the image"
out=$(q identify "$TMP/sample1.png" --db "$TMP/nodb.h5") && fail "missing database accepted"
one_line "$out" "nodb.h5"
out=$(q identify "$TMP/sample1.png" --db "$det") && fail "a checkpoint taken for a database"
one_line "$out" "not a face database"
out=$(q identify --add $'two\nlines' "$TMP/sample2.png" --db "$db") && fail "a name with a newline accepted"
one_line "$out" "one line"
out=$(q detect --ckpt "$FACES/face_landmark_68.h5" "$TMP/sample1.png") && fail "a landmark net taken for a detector"
one_line "$out" "no \[yolo\] section"
out=$(q detect --ckpt "$det" "$TMP/sample1.png" --score 2) && fail "--score 2 accepted"
grep -q "bad value for '--score'" <<<"$out" || fail "--score 2: $out"
ok "bad pictures, databases, names, checkpoints and options"

# import tfjs: a good conversion, then broken manifests and shards
m=$FACES/package/model
out=$(q import tfjs "$m/tiny_face_detector_model-weights_manifest.json" --model "$DTRAIN_SRC/models/faces/tiny_face_detector.ini" \
    --out "$TMP/d.h5") || fail "import: $out"
grep -q "imported 19 weights (193321 parameters)" <<<"$out" || fail "import: $out"
cp "$TMP/d.h5" "$TMP/d.keep"
cp "$m/tiny_face_detector_model-weights_manifest.json" "$TMP/man.json"
head -c 100000 "$m/tiny_face_detector_model.bin" >"$TMP/tiny_face_detector_model.bin"
imp() { q import tfjs "$1" --model "${2:-$DTRAIN_SRC/models/faces/tiny_face_detector.ini}" --out "$TMP/d.h5"; }
out=$(imp "$TMP/man.json") && fail "a short binary accepted"
one_line "$out" "man.json: weight 'conv5/pointwise_filter' needs .* bytes"
echo '{"not": "an array"}' >"$TMP/obj.json"
out=$(imp "$TMP/obj.json") && fail "a JSON object accepted"
one_line "$out" "obj.json: not a TensorFlow.js weights manifest"
echo '[{"paths": ["x.bin"], "weights": [' >"$TMP/cut.json"
out=$(imp "$TMP/cut.json") && fail "cut JSON accepted"
one_line "$out" "cut.json: not valid JSON"
sed 's/"tiny_face_detector_model.bin"/"..\/..\/etc\/passwd"/' "$m/tiny_face_detector_model-weights_manifest.json" >"$TMP/up.json"
grep -q passwd "$TMP/up.json" || fail "could not make the ../ manifest"
out=$(imp "$TMP/up.json") && fail "a shard outside the manifest's folder accepted"
one_line "$out" "shard path '../../etc/passwd'"
sed '/^conv8.b = /d' "$DTRAIN_SRC/models/faces/tiny_face_detector.ini" >"$TMP/nob.ini"
out=$(imp "$m/tiny_face_detector_model-weights_manifest.json" "$TMP/nob.ini") && fail "an unmapped parameter accepted"
one_line "$out" "\[tfjs\] has no entry conv8.b"
sed 's/^conv8.b = .*/conv8.b = conv1\/bias/' "$DTRAIN_SRC/models/faces/tiny_face_detector.ini" >"$TMP/shape.ini"
out=$(imp "$m/tiny_face_detector_model-weights_manifest.json" "$TMP/shape.ini") && fail "a wrong shape accepted"
one_line "$out" "conv8.b = conv1/bias: the weight's shape is \[32\], the layer needs \[25\]"
cmp -s "$TMP/d.h5" "$TMP/d.keep" || fail "a failed import changed the existing output"
cp "$DTRAIN_SRC/models/faces/tiny_face_detector.ini" "$TMP/typo.ini"
echo "conv0.typo = conv0/filters" >>"$TMP/typo.ini"
out=$(imp "$m/tiny_face_detector_model-weights_manifest.json" "$TMP/typo.ini") && fail "an unknown [tfjs] key accepted"
one_line "$out" "\[tfjs\] unknown key 'conv0.typo'"
cmp -s "$TMP/d.h5" "$TMP/d.keep" || fail "a failed import changed the existing output"
ok "import tfjs: one-line errors, output untouched"

# faces: a bad picture among good ones is reported, the good ones' faces are written
out=$(q faces "$TMP/sample2.png" "$TMP/junk.jpg" --out "$TMP/f2.h5") && fail "faces with a junk picture exited 0"
grep -q "^dtrain: error: .*junk.jpg: cannot read the image" <<<"$out" || fail "faces: $out"
grep -q "^1 face in 2 pictures written" <<<"$out" || fail "faces did not write the good picture's face: $out"
ok "faces: a bad picture reported, the others written"
