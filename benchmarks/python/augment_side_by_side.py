#!/usr/bin/env python3
"""The cervical joint augmentation in Python with OpenCV and numpy, the side-by-side of
AugmentBenchmark (benchmarks/README.md, "Joint augmentation").

Same pipeline and sizes as AugmentBenchmark's opencv side: a 320x320x3 float32 image
(interleaved) and its uint8 mask; horizontal flip p 0.5, shift-scale-rotate (shift
0.0625, scale 0.05, rotate 10 degrees) p 0.5, one of grid distortion (5 steps, limit
0.05) / elastic (alpha 1, sigma 50, alpha_affine 50) p 0.25, composed the way
albumentations does it: cv2.flip, cv2.warpAffine, cv2.remap with maps built in numpy,
cv2.GaussianBlur of the elastic fields (4-sigma kernel, mirrored border) after a
warpAffine of the elastic's affine part. One OpenCV thread.

Each sample draws from its own seed (0, 1, 2, ...), so the branches are taken in the
proportions of the pipeline. Prints us/sample per repeat, then the median and the
spread (min..max) over the repeats.

    /usr/bin/python3 benchmarks/python/augment_side_by_side.py [--samples 2000] [--repeats 5]
"""
import argparse
import math
import statistics
import sys
import time

import cv2
import numpy as np

H, W, C = 320, 320, 3


def uniform(rng, lo, hi):
    return lo + (hi - lo) * rng.random()


def ssr_matrix(angle_deg, scale, dx, dy, h, w):
    t = math.radians(angle_deg)
    a, b = scale * math.cos(t), scale * math.sin(t)
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    return np.array([[a, b, (1 - a) * cx - b * cy + dx * w],
                     [-b, a, b * cx + (1 - a) * cy + dy * h]], dtype=np.float64)


def grid_axis(n, steps, f):
    step = n // steps
    out = np.empty(n, dtype=np.float32)
    prev = 0.0
    for k in range(steps):
        start = k * step
        end = n if k == steps - 1 else start + step
        cur = prev + step * f[k]
        out[start:end] = np.linspace(prev, cur, end - start)
        prev = cur
    return out


def grid_maps(rng):
    steps = 5
    xs = [1 + uniform(rng, -0.05, 0.05) for _ in range(steps)]
    ys = [1 + uniform(rng, -0.05, 0.05) for _ in range(steps)]
    xx, yy = grid_axis(W, steps, xs), grid_axis(H, steps, ys)
    return np.meshgrid(xx, yy)


def elastic_affine(rng, im, mk):
    cx, cy, s = W // 2, H // 2, min(H, W) // 3
    src = np.array([[cx + s, cy + s], [cx + s, cy - s], [cx - s, cy - s]], dtype=np.float32)
    dst = src + np.array([[uniform(rng, -50, 50) for _ in range(2)] for _ in range(3)],
                         dtype=np.float32)
    m = cv2.getAffineTransform(src, dst)
    a = cv2.warpAffine(im, m, (W, H), flags=cv2.INTER_LINEAR,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    b = cv2.warpAffine(mk, m, (W, H), flags=cv2.INTER_NEAREST,
                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return a, b


def elastic_maps(rng):
    sigma, alpha = 50.0, 1.0
    k = 2 * int(math.floor(4 * sigma + 0.5)) + 1
    d = []
    for _ in range(2):
        u = (rng.random((H, W), dtype=np.float32) * 2 - 1)
        d.append(cv2.GaussianBlur(u, (k, k), sigma, sigmaY=sigma,
                                  borderType=cv2.BORDER_REFLECT) * alpha)
    x, y = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    return x + d[0], y + d[1]


def pipeline(im, mk, rng):
    if rng.random() < 0.5:
        im, mk = cv2.flip(im, 1), cv2.flip(mk, 1)
    if rng.random() < 0.5:
        m = ssr_matrix(uniform(rng, -10, 10), uniform(rng, 0.95, 1.05),
                       uniform(rng, -0.0625, 0.0625), uniform(rng, -0.0625, 0.0625), H, W)
        im = cv2.warpAffine(im, m, (W, H), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        mk = cv2.warpAffine(mk, m, (W, H), flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if rng.random() < 0.25:
        if rng.random() < 0.5:
            mx, my = grid_maps(rng)
        else:
            im, mk = elastic_affine(rng, im, mk)
            mx, my = elastic_maps(rng)
        im = cv2.remap(im, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=0)
        mk = cv2.remap(mk, mx, my, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=0)
    return im, mk


def inputs():
    r = np.random.default_rng(1)
    y, x = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    im = np.stack([0.5 + 0.3 * np.sin(x / 17.0 + c) * np.cos(y / 23.0) + 0.1 * r.random((H, W))
                   for c in range(C)], axis=-1).astype(np.float32)
    mk = ((y // 40 + x // 40) % 8).astype(np.uint8)
    return np.ascontiguousarray(im), mk


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=2000, help="samples per repeat (> 0)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (> 0)")
    a = ap.parse_args()
    if a.samples <= 0 or a.repeats <= 0:
        ap.error("--samples and --repeats: expected values > 0")
    cv2.setNumThreads(1)
    im, mk = inputs()
    for s in range(200):  # warm-up
        pipeline(im, mk, np.random.default_rng(s))
    per = []
    for rep in range(a.repeats):
        t0 = time.perf_counter()
        for s in range(a.samples):
            out = pipeline(im, mk, np.random.default_rng(s))
        us = (time.perf_counter() - t0) / a.samples * 1e6
        assert out[0].shape == (H, W, C) and out[1].shape == (H, W)
        per.append(us)
        print(f"repeat {rep}: {us:.0f} us/sample")
    print(f"python opencv {cv2.__version__} numpy {np.__version__}: median {statistics.median(per):.0f}"
          f" us/sample (min {min(per):.0f}, max {max(per):.0f}, {a.repeats} x {a.samples} samples,"
          " 1 thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
