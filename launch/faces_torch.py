#!/usr/bin/python3
"""PyTorch twin of dtrain's three face networks, for a speed comparison.

  launch/faces_torch.py [--models DIR] [--reps N] [--iters N] [--check-only]

Builds tiny_face_detector, face_landmark_68 and face_recognition generically
from the model INI text stored in dtrain's checkpoints (DIR/<name>.h5, attribute
"model"; weights under /params/<layer>/<W|b|w> in PyTorch layout), then
  1. checks each against tests/faces/ref/fixed_inputs.json (face-api's outputs
     for a fixed synthetic picture): prints the max abs difference and exits
     non-zero if any exceeds 1e-3;
  2. unless --check-only, times inference on one thread (median of --reps runs
     of --iters forward passes after a warm-up), NCHW ("torch ...") and
     channels-last ("torch-nhwc ...").
DIR defaults to $DTRAIN_FACES or ~/.cache/dtrain/faces. Needs Debian's python
(/usr/bin/python3) with torch, h5py and numpy.
"""
import argparse
import configparser
import json
import math
import os
import statistics
import sys
import time

import h5py
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REF = os.path.join(ROOT, "tests", "faces", "ref", "fixed_inputs.json")
SIDE = {"input", "preprocess", "yolo", "tfjs"}  # sections that are not layers


def same_pads(size, k, s):
    """TensorFlow 'same' padding of one dimension: (before, after)."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def activate(x, cfg):
    act = cfg.get("activation", "linear")
    if act == "relu":
        return F.relu(x)
    if act == "leaky_relu":
        return F.leaky_relu(x, float(cfg.get("alpha", "0.01")))
    assert act == "linear", act
    return x


class Layer(nn.Module):
    """One INI section: parameters as registered buffers/parameters, op in forward."""

    def __init__(self, name, cfg, channels):
        super().__init__()
        self.name, self.cfg, self.type = name, cfg, cfg["type"]
        k = int(cfg.get("kernel", "1"))
        self.k, self.s = k, int(cfg.get("stride", str(k if "pool" in self.type else 1)))
        self.padding = cfg.get("padding", "valid")
        bias = cfg.get("bias", "1") != "0"
        c = channels[0]
        if self.type == "conv2d":
            self.out = int(cfg["filters"])
            self.W = nn.Parameter(torch.zeros(self.out, c, k, k))
            self.groups = 1
        elif self.type == "dwconv2d":
            self.out = c
            self.W = nn.Parameter(torch.zeros(c, 1, k, k))
            self.groups = c
        elif self.type == "scale":
            self.out = c
            self.w = nn.Parameter(torch.ones(c).view(1, c, 1, 1))
        elif self.type == "dense":
            self.out = int(cfg["units"])
            self.W = nn.Parameter(torch.zeros(self.out, c))  # c: flattened size
        elif self.type == "zeropad":
            self.out = c + int(cfg.get("channels", "0"))
        else:
            self.out = c
        self.b = None
        if (self.type in ("conv2d", "dwconv2d", "dense") and bias) or self.type == "scale":
            self.b = nn.Parameter(torch.zeros(self.out))

    def spatial_pads(self, x):
        """(left, right, top, bottom) for F.pad, from the padding key."""
        if self.padding == "valid":
            return (0, 0, 0, 0)
        if self.padding == "same":
            t, b = same_pads(x.shape[2], self.k, self.s)
            l, r = same_pads(x.shape[3], self.k, self.s)
            return (l, r, t, b)
        p = [int(v) for v in self.padding.split(",")]
        t, b, l, r = p * 4 if len(p) == 1 else p
        return (l, r, t, b)

    def forward(self, xs):
        x, t, cfg = xs[0], self.type, self.cfg
        if t in ("conv2d", "dwconv2d"):
            l, r, tp, bt = self.spatial_pads(x)
            if l == r and tp == bt:  # symmetric: let the conv pad
                y = F.conv2d(x, self.W, self.b, self.s, (tp, l), 1, self.groups)
            else:
                y = F.conv2d(F.pad(x, (l, r, tp, bt)), self.W, self.b, self.s, 0, 1, self.groups)
        elif t == "maxpool":
            pads = self.spatial_pads(x)
            if any(pads):  # padded cells never win
                x = F.pad(x, pads, value=-math.inf)
            y = F.max_pool2d(x, self.k, self.s)
        elif t == "avgpool":
            pads = self.spatial_pads(x)
            if any(pads):  # padded cells not counted
                ones = F.pad(torch.ones_like(x[:1, :1]), pads)
                y = F.avg_pool2d(F.pad(x, pads), self.k, self.s) / F.avg_pool2d(ones, self.k, self.s)
            else:
                y = F.avg_pool2d(x, self.k, self.s)
        elif t == "add":
            y = xs[0] + xs[1]
        elif t == "zeropad":
            y = F.pad(x, self.spatial_pads(x) + (0, self.out - x.shape[1]))
        elif t == "scale":
            y = x * self.w + self.b.view(1, -1, 1, 1)
        elif t == "global_avgpool":
            y = x.mean(dim=(2, 3))
        elif t == "dense":
            y = F.linear(x.flatten(1), self.W, self.b)
        else:
            raise ValueError(f"[{self.name}]: unknown layer type {t}")
        return activate(y, cfg)


class Net(nn.Module):
    """A dtrain model INI as a layer graph; forward follows the sections in order."""

    def __init__(self, text):
        super().__init__()
        ini = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=("#", ";"))
        ini.optionxform = str
        ini.read_string(text)
        self.shape = [int(v) for v in ini["input"]["shape"].split(",")]
        pre = ini["preprocess"]
        self.mean = [float(v) for v in pre["mean"].split(",")]
        self.divide = float(pre["divide"])
        self.layers = nn.ModuleList()
        prev, ch, size = "input", {"input": self.shape[0]}, self.shape[1]
        for name in ini.sections():
            if name in SIDE:
                continue
            cfg = dict(ini[name])
            inputs = [s.strip() for s in cfg["inputs"].split(",")] if "inputs" in cfg else [prev]
            c = ch[inputs[0]]
            if cfg["type"] == "dense":  # flattened size of the input, found by a dry run
                c = self._dry_run(inputs[0])
            layer = Layer(name, cfg, [c])
            layer.inputs = inputs
            self.layers.append(layer)
            ch[name], prev = layer.out, name
        self.output = prev

    def _dry_run(self, upto):
        with torch.no_grad():
            vals = self.run(torch.zeros([1] + self.shape), stop=upto)
        return vals[upto][0].numel()

    def run(self, x, stop=None):
        vals = {"input": x}
        for layer in self.layers:
            vals[layer.name] = layer([vals[i] for i in layer.inputs])
            if layer.name == stop:
                break
        return vals

    def forward(self, x):
        return self.run(x)[self.output]

    def load(self, params):
        for layer in self.layers:
            for key, p in layer.named_parameters():
                data = torch.from_numpy(np.asarray(params[layer.name][key], dtype=np.float32))
                p.data = data.view(p.shape).clone()

    def preprocess(self, pixels):
        """pixels: float [N, H, W, 3] RGB 0..255 -> NCHW network input."""
        mean = torch.tensor(self.mean, dtype=torch.float32)
        return ((pixels - mean) / self.divide).permute(0, 3, 1, 2).contiguous()


def load_net(path):
    with h5py.File(path, "r") as f:
        text = f.attrs["model"]
        net = Net(text.decode() if isinstance(text, bytes) else text)
        net.load(f["params"])
    return net.eval()


def fixed_picture(size):
    y, x, c = np.meshgrid(np.arange(size), np.arange(size), np.arange(3), indexing="ij")
    p = (x * 3 + y * 5 + c * 7 + (x * y) % 13) % 256
    return torch.from_numpy(p.astype(np.float32))[None]


def check(nets):
    ref = json.load(open(REF))
    worst = 0.0
    for key, net in nets.items():
        want = np.asarray(ref[key]["values"], dtype=np.float64)
        with torch.no_grad():
            out = net(net.preprocess(fixed_picture(net.shape[1])))
        if out.dim() == 4:  # NCHW -> NHWC, as the reference is flattened
            out = out.permute(0, 2, 3, 1)
        diff = np.abs(out.reshape(-1).double().numpy() - want).max()
        worst = max(worst, diff)
        print(f"check {key}: max abs diff {diff:.3g} over {want.size} values")
    return worst <= 1e-3


def bench(label, net, size, batch, reps, iters, nhwc):
    x = torch.randn(batch, 3, size, size)
    if nhwc:
        net = net.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    times = []
    with torch.no_grad():
        net(x)  # warm-up
        for _ in range(reps):
            t = time.perf_counter()
            for _ in range(iters):
                net(x)
            times.append((time.perf_counter() - t) / (iters * batch))
    tag = "torch-nhwc" if nhwc else "torch"
    print(f"{tag} {label} {size} batch {batch}: {statistics.median(times) * 1e3:.2f} ms/image",
          flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = os.environ.get("DTRAIN_FACES") or os.path.expanduser("~/.cache/dtrain/faces")
    ap.add_argument("--models", default=default, help="folder of the converted .h5 checkpoints")
    ap.add_argument("--reps", type=int, default=5, help="timed runs; the median is printed")
    ap.add_argument("--iters", type=int, default=3, help="forward passes per timed run")
    ap.add_argument("--check-only", action="store_true", help="only compare with the reference")
    args = ap.parse_args()

    torch.set_num_threads(1)
    files = {"detector": "tiny_face_detector", "landmark": "face_landmark_68",
             "recognition": "face_recognition"}
    nets = {k: load_net(os.path.join(args.models, f + ".h5")) for k, f in files.items()}
    if not check(nets):
        print("check FAILED: a difference exceeds 1e-3", file=sys.stderr)
        return 1
    if args.check_only:
        return 0
    for nhwc in (False, True):
        bench("detector", nets["detector"], 416, 1, args.reps, args.iters, nhwc)
        bench("detector", nets["detector"], 416, 8, args.reps, args.iters, nhwc)
        bench("recognizer", nets["recognition"], 150, 16, args.reps, args.iters, nhwc)
        bench("landmarks", nets["landmark"], 112, 16, args.reps, args.iters, nhwc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
