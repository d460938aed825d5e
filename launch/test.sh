#!/usr/bin/env bash
# test.sh — install what is missing, build the float, the double and an
# AddressSanitizer+UBSan variant, and run the ctest suite on each: all of it
# in float, a subset in the other two (see below), within CI's time budget.
# Course data comes from $DTRAIN_DATA (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
source launch/setup.sh
# Slurm and munge for hosts_slurm's one-node cluster (the test starts its own
# daemons; installing starts none where there is no init system)
dt_install slurmd slurmctld slurm-client munge
dt_pictures
export DTRAIN_DATA=${DTRAIN_DATA:-$(cd .. && pwd)/shared/data}
status=0
for variant in float double asan; do
    case $variant in
    float) dir=build opts=() skip=() ;;
    # double checks numerics: the unit tests, gradient checks and course
    # reproductions, and the quick end-to-end tests; not labels `long` and
    # `hosts` (simulated hosts test transport, which the float build covers)
    double) dir=build-double opts=(-DDTRAIN_DOUBLE=ON) skip=(-LE "long|hosts") ;;
    # the sanitizers watch every code path but the course reproductions (numerics,
    # checked by the other two) and three long runs that add little for them:
    # sweep_run's scheduling (unit_sweep and mpi_split reach its parts),
    # mpi_kill_resume's SIGKILL (mpi_resume and mpi_disk_full reach resume and
    # a failed checkpoint), hosts_slurm's launchers (dtrain runs there as
    # under mpiexec) and hosts_faults' lost hosts (mpi_faults reaches the
    # same timeouts and the launcher's SIGTERM on one machine)
    asan) dir=build-asan opts=(-DDTRAIN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
        skip=(-LE course -E '^(sweep_run|mpi_kill_resume|hosts_slurm|hosts_faults)$') ;;
    esac
    echo "== $variant build ($dir)"
    dt_build "$dir" "${opts[@]}"
    echo "== $variant tests${skip:+ (not run here: ${skip[*]})}"
    (cd "$dir" && ctest -j "$(nproc)" --output-on-failure --timeout 900 "${skip[@]}") || status=1
done
[ $status -eq 0 ] && echo "all variants passed" || echo "some tests FAILED"
exit $status
