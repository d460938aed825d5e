# shellcheck shell=bash
# bench_lib.sh — sourced by bench.sh and scaling.sh: noticing other work on the
# cores before and while measuring, and the median of a column of numbers.

# Other work on the cores skews every figure below; say so rather than hide it.
# (CPU busy time over one second: the load average lags by a minute.)
busy_pct() {
    local a b
    read -ra a </proc/stat
    sleep 1
    read -ra b </proc/stat
    # fields after "cpu": user nice system idle iowait irq softirq steal
    awk -v a="${a[*]:1:8}" -v b="${b[*]:1:8}" 'BEGIN {
        n = split(a, x); split(b, y)
        for (i = 1; i <= n; i++) { d = y[i] - x[i]; t += d; if (i == 4 || i == 5) idle += d }
        printf "%.0f", (t > 0 ? 100 * (t - idle) / t : 0) }'
}
# Warn when the cores were already busy before measuring.
warn_if_busy() {
    local busy
    busy=$(busy_pct)
    if ((busy > 10)); then
        echo "warning: the CPUs were ${busy} % busy before starting: other processes share the cores, figures will be noisy"
    fi
}

# The same while measuring: CPU time that other processes took meanwhile, from
# the busy time of all cores less what this script's finished children used
# (the runs are reaped before each look), in clock ticks; and the wall clock.
foreign_ticks() {
    local cpu self
    read -ra cpu </proc/stat
    read -ra self </proc/$$/stat # fields 16, 17: cutime, cstime ("bash" has no space)
    echo $((cpu[1] + cpu[2] + cpu[3] + cpu[6] + cpu[7] + cpu[8] - self[15] - self[16]))
}
wall_ticks() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f", $1 * hz }' /proc/uptime; }
contention_start() { c0=$(foreign_ticks) w0=$(wall_ticks); }
contention_check() { # what was measured
    local pct
    pct=$((100 * ($(foreign_ticks) - c0) / ($(wall_ticks) - w0 + 1)))
    if ((pct > 10)); then
        echo "warning: other processes used ${pct} % of a core during the $1: those figures are skewed"
    fi
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
