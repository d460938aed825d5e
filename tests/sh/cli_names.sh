#!/usr/bin/env bash
# Untrusted names and paths (issue 16 item 5): class names with quotes and
# shell characters survive every output as they are (metrics.jsonl stays
# valid JSON, checkpoints, predict, eval --mistakes), names that would not
# are refused with one line, and a run writes nowhere but its run directory
# and the outputs it is given.
source "$(dirname "$0")/../lib.sh"
names=('say "hi"' '$(touch PWNED) `touch PWNED2`' "it's | rm -rf x & echo")
joined=$(IFS=,; echo "${names[*]}")
mkdir -p "$TMP/work" "$TMP/in" "$TMP/out"
cat >"$TMP/in/m.ini" <<'M'
[input]
shape = 1,8,8
[flat]
type = flatten
[out_layer-1]
type = dense
units = 3
activation = softmax
M
cat >"$TMP/in/c.ini" <<CFG
[model]
file = $TMP/in/m.ini
[data]
source = random_images
shape = 8,8,1
classes = 3
n = 48
test_n = 24
class_names = $joined
[optim]
type = adam
lr = 0.01
[train]
epochs = 2
global_batch = 8
keep = 2
CFG
touch "$TMP/marker"
sleep 1
cd "$TMP/work" || fail "no work directory"
out=$(run 2 train "$TMP/in/c.ini" --out "$TMP/run" 2>&1) || fail "training failed: $out"
"$DTRAIN_JSONL_CHECK" "$TMP/run/metrics.jsonl" || fail "metrics.jsonl is not valid JSON lines"
info=$("$DTRAIN" info "$TMP/run/checkpoint.h5" 2>&1) || fail "info failed: $info"
grep -qF "class_names" <<<"$info" && grep -qF "${names[0]}" <<<"$info" || fail "class names not in the checkpoint: $info"
ok "training with class names ${names[*]}: valid metrics.jsonl, names in the checkpoint"

# predict names its answer exactly as the data did
{ printf 'P5\n8 8\n255\n'; head -c 64 /dev/urandom; } >"$TMP/in/x.pgm"
out=$("$DTRAIN" predict --ckpt "$TMP/run/checkpoint.h5" "$TMP/in/x.pgm" 2>&1) || fail "predict failed: $out"
hit=0
for n in "${names[@]}"; do [[ $out == "$TMP/in/x.pgm: $n (p = "* ]] && hit=1; done
[ $hit -eq 1 ] || fail "predict did not print one of the class names as it is: $out"
ok "predict: $out"

# eval --mistakes lists them tab-separated, one mistake per line
out=$(run 2 eval "$TMP/in/c.ini" --ckpt "$TMP/run/checkpoint.h5" --mistakes "$TMP/out/m.png" 2>&1) ||
    fail "eval --mistakes failed: $out"
while IFS=$'\t' read -r idx t p; do
    [[ $idx =~ ^[0-9]+$ ]] || fail "m.txt: bad index in '$idx'"
    for v in "$t" "$p"; do
        [ "$v" = "${names[0]}" ] || [ "$v" = "${names[1]}" ] || [ "$v" = "${names[2]}" ] || fail "m.txt: '$v' is not a class name"
    done
done <"$TMP/out/m.txt"
ok "eval --mistakes: $(wc -l <"$TMP/out/m.txt") mistakes listed with the names intact"

# nothing ran through a shell, nothing was written outside the run and output directories
[ ! -e PWNED ] && [ ! -e PWNED2 ] && [ ! -e "$TMP/run/PWNED" ] || fail "a class name was run by a shell"
stray=$(find "$TMP" -newer "$TMP/marker" -type f ! -path "$TMP/run/*" ! -path "$TMP/out/*" ! -path "$TMP/in/*")
[ -z "$stray" ] || fail "files written outside the run and output directories: $stray"
ok "no file outside $TMP/run and $TMP/out ($(find "$TMP/run" -type f | wc -l) files in the run)"

# names that would not survive are refused, one line, naming the file and line
printf '[input]\nshape = 2\n[fc"1]\ntype = dense\nunits = 1\n' >"$TMP/in/q.ini"
sed "s|$TMP/in/m.ini|$TMP/in/q.ini|" "$TMP/in/c.ini" >"$TMP/in/cq.ini"
out=$(runq 1 train "$TMP/in/cq.ini" --out "$TMP/q" 2>&1) && fail "a layer name with a quote was accepted"
one_line "$out" "q.ini:3: expected '\[name\]' with a name of letters, digits"
out=$(runq 1 train "$TMP/in/c.ini" --out "$TMP/q" 'train.epochs;rm=1' 2>&1) && fail "a bad override was accepted"
one_line "$out" "override 'train.epochs;rm=1': expected section.key=value"
out=$(runq 1 train "$TMP/in/c.ini" --out "$TMP/q" "data.class_names=a,b$(printf '\001')c" 2>&1) &&
    fail "a class name with a control character was accepted"
one_line "$out" "class_names.*control character"
[ ! -e "$TMP/q" ] || fail "a refused run left $TMP/q behind"
ok "quotes in layer names, a ';' in an override's key and control characters in class names: one-line errors"
