#!/usr/bin/env bash
# plot.sh — PNG figures of dtrain runs with gnuplot.
#
#   launch/plot.sh [-o DIR] [--x step|time] RUN_DIR [RUN_DIR...]
#       loss and accuracy curves from RUN_DIR/metrics.jsonl, one figure per run
#       (RUN_DIR/curves.png, or DIR/<run>-curves.png); with several runs also
#       compare.png (in DIR, else beside the first run), the runs overlaid with
#       their directory names as the legend: the course's learning-rate
#       comparison is three runs with different optim.lr.
#   launch/plot.sh --boundary GRID.csv [--points POINTS.csv] [--out FILE.png] [--title TEXT]
#       a decision boundary from `dtrain eval CONFIG --ckpt FILE --grid GRID.csv`:
#       the predictions as a coloured map, the 0.5 contour for two classes, and
#       the training points on top (default GRID.points.csv; output GRID.png).
#   launch/plot.sh --sweep SWEEP_DIR
#       from `dtrain sweep`: each trial's final dev metric against each numeric
#       parameter, one figure per parameter (SWEEP_DIR/sweep-<key>.png), on a
#       log axis where the spec is log (1-log: the axis is 1 - value); trials
#       stopped early and done ones in two colours, failed ones left out.
#
# metrics.jsonl has one JSON object per line (step, epoch, split, loss,
# accuracy, lr, time); split "batch" is a training batch, "train" and "test"
# are evaluations of a whole split. Parsed with awk: no Python needed.
set -euo pipefail

usage() { sed -n '2,22s/^# \{0,1\}//p' "$0"; }
die() {
    echo "plot.sh: $*" >&2
    exit 1
}

outdir="" xaxis=step boundary="" points="" out="" title="" sweepdir=""
runs=()
while [ $# -gt 0 ]; do
    case $1 in
    -h | --help)
        usage
        exit 0
        ;;
    -o | --x | --boundary | --points | --out | --title | --sweep)
        [ $# -ge 2 ] || die "missing value after $1"
        case $1 in
        -o) outdir=$2 ;;
        --x) xaxis=$2 ;;
        --boundary) boundary=$2 ;;
        --points) points=$2 ;;
        --out) out=$2 ;;
        --title) title=$2 ;;
        --sweep) sweepdir=$2 ;;
        esac
        shift 2
        ;;
    -*) die "unknown option $1 (see launch/plot.sh --help)" ;;
    *)
        runs+=("$1")
        shift
        ;;
    esac
done

command -v gnuplot >/dev/null 2>&1 ||
    die "gnuplot is not installed; on Debian or Ubuntu: sudo apt-get install gnuplot-nox"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dtrain-plot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# A gnuplot string literal: single quotes, a quote inside doubled.
gq() { printf "'%s'" "${1//\'/\'\'}"; }

# pngcairo draws smoother lines and text; the libgd png terminal is the fallback.
if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
    term="pngcairo noenhanced font ',10'"
else
    term="png noenhanced"
fi

# Each run's colour in the comparison, and each class's (points; lighter for areas).
colors=('#1f77b4' '#d62728' '#2ca02c' '#ff7f0e' '#9467bd' '#8c564b' '#e377c2' '#7f7f7f' '#bcbd22' '#17becf')
classes=('#ca0020' '#0571b0' '#1a9641' '#e66101' '#7b3294' '#8c510a' '#c51b7d' '#4d4d4d' '#b8860b' '#008b8b')
areas=('#f4a582' '#92c5de' '#a6dba0' '#fdb863' '#c2a5cf' '#dfc27d' '#f1b6da' '#bababa' '#eedd82' '#7fd6d6')

render() { # render SCRIPT: run gnuplot, show its complaint on failure
    gnuplot "$1" 2>"$tmp/gnuplot.err" || {
        cat "$tmp/gnuplot.err" >&2
        die "gnuplot failed on $1"
    }
}

# ---- a sweep: the dev metric against each parameter ------------------------
if [ -n "$sweepdir" ]; then
    if [ ${#runs[@]} -gt 0 ]; then die "--sweep takes no RUN_DIR"; fi
    [ -f "$sweepdir/sweep.jsonl" ] || die "$sweepdir/sweep.jsonl: no such file (write it with dtrain sweep --out $sweepdir)"
    [ -f "$sweepdir/spec.txt" ] || die "$sweepdir/spec.txt: no such file (dtrain sweep writes it beside sweep.jsonl)"
    metric=$(grep -o '"metric":"[^"]*"' "$sweepdir/sweep.jsonl" | head -1 | cut -d'"' -f4)
    n=0
    while read -r key kind _; do
        case $kind in choice) continue ;; esac
        # status, value, final metric of each trial that did not fail
        awk -v key="$key" -v kind="$kind" '
            function field(name,   m) { return match($0, "\"" name "\":(\"[^\"]*\"|[^,}]*)") ? substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3) : "" }
            {
                st = field("status"); gsub(/"/, "", st); if (st == "failed") next
                v = field(key); gsub(/"/, "", v); f = field("final")
                if (v == "" || f == "" || f == "null") next
                if (kind == "1-log") v = 1 - v
                print st, v, f
            }' "$sweepdir/sweep.jsonl" >"$tmp/$n.dat"
        [ -s "$tmp/$n.dat" ] || { n=$((n + 1)); continue; }
        png="$sweepdir/sweep-$key.png"
        xlabel=$key
        logx=""
        case $kind in
        log) logx="set logscale x" ;;
        1-log) logx="set logscale x"; xlabel="1 - $key" ;;
        esac
        cat >"$tmp/$n.gp" <<GP
set terminal $term size 640,420
set output $(gq "$png")
set title $(gq "dtrain sweep $sweepdir: $metric against $key")
set xlabel $(gq "$xlabel")
set ylabel $(gq "final $metric")
$logx
set grid
set key below
plot $(gq "$tmp/$n.dat") using (strcol(1) eq "done" ? \$2 : NaN):3 with points pt 7 ps 1.2 lc rgb '${colors[0]}' title 'trained to the end', \
     '' using (strcol(1) eq "stopped" ? \$2 : NaN):3 with points pt 6 ps 1.2 lc rgb '${colors[1]}' title 'stopped early'
GP
        render "$tmp/$n.gp"
        echo "wrote $png"
        n=$((n + 1))
    done <"$sweepdir/spec.txt"
    exit 0
fi

# ---- decision boundary --------------------------------------------------
if [ -n "$boundary" ]; then
    if [ ${#runs[@]} -gt 0 ] || [ -n "$outdir" ]; then die "--boundary takes no RUN_DIR and no -o (use --out FILE.png)"; fi
    [ -f "$boundary" ] || die "$boundary: no such file (write it with dtrain eval CONFIG --ckpt FILE --grid $boundary)"
    base=${boundary%.csv}
    points=${points:-$base.points.csv}
    out=${out:-$base.png}
    header=$(head -1 "$boundary")
    case $header in
    x,y,p) binary=1 ;;
    x,y,class) binary=0 ;;
    *) die "$boundary: expected a header x,y,p or x,y,class from dtrain eval --grid, not '$header'" ;;
    esac
    [ -f "$points" ] || die "$points: no such file (dtrain eval --grid writes it beside the grid)"
    # gnuplot reads a grid as scan lines separated by blank lines
    awk -F, 'NR > 1 { if (NR > 2 && $2 != y) print ""; print $1, $2, $3; y = $2 }' "$boundary" >"$tmp/grid.dat"
    awk -F, 'NR > 1 { print $1, $2, $3 }' "$points" >"$tmp/points.dat"
    [ -s "$tmp/grid.dat" ] || die "$boundary: no grid rows"
    nclass=$(awk 'BEGIN { k = 1 } { if ($3 + 0 > k) k = $3 + 0 } END { print int(k) + 1 }' "$tmp/points.dat")
    if [ "$binary" = 0 ]; then
        k=$(awk 'BEGIN { k = 0 } $3 != "" { if ($3 + 0 > k) k = $3 + 0 } END { print int(k) + 1 }' "$tmp/grid.dat")
        [ "$k" -gt "$nclass" ] && nclass=$k
    fi
    [ "$nclass" -le ${#classes[@]} ] || die "$nclass classes: plot.sh colours at most ${#classes[@]}"
    title=${title:-decision boundary: $(basename "$base")}
    {
        echo "set terminal $term size 800,700"
        echo "set output $(gq "$out")"
        echo "set title $(gq "$title")"
        echo "set xlabel 'x1'; set ylabel 'x2'"
        echo "stats $(gq "$tmp/grid.dat") using 1:2 nooutput"
        echo 'set xrange [STATS_min_x:STATS_max_x]; set yrange [STATS_min_y:STATS_max_y]'
        echo "set key outside right top box opaque"
        if [ "$binary" = 1 ]; then
            echo "set palette defined (0 '${areas[0]}', 0.5 '#f7f7f7', 1 '${areas[1]}')"
            echo "set cbrange [0:1]; set cblabel 'p(class 1)'"
            # the p = 0.5 line, traced by gnuplot's contouring into a table
            echo "set contour base; set cntrparam levels discrete 0.5; unset surface; set view map"
            echo "set table $(gq "$tmp/contour.dat")"
            echo "splot $(gq "$tmp/grid.dat") using 1:2:3 with lines"
            echo "unset table; unset contour; set surface"
        else
            pal="" sep=""
            for ((c = 0; c < nclass; c++)); do
                pal+="$sep$c '${areas[c]}'"
                sep=", "
            done
            echo "set palette maxcolors $nclass; set palette defined ($pal)"
            echo "set cbrange [-0.5:$nclass - 0.5]; set cbtics 1; set cblabel 'predicted class'"
        fi
        plot="plot $(gq "$tmp/grid.dat") using 1:2:3 with image notitle"
        if [ "$binary" = 1 ]; then # (empty where p never crosses 0.5: gnuplot only warns)
            plot+=", $(gq "$tmp/contour.dat") using 1:2 with lines lw 2 lc rgb '#333333' title 'p = 0.5'"
        fi
        for ((c = 0; c < nclass; c++)); do
            plot+=", $(gq "$tmp/points.dat") using 1:(\$3 == $c ? \$2 : NaN) with points pt 7 ps 0.7"
            plot+=" lc rgb '${classes[c]}' title 'class $c'"
        done
        echo "$plot"
    } >"$tmp/boundary.gp"
    render "$tmp/boundary.gp"
    echo "plot.sh: wrote $out"
    exit 0
fi

# ---- curves ---------------------------------------------------------------
[ ${#runs[@]} -gt 0 ] || die "give at least one RUN_DIR, or --boundary GRID.csv (see launch/plot.sh --help)"
[ -z "$out$points$title" ] || die "--out, --points and --title go with --boundary; curves take -o DIR"
case $xaxis in
step) xlabel=step ;;
time) xlabel="time (s)" ;;
*) die "--x wants step or time, not '$xaxis'" ;;
esac
[ -z "$outdir" ] || mkdir -p "$outdir"

# split RUN/metrics.jsonl into DIR/{batch,train,test}.dat: x loss accuracy
extract() {
    awk -v xkey="$xaxis" -v dir="$2" '
        function num(key,   s) {
            if (!match($0, "\"" key "\": *-?[0-9][0-9.eE+-]*")) return "NaN"
            s = substr($0, RSTART, RLENGTH)
            sub(/^[^:]*: */, "", s)
            return (s == "1e999" || s == "-1e999") ? "NaN" : s
        }
        {
            if (!match($0, /"split": *"[a-z]+"/)) next
            split_ = substr($0, RSTART, RLENGTH)
            sub(/^[^:]*: *"/, "", split_)
            sub(/"$/, "", split_)
            if (split_ != "batch" && split_ != "train" && split_ != "test") next
            print num(xkey), num("loss"), num("accuracy") > (dir "/" split_ ".dat")
        }' "$1/metrics.jsonl"
}

# the legend name of each run: its directory's name, or the path where two names clash
labels=()
for run in "${runs[@]}"; do
    run=${run%/}
    [ -f "$run/metrics.jsonl" ] || die "$run: no metrics.jsonl (is it a dtrain run directory?)"
    labels+=("$(basename "$run")")
done
dups=$(printf '%s\n' "${labels[@]}" | sort | uniq -d)
if [ -n "$dups" ]; then
    for i in "${!runs[@]}"; do labels[i]=${runs[i]%/}; done
fi

series() { # series FILE COLUMN STYLE TITLE: one plot clause, or nothing for an empty file
    if [ -s "$1" ]; then printf "%s using 1:%s %s title %s" "$(gq "$1")" "$2" "$3" "$(gq "$4")"; fi
}
join_plot() { # join_plot CLAUSE...: "plot a, b" without the empty clauses
    local s="" c
    for c in "$@"; do
        if [ -n "$c" ]; then s+="${s:+, }$c"; fi
    done
    if [ -n "$s" ]; then
        echo "plot $s"
    else # a panel must still be drawn for the layout
        echo "set label 1 'no data' at graph 0.5, 0.5 center; plot [0:1] NaN notitle; unset label 1"
    fi
}

written=()
for i in "${!runs[@]}"; do
    run=${runs[i]%/} d="$tmp/run$i"
    mkdir -p "$d"
    extract "$run" "$d"
    if [ -n "$outdir" ]; then
        png="$outdir/${labels[i]//\//_}-curves.png"
    else
        png="$run/curves.png"
    fi
    b="$d/batch.dat" tr="$d/train.dat" te="$d/test.dat"
    [ -s "$b" ] || [ -s "$tr" ] || [ -s "$te" ] || die "$run/metrics.jsonl: no metrics to plot"
    {
        echo "set terminal $term size 1200,540"
        echo "set output $(gq "$png")"
        echo "set multiplot layout 1,2 title $(gq "${labels[i]}")"
        echo "set grid; set xlabel $(gq "$xlabel") offset 0,0.5; set bmargin 5"
        echo "set title 'loss'; set ylabel 'loss'; set key below"
        join_plot "$(series "$b" 2 "with lines lw 1.5 lc rgb '#1f77b4'" "training batches")" \
            "$(series "$tr" 2 "with linespoints pt 7 ps 0.8 lw 2 lc rgb '#2ca02c'" "train (evaluation)")" \
            "$(series "$te" 2 "with linespoints pt 5 ps 0.8 lw 2 lc rgb '#d62728'" "test (evaluation)")"
        echo "set title 'accuracy'; set ylabel 'accuracy'; set key below"
        join_plot "$(series "$b" 3 "with lines lw 1.5 lc rgb '#1f77b4'" "training batches")" \
            "$(series "$tr" 3 "with linespoints pt 7 ps 0.8 lw 2 lc rgb '#2ca02c'" "train (evaluation)")" \
            "$(series "$te" 3 "with linespoints pt 5 ps 0.8 lw 2 lc rgb '#d62728'" "test (evaluation)")"
        echo "unset multiplot"
    } >"$d/curves.gp"
    render "$d/curves.gp"
    written+=("$png")
done

if [ ${#runs[@]} -gt 1 ]; then
    png="${outdir:-$(dirname "${runs[0]%/}")}/compare.png"
    # accuracy: the test evaluations when every run has a curve of them, else the batches'
    acc="test"
    for i in "${!runs[@]}"; do
        if [ ! -s "$tmp/run$i/test.dat" ] || [ "$(wc -l <"$tmp/run$i/test.dat")" -lt 2 ]; then acc="batch"; fi
    done
    loss_clauses=() acc_clauses=()
    for i in "${!runs[@]}"; do
        d="$tmp/run$i" color="lc rgb '${colors[i % ${#colors[@]}]}'"
        lf="$d/batch.dat"
        [ -s "$lf" ] || lf="$d/train.dat"
        loss_clauses+=("$(series "$lf" 2 "with lines lw 2 $color" "${labels[i]}")")
        if [ $acc = test ]; then
            acc_clauses+=("$(series "$d/test.dat" 3 "with linespoints lw 2 pt 7 ps 0.6 $color" "${labels[i]}")")
        else
            acc_clauses+=("$(series "$d/batch.dat" 3 "with lines lw 2 $color" "${labels[i]}")")
        fi
    done
    {
        echo "set terminal $term size 1200,540"
        echo "set output $(gq "$png")"
        echo "set multiplot layout 1,2 title 'comparison of ${#runs[@]} runs'"
        echo "set grid; set xlabel $(gq "$xlabel") offset 0,0.5; set bmargin 5"
        echo "set title 'training loss'; set ylabel 'loss'; set key below"
        join_plot "${loss_clauses[@]}"
        if [ $acc = test ]; then echo "set title 'test accuracy'"; else echo "set title 'training batch accuracy'"; fi
        echo "set ylabel 'accuracy'; set key below"
        join_plot "${acc_clauses[@]}"
        echo "unset multiplot"
    } >"$tmp/compare.gp"
    render "$tmp/compare.gp"
    written+=("$png")
fi
printf 'plot.sh: wrote %s\n' "${written[@]}"
