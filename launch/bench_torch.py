#!/usr/bin/python3
"""PyTorch reference for launch/bench.sh and launch/scaling.sh: a Fashion-MNIST
model of dtrain's configs, trained the way a careful PyTorch user would on CPU,
one thread per process, with Adam lr 1e-3 and batch 64 per rank:
  --model mlp  configs/fmnist_mlp.ini: 784-256-128-10, ReLU
  --model cnn  configs/fmnist_cnn.ini: conv 3x3x32 same, ReLU, max-pool 2,
               conv 3x3x64 same, ReLU, max-pool 2, flatten, dense 128 ReLU,
               dense 10; NCHW like dtrain, or channels-last with
               --channels-last 1 (oneDNN's faster layout on CPU)
The configs' step decay of the learning rate is left out: it does not change
the cost of a step.

  bench_torch.py [--model mlp|cnn] --ranks P --steps N --reps R [--warmup W] [--batch 64]

--ranks 2 or more runs DistributedDataParallel over gloo, one process per
rank, with the global batch (batch x ranks) split across ranks like dtrain's global
sharding. Each rep times N steps after W untimed warmup steps (first rep only).
Prints one line per rep (for the cnn also rank 0's peak resident memory) and
last "result: X img/s" (median, summed over ranks).
"""
import argparse
import gzip
import os
import resource
import socket
import statistics
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load_train(root):
    x = read_idx(os.path.join(root, "train-images-idx3-ubyte.gz"), 16)
    y = read_idx(os.path.join(root, "train-labels-idx1-ubyte.gz"), 8)
    x = torch.from_numpy(x.reshape(-1, 784).astype(np.float32) / 255.0)
    y = torch.from_numpy(y.astype(np.int64))
    return x, y


def worker(rank, world, args, port, queue):
    # One compute thread per process, as dtrain ranks run with OPENBLAS_NUM_THREADS=1.
    torch.set_num_threads(1)
    if world > 1:
        # Pin rank r to core r, as mpirun --bind-to core does for dtrain.
        try:
            os.sched_setaffinity(0, {rank % os.cpu_count()})
        except OSError:
            pass
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(port)
        dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)

    x, y = load_train(args.data)
    torch.manual_seed(0)
    model = make_model(args.model)
    shape = (1, 28, 28) if args.model == "cnn" else (784,)
    x = x.view(-1, *shape)
    if args.channels_last:
        # One input channel: NCHW and NHWC images are the same bytes, so the
        # conv weights' layout alone makes oneDNN pick its NHWC kernels.
        model = model.to(memory_format=torch.channels_last)
    if world > 1:
        # gradient_as_bucket_view saves one gradient copy per step.
        model = nn.parallel.DistributedDataParallel(model, gradient_as_bucket_view=True)
    loss_fn = nn.CrossEntropyLoss()
    # foreach=True updates all tensors per op instead of ~10 passes per tensor;
    # on CPU it is not the 1.13 default but roughly halves Adam's cost here.
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=bool(args.adam_foreach))
    model.train()

    b = args.batch
    gb = b * world
    steps_per_epoch = x.shape[0] // gb  # drop the last partial batch: every step has the same shape
    gen = torch.Generator().manual_seed(1)  # same seed on every rank, so all ranks agree on the permutation
    xb = torch.empty(b, *shape)
    yb = torch.empty(b, dtype=torch.int64)
    state = {"perm": None, "i": steps_per_epoch}

    def step():
        if state["i"] == steps_per_epoch:
            state["perm"] = torch.randperm(x.shape[0], generator=gen)
            state["i"] = 0
        idx = state["perm"][state["i"] * gb + rank * b:state["i"] * gb + (rank + 1) * b]
        state["i"] += 1
        torch.index_select(x, 0, idx, out=xb)
        torch.index_select(y, 0, idx, out=yb)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        step()
    rates, cpu = [], []
    for _ in range(args.reps):
        if world > 1:
            dist.barrier()
        t, c = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            step()
        if world > 1:
            dist.barrier()  # the slowest rank sets the pace
        t, c = time.perf_counter() - t, time.process_time() - c
        rates.append(args.steps * gb / t)
        # 1.0 when the process keeps one core busy; below: preempted, or (DDP) waiting on gloo
        cpu.append(c / t)
    if rank == 0:
        queue.put((rates, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    if world > 1:
        dist.destroy_process_group()


def make_model(name):
    if name == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64, help="rows per rank per step")
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--adam-foreach", type=int, choices=(0, 1), default=1,
                    help="1: multi-tensor Adam (default here); 0: PyTorch 1.13's CPU default")
    ap.add_argument("--channels-last", type=int, choices=(0, 1), default=0,
                    help="cnn: 1 stores the conv weights channels-last, so oneDNN runs NHWC")
    args = ap.parse_args()
    if args.ranks < 1 or args.steps < 1 or args.reps < 1 or args.batch < 1:
        ap.error("--ranks, --steps, --reps and --batch must be positive")
    if args.channels_last and args.model != "cnn":
        ap.error("--channels-last applies to --model cnn")

    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    if args.ranks == 1:
        worker(0, 1, args, 0, queue)
    else:
        mp.spawn(worker, args=(args.ranks, args, free_port(), queue), nprocs=args.ranks, join=True)
    rates, cpu, maxrss_kib = queue.get()
    label = "1 process" if args.ranks == 1 else f"DDP x{args.ranks} (gloo)"
    if args.channels_last:
        label += ", channels-last"
    for i, (r, c) in enumerate(zip(rates, cpu)):
        print(f"pytorch {torch.__version__} {label}: rep {i + 1}: {r:.0f} img/s (rank 0 cpu/wall {c:.2f})")
    if args.model == "cnn":
        print(f"pytorch peak resident memory, rank 0: {maxrss_kib / 1024:.0f} MiB")
    print(f"result: {statistics.median(rates):.0f} img/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
