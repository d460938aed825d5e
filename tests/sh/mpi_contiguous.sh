#!/usr/bin/env bash
# Contiguous sharding: each rank reads only its block of rows (HDF5 hyperslab)
# and shuffles within it; the run says that results depend on the rank count,
# trains, and reports exact metrics over the whole split.
source "$(dirname "$0")/../lib.sh"
need_course_data
out=$(run 2 train configs/course/cat_deep.ini data.sharding=contiguous train.batch_per_rank=32 \
      train.shuffle=seeded train.epochs=60 --out "$TMP/c" 2>&1) || fail "contiguous run failed: $out"
grep -q "contiguous: results depend on the rank count" <<<"$out" || fail "the run did not say it is contiguous"
grep -q "batch per rank 32 rows" <<<"$out" || fail "per-rank batch not 32: $out"
[ "$(field 'train ' 6 "$out" | tr -d '()' | cut -d/ -f2)" = 209 ] || fail "train metrics are not over all 209 rows"
[ "$(field 'test ' 6 "$out" | tr -d '()' | cut -d/ -f2)" = 50 ] || fail "test metrics are not over all 50 rows"
acc=$(field 'train ' 5 "$out")
awk -v a="$acc" 'BEGIN { exit !(a > 0.8) }' || fail "contiguous training did not learn: train accuracy $acc"
ok "contiguous sharding at 2 ranks: train accuracy $acc"
