#!/usr/bin/env bash
# dtrain style on small pictures (48x64) with the default feature network:
#  - the style cost falls at least 10x and the total cost falls: every
#    logged J (each tenth of the run) is at most 5 % above the one before
#    (Adam with lr 2 is not monotone step by step; over a tenth of the run
#    it is), and the last is below a tenth of the first;
#  - started from the content itself (--noise 0), the first J_style is the
#    content's own style cost: the result's Gram statistics end far from
#    the content's (J_style at least 10x lower) while J_content stays small;
#  - the same seed gives the same picture; --save-every writes the steps;
#  - two ranks share three pictures, one of them unreadable: it is
#    reported, and the other two are written;
#  - bad layers, sizes and pictures are one-line errors.
source "$(dirname "$0")/../lib.sh"
need_pictures
c=$PICTURES/chelsea.png s=$PICTURES/gravel.png
st() { timeout -k 5 300 "$DTRAIN" style --size 48x64 "$@" 2>&1; }

out=$(st --content "$c" --style "$s" --iters 60 --noise 0 --save-every 30 --out "$TMP/a.png") || fail "style: $out"
[ -s "$TMP/a.png" ] && [ -s "$TMP/a-iter30.png" ] || fail "no pictures written: $(ls "$TMP")"
file "$TMP/a.png" | grep -q "PNG image data, 64 x 48" || fail "not a 64x48 PNG: $(file "$TMP/a.png")"
js=$(grep -o "J_style [0-9.e+-]*" <<<"$out" | awk '{print $2}')
jv=$(grep ": iteration [0-9]*/" <<<"$out" | grep -o " J [0-9.e+-]*" | awk '{print $2}')
[ "$(wc -l <<<"$jv")" -ge 10 ] || fail "too few progress lines: $out"
awk 'NR > 1 && $1 > 1.05 * prev { bad = 1 } { prev = $1 } END { exit bad }' <<<"$jv" || fail "J rose by more than 5 % between logged points: $jv"
final=$(grep -- "->" <<<"$out")
read -r j0 j1 c0 c1 s0 s1 < <(sed -E 's/.*J ([^ ]+) -> ([^,]+), J_content ([^ ]+) -> ([^,]+), J_style ([^ ]+) -> ([^;]+);.*/\1 \2 \3 \4 \5 \6/' <<<"$final")
awk -v a="$j0" -v b="$j1" 'BEGIN { exit !(b < a / 10) }' || fail "J fell from $j0 to $j1 only"
awk -v a="$s0" -v b="$s1" 'BEGIN { exit !(b < a / 10) }' || fail "J_style fell from $s0 to $s1 only (< 10x)"
awk -v a="$c0" 'BEGIN { exit !(a < 1e-6) }' || fail "from the content itself, the first J_content is $c0, not 0"
awk -v c="$c1" -v s="$s0" 'BEGIN { exit !(c < s) }' || fail "J_content $c1 ended above the content's own style cost $s0"
ok "J $j0 -> $j1, J_style $s0 (the content's own) -> $s1, J_content 0 -> $c1"

# the same seed, the same picture
st --content "$c" --style "$s" --iters 5 --seed 3 --out "$TMP/b.png" >/dev/null || fail "seed 3"
st --content "$c" --style "$s" --iters 5 --seed 3 --out "$TMP/b2.png" >/dev/null || fail "seed 3 again"
cmp -s "$TMP/b.png" "$TMP/b2.png" || fail "seed 3 twice gave different pictures"
st --content "$c" --style "$s" --iters 5 --seed 4 --out "$TMP/b3.png" >/dev/null || fail "seed 4"
cmp -s "$TMP/b.png" "$TMP/b3.png" && fail "seeds 3 and 4 gave the same picture"
ok "same seed, same picture; another seed, another"

# layers and weights chosen on the command line
out=$(st --content "$c" --style "$s" --iters 3 --content-layer s3 --style-layers s7:0.5,s12:0.5 --alpha 5 --beta 10 --out "$TMP/l.png") ||
    fail "chosen layers: $out"
ok "--content-layer s3 --style-layers s7:0.5,s12:0.5"

# two ranks, three pictures, one unreadable
printf 'not a picture' >"$TMP/bad.png"
out=$(timeout -k 5 300 mpiexec --quiet --oversubscribe -np 2 "$DTRAIN" style --size 32x32 --iters 3 \
    --content "$c,$TMP/bad.png,$PICTURES/coffee.png" --style "$s" --out "$TMP/m.png" 2>&1)
rc=$?
[ $rc -ne 0 ] || fail "a bad picture among three: exit 0"
[ -s "$TMP/m-chelsea.png" ] && [ -s "$TMP/m-coffee.png" ] || fail "the good pictures were not written: $(ls "$TMP") $out"
grep -q "error: rank 1: .*bad.png: cannot read the image" <<<"$out" || fail "the bad picture was not reported by its rank: $out"
ok "2 ranks, 3 pictures: the bad one reported by rank 1, the other two written"

check_err() { # check_err WANT ARGS...
    local want=$1 e
    shift
    e=$(st "$@") && fail "accepted: $*"
    [ "$(grep -c . <<<"$e")" -eq 1 ] || fail "not one line for '$*': $e"
    grep -q -- "$want" <<<"$e" || fail "'$*': '$e' lacks '$want'"
}
check_err "--content-layer 'nope': models/style/random_multiscale.ini has no such layer" --content "$c" --style "$s" --content-layer nope --out "$TMP/x.png"
check_err "--style-layers: models/style/random_multiscale.ini has no layer 'q'" --content "$c" --style "$s" --style-layers s3:1,q:1 --out "$TMP/x.png"
check_err "--style-layers 's3': expected LAYER:WEIGHT" --content "$c" --style "$s" --style-layers s3 --out "$TMP/x.png"
check_err "--size wants HxW" --content "$c" --style "$s" --size 300 --out "$TMP/x.png"
check_err "no_such.png: No such file" --content "$TMP/no_such.png" --style "$s" --out "$TMP/x.png"
check_err "bad.png: cannot read the image" --content "$c" --style "$TMP/bad.png" --out "$TMP/x.png"
check_err "missing --out" --content "$c" --style "$s"
ok "bad layers, sizes and pictures: one line each"
