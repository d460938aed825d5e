#!/usr/bin/env bash
# hosts.sh — simulated hosts on this machine, for multi-host runs and tests.
#
#   launch/hosts.sh up N [--ranks-per-host R] [--rate RATE] [--delay D]
#   launch/hosts.sh run [--timeout S] -- COMMAND [ARGS...]
#   launch/hosts.sh cut HOST | heal HOST | kill HOST | status | down
#
# Host hK (K = 0..N-1) is a network namespace with its own hostname (a UTS
# namespace, entered by every process of the host) and address 198.18.0.(10+K)
# (the benchmarking range), joined by a veth pair to a bridge that lives in
# a namespace of its own: nothing is added to this machine's own network
# and nothing is sent outside the simulated hosts. Open MPI starts its
# daemons on h1.. through an rsh agent (DIR/nsrsh) that enters the host's
# namespaces instead of using ssh; between hosts it then uses TCP, inside
# one host shared memory, as on a real cluster.
#
#   up       creates the hosts (replacing an earlier set of the same name),
#            and writes DIR/hostfile (R slots per host, default 2) and
#            DIR/mpirun.args, the mpirun options that use them. --rate
#            limits each host's link in both directions (tc tbf: 10gbit,
#            1gbit, 500mbit ...); --delay adds one-way latency where the
#            kernel has tc's netem qdisc (this one may not: then a clear
#            error, nothing created).
#   run      runs COMMAND on h0, the host mpirun starts from; a command that
#            begins with mpirun or mpiexec gets DIR/mpirun.args inserted after
#            it. --timeout S ends it (and with it the job) after S seconds.
#   cut      takes a host's link down while its processes live (a cable
#            pulled); heal puts it back; kill SIGKILLs every process of a
#            host (a machine lost).
#   status   lists the hosts, their links and processes; down kills every
#            process in the hosts and deletes all they consist of.
#
# Files: the hosts share this machine's file system, as a cluster shares a
# network file system, except DIR/local: each host sees there a disk of its
# own (DIR/disk/hK from outside), for runs that keep data per host.
#
# Needs root (network namespaces) and iproute2. Where namespaces cannot be
# made it says why and exits 3, which the tests turn into a skip.
# Environment: DTRAIN_HOSTS_NAME (default dth: a name of 1-6 lower-case
# letters and digits, the prefix of the namespaces, so that several sets can
# live side by side) and DTRAIN_HOSTS_DIR (default /tmp/dtrain-hosts-NAME).
set -euo pipefail

die() { # die CODE MESSAGE
    echo "hosts.sh: $2" >&2
    exit "$1"
}

name=${DTRAIN_HOSTS_NAME:-dth}
[[ $name =~ ^[a-z0-9]{1,6}$ ]] || die 2 "DTRAIN_HOSTS_NAME '$name': expected 1-6 lower-case letters and digits"
dir=${DTRAIN_HOSTS_DIR:-/tmp/dtrain-hosts-$name}
[[ $dir =~ ^[A-Za-z0-9_./-]+$ ]] || die 2 "DTRAIN_HOSTS_DIR '$dir': expected a path without blanks or shell characters (mpirun.args holds it)"
sw=$name-sw      # the namespace of the bridge
net=198.18.0     # hosts at $net.10, $net.11, ...

usage() {
    sed -n '2,41s/^# \{0,1\}//p' "$0"
}

# The hosts of this set that exist now, in order.
hosts_now() {
    ip netns list 2>/dev/null | awk -v p="$name-h" 'index($1, p) == 1 { print substr($1, length(p) + 1) }' | sort -n
}

# Where namespaces cannot be made, say why (exit 3).
can_make() {
    [ "$(id -u)" -eq 0 ] || die 3 "simulated hosts need root (network namespaces); run as root"
    command -v ip >/dev/null && command -v tc >/dev/null && command -v unshare >/dev/null ||
        die 3 "simulated hosts need ip and tc (Debian's iproute2) and unshare (util-linux)"
    local probe=$name-probe
    ip netns del "$probe" 2>/dev/null || true
    local err
    err=$(ip netns add "$probe" 2>&1) || die 3 "cannot make a network namespace here: $err"
    err=$(unshare --uts true 2>&1) || { ip netns del "$probe"; die 3 "cannot make a UTS namespace here: $err"; }
    ip netns del "$probe"
}

# Kill every process in the set's namespaces, then delete them.
down() {
    local ns p
    for ns in $(ip netns list 2>/dev/null | awk -v p="$name-" 'index($1, p) == 1 { print $1 }'); do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    done
    for ns in $(ip netns list 2>/dev/null | awk -v p="$name-" 'index($1, p) == 1 { print $1 }'); do
        # a killed process may take a moment to leave its namespace
        for _ in 1 2 3 4 5; do ip netns del "$ns" 2>/dev/null && break; sleep 0.2; done
    done
    rm -rf "$dir"
}

# shape HOST: the link rate on both ends of the host's veth (and netem delay).
shape() {
    local h=$1 qdisc
    if [ -n "$delay" ]; then
        qdisc=(netem delay "$delay")
        [ -n "$rate" ] && qdisc+=(rate "$rate")
        qdisc+=(limit 100000)
    elif [ -n "$rate" ]; then
        # a burst of 256 KiB lets TCP reach the rate; 20 ms of queue
        qdisc=(tbf rate "$rate" burst 256kb latency 20ms)
    else
        return 0
    fi
    ip netns exec "$name-h$h" tc qdisc replace dev "$name-h$h-in" root "${qdisc[@]}"
    ip netns exec "$sw" tc qdisc replace dev "$name-h$h-sw" root "${qdisc[@]}"
}

write_files() { # write_files N R
    local n=$1 r=$2 k
    mkdir -p "$dir"
    # ssh's place: nsrsh [ssh options] HOST COMMAND... runs COMMAND with bash
    # (as sshd would) in HOST's namespaces, under its hostname, with the
    # set's /etc/hosts. Open MPI names hosts as the hostfile does.
    cat >"$dir/nsrsh" <<EOF
#!/usr/bin/env bash
while [ \$# -gt 0 ] && [ "\${1#-}" != "\$1" ]; do shift; done
h=\${1:?nsrsh: no host}
shift
case \$h in
h[0-9] | h[0-9][0-9]) ;;
$net.*) h=h\$(( \${h##*.} - 10 )) ;;
*) echo "nsrsh: unknown host \$h" >&2; exit 255 ;;
esac
exec ip netns exec "$name-\$h" unshare --uts --mount bash -c \\
    'hostname "\$0" && mount --bind "$dir/etc-hosts" /etc/hosts && mount --bind "$dir/disk/\$0" "$dir/local" && exec bash -c "\$*"' "\$h" "\$@"
EOF
    chmod +x "$dir/nsrsh"
    # each host's own disk: DIR/disk/hK, seen as DIR/local on that host only
    mkdir -p "$dir/local"
    for ((k = 0; k < n; k++)); do mkdir -p "$dir/disk/h$k"; done
    {
        echo "127.0.0.1 localhost"
        for ((k = 0; k < n; k++)); do echo "$net.$((10 + k)) h$k"; done
    } >"$dir/etc-hosts"
    : >"$dir/hostfile"
    for ((k = 0; k < n; k++)); do echo "h$k slots=$r" >>"$dir/hostfile"; done
    # TCP between hosts on the set's addresses only (the namespaces have no
    # IPv6); keep-alive probes so that a host cut off is noticed in seconds,
    # not the 491 s of Open MPI's defaults; --bind-to none, because each
    # daemon believes it owns every core and would pin ranks of different
    # hosts to the same one
    cat >"$dir/mpirun.args" <<EOF
--hostfile $dir/hostfile --mca plm_rsh_agent $dir/nsrsh
--mca btl self,vader,tcp --mca btl_tcp_if_include $net.0/24 --mca oob_tcp_if_include $net.0/24
--mca oob_tcp_keepalive_time 5 --mca oob_tcp_keepalive_intvl 2 --mca oob_tcp_keepalive_probes 3
--bind-to none --mca mpi_yield_when_idle 1
EOF
    printf 'hosts=%s\nranks_per_host=%s\nrate=%s\ndelay=%s\n' "$n" "$r" "${rate:-none}" "${delay:-none}" >"$dir/state"
}

up() {
    [ $# -ge 1 ] || die 2 "usage: launch/hosts.sh up N [--ranks-per-host R] [--rate RATE] [--delay D]"
    local n=$1 r=2
    rate="" delay=""
    shift
    [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 64 ] || die 2 "up: N '$n': expected a number of hosts from 1 to 64"
    while [ $# -gt 0 ]; do
        [ $# -ge 2 ] || die 2 "up: $1 needs a value"
        case $1 in
        --ranks-per-host) r=$2 ;;
        --rate) rate=$2 ;;
        --delay) delay=$2 ;;
        *) die 2 "up: unknown option '$1' (expected --ranks-per-host, --rate or --delay)" ;;
        esac
        shift 2
    done
    [[ $r =~ ^[0-9]+$ ]] && [ "$r" -ge 1 ] || die 2 "up: --ranks-per-host '$r': expected a positive number"
    [ -z "$rate" ] || [[ $rate =~ ^[0-9]+(\.[0-9]+)?([kmg]?bit|[kmg]?bps)$ ]] ||
        die 2 "up: --rate '$rate': expected a rate such as 10gbit, 1gbit or 500mbit"
    [ -z "$delay" ] || [[ $delay =~ ^[0-9]+(\.[0-9]+)?(us|ms|s)$ ]] ||
        die 2 "up: --delay '$delay': expected a time such as 1ms or 200us"
    can_make
    down
    # whatever fails from here leaves nothing behind
    trap 'down; die 1 "up: failed; nothing was left behind"' ERR
    ip netns add "$sw"
    ip -n "$sw" link set lo up
    ip -n "$sw" link add "$name-br" type bridge
    ip -n "$sw" link set "$name-br" up
    local k ns
    for ((k = 0; k < n; k++)); do
        ns=$name-h$k
        ip netns add "$ns"
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip -n "$ns" link set lo up
        # both ends made inside the namespaces: never in this machine's own
        ip -n "$ns" link add "$ns-in" type veth peer name "$ns-sw" netns "$sw"
        ip -n "$sw" link set "$ns-sw" master "$name-br" up
        ip -n "$ns" addr add "$net.$((10 + k))/24" dev "$ns-in"
        ip -n "$ns" link set "$ns-in" up
    done
    if [ -n "$delay" ] && ! ip netns exec "$name-h0" tc qdisc add dev lo root netem delay 0ms 2>/dev/null; then
        trap - ERR
        down
        die 3 "up: --delay needs tc's netem qdisc, which this kernel does not have (sch_netem); use --rate alone"
    fi
    [ -z "$delay" ] || ip netns exec "$name-h0" tc qdisc del dev lo root
    for ((k = 0; k < n; k++)); do shape "$k"; done
    write_files "$n" "$r"
    trap - ERR
    echo "hosts.sh: $n hosts h0..h$((n - 1)) ($net.10-$((9 + n))), $r ranks each, link ${rate:-unlimited}${delay:+, delay $delay}; mpirun options in $dir/mpirun.args"
}

need_up() {
    [ -f "$dir/state" ] || die 2 "no simulated hosts named '$name' (launch/hosts.sh up N first)"
}

need_host() {
    need_up
    [[ ${1:-} =~ ^h[0-9]+$ ]] && ip netns list | awk '{ print $1 }' | grep -qx "$name-$1" ||
        die 2 "no host '${1:-}' (expected one of: $(hosts_now | sed 's/^/h/' | tr '\n' ' '))"
}

run() {
    need_up
    local limit=""
    if [ "${1:-}" = --timeout ]; then
        [[ ${2:-} =~ ^[0-9]+$ ]] || die 2 "run: --timeout needs seconds"
        limit=$2
        shift 2
    fi
    [ "${1:-}" = -- ] && shift
    [ $# -ge 1 ] || die 2 "usage: launch/hosts.sh run [--timeout S] -- COMMAND [ARGS...]"
    local cmd=("$@")
    case $(basename "$1") in
    mpirun | mpiexec)
        local opts
        read -r -a opts <<<"$(tr '\n' ' ' <"$dir/mpirun.args")"
        cmd=("$1" "${opts[@]}" "${@:2}")
        ;;
    esac
    # on h0, in this directory, with this environment; quoted for bash -c
    local line
    line="cd $(printf '%q' "$PWD") && exec$(printf ' %q' "${cmd[@]}")"
    if [ -n "$limit" ]; then
        # -k: mpirun may ignore SIGTERM while a host is cut off
        timeout -k 5 "$limit" "$dir/nsrsh" h0 "$line"
    else
        "$dir/nsrsh" h0 "$line"
    fi
}

status() {
    need_up
    cat "$dir/state"
    local h
    for h in $(hosts_now); do
        printf 'h%s: link %s, %s processes\n' "$h" \
            "$(ip -n "$name-h$h" -br link show "$name-h$h-in" | awk '{ print $2 }')" \
            "$(ip netns pids "$name-h$h" | wc -l)"
    done
}

case ${1:-} in
up) shift; up "$@" ;;
down) down ;;
run) shift; run "$@" ;;
cut) need_host "${2:-}"; ip -n "$name-$2" link set "$name-$2-in" down ;;
heal) need_host "${2:-}"; ip -n "$name-$2" link set "$name-$2-in" up ;;
kill) need_host "${2:-}"; for p in $(ip netns pids "$name-$2"); do kill -9 "$p" 2>/dev/null || true; done ;;
status) status ;;
-h | --help) usage ;;
*) usage >&2; exit 2 ;;
esac
