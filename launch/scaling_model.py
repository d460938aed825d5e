#!/usr/bin/python3
"""Scaling model of dtrain's data-parallel step (an alpha-beta model).

A step is the rank's compute t_c (forward and backward of its rows), then
the sum of the gradient (N bytes) over P ranks on H hosts of L = P/H ranks:

  flat     MPI_Allreduce blind to hosts, modelled as Open MPI's ring over
           the ranks in order: 2(P-1) steps of N/P bytes, each as slow as a
           link between hosts (alpha_net + N/(P B_net)) once H > 1;
  hier     dtrain's sum by host: inside the host in shared memory
           (2 (L-1)/L N bytes read at B_in, 2 log2 L barriers of alpha_in),
           between hosts recursive halving and doubling of each rank's
           slice N/L, the host's L ranks sharing its link:
           2 log2 H alpha_net + 2 (H-1)/H N / B_net;
  overlap  hier in buckets during backward: what is left exposed is the
           larger of the part of the sum that cannot start before backward
           ends (the share `tail` of the gradient held by the first layer)
           and the whole sum less the backward time it hides under
           (t_b = 2/3 t_c): max(tail T, T - t_b).

Step time = t_c x s + exposed sum, where s = max(1, P / cores) when the
ranks share `cores` cores (the simulated hosts of launch/hosts.sh all run
on this machine), 1 on a real cluster; weak-scaling efficiency = t_c / step.

  scaling_model.py validate TSV [--cores 2] [--fit mlp] [--alpha-net 5e-5] [--b-in 4e9]
      TSV from OUT= of launch/scaling.sh --hosts: compute time per model from
      its 1-host rows (step less wait), link rates from its rate column. With
      --fit, the two parameters the simulation adds (the share of a link's
      rate that tbf and TCP deliver, and the wait of each round of messages
      for its partner to be scheduled when ranks share cores) are fitted on
      those models' runs, and the others validate; prints predicted and
      measured step times, each error and the mean absolute error.
  scaling_model.py predict [--ranks 16 64 256] [--per-host 8] [--gbit 25 100]
      predictions for the MLP, the CNN and the course's ResNet-50 (compute
      times measured on one core of the 2-core machine: see MODELS).
"""
import argparse
import csv
import math
import sys

# Gradient values (dtrain train's "parameters" count) and the first layer's
# share of them (the `tail` that overlap cannot hide: its gradient is final
# only as backward ends), and the compute time of one step at 64 rows per
# rank on one core of the 2-core machine (ms; from the 1-host runs of
# launch/scaling.sh --hosts, step less communication wait): the inputs of
# `predict`.
MODELS = {
    "mlp": {"values": 235146, "tail": 200960 / 235146, "t_c_ms": 1.0},
    "cnn": {"values": 421642, "tail": 320 / 421642, "t_c_ms": 43.0},
    # 23 546 886 trained values and 53 120 batch-norm statistics; 2.7 s for a
    # step of 32 rows (1 rank, 5 steps, random 64x64x3 images), doubled
    "resnet50": {"values": 23600006, "tail": 9472 / 23600006, "t_c_ms": 5400.0},
}
VALUE_BYTES = 4  # float


def rate_bytes(rate):
    """'10gbit' -> bytes per second (tc's units, TCP/IP headers left out: about 5 % lower in practice)."""
    units = {"gbit": 1e9, "mbit": 1e6, "kbit": 1e3}
    for u, f in units.items():
        if rate.endswith(u):
            return float(rate[: -len(u)]) * f / 8
    raise ValueError(f"rate {rate!r}: expected e.g. 10gbit or 500mbit")


def comm_times(N, P, H, p, s=1.0):
    """Seconds of the flat and hierarchical sums of N bytes over P ranks on
    H hosts. s > 1: the ranks share cores (s ranks per core), and each round
    of messages also waits (s - 1) x alpha_sched for its partners to be
    scheduled (the simulated hosts only)."""
    L = P // H
    if P == 1:
        return 0.0, 0.0
    sched = (s - 1) * p.get("alpha_sched", 0.0)
    inside = 2 * (L - 1) / L * N / p["b_in"] + 2 * math.log2(L) * (p["alpha_in"] + sched) if L > 1 else 0.0
    if H == 1:
        flat = 2 * (P - 1) * (p["alpha_in"] + sched + N / (P * p["b_in"]))
        return flat, inside
    flat = 2 * (P - 1) * (p["alpha_net"] + sched + N / (P * p["b_net"]))
    hier = inside + 2 * math.log2(H) * (p["alpha_net"] + sched) + 2 * (H - 1) / H * N / p["b_net"]
    return flat, hier


def step_time(model, scheme, P, H, t_c, p, cores=None):
    """Predicted step time (s) of `scheme` (flat, hier/after, overlap)."""
    m = MODELS[model]
    N = m["values"] * VALUE_BYTES
    s = max(1.0, P / cores) if cores else 1.0
    flat, hier = comm_times(N, P, H, p, s)
    if scheme == "flat":
        exposed = flat
    elif scheme in ("hier", "after"):
        exposed = hier
    else:
        exposed = max(m["tail"] * hier, hier - 2 / 3 * t_c * s)
    return t_c * s + exposed


def validate(args):
    rows = list(csv.DictReader(open(args.tsv), delimiter="\t"))
    if not rows:
        sys.exit(f"{args.tsv}: no rows")
    # compute per step from the 1-host runs of reduce = after (step less its wait)
    t_c = {}
    for r in rows:
        if int(r["hosts"]) == 1 and r["mode"] == "after":
            share = max(1.0, int(r["ranks"]) / args.cores)  # ranks sharing a core there
            t_c.setdefault(r["model"], []).append((float(r["step_ms"]) - float(r["wait_ms"])) / 1000 / share)
    runs = [r for r in rows if int(r["hosts"]) > 1 and r["model"] in t_c]

    def predicted(r, eff, sched):
        H, P = int(r["hosts"]), int(r["ranks"])
        tc = sorted(t_c[r["model"]])[len(t_c[r["model"]]) // 2]
        p = {"alpha_net": args.alpha_net, "b_net": rate_bytes(r["rate"]) * eff, "alpha_in": args.alpha_in,
             "b_in": args.b_in, "alpha_sched": sched}
        return step_time(r["model"], r["mode"], P, H, tc, p, cores=args.cores) * 1000

    def error(r, eff, sched):
        return (predicted(r, eff, sched) - float(r["step_ms"])) / float(r["step_ms"])

    eff, sched = args.efficiency, args.alpha_sched
    fitted = [r for r in runs if r["model"] in (args.fit or [])]
    if fitted:  # least mean absolute error over a grid
        grid = [(e / 100, a / 1e5) for e in range(20, 101) for a in range(0, 301, 2)]
        eff, sched = min(grid, key=lambda g: sum(abs(error(r, *g)) for r in fitted))
        print(f"fitted on {', '.join(args.fit)} ({len(fitted)} runs): link efficiency {eff:.2f}, "
              f"alpha_sched {sched * 1e3:.2f} ms; the other runs validate the model")
    print(f"{'model':5} {'link':7} {'hosts':>5} {'ranks':>5} {'reduce':8} {'measured ms':>11} {'model ms':>9} {'error':>7}")
    errs = []
    for r in runs:
        e = error(r, eff, sched)
        role = "fit" if r in fitted else "check"
        if role == "check":
            errs.append(abs(e))
        print(f"{r['model']:5} {r['rate']:7} {int(r['hosts']):5d} {int(r['ranks']):5d} {r['mode']:8} "
              f"{float(r['step_ms']):11.2f} {predicted(r, eff, sched):9.2f} {100 * e:6.0f}%  {role}")
    if errs:
        print(f"validation: mean absolute error {100 * sum(errs) / len(errs):.0f} % over {len(errs)} runs not fitted; "
              f"largest {100 * max(errs):.0f} %")


def predict(args):
    print("PREDICTIONS of the model (not measurements): weak scaling, 64 rows per rank, one core per rank,")
    print(f"{args.per_host} ranks per host; alpha_net {args.alpha_net * 1e6:.0f} us, shared memory {args.b_in / 1e9:.0f} GB/s;"
          " step ms and efficiency t_c / step")
    print(f"{'model':9} {'Gbit/s':>6} {'ranks':>5} {'hosts':>5} {'t_c ms':>8}  {'flat':>16}  {'hier':>16}  {'overlap':>16}")
    for model in args.models:
        t_c = MODELS[model]["t_c_ms"] / 1000
        for g in args.gbit:
            p = {"alpha_net": args.alpha_net, "b_net": g * 1e9 / 8 * args.efficiency, "alpha_in": args.alpha_in,
                 "b_in": args.b_in}
            for P in args.ranks:
                H = max(1, P // args.per_host)
                cells = []
                for scheme in ("flat", "hier", "overlap"):
                    t = step_time(model, scheme, P, H, t_c, p)
                    cells.append(f"{1000 * t:9.2f} {100 * t_c / t:4.0f} %")
                print(f"{model:9} {g:6g} {P:5d} {H:5d} {1000 * t_c:8.1f}  " + "  ".join(cells))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("validate", "predict"):
        s = sub.add_parser(name)
        s.add_argument("--alpha-net", type=float, default=5e-5, help="seconds per message between hosts")
        s.add_argument("--alpha-in", type=float, default=2e-6, help="seconds per barrier inside a host")
        s.add_argument("--b-in", type=float, default=4e9, help="bytes/s of a sum in shared memory")
        s.add_argument("--efficiency", type=float, default=0.95, help="share of a link's rate that carries data")
        if name == "validate":
            s.add_argument("tsv")
            s.add_argument("--cores", type=float, default=2)
            s.add_argument("--alpha-sched", type=float, default=0.0,
                           help="seconds a round of messages waits per extra rank sharing a core")
            s.add_argument("--fit", nargs="+", help="fit the link efficiency and alpha_sched on these models' runs")
        else:
            s.add_argument("--ranks", type=int, nargs="+", default=[16, 64, 256])
            s.add_argument("--per-host", type=int, default=8)
            s.add_argument("--gbit", type=float, nargs="+", default=[25, 100])
            s.add_argument("--models", nargs="+", choices=sorted(MODELS), default=["mlp", "cnn", "resnet50"])
    args = ap.parse_args()
    validate(args) if args.cmd == "validate" else predict(args)


if __name__ == "__main__":
    main()
