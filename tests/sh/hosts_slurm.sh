#!/usr/bin/env bash
# Real Slurm: a one-node cluster of this test's own (munged, slurmctld and
# slurmd from Debian's slurm-wlm, on private ports, sockets and state in a
# temporary directory) runs launch/slurm.sbatch for a 2-rank job, started
# by srun (PMIx) and by Open MPI's mpirun; each job's log, exit state and
# checkpoint are checked against the same run under mpiexec, bitwise. A job
# with a bad config fails with one line. Skipped (77) with the reason where
# the cluster cannot start (not root, Slurm or munge missing: launch/test.sh
# installs them).
source "$(dirname "$0")/../lib.sh"
need_fmnist
for c in munged slurmctld slurmd sbatch sinfo scontrol; do
    command -v $c >/dev/null || { echo "SKIP: $c missing (Debian's slurmd, slurmctld, slurm-client and munge)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: a private Slurm cluster needs root (SlurmUser=root)"; exit 77; }

S=$TMP/slurm
mkdir -p "$S/state" "$S/spool" "$S/log"
stop_cluster() {
    local f
    for f in slurmd slurmctld munged; do
        [ -s "$S/$f.pid" ] && kill "$(cat "$S/$f.pid")" 2>/dev/null
    done
    sleep 0.5
    for f in slurmd slurmctld munged; do
        [ -s "$S/$f.pid" ] && kill -9 "$(cat "$S/$f.pid")" 2>/dev/null
    done
    return 0
}
trap 'stop_cluster; rm -rf "$TMP"' EXIT
skip() {
    echo "SKIP: $1"
    tail -n 3 "$S"/log/*.log 2>/dev/null
    exit 77
}

head -c 1024 /dev/urandom >"$S/munge.key"
chmod 400 "$S/munge.key"
munged -f --socket="$S/munge.sock" --key-file="$S/munge.key" --pid-file="$S/munged.pid" \
    --log-file="$S/log/munged.log" --seed-file="$S/munged.seed" || skip "munged does not start"
node=$(hostname -s)
port=$((20000 + $$ % 20000 * 2))
cat >"$S/slurm.conf" <<EOF
ClusterName=dtraintest
SlurmctldHost=$node
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge.sock
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
NodeName=$node CPUs=$(nproc) State=UNKNOWN
PartitionName=dtrain Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$S/slurm.conf
slurmctld -f "$SLURM_CONF" -i || skip "slurmctld does not start"
slurmd -f "$SLURM_CONF" || skip "slurmd does not start"
for _ in $(seq 1 30); do
    [ "$(sinfo -h -o %t 2>/dev/null)" = idle ] && break
    sleep 1
done
[ "$(sinfo -h -o %t 2>/dev/null)" = idle ] || skip "the node does not come up: $(sinfo -h 2>&1)"
ok "one-node Slurm cluster: $(sinfo -h -o '%P %D %t %N')"

args=(configs/fmnist_mlp.ini train.epochs=1 data.limit_train=3000 data.limit_test=500 train.log_every=10)
run 2 train "${args[@]}" --out "$TMP/ref" --quiet >/dev/null 2>&1 || fail "the mpiexec run failed"

# submit LAUNCHER NAME [ARGS...]: launch/slurm.sbatch for 2 ranks, waits for its end
submit() {
    local launcher=$1 name=$2
    shift 2
    DTRAIN_BIN=$DTRAIN DTRAIN_LAUNCHER=$launcher timeout -k 5 300 sbatch --wait --quiet --nodes=1 --ntasks-per-node=2 \
        --cpus-per-task=1 --output="$TMP/$name.out" --export=ALL launch/slurm.sbatch "$@"
}
for launcher in srun mpirun; do
    rc=0
    submit $launcher $launcher "${args[@]}" --out "$TMP/$launcher" || rc=$?
    log=$(cat "$TMP/$launcher.out" 2>/dev/null)
    [ $rc -eq 0 ] || fail "sbatch ($launcher) exited $rc: $log; Slurm's logs end: $(tail -q -n 3 "$S"/log/slurm*.log)"
    grep -q "2 ranks on 1 node(s), 1 OpenBLAS thread(s) each, started by $launcher" <<<"$log" ||
        fail "$launcher job: no start line: $log"
    grep -q "^dtrain: 2 ranks" <<<"$log" || fail "$launcher job did not run 2 ranks: $log"
    grep -qi "binding" <<<"$log" && fail "$launcher job: $(grep -i binding <<<"$log")"
    grep -q "^done: 24 steps" <<<"$log" || fail "$launcher job did not end its epoch: $log"
    state=$(scontrol show job -o "$(sed -n 's/.*job \([0-9]*\):.*/\1/p' <<<"$log" | head -1)" 2>&1 |
        grep -o 'JobState=[A-Z]* .*ExitCode=[0-9:]*' | awk '{ print $1, $NF }')
    [ "$state" = "JobState=COMPLETED ExitCode=0:0" ] || fail "$launcher job: Slurm says '$state'"
    d=$("$DTRAIN_CKPT_DIFF" "$TMP/ref/checkpoint.h5" "$TMP/$launcher/checkpoint.h5" 0) ||
        fail "$launcher job's checkpoint differs from the mpiexec run's: $d"
    ok "sbatch with $launcher: $state, $(grep '^test ' <<<"$log"), checkpoint bitwise the mpiexec run's ($d)"
done

# a bad config: the job fails, its log has one error line and Slurm records the exit
rc=0
submit srun bad "${args[@]}" train.epochs=zero --out "$TMP/bad" || rc=$?
[ $rc -ne 0 ] || fail "a job with a bad config succeeded: $(cat "$TMP/bad.out")"
errs=$(grep -c "^dtrain: error: .*epochs" "$TMP/bad.out") || true
[ "$errs" -eq 1 ] || fail "bad config: expected one error line naming the key, got $errs: $(cat "$TMP/bad.out")"
[ ! -e "$TMP/bad/checkpoint.h5" ] || fail "bad config: a checkpoint was written"
ok "bad config: sbatch exit $rc, $(grep -m1 '^dtrain: error' "$TMP/bad.out")"
