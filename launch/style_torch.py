#!/usr/bin/python3
"""style_torch.py — PyTorch twin of `dtrain style` with the default feature
network (models/style/random_multiscale.ini) and the course's costs, for
the speed comparison in the README. One thread; iterations per second of
Adam on the pixels of an H x W picture (random pictures: speed does not
depend on them). Not needed by the tests.

    /usr/bin/python3 launch/style_torch.py [--size 300x400] [--iters 20]
"""
import argparse
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="300x400")
    ap.add_argument("--iters", type=int, default=20)
    a = ap.parse_args()
    H, W = (int(v) for v in a.size.split("x"))
    torch.set_num_threads(1)
    torch.manual_seed(0)

    def conv(k):  # He normal, like dtrain's default init for conv2d
        w = torch.randn(32, 3, k, k) * (2.0 / (3 * k * k)) ** 0.5
        return w, torch.zeros(32)

    convs = {name: conv(k) for name, k in [("s3", 3), ("s5", 5), ("s7", 7), ("s6", 3), ("s12", 3)]}

    def features(x):
        f = {}
        for name, k in [("s3", 3), ("s5", 5), ("s7", 7)]:
            w, b = convs[name]
            f[name] = F.relu(F.conv2d(x, w, b, padding=k // 2))
        w, b = convs["s6"]
        f["s6"] = F.relu(F.conv2d(F.avg_pool2d(x, 2), w, b, padding=1))
        w, b = convs["s12"]
        f["s12"] = F.relu(F.conv2d(F.avg_pool2d(x, 4), w, b, padding=1))
        return f

    def gram(a):
        c = a.shape[1]
        m = a.reshape(c, -1)
        return m @ m.t()

    content = torch.rand(1, 3, H, W) * 255 - 120
    style = torch.rand(1, 3, H, W) * 255 - 120
    with torch.no_grad():
        a_c = features(content)["s5"]
        g_s = {k: gram(v) for k, v in features(style).items()}
    x = (0.6 * (torch.rand(1, 3, H, W) * 40 - 20) + 0.4 * content).requires_grad_(True)
    opt = torch.optim.Adam([x], lr=2.0)

    def step():
        opt.zero_grad()
        f = features(x)
        jc = ((f["s5"] - a_c) ** 2).sum() / (4 * a_c.numel())
        js = 0
        for k, v in f.items():
            c, hw = v.shape[1], v.shape[2] * v.shape[3]
            js = js + 0.2 * ((gram(v) - g_s[k]) ** 2).sum() / (4 * c * c * hw * hw)
        j = 10 * jc + 40 * js
        j.backward()
        opt.step()
        return j.item()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(a.iters):
        step()
    dt = time.perf_counter() - t0
    print(f"pytorch {torch.__version__}: {H}x{W}, {a.iters} iterations in {dt:.2f} s: {a.iters / dt:.2f} it/s")


if __name__ == "__main__":
    main()
