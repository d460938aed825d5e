#!/usr/bin/python3
"""PyTorch reference for launch/bench.sh and launch/scaling.sh: a Fashion-MNIST
model of dtrain's configs, trained the way a careful PyTorch user would on CPU,
one thread per process, with Adam lr 1e-3 and batch 64 per rank:
  --model mlp  configs/fmnist_mlp.ini: 784-256-128-10, ReLU
  --model cnn  configs/fmnist_cnn.ini: conv 3x3x32 same, ReLU, max-pool 2,
               conv 3x3x64 same, ReLU, max-pool 2, flatten, dense 128 ReLU,
               dense 10; NCHW like dtrain, or channels-last with
               --channels-last 1 (oneDNN's faster layout on CPU)
  --model det  configs/scenes_yolo.ini's detector (models/scenes_yolo.ini):
               five 3x3 convs (16, 32, 64, 128, 128) without bias, each with
               batch norm and leaky ReLU 0.1, max-pools after the first three,
               a 1x1 conv to 5 anchors x (5 + 10 classes), and the YOLOv2 loss
               of src/nn/loss_yolo.c (same assignment, ignore mask and
               weights), on the scenes of --scenes FILE (dtrain make-scenes)
  --model resnet  configs/fmnist_resnet.ini's models/resnet_small.ini: a 3x3
               stem and three stages of two bottleneck blocks (16, 32, 64
               filters, 4x wider out; stride 2 into stages 2 and 3), batch
               norm everywhere, global average pooling, dense 10
  --model resnet50  the course's ResNet-50 (models/resnet50.ini): zero padding
               3, 7x7/2 stem with batch norm, relu and a 3x3/2 max pool, four
               stages of bottleneck blocks (3, 4, 6, 3 blocks; [64, 64, 256]
               to [512, 512, 2048] filters; stride 2 into stages 3-5), every
               conv with a bias as Keras's, 2x2 average pool, dense 6; on
               random 64x64x3 images (the SIGNS pictures are not shipped),
               as dtrain's [data] source = random_images
The configs' step decay of the learning rate is left out: it does not change
the cost of a step.

  bench_torch.py [--model mlp|cnn|det|resnet|resnet50] --ranks P --steps N --reps R [--warmup W] [--batch 64]
                 [--rank R --master ADDR:PORT]

--ranks 2 or more runs DistributedDataParallel over gloo, one process per
rank (spawned here; or, with --rank and --master, each started by the caller,
on hosts of its choice: launch/scaling_hosts.sh), with the global batch (batch x ranks) split across ranks like dtrain's global
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


def load_scenes(path):
    import h5py  # only the detector needs it
    with h5py.File(path, "r") as f:
        x = torch.from_numpy(f["train_x"][...].astype(np.float32) / 255.0)
        boxes = torch.from_numpy(f["train_y"][...].astype(np.float32))
    return x.unsqueeze(1), boxes


ANCHORS = torch.tensor([[1.95, 1.82], [2.19, 3.53], [4.79, 2.66], [3.36, 5.02], [5.34, 5.71]])


def yolo_loss(out, boxes, image=128.0, classes=10, coord=1.0, obj=5.0, noobj=1.0, cls=1.0, ignore=0.6):
    """Summed YOLOv2 loss of src/nn/loss_yolo.c: out [B, A*(5+C), gh, gw], boxes [B, K, 5] in pixels."""
    B, _, gh, gw = out.shape
    A = ANCHORS.shape[0]
    p = out.view(B, A, 5 + classes, gh, gw)
    sx, sy, tw, th, so = torch.sigmoid(p[:, :, 0]), torch.sigmoid(p[:, :, 1]), p[:, :, 2], p[:, :, 3], torch.sigmoid(p[:, :, 4])
    valid = boxes[:, :, 0] >= 0
    cx = (boxes[:, :, 1] + boxes[:, :, 3]) / 2 / image
    cy = (boxes[:, :, 2] + boxes[:, :, 4]) / 2 / image
    bw = (boxes[:, :, 3] - boxes[:, :, 1]) / image
    bh = (boxes[:, :, 4] - boxes[:, :, 2]) / image
    # ignore mask: decoded boxes that overlap a true box by IoU >= ignore
    with torch.no_grad():
        gy, gx = torch.meshgrid(torch.arange(gh, dtype=out.dtype), torch.arange(gw, dtype=out.dtype), indexing="ij")
        px, py = (gx + sx) / gw, (gy + sy) / gh
        pw = torch.exp(tw) * ANCHORS[:, 0].view(1, A, 1, 1) / gw
        ph = torch.exp(th) * ANCHORS[:, 1].view(1, A, 1, 1) / gh
        def e(t):
            return t.reshape(B, -1, 1)
        def b(t):
            return t.view(B, 1, -1)
        iw = (torch.min(e(px + pw / 2), b(cx + bw / 2)) - torch.max(e(px - pw / 2), b(cx - bw / 2))).clamp(min=0)
        ih = (torch.min(e(py + ph / 2), b(cy + bh / 2)) - torch.max(e(py - ph / 2), b(cy - bh / 2))).clamp(min=0)
        inter = iw * ih
        iou = inter / (e(pw * ph) + b(bw * bh) - inter)
        iou = torch.where(b(valid.float()) > 0, iou, torch.zeros_like(iou))
        best = iou.max(dim=2).values.view(B, A, gh, gw)
        # assignment: the cell of the centre, the anchor of the best shape IoU (a later box replaces an earlier one)
        resp = torch.zeros(B, A, gh, gw, dtype=torch.bool)
        tgt = torch.zeros(B, A, 5, gh, gw)
        for i, k in valid.nonzero().tolist():
            j, r = min(max(int(cx[i, k] * gw), 0), gw - 1), min(max(int(cy[i, k] * gh), 0), gh - 1)
            w, h = float(bw[i, k]) * gw, float(bh[i, k]) * gh
            ov = torch.min(ANCHORS[:, 0], torch.tensor(w)) * torch.min(ANCHORS[:, 1], torch.tensor(h))
            a = int(torch.argmax(ov / (ANCHORS[:, 0] * ANCHORS[:, 1] + w * h - ov)))
            resp[i, a, r, j] = True
            tgt[i, a, :, r, j] = torch.tensor([float(cx[i, k]) * gw - j, float(cy[i, k]) * gh - r,
                                               float(np.log(w / float(ANCHORS[a, 0]))), float(np.log(h / float(ANCHORS[a, 1]))),
                                               float(boxes[i, k, 0])])
        noobj_mask = (~resp) & (best < ignore)
    rf = resp.float()
    loss = coord * (rf * ((sx - tgt[:, :, 0]) ** 2 + (sy - tgt[:, :, 1]) ** 2 + (tw - tgt[:, :, 2]) ** 2 + (th - tgt[:, :, 3]) ** 2)).sum()
    loss = loss + obj * (rf * (so - 1) ** 2).sum() + noobj * (noobj_mask.float() * so ** 2).sum()
    logits = p[:, :, 5:].permute(0, 1, 3, 4, 2)[resp]
    if logits.shape[0]:
        loss = loss + cls * nn.functional.cross_entropy(logits, tgt[:, :, 4].long()[resp], reduction="sum")
    return loss


def worker(rank, world, args, port, queue):
    # One compute thread per process, as dtrain ranks run with OPENBLAS_NUM_THREADS=1.
    torch.set_num_threads(1)
    if world > 1:
        master = "127.0.0.1"
        if args.master:  # one process of many started on (simulated) hosts: unpinned, like dtrain there
            master, port = args.master.rsplit(":", 1)
        else:
            # Pin rank r to core r, as mpirun --bind-to core does for dtrain.
            try:
                os.sched_setaffinity(0, {rank % os.cpu_count()})
            except OSError:
                pass
        os.environ["MASTER_ADDR"] = master
        os.environ["MASTER_PORT"] = str(port)
        dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)

    if args.model == "det":
        x, y = load_scenes(args.scenes)
    elif args.model == "resnet50":
        g = torch.Generator().manual_seed(7)
        x, y = torch.rand(1024, 3, 64, 64, generator=g), torch.randint(0, 6, (1024,), generator=g)
    else:
        x, y = load_train(args.data)
    torch.manual_seed(0)
    model = make_model(args.model)
    shape = {"det": (1, 128, 128), "cnn": (1, 28, 28), "resnet": (1, 28, 28), "resnet50": (3, 64, 64)}.get(args.model, (784,))
    x = x.view(-1, *shape)
    if args.channels_last:
        # One input channel: NCHW and NHWC images are the same bytes, so the
        # conv weights' layout alone makes oneDNN pick its NHWC kernels;
        # three channels are stored channels-last too.
        model = model.to(memory_format=torch.channels_last)
        if shape[0] > 1:
            x = x.contiguous(memory_format=torch.channels_last)
    if world > 1:
        # gradient_as_bucket_view saves one gradient copy per step.
        model = nn.parallel.DistributedDataParallel(model, gradient_as_bucket_view=True)
    gb = args.batch * world
    # the mean over the global batch, as dtrain takes it (and DDP averages over ranks)
    loss_fn = (lambda out, t: yolo_loss(out, t) / args.batch) if args.model == "det" else nn.CrossEntropyLoss()
    # foreach=True updates all tensors per op instead of ~10 passes per tensor;
    # on CPU it is not the 1.13 default but roughly halves Adam's cost here.
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=bool(args.adam_foreach))
    model.train()

    b = args.batch
    gb = b * world
    steps_per_epoch = x.shape[0] // gb  # drop the last partial batch: every step has the same shape
    gen = torch.Generator().manual_seed(1)  # same seed on every rank, so all ranks agree on the permutation
    xb = torch.empty(b, *shape)
    if args.channels_last and shape[0] > 1:
        xb = xb.contiguous(memory_format=torch.channels_last)
    yb = torch.empty(b, *y.shape[1:], dtype=y.dtype)
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


def cbl(cin, cout):
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.LeakyReLU(0.1)]


class Bottleneck(nn.Module):
    """models/resnet_small.ini's block: 1x1 (stride s), 3x3, 1x1 to 4f, each
    with batch norm; a projection (1x1 stride s, batch norm) where the shape
    changes; the sum through relu."""

    def __init__(self, cin, f, stride):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, f, 1, stride=stride, bias=False), nn.BatchNorm2d(f), nn.ReLU(),
            nn.Conv2d(f, f, 3, padding=1, bias=False), nn.BatchNorm2d(f), nn.ReLU(),
            nn.Conv2d(f, 4 * f, 1, bias=False), nn.BatchNorm2d(4 * f))
        self.proj = None
        if stride != 1 or cin != 4 * f:
            self.proj = nn.Sequential(nn.Conv2d(cin, 4 * f, 1, stride=stride, bias=False), nn.BatchNorm2d(4 * f))

    def forward(self, x):
        return torch.relu(self.body(x) + (x if self.proj is None else self.proj(x)))


class Block50(nn.Module):
    """models/resnet50.ini's block (the course's identity and convolutional
    blocks): 1x1 (stride s), 3x3 same, 1x1, each conv with a bias and batch
    norm (eps 1e-3); a 1x1 stride-s projection with batch norm in the
    convolutional block; the sum through relu."""

    def __init__(self, cin, filters, stride, project):
        super().__init__()
        f1, f2, f3 = filters

        def bn(c):
            return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

        self.body = nn.Sequential(
            nn.Conv2d(cin, f1, 1, stride=stride), bn(f1), nn.ReLU(),
            nn.Conv2d(f1, f2, 3, padding=1), bn(f2), nn.ReLU(),
            nn.Conv2d(f2, f3, 1), bn(f3))
        self.proj = nn.Sequential(nn.Conv2d(cin, f3, 1, stride=stride), bn(f3)) if project else None

    def forward(self, x):
        return torch.relu(self.body(x) + (x if self.proj is None else self.proj(x)))


def make_model(name):
    if name == "resnet50":
        layers = [nn.ZeroPad2d(3), nn.Conv2d(3, 64, 7, stride=2), nn.BatchNorm2d(64, eps=1e-3, momentum=0.01), nn.ReLU(),
                  nn.MaxPool2d(3, 2)]
        cin = 64
        for filters, stride, blocks in (((64, 64, 256), 1, 3), ((128, 128, 512), 2, 4), ((256, 256, 1024), 2, 6),
                                        ((512, 512, 2048), 2, 3)):
            for i in range(blocks):
                layers.append(Block50(cin, filters, stride if i == 0 else 1, i == 0))
                cin = filters[2]
        return nn.Sequential(*layers, nn.AvgPool2d(2), nn.Flatten(), nn.Linear(2048, 6))
    if name == "resnet":
        layers = [nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        cin = 16
        for f, stride in ((16, 1), (32, 2), (64, 2)):
            layers += [Bottleneck(cin, f, stride), Bottleneck(4 * f, f, 1)]
            cin = 4 * f
        return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))
    if name == "det":
        return nn.Sequential(*cbl(1, 16), nn.MaxPool2d(2), *cbl(16, 32), nn.MaxPool2d(2), *cbl(32, 64), nn.MaxPool2d(2),
                             *cbl(64, 128), *cbl(128, 128), nn.Conv2d(128, 75, 1))
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
    ap.add_argument("--model", choices=("mlp", "cnn", "det", "resnet", "resnet50"), default="mlp")
    ap.add_argument("--scenes", help="det: the scenes file of dtrain make-scenes")
    ap.add_argument("--ranks", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64, help="rows per rank per step")
    ap.add_argument("--data", default=DATA)
    ap.add_argument("--rank", type=int, help="run only this rank (one process per rank, started by the caller)")
    ap.add_argument("--master", help="with --rank: rank 0's ADDR:PORT for gloo's rendezvous")
    ap.add_argument("--adam-foreach", type=int, choices=(0, 1), default=1,
                    help="1: multi-tensor Adam (default here); 0: PyTorch 1.13's CPU default")
    ap.add_argument("--channels-last", type=int, choices=(0, 1), default=0,
                    help="cnn: 1 stores the conv weights channels-last, so oneDNN runs NHWC")
    args = ap.parse_args()
    if args.ranks < 1 or args.steps < 1 or args.reps < 1 or args.batch < 1:
        ap.error("--ranks, --steps, --reps and --batch must be positive")
    if (args.rank is None) != (args.master is None) or (args.rank is not None and not 0 <= args.rank < args.ranks):
        ap.error("--rank R (0 <= R < --ranks) and --master ADDR:PORT go together")
    if args.channels_last and args.model == "mlp":
        ap.error("--channels-last applies to --model cnn, det, resnet and resnet50")
    if args.model == "det" and not args.scenes:
        ap.error("--model det needs --scenes FILE (dtrain make-scenes --out FILE)")

    ctx = mp.get_context("spawn")
    queue = ctx.SimpleQueue()
    if args.rank is not None:  # this process is one rank; rank 0 reports
        worker(args.rank, args.ranks, args, 0, queue)
        if args.rank != 0:
            return 0
    elif args.ranks == 1:
        worker(0, 1, args, 0, queue)
    else:
        mp.spawn(worker, args=(args.ranks, args, free_port(), queue), nprocs=args.ranks, join=True)
    rates, cpu, maxrss_kib = queue.get()
    label = "1 process" if args.ranks == 1 else f"DDP x{args.ranks} (gloo)"
    if args.channels_last:
        label += ", channels-last"
    for i, (r, c) in enumerate(zip(rates, cpu)):
        print(f"pytorch {torch.__version__} {label}: rep {i + 1}: {r:.0f} img/s (rank 0 cpu/wall {c:.2f})")
    if args.model != "mlp":
        print(f"pytorch peak resident memory, rank 0: {maxrss_kib / 1024:.0f} MiB")
    print(f"result: {statistics.median(rates):.0f} img/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
