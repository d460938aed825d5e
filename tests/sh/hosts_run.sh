#!/usr/bin/env bash
# Simulated hosts (launch/hosts.sh): 2 hosts x 2 ranks, Open MPI over TCP
# between them. Deterministic mode gives bitwise the 1-rank result across
# hosts (also with ZeRO-1); the reduction after backward goes by host
# (shared memory inside, messages between; ranks dealt round-robin are put
# in host order) or, for uneven hosts, by messages, bitwise as on one
# machine; overlap sums buckets between hosts under backward (the trace
# shows it), bitwise too, and is what auto chooses for the CNN; a checkpoint of the 2-host run resumes on
# one host, bitwise; bad usage is one line; `down` leaves nothing behind. Skipped (77) with the
# reason where namespaces cannot be made (not root, no iproute2).
source "$(dirname "$0")/../lib.sh"
need_fmnist
need_hosts 2 --ranks-per-host 2
on_hosts() { # NP [--map-by X] ARGS...: dtrain on NP ranks spread over the hosts
    local np=$1 map=()
    shift
    [ "$1" = --map-by ] && map=("$1" "$2") && shift 2
    $hosts run --timeout 300 -- mpiexec --quiet -np "$np" "${map[@]}" "$DTRAIN" "$@"
}

# two ranks on each host, each host under its own name
names=$($hosts run --timeout 60 -- mpiexec -np 4 hostname 2>&1 | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')
[ "$names" = "h0:2 h1:2 " ] || fail "4 ranks on 2 hosts should run 2 on h0 and 2 on h1, got: $names"
ok "ranks per host: $names"

base=(configs/fmnist_mlp.ini train.batch_per_rank=0 train.global_batch=128 data.limit_train=3000 data.limit_test=300
      train.max_steps=30 train.log_every=0 train.eval_every=0)
mlp=("${base[@]}" dist.deterministic=1)
run 1 train "${mlp[@]}" --out "$TMP/one" --quiet >/dev/null 2>&1 || fail "1-rank run failed"
# (with Open MPI's report of the transport it chose between each pair of ranks)
out=$($hosts run --timeout 300 -- mpiexec -np 4 --mca btl_base_verbose 100 "$DTRAIN" train "${mlp[@]}" \
    --out "$TMP/two" 2>&1) || fail "2 hosts x 2 ranks: $out"
tcp=$(grep -c "Using tcp btl" <<<"$out") || fail "no rank reached another host by TCP: $out"
ok "Open MPI uses TCP between the hosts ($tcp reports)"
d=$("$DTRAIN_CKPT_DIFF" "$TMP/one/checkpoint.h5" "$TMP/two/checkpoint.h5" 0) || fail "2 hosts x 2 ranks vs 1 rank: $d"
ok "deterministic MLP, 2 hosts x 2 ranks vs 1 rank, bitwise: $d"

# reduce = after: the levels of the tree inside a host in shared memory,
# the others by message, the same sums as on one machine
run 4 train "${base[@]}" --out "$TMP/local" --quiet >/dev/null 2>&1 || fail "4 ranks on one machine failed"
out=$(on_hosts 4 train "${base[@]}" dist.reduce=after --out "$TMP/hier" 2>&1) || fail "reduce = after on 2 hosts: $out"
grep -q "in shared memory inside each of 2 hosts (2 ranks each) and by messages between them" <<<"$out" ||
    fail "reduce = after on 2 hosts does not say it reduces by host: $(grep '^step:' <<<"$out")"
d=$("$DTRAIN_CKPT_DIFF" "$TMP/local/checkpoint.h5" "$TMP/hier/checkpoint.h5" 0) ||
    fail "2 hosts x 2 ranks (by host) vs 4 ranks on one machine: $d"
ok "reduce = after by host, 2 x 2 vs 4 ranks on one machine, bitwise: $d"
# overlap: buckets summed during backward, in shared memory inside each
# host, then between hosts under the rest of backward; the host's sums pair
# ranks as the tree does, so the bits are the same
out=$(on_hosts 4 train "${base[@]}" dist.reduce=overlap --out "$TMP/over" --trace "$TMP/over.json" 2>&1) ||
    fail "reduce = overlap on 2 hosts: $out"
grep -q "in 64 KiB buckets during backward: in shared memory inside each of 2 hosts (2 ranks each), then by recursive halving and doubling between them under the rest of backward (overlap: asked for in \[dist\])" <<<"$out" ||
    fail "reduce = overlap on 2 hosts does not say it overlaps by host: $(grep '^step:' <<<"$out")"
d=$("$DTRAIN_CKPT_DIFF" "$TMP/local/checkpoint.h5" "$TMP/over/checkpoint.h5" 0) ||
    fail "2 hosts x 2 ranks (overlapped) vs 4 ranks on one machine: $d"
ok "reduce = overlap by host, 2 x 2 vs 4 ranks on one machine, bitwise: $d"
# the trace of a 2-host step: buckets between hosts start inside backward
read -r nb inside < <(awk -F'"ts":|,"dur":|,"pid"' '
    /"name":"backward"/ { bs = $2 + 0; be = bs + $3 }
    /"name":"allreduce bucket"/ { n++; if ($2 + 0 >= bs && $2 + 0 < be) inside++ }
    END { printf "%d %d\n", n, inside }' "$TMP/over.rank0.json")
[ "$nb" -ge 60 ] && [ "$inside" -ge 30 ] ||
    fail "trace of rank 0: $nb buckets between hosts over 30 steps, $inside started inside backward"
ok "trace of a 2-host run: $nb buckets between hosts over 30 steps, $inside started before backward ended"
# what auto chooses across hosts: overlap; but with one rank per host the
# MLP, whose first layer (final only as backward ends) holds 85 % of its
# gradients, sums after backward
out=$(on_hosts 4 train configs/fmnist_cnn.ini data.limit_train=512 data.limit_test=64 train.max_steps=2 train.log_every=0 \
    train.eval_every=0 --out "$TMP/cnn" 2>&1) || fail "CNN on 2 hosts: $out"
grep -q "^step: .*in 64 KiB buckets during backward: .* (overlap: the ranks span several hosts)" <<<"$out" ||
    fail "the CNN on 2 hosts should overlap by default: $(grep '^step:' <<<"$out")"
out=$(on_hosts 4 train "${base[@]}" train.max_steps=2 --out "$TMP/auto" 2>&1) || fail "MLP on 2 hosts: $out"
grep -q "^step: .*in 64 KiB buckets during backward: .* (overlap: the ranks span several hosts)" <<<"$out" ||
    fail "the MLP on 2 hosts x 2 ranks should overlap by default: $(grep '^step:' <<<"$out")"
out=$(on_hosts 2 --map-by node train "${base[@]}" train.max_steps=2 --out "$TMP/auto1" 2>&1) || fail "MLP on 2 x 1: $out"
grep -q "^step: .*after backward .* (not overlapped with backward: one rank per host, and 85 % of the gradients are final only as it ends)" <<<"$out" ||
    fail "the MLP on 2 hosts x 1 rank should sum after backward by default: $(grep '^step:' <<<"$out")"
ok "auto across hosts: the CNN and the MLP overlap; the MLP with one rank per host sums after backward"
# ranks dealt round-robin (Open MPI's ranks 0 and 2 on h0): dtrain orders
# its ranks by host, so the tree still sums inside each host first
out=$(on_hosts 4 --map-by node train "${base[@]}" --out "$TMP/rr" 2>&1) || fail "round-robin: $out"
grep -q "inside each of 2 hosts" <<<"$out" || fail "round-robin placement: $(grep '^step:' <<<"$out")"
d=$("$DTRAIN_CKPT_DIFF" "$TMP/local/checkpoint.h5" "$TMP/rr/checkpoint.h5" 0) || fail "round-robin vs one machine: $d"
ok "ranks dealt round-robin over the hosts, reordered by host, bitwise: $d"
# ZeRO-1 across hosts, deterministic: bitwise the unsharded 1-rank run
on_hosts 4 train "${mlp[@]}" dist.zero=1 --out "$TMP/zero" --quiet >/dev/null 2>&1 || fail "ZeRO-1 on 2 hosts failed"
d=$("$DTRAIN_CKPT_DIFF" "$TMP/one/checkpoint.h5" "$TMP/zero/checkpoint.h5" 0) || fail "ZeRO-1 on 2 hosts vs 1 rank: $d"
ok "ZeRO-1, 2 hosts x 2 ranks vs 1 rank, bitwise: $d"

# the sanitizer builds stop here: the rest reaches no code the runs above
# have not (messages throughout, resume, the script alone), at 2-3x the time
if [ "${DTRAIN_SANITIZE:-0}" = 0 ]; then
    # uneven hosts (3 ranks on h0, 1 on h1): no power-of-two run per host, so
    # every level of the tree goes by message, with the same sums
    out=$(on_hosts 4 --map-by ppr:3:node train "${base[@]}" dist.reduce=after --out "$TMP/uneven" 2>&1) || fail "3 + 1 ranks: $out"
    grep -q "by recursive halving over messages" <<<"$out" || fail "3 + 1 ranks: $(grep '^step:' <<<"$out")"
    d=$("$DTRAIN_CKPT_DIFF" "$TMP/local/checkpoint.h5" "$TMP/uneven/checkpoint.h5" 0) || fail "3 + 1 ranks vs one machine: $d"
    ok "3 + 1 ranks: messages throughout, bitwise: $d"
    # stopped at step 17 on two hosts, resumed on one host (2 ranks of h0)
    on_hosts 4 train "${mlp[@]}" train.max_steps=17 --out "$TMP/part" --quiet >/dev/null 2>&1 || fail "partial 2-host run failed"
    "$DTRAIN_CKPT_DIFF" "$TMP/part/checkpoint.h5" "$TMP/one/checkpoint.h5" >/dev/null &&
        fail "the partial run already equals the full one; the test would prove nothing"
    out=$($hosts run --timeout 300 -- mpiexec --quiet -np 2 --host h0:2 "$DTRAIN" train "${mlp[@]}" \
        --resume "$TMP/part/checkpoint.h5" --out "$TMP/rest" 2>&1) || fail "resume on one host: $out"
    d=$("$DTRAIN_CKPT_DIFF" "$TMP/rest/checkpoint.h5" "$TMP/one/checkpoint.h5" 0) ||
        fail "2-host checkpoint resumed on 1 host differs from the 1-rank run: $d"
    ok "2-host checkpoint (step 17) resumed on 1 host x 2 ranks, bitwise the 1-rank run: $d"

    # per-host disks (DIR/local is each host's own): the data copied to
    # both, the config, model and checkpoint only on h0's; every rank reads
    # the data, rank 0 alone reads the rest and writes the run directory
    disk=$DTRAIN_HOSTS_DIR/disk local=$DTRAIN_HOSTS_DIR/local
    for h in h0 h1; do
        mkdir -p "$disk/$h/data"
        cp /usr/share/datasets/fashion-mnist/*-ubyte.gz "$disk/$h/data/"
    done
    cp models/fmnist_mlp.ini "$disk/h0/model.ini"
    sed "s|^file = .*|file = $local/model.ini|" configs/fmnist_mlp.ini >"$disk/h0/config.ini"
    own=("$local/config.ini" "data.root=$local/data" "${base[@]:1}" dist.deterministic=1)
    out=$(on_hosts 4 train "${own[@]}" train.max_steps=17 --out "$local/run" 2>&1) || fail "per-host disks: $out"
    [ -s "$disk/h0/run/checkpoint.h5" ] || fail "per-host disks: no checkpoint on h0's disk"
    left=$(cd "$disk/h1" && find . -mindepth 1 ! -path './data*')
    [ -z "$left" ] || fail "a rank wrote to h1's disk: $left"
    out=$(on_hosts 4 train "${own[@]}" --resume "$local/run/checkpoint.h5" --out "$local/rest" 2>&1) ||
        fail "resume from h0's disk alone: $out"
    d=$("$DTRAIN_CKPT_DIFF" "$disk/h0/rest/checkpoint.h5" "$TMP/one/checkpoint.h5" 0) || fail "per-host disks vs 1 rank: $d"
    ok "per-host disks: data on each, config, model and checkpoint on h0's only; nothing written on h1; resumed bitwise: $d"

    # bad usage: one line, exit 2, nothing touched
    for bad in "up 0" "up 2 --rate fast" "up 2 --ranks-per-host" "cut h7" "run"; do
        rc=0
        # shellcheck disable=SC2086
        out=$($hosts $bad 2>&1) || rc=$?
        [ $rc -eq 2 ] && [ "$(grep -c . <<<"$out")" -eq 1 ] && grep -q "^hosts.sh: " <<<"$out" ||
            fail "hosts.sh $bad: expected one line and exit 2, got $rc: $out"
    done
    $hosts status | grep -q "^h1: link UP" || fail "a bad command changed the hosts: $($hosts status)"
    ok "bad usage: one line, exit 2, hosts untouched"

    # 4 hosts of one rank: overlap halves and doubles between 4 hosts, the
    # tree's pairing, so the bits are those of 4 ranks on one machine
    $hosts up 4 --ranks-per-host 1 >/dev/null || fail "hosts.sh up 4 failed"
    out=$(on_hosts 4 train "${base[@]}" dist.reduce=overlap --out "$TMP/four" 2>&1) || fail "4 hosts: $out"
    grep -q "by recursive halving and doubling over messages" <<<"$out" || fail "4 hosts: $(grep '^step:' <<<"$out")"
    d=$("$DTRAIN_CKPT_DIFF" "$TMP/local/checkpoint.h5" "$TMP/four/checkpoint.h5" 0) || fail "4 hosts x 1 rank vs one machine: $d"
    ok "reduce = overlap on 4 hosts x 1 rank vs 4 ranks on one machine, bitwise: $d"

fi

$hosts down
left=$(ip netns list | grep -c "^$DTRAIN_HOSTS_NAME-") || true
[ "$left" -eq 0 ] || fail "down left $left namespaces: $(ip netns list)"
ok "down: no namespace left"
