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

As AugmentBenchmark, the work is a fixed batch: seeds 0 .. batch-1 (default 256, the
benchmark's); a repeat runs the batch --passes times. The decisions and parameters come from
the same generator as the Java sides (java.util.SplittableRandom, SplitMix64, reproduced
below, split the same way), so the batch takes the same branches with the same parameters
(printed: flip, shift-scale-rotate, grid, elastic; 256 seeds: 128, 135, 27, 34); only the
elastic's noise fields come from np.random.default_rng(seed), as a numpy pipeline draws them.
Prints us/sample per repeat, then the median and the spread (min..max) over the repeats.

    /usr/bin/python3 benchmarks/python/augment_side_by_side.py [--batch 256] [--passes 4] [--repeats 5]
"""
import argparse
import math
import statistics
import sys
import time

import cv2
import numpy as np

H, W, C = 320, 320, 3


M64 = (1 << 64) - 1
GOLDEN_GAMMA = 0x9E3779B97F4A7C15


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def mix_gamma(z):
    z = ((z ^ (z >> 33)) * 0xFF51AFD7ED558CCD) & M64
    z = ((z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53) & M64
    z = (z ^ (z >> 33)) | 1
    return z ^ 0xAAAAAAAAAAAAAAAA if bin(z ^ (z >> 1)).count("1") < 24 else z


class SplittableRandom:
    """java.util.SplittableRandom: nextDouble and split, bit for bit."""

    def __init__(self, seed, gamma=GOLDEN_GAMMA):
        self.seed, self.gamma = seed & M64, gamma

    def _next_seed(self):
        self.seed = (self.seed + self.gamma) & M64
        return self.seed

    def next_long(self):
        return mix64(self._next_seed())

    def random(self):
        return (self.next_long() >> 11) * 2.0 ** -53

    def split(self):
        return SplittableRandom(self.next_long(), mix_gamma(self._next_seed()))


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
    """rng: a numpy Generator (the noise fields)."""
    sigma, alpha = 50.0, 1.0
    k = 2 * int(math.floor(4 * sigma + 0.5)) + 1
    d = []
    for _ in range(2):
        u = (rng.random((H, W), dtype=np.float32) * 2 - 1)
        d.append(cv2.GaussianBlur(u, (k, k), sigma, sigmaY=sigma,
                                  borderType=cv2.BORDER_REFLECT) * alpha)
    x, y = np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32))
    return x + d[0], y + d[1]


def pipeline(im, mk, seed, taken=None):
    """The augmented (im, mk) of a seed, drawn as AugmentBenchmark.opencvPipeline draws; taken,
    when given, counts the branches (flip, ssr, grid, elastic)."""
    rng = SplittableRandom(seed)
    rng.random()  # Compose, p = 1
    flip, ssr, one = rng.split(), rng.split(), rng.split()
    if flip.random() < 0.5:
        im, mk = cv2.flip(im, 1), cv2.flip(mk, 1)
        if taken is not None:
            taken[0] += 1
    if ssr.random() < 0.5:
        if taken is not None:
            taken[1] += 1
        m = ssr_matrix(uniform(ssr, -10, 10), uniform(ssr, 0.95, 1.05),
                       uniform(ssr, -0.0625, 0.0625), uniform(ssr, -0.0625, 0.0625), H, W)
        im = cv2.warpAffine(im, m, (W, H), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        mk = cv2.warpAffine(mk, m, (W, H), flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if one.random() < 0.25:
        grid = one.random() < 0.5
        if taken is not None:
            taken[2 if grid else 3] += 1
        if grid:
            mx, my = grid_maps(one)
        else:
            im, mk = elastic_affine(one, im, mk)
            mx, my = elastic_maps(np.random.default_rng(seed))
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
    ap.add_argument("--batch", type=int, default=256, help="seeds 0 .. batch-1 (> 0)")
    ap.add_argument("--passes", type=int, default=4, help="passes over the batch per repeat (> 0)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (> 0)")
    a = ap.parse_args()
    if a.batch <= 0 or a.passes <= 0 or a.repeats <= 0:
        ap.error("--batch, --passes and --repeats: expected values > 0")
    cv2.setNumThreads(1)
    im, mk = inputs()
    taken = [0, 0, 0, 0]
    for s in range(a.batch):  # warm-up, and the branch counts of the batch
        pipeline(im, mk, s, taken)
    print(f"batch of {a.batch} seeds: flip, ssr, grid, elastic = {taken}")
    per = []
    for rep in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.passes):
            for s in range(a.batch):
                out = pipeline(im, mk, s)
        us = (time.perf_counter() - t0) / (a.passes * a.batch) * 1e6
        assert out[0].shape == (H, W, C) and out[1].shape == (H, W)
        per.append(us)
        print(f"repeat {rep}: {us:.0f} us/sample")
    print(f"python opencv {cv2.__version__} numpy {np.__version__}: median {statistics.median(per):.0f}"
          f" us/sample (min {min(per):.0f}, max {max(per):.0f}, {a.repeats} x {a.passes} x"
          f" {a.batch} samples, 1 thread)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
