#!/usr/bin/env bash
# Bad input: each case, run at 2 ranks, must end every rank within 10 s (30 s
# under a sanitizer) with a non-zero exit and exactly one line on stderr that
# names the file, line or key and what was expected — and must leave existing
# files alone.
source "$(dirname "$0")/../lib.sh"
need_course_data

# expect NAME PATTERN ARGS...: dtrain ARGS fails at 2 ranks with one matching line.
expect() {
    local name=$1 pattern=$2 rc start
    shift 2
    start=$(date +%s)
    timeout -k 2 "$END_LIMIT" mpiexec --quiet --oversubscribe -np 2 "$DTRAIN" "$@" >"$TMP/out" 2>"$TMP/err"
    rc=$?
    [ "$rc" != 124 ] && [ "$rc" != 137 ] || fail "$name: the ranks did not end within $END_LIMIT s"
    [ "$rc" != 0 ] || fail "$name: exit status 0"
    [ "$(wc -l <"$TMP/err")" = 1 ] || fail "$name: expected one line on stderr, got: $(cat "$TMP/err")"
    grep -Eq -- "$pattern" "$TMP/err" || fail "$name: message does not match /$pattern/: $(cat "$TMP/err")"
    ok "$name (exit $rc, $(($(date +%s) - start)) s): $(cat "$TMP/err")"
}

cp configs/course/cat_deep.ini "$TMP/good.ini"
sed -i "s|^file = models/|file = $PWD/models/|" "$TMP/good.ini"
cfg() { sed "$1" "$TMP/good.ini" >"$TMP/$2"; echo "$TMP/$2"; }

expect "unknown config key" "bad_key.ini:[0-9]+: \[optim\] unknown key 'lrr'" \
    train "$(cfg 's/^lr = \(.*\)/lr = \1\nlrr = 0.1/' bad_key.ini)" --out "$TMP/o"
sed 's/^type = dense/type = densely/' models/cat_deep.ini >"$TMP/bad_type_model.ini"
expect "unknown layer type" "bad_type_model.ini:[0-9]+: \[fc1\] type = 'densely': unknown layer type" \
    train "$(cfg "s|^file = .*|file = $TMP/bad_type_model.ini|" bad_type.ini)" --out "$TMP/o"
expect "missing config file" "no_such.ini: cannot open" train "$TMP/no_such.ini"
expect "missing model file" "\[model\] file: .*nope.ini: cannot open" \
    train "$(cfg 's|^file = .*|file = models/nope.ini|' missing_model.ini)" --out "$TMP/o"
expect "missing data file" "no_such.h5" \
    train "$(cfg 's|^train = .*|train = course/no_such.h5|' missing_data.ini)" --out "$TMP/o"
expect "model input does not match the data" "fmnist_mlp.ini:[0-9]+: \[input\] shape gives 784 values per example, but the data has 12288" \
    train "$(cfg "s|^file = .*|file = $PWD/models/fmnist_mlp.ini|" mismatch.ini)" --out "$TMP/o"
head -c 300000 "$DATA/course/train_catvnoncat.h5" >"$TMP/trunc.h5"
expect "truncated HDF5 file" "trunc.h5" \
    train "$(cfg "s|^train = .*|train = $TMP/trunc.h5|" trunc.ini)" --out "$TMP/o"
printf '\0\0\x08\x99\0\0\0\x01\0\0\0\x1c\0\0\0\x1c' | gzip >"$TMP/bad-images.gz"
printf '[model]\nfile = %s/models/fmnist_mlp.ini\n[data]\nsource = idx\nroot = /usr/share/datasets/fashion-mnist\ntrain_images = %s/bad-images.gz\ntrain_labels = train-labels-idx1-ubyte.gz\n[optim]\nlr = 0.1\n[train]\nepochs = 1\n' \
    "$PWD" "$TMP" >"$TMP/idx.ini"
expect "IDX file with a bad magic number" "bad-images.gz: bad IDX magic number 0x00000899" train "$TMP/idx.ini" --out "$TMP/o"
# a 32-byte file whose header claims 4e9 images: refused before anything is allocated
printf '\0\0\x08\x03\xee\x6b\x28\0\0\0\0\x1c\0\0\0\x1c' | gzip >"$TMP/bad-images.gz"
expect "IDX header claiming more than the file holds" \
    "bad-images.gz: the IDX header claims 4000000000 images \(3136000000000 bytes\), more than a gzip file of [0-9]+ bytes can hold" \
    train "$TMP/idx.ini" --out "$TMP/o"
expect "negative learning rate" "\[optim\] lr = -0.1: expected a number in \[0" \
    train "$TMP/good.ini" optim.lr=-0.1 --out "$TMP/o"
expect "batch larger than a rank's shard" "batch of 200 rows per rank is larger than a rank's shard \(104 rows at 2 ranks\)" \
    train "$TMP/good.ini" data.sharding=contiguous train.batch_per_rank=200 --out "$TMP/o"
expect "global batch larger than the data" "global batch \(500\) is larger than the training set \(209 rows\)" \
    train "$TMP/good.ini" train.global_batch=500 --out "$TMP/o"
expect "bad override syntax" "unexpected argument 'optim.lr' \(see dtrain train --help\)" \
    train "$TMP/good.ini" optim.lr --out "$TMP/o"
expect "not a number" "\[train\] epochs = 'ten': expected an integer" train "$TMP/good.ini" train.epochs=ten --out "$TMP/o"
# the distributed engine's keys ([dist], accumulation, learning-rate scaling)
expect "micro-batch not dividing the global batch" "\[dist\] micro_batch = 32 \(the default\) does not divide the global batch \(209 rows\)" \
    train "$TMP/good.ini" dist.deterministic=1 --out "$TMP/o"
expect "micro_batch without deterministic mode" "\[dist\] micro_batch needs deterministic = 1" \
    train "$TMP/good.ini" dist.micro_batch=19 --out "$TMP/o"
expect "accumulate in deterministic mode" "\[train\] accumulate: deterministic mode accumulates fixed micro-batches" \
    train "$TMP/good.ini" dist.deterministic=1 dist.micro_batch=19 train.accumulate=2 --out "$TMP/o"
expect "linear scaling without base_batch" "\[optim\].*base_batch" \
    train "$TMP/good.ini" optim.lr_scale=linear --out "$TMP/o"
expect "zero out of range" "\[dist\] zero = 2" train "$TMP/good.ini" dist.zero=2 --out "$TMP/o"
expect "unknown reduction" "\[dist\] reduce = 'sideways': expected one of auto, after, overlap, flat" \
    train "$TMP/good.ini" dist.reduce=sideways --out "$TMP/o"
expect "overlap in deterministic mode" "\[dist\] reduce = overlap: deterministic mode sums after backward" \
    train "$TMP/good.ini" dist.reduce=overlap dist.deterministic=1 dist.micro_batch=19 --out "$TMP/o"
expect "buckets without overlap" "\[dist\] bucket_kb sizes the buckets of reduce = overlap \(or auto\), not after" \
    train "$TMP/good.ini" dist.reduce=after dist.bucket_kb=64 --out "$TMP/o"
expect "unknown nonfinite policy" "\[train\] nonfinite = 'ignore'" train "$TMP/good.ini" train.nonfinite=ignore --out "$TMP/o"
expect "trace into a missing directory, found before training" "no_dir/t.rank0.json: cannot write trace: No such file or directory" \
    train "$TMP/good.ini" train.epochs=100000 --trace "$TMP/no_dir/t.json" --out "$TMP/o"
mkdir -p "$TMP/t.rank1.json" # only rank 1's trace path is bad: the ranks still end together
expect "trace path that is a directory on one rank" "t.rank1.json: cannot write trace: Is a directory" \
    train "$TMP/good.ini" train.epochs=100000 --trace "$TMP/t.json" --out "$TMP/o"

# A bad checkpoint given to --resume fails cleanly and leaves the run's files alone.
run 2 train "$TMP/good.ini" train.epochs=3 --out "$TMP/run" --quiet >/dev/null 2>&1 || fail "good run failed"
sum=$(md5sum <"$TMP/run/checkpoint.h5")
echo "not hdf5" >"$TMP/bogus.h5"
expect "resume from a file that is not a checkpoint" "bogus.h5: not a readable HDF5 file" \
    train "$TMP/good.ini" --resume "$TMP/bogus.h5" --out "$TMP/run"
expect "resume a checkpoint of another model" "checkpoint.h5: /params/fc1/W has shape \[20, 12288\], expected \[256, 784\]|checkpoint.h5: /params/.* is missing" \
    eval configs/fmnist_mlp.ini --ckpt "$TMP/run/checkpoint.h5"
[ "$(md5sum <"$TMP/run/checkpoint.h5")" = "$sum" ] || fail "the existing checkpoint was changed"
ok "existing checkpoint untouched"
