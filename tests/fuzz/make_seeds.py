#!/usr/bin/python3
"""Write the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/).

Needs Debian's python3-numpy, python3-h5py and python3-pil (the tests never
run it: its output is committed). ok-* seeds must be accepted by their
target, bad-* refused with an error; the replay checks both.
Usage: tests/fuzz/make_seeds.py CHECKPOINT.h5  (a checkpoint of
tests/fuzz/fuzz_ckpt.c's model trained with Adam: see launch/fuzz.sh seeds)."""
import io, json, os, struct, sys, zlib, gzip
import numpy as np, h5py
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
def out(target, name, data):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def h5bytes(fill):
    b = io.BytesIO()
    with h5py.File(b, "w", libver="latest") as f:
        fill(f)
    return b.getvalue()

def expect(target, name, text):  # the error a bad-* input must give contains this
    out(target, name + ".expect", text.encode() + b"\n")

def split(a, b):  # fuzz.h's 2-byte length prefix
    return struct.pack("<H", len(a)) + a + b

# ---- ini: config %% model %% overrides
cfg = b"[model]\nfile = m.ini\nseed = 3\n[optim]\ntype = adam\nlr = 0.01\n[train]\nepochs = 2\nglobal_batch = 8\n"
model = b"[input]\nshape = 2\n[h]\ntype = dense\nunits = 4\nactivation = tanh\n[out]\ntype = dense\nunits = 1\nactivation = sigmoid\n"
out("ini", "ok-mlp", cfg + b"%%\n" + model + b"%%\ntrain.epochs=3\nmodel.h.units=5\n")
cnn = (b"[input]\nshape = 1,8,8\n[c]\ntype = conv2d\nfilters = 2\nkernel = 3\npadding = same\n[b]\ntype = batchnorm\n"
       b"[p]\ntype = maxpool\nkernel = 2\n[f]\ntype = flatten\n[o]\ntype = dense\nunits = 3\nactivation = softmax\n")
out("ini", "ok-cnn", b"[model]\nfile = m.ini\n[optim]\nlr = 0.1\n[train]\nepochs = 1\n[data]\nsource = planar\n[dist]\ndeterministic = 1\nmicro_batch = 4\n%%\n" + cnn + b"%%\n")
# a 195-character value: its dump must drop the spaces around '=' to stay a line inih reads whole
out("ini", "ok-long-value", b"[model]\nfile=" + b"m" * 188 + b".ini\n[optim]\nlr = 1\n[train]\nepochs = 1\n%%\n" + model + b"%%\n")
out("ini", "bad-long-line", b"[model]\nfile = " + b"m" * 190 + b".ini\n[optim]\nlr = 1\n[train]\nepochs = 1\n%%\n")
expect("ini", "bad-long-line", "config.ini:2: line longer than 198 characters")
out("ini", "bad-key", b"[optim]\nlr = 1\n[train]\nepochs = 2\nepoch = 3\n%%\n" + model + b"%%\n")
out("ini", "bad-override", cfg + b"%%\n" + model + b"%%\ntrain.epochs\n")

# ---- idx: flags, labels (length-prefixed), images
n = 4
lab = struct.pack(">IIBBBB", 0x801, n, 0, 1, 2, 1)[:8] + bytes([0, 1, 2, 1])
img = struct.pack(">IIII", 0x803, n, 2, 2) + bytes(range(16))
out("idx", "ok-plain", b"\x00" + split(lab, img))
out("idx", "ok-gz", b"\x03" + split(lab, img))
out("idx", "bad-short", b"\x00" + split(lab, img[:-3]))
out("idx", "bad-huge", b"\x00" + split(lab, struct.pack(">IIII", 0x803, 0x7fffffff, 4096, 4096)))
expect("idx", "bad-huge", "more than a file of 16 bytes can hold")

# ---- hdf5: the course's layout
def course(f, ydims):
    f["train_set_x"] = np.arange(4 * 2 * 2 * 3, dtype=np.uint8).reshape(4, 2, 2, 3)
    f["train_set_y"] = np.array([0, 1, 1, 0], dtype=np.int64).reshape(ydims)
    f["list_classes"] = np.array([b"non-cat", b"cat"])
out("hdf5", "ok-flat", h5bytes(lambda f: course(f, (4,))))
out("hdf5", "seed-course", h5bytes(lambda f: course(f, (1, 4))))
out("hdf5", "ok-deflate", h5bytes(lambda f: (f.create_dataset("train_set_x", data=np.zeros((8, 3), np.float32),
                                                            compression="gzip", chunks=(4, 3)),
                                           f.create_dataset("train_set_y", data=np.arange(8, dtype=np.int32)))))

# a header claiming 12 TB of pixels whose values were never written
out("hdf5", "bad-huge", h5bytes(lambda f: (f.create_dataset("train_set_x", shape=(10**9, 64, 64, 3), dtype="u1"),
                                          f.create_dataset("train_set_y", data=np.zeros(4, np.int64)))))
expect("hdf5", "bad-huge", "claims 12288000000000 bytes of values, but the file holds 0 bytes")

# ---- boxes: pictures [n, 8, 8], boxes [n, 3, 5]
def scenes(f):
    f["train_x"] = np.zeros((2, 8, 8), np.uint8)
    b = -np.ones((2, 3, 5), np.float32)
    b[0, 0] = [1, 0, 0, 4, 4]
    b[1, 0] = [2, 2, 3, 8, 8]
    b[1, 1] = [0, 1, 1, 3, 2]
    f["train_y"] = b
out("boxes", "ok-scenes", h5bytes(scenes))
def badbox(f):
    scenes(f)
    b = f["train_y"][...]
    b[0, 0] = [1, 5, 0, 4, 4]  # x2 < x1
    del f["train_y"]
    f["train_y"] = b
out("boxes", "bad-box", h5bytes(badbox))
out("boxes", "bad-huge", h5bytes(lambda f: (f.create_dataset("train_x", data=np.zeros((2, 8, 8), np.uint8)),
                                           f.create_dataset("train_y", shape=(2, 10**9, 5), dtype="f4"))))
expect("boxes", "bad-huge", "claims 40000000000 bytes of values, but the file holds 0 bytes")

# ---- ckpt: a real checkpoint
if len(sys.argv) > 1:
    with open(sys.argv[1], "rb") as f:
        out("ckpt", "ok-adam", f.read())
    # the same weights with a model text that asks for 10^10 parameters
    b = io.BytesIO(open(sys.argv[1], "rb").read())
    with h5py.File(b, "r+") as f:
        f.attrs["model"] = "[input]\nshape = 100000\n[fc1]\ntype = dense\nunits = 100000\n"
    out("ckpt", "bad-huge", b.getvalue())
    expect("ckpt", "bad-huge", "the model has 10000100000 parameters, more than the 35 values its weights hold")

# ---- image
rng = np.random.RandomState(0)
px = rng.randint(0, 256, (5, 7, 3)).astype(np.uint8)
for fmt, name in (("PNG", "ok-rgb.png"), ("JPEG", "ok-rgb.jpg"), ("BMP", "ok-rgb.bmp"), ("GIF", "ok-rgb.gif"),
                  ("PPM", "ok-rgb.ppm"), ("TGA", "ok-rgb.tga")):
    b = io.BytesIO()
    Image.fromarray(px).save(b, fmt)
    out("image", name, b.getvalue())
b = io.BytesIO()
Image.fromarray(px[:, :, 0]).save(b, "PNG")
out("image", "ok-grey.png", b.getvalue())
b = io.BytesIO()
Image.fromarray(px).save(b, "JPEG", progressive=True)
out("image", "ok-progressive.jpg", b.getvalue())
out("image", "bad-truncated.png", b.getvalue()[:40])
# headers claiming 16384 x 16384 pixels, and nothing after them
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16384, 16384, 8, 2, 0, 0, 0))
out("image", "bad-huge.png", png)
expect("image", "bad-huge.png", "the header claims 16384x16384 pixels, more than a file of 33 bytes can hold")
bmp = b"BM" + struct.pack("<IHHI", 0, 0, 0, 54) + struct.pack("<IiiHHIIiiII", 40, 16384, 16384, 1, 24, 0, 0, 0, 0, 0, 0)
out("image", "bad-huge.bmp", bmp)
expect("image", "bad-huge.bmp", "the header claims 16384x16384 pixels, more than a file of 54 bytes can hold")

# ---- tfjs: manifest + shard "w.bin"
q = np.arange(6, dtype=np.uint8)
f = np.array([0.5, -1.0], np.float32)
h = np.array([1.0, 2.0, -0.5], np.float16)
man = [{"paths": ["w.bin"], "weights": [
    {"name": "conv/filters", "shape": [1, 1, 2, 3], "dtype": "float32",
     "quantization": {"dtype": "uint8", "scale": 0.5, "min": -1.0}},
    {"name": "conv/bias", "shape": [2], "dtype": "float32"},
    {"name": "fc/h", "shape": [3], "dtype": "float32", "quantization": {"dtype": "float16"}}]}]
js = json.dumps(man).encode()
blob = q.tobytes() + f.tobytes() + h.tobytes()
out("tfjs", "ok-quant", split(js, blob))
out("tfjs", "bad-short", split(js, blob[:-1]))
huge = [{"paths": ["w.bin"], "weights": [{"name": "fc/w", "shape": [100000, 100000], "dtype": "float32"}]}]
out("tfjs", "bad-huge", split(json.dumps(huge).encode(), blob))
expect("tfjs", "bad-huge", "needs 40000000000 bytes")
