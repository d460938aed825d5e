#!/usr/bin/env bash
# predict on images the test writes, and eval --mistakes (grid PNG, list, confusion matrix).
source "$(dirname "$0")/../lib.sh"
need_course_data
run 1 train configs/course/cat_logreg.ini train.epochs=50 --out "$TMP/run" --quiet >/dev/null 2>&1 || fail "training failed"
ckpt=$TMP/run/checkpoint.h5

# The misclassified test images, on 2 ranks: rank 0 alone writes.
out=$(run 2 eval configs/course/cat_logreg.ini --ckpt "$ckpt" --mistakes "$TMP/m.png" 2>&1) || fail "eval --mistakes failed: $out"
[ "$(head -c 8 "$TMP/m.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "m.png is not a PNG"
acc=$(field 'test ' 6 "$out")                                 # (c/t)
c=${acc#(}; c=${c%/*}; t=${acc#*/}; t=${t%)}
[ -n "$c" ] && [ -n "$t" ] || fail "no test accuracy line: $out"
[ "$(wc -l <"$TMP/m.txt")" -eq $((t - c)) ] || fail "m.txt has $(wc -l <"$TMP/m.txt") lines, eval reported $((t - c)) errors"
grep -Eqv $'^[0-9]+\t(cat|non-cat)\t(cat|non-cat)$' "$TMP/m.txt" && fail "m.txt lines are not index, true, predicted: $(head -3 "$TMP/m.txt")"
grep -q "^confusion matrix" <<<"$out" || fail "no confusion matrix: $out"
ok "eval --mistakes: grid PNG and $((t - c)) listed mistakes"

# Own images: the PNG eval wrote, a binary PPM (RGB) and a PGM (grey, converted to RGB).
{ printf 'P6\n8 6\n255\n'; for _ in $(seq 48); do printf '\200\100\040'; done; } >"$TMP/rgb.ppm"
{ printf 'P5\n3 2\n255\n'; printf '\000\377\177\020\200\300'; } >"$TMP/grey.pgm"
out=$("$DTRAIN" predict --ckpt "$ckpt" "$TMP/m.png" "$TMP/rgb.ppm" "$TMP/grey.pgm" 2>&1) || fail "predict failed: $out"
[ "$(wc -l <<<"$out")" -eq 3 ] || fail "predict: expected 3 lines: $out"
while read -r line; do
    [[ $line =~ ^$TMP/[a-z.]+:\ (cat|non-cat)\ \(p\ =\ ([0-9.]+)\)$ ]] || fail "predict line: $line"
    awk -v p="${BASH_REMATCH[2]}" 'BEGIN { exit !(p >= 0.5 && p <= 1) }' || fail "probability out of range: $line"
done <<<"$out"
ok "predict: $(head -1 <<<"$out")"

# Errors name the file, one line each, exit 2.
out=$("$DTRAIN" predict --ckpt "$ckpt" "$TMP/missing.png" 2>&1)
[ $? -eq 2 ] && grep -q "missing.png" <<<"$out" || fail "missing image: $out"
out=$("$DTRAIN" predict --ckpt "$ckpt" "$TMP/m.txt" 2>&1)
[ $? -eq 2 ] && grep -q "m.txt: cannot read the image" <<<"$out" || fail "unreadable image: $out"
out=$("$DTRAIN" predict --ckpt "$DATA/course/train_catvnoncat.h5" "$TMP/m.png" 2>&1)
[ $? -eq 2 ] && grep -q "train_catvnoncat.h5: not a dtrain checkpoint" <<<"$out" || fail "checkpoint without model: $out"
ok "predict errors name the file"
