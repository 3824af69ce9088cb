#!/usr/bin/env python3
"""SpineKit CUDA kernels against the PyTorch CUDA composites they replace.

Loads libspinekit.so with ctypes and, at the production shapes, compares DSNT,
heatmap pooling and the fused head loss (values and gradients) with the same
computation written in PyTorch ops and differentiated by autograd, then times
both side by side (CUDA events, warm-up, median) and prints a table with our
bandwidth beside that of a device-to-device copy of the same size.

    python3 scripts/gpu_compare.py [--lib path/to/libspinekit.so] [--iters 50]

Also checks that the kernels run on the stream they are given: on a non-default stream,
behind slow PyTorch work that writes their input and before PyTorch work that reads their
output.

Exit status 0 when every comparison passes, 1 when one fails, 2 when nothing could be
checked (no PyTorch, no usable CUDA device, a libspinekit without CUDA kernels): a GPU
check without a GPU fails.
"""
import argparse
import ctypes
import math
import os
import statistics
import sys
import time

CANNOT_CHECK = 2


def cannot_check(why):
    print(f"gpu_compare.py: FAILED: {why}; nothing was checked", file=sys.stderr)
    sys.exit(CANNOT_CHECK)


try:
    import torch
except ImportError:  # pragma: no cover
    cannot_check(f"PyTorch is not installed for {sys.executable}")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
I64, INT, FLT, PTR = ctypes.c_int64, ctypes.c_int, ctypes.c_float, ctypes.c_void_p

TOL_VALUE = 1e-4  # max |ours - torch| / max |torch|
TOL_GRAD = 5e-4

failures = 0


# ------------------------------------------------------------------ library --
def load_library(path):
    lib = ctypes.CDLL(path)
    sig = {
        "spinekit_cuda_compiled": ([], INT),
        "spinekit_cuda_device_count": ([], INT),
        "spinekit_cuda_error_string": ([INT], ctypes.c_char_p),
        "spinekit_dsnt_forward_cuda": ([PTR, I64, I64, I64, I64, INT, PTR, PTR, PTR, PTR, PTR], INT),
        "spinekit_dsnt_backward_cuda": (
            [PTR, PTR, PTR, PTR, PTR, I64, I64, I64, I64, INT, PTR, PTR], INT),
        "spinekit_heatmap_pool_forward_cuda": ([PTR, PTR, I64, I64, I64, I64, PTR, PTR], INT),
        "spinekit_heatmap_pool_backward_cuda": (
            [PTR, PTR, PTR, I64, I64, I64, I64, PTR, PTR, PTR], INT),
        "spinekit_head_loss_cuda_workspace_bytes": ([I64, I64, I64, I64, I64, I64, INT], I64),
        "spinekit_head_loss_cuda": (
            [PTR, PTR, PTR, PTR, PTR, I64, I64, I64, I64, I64, I64, INT, FLT, FLT, FLT, FLT,
             PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR], INT),
    }
    for name, (args, res) in sig.items():
        fn = getattr(lib, name)
        fn.argtypes = args
        fn.restype = res
    return lib


def ptr(t):
    return None if t is None else ctypes.c_void_p(t.data_ptr())


def stream():
    return ctypes.c_void_p(torch.cuda.current_stream().cuda_stream)


def ok(rc, what):
    if rc != 0:
        raise RuntimeError(f"{what} returned status {rc}")


# ---------------------------------------------------------------- helpers --
def check(what, shape, ours, ref, tol, floor=0.0):
    """max |ours - ref| / max(max |ref|, floor); NaN must match NaN."""
    global failures
    ours = ours.detach().double().flatten().cpu()
    ref = ref.detach().double().flatten().cpu()
    both_nan = torch.isnan(ours) & torch.isnan(ref)
    mismatch = int((torch.isnan(ours) ^ torch.isnan(ref)).sum())
    diff = (ours - ref).abs()[~both_nan]
    max_abs = float(diff.max()) if diff.numel() else 0.0
    max_ref = float(ref[~both_nan].abs().max()) if diff.numel() else 0.0
    scale = max(max_ref, floor)
    rel = max_abs / scale if scale > 0 else max_abs
    passed = mismatch == 0 and rel <= tol and not math.isnan(rel)
    if not passed:
        failures += 1
    print(f"{'PASS' if passed else 'FAIL'} {what:<28} {shape:<22} max|diff| {max_abs:9.3g}  "
          f"max|torch| {max_ref:9.3g}  rel {rel:9.3g} (tol {tol:.0e})"
          + (f"  {mismatch} NaN mismatches" if mismatch else ""))


def median_ms(fn, warmup, iters):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    end = [torch.cuda.Event(enable_timing=True) for _ in range(iters)]
    for i in range(iters):
        start[i].record()
        fn()
        end[i].record()
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in zip(start, end))


def memcpy_gbps(nbytes, warmup, iters):
    """GB/s of a device-to-device copy reading and writing nbytes in all."""
    n = max(nbytes // 8, 1 << 18)
    src = torch.empty(n, dtype=torch.float32, device="cuda").fill_(1.0)
    dst = torch.empty_like(src)
    ms = median_ms(lambda: dst.copy_(src), warmup, iters)
    return 2 * n * 4 / (ms * 1e-3) / 1e9


ROWS = []


def record(op, shape, ours_ms, torch_ms, nbytes, args):
    gbps = nbytes / (ours_ms * 1e-3) / 1e9
    ref = memcpy_gbps(nbytes, args.warmup, args.iters)
    ROWS.append((op, shape, ours_ms, torch_ms, torch_ms / ours_ms, gbps, 100 * gbps / ref, ref))


def shape_str(*dims):
    return "[" + ",".join(str(d) for d in dims) + "]"


def coord_grid(D, H, W, ndim, device):
    """[S, ndim] pixel coordinates (x, y[, z]) = (w, h[, d]) of every position."""
    d, h, w = torch.meshgrid(torch.arange(D, device=device), torch.arange(H, device=device),
                             torch.arange(W, device=device), indexing="ij")
    cols = [w.flatten(), h.flatten(), d.flatten()][:ndim]
    return torch.stack(cols, 1).float()


# ------------------------------------------------------------------- DSNT --
def torch_dsnt(logits, grid, size):
    p = torch.softmax(logits, -1)
    px = p @ grid
    norm = (2 * px + 1) / size - 1
    return p, px, norm


def run_dsnt(lib, N, K, D, H, W, ndim, args):
    rows, S = N * K, D * H * W
    shape = shape_str(N, K, D, H, W) if ndim == 3 else shape_str(N, K, H, W)
    dev = "cuda"
    logits = torch.randn(rows, S, device=dev) * 3
    gpx = torch.randn(rows, ndim, device=dev)
    gnorm = torch.randn(rows, ndim, device=dev)
    grid = coord_grid(D, H, W, ndim, dev)
    size = torch.tensor([W, H, D][:ndim], device=dev, dtype=torch.float32)

    probs = torch.empty(rows, S, device=dev)
    px = torch.empty(rows, ndim, device=dev)
    norm = torch.empty(rows, ndim, device=dev)
    bad = torch.empty(1, dtype=torch.int64, device=dev)
    grad = torch.empty(rows, S, device=dev)

    def ours():
        ok(lib.spinekit_dsnt_forward_cuda(ptr(logits), rows, D, H, W, ndim, ptr(probs), ptr(px),
                                          ptr(norm), ptr(bad), stream()), "dsnt forward")
        ok(lib.spinekit_dsnt_backward_cuda(ptr(probs), ptr(px), ptr(gpx), ptr(gnorm), None, rows,
                                           D, H, W, ndim, ptr(grad), stream()), "dsnt backward")

    x = logits.clone().requires_grad_(True)

    def composite():
        p, cpx, cnorm = torch_dsnt(x, grid, size)
        return torch.autograd.grad((cpx * gpx).sum() + (cnorm * gnorm).sum(), x)[0], p, cpx, cnorm

    ours()
    torch.cuda.synchronize()
    ref_grad, ref_p, ref_px, ref_norm = composite()
    check("dsnt probs", shape, probs, ref_p, TOL_VALUE)
    check("dsnt coords_px", shape, px, ref_px, TOL_VALUE)
    check("dsnt coords_norm", shape, norm, ref_norm, TOL_VALUE, floor=1.0)
    check("dsnt grad_logits", shape, grad, ref_grad, TOL_GRAD)
    check("dsnt bad row (none)", shape, bad.double(), torch.tensor([2.0 ** 63 - 1]), 0)
    t_ours = median_ms(ours, args.warmup, args.iters)
    t_torch = median_ms(composite, args.warmup, args.iters)
    record("dsnt fwd+bwd", shape, t_ours, t_torch, 16 * rows * S, args)


# ----------------------------------------------------------- heatmap pool --
def run_pool(lib, N, K, C, S, args):
    shape = shape_str(N, K, C, S)
    dev = "cuda"
    heat = torch.rand(N, K, S, device=dev)
    grade = torch.rand(N, C, S, device=dev)
    gp = torch.randn(N, K, C, device=dev)
    pooled = torch.empty(N, K, C, device=dev)
    gh = torch.empty_like(heat)
    gg = torch.empty_like(grade)

    def ours():
        ok(lib.spinekit_heatmap_pool_forward_cuda(ptr(heat), ptr(grade), N, K, C, S, ptr(pooled),
                                                  stream()), "pool forward")
        ok(lib.spinekit_heatmap_pool_backward_cuda(ptr(heat), ptr(grade), ptr(gp), N, K, C, S,
                                                   ptr(gh), ptr(gg), stream()), "pool backward")

    h = heat.clone().requires_grad_(True)
    g = grade.clone().requires_grad_(True)

    def composite():
        out = torch.einsum("nks,ncs->nkc", h, g)
        dh, dg = torch.autograd.grad(out, (h, g), gp)
        return out, dh, dg

    ours()
    torch.cuda.synchronize()
    ref, ref_gh, ref_gg = composite()
    check("heatmap_pool pooled", shape, pooled, ref, TOL_VALUE)
    check("heatmap_pool grad_heat", shape, gh, ref_gh, TOL_GRAD)
    check("heatmap_pool grad_grade", shape, gg, ref_gg, TOL_GRAD)
    t_ours = median_ms(ours, args.warmup, args.iters)
    t_torch = median_ms(composite, args.warmup, args.iters)
    record("heatmap_pool fwd+bwd", shape, t_ours, t_torch, 12 * N * (K + C) * S, args)


# -------------------------------------------------------------- head loss --
def gaussian_targets(points, D, H, W, ndim, sigma):
    """Normalised separable Gaussians of gaussian.h: [R, S] and the mask of finite points.

    Each axis is computed like a softmax, relative to the grid point nearest to the
    point, so that a point outside the map still gives a distribution."""
    R = points.shape[0]
    pts = points.double()
    present = torch.isfinite(pts).all(-1)
    c = torch.where(present[:, None], pts, torch.zeros_like(pts))
    k = 1.0 / (2.0 * float(sigma) * float(sigma))

    def axis(n, centre):
        i = torch.arange(n, device=pts.device, dtype=torch.float64)
        nearest = centre.round().clamp(0, n - 1)
        shift = (nearest - centre) ** 2 * k
        e = torch.exp(shift[:, None] - (i[None, :] - centre[:, None]) ** 2 * k)
        return (e / e.sum(-1, keepdim=True)).float()

    gx = axis(W, c[:, 0])
    gy = axis(H, c[:, 1])
    gz = axis(D, c[:, 2]) if ndim == 3 else torch.ones(R, D, device=pts.device)
    t = (gz[:, :, None, None] * gy[:, None, :, None]) * gx[:, None, None, :]
    return t.reshape(R, D * H * W) * present[:, None], present


def torch_head_loss(heat, grade, points, target, weight, D, H, W, ndim, sigma, js_w, nll_w):
    """The loss of head_loss.h composed from PyTorch ops."""
    N, K, S = heat.shape
    C = grade.shape[1]
    p = torch.softmax(heat, -1)
    t, present = gaussian_targets(points.reshape(N * K, ndim), D, H, W, ndim, sigma)
    t = t.reshape(N, K, S)
    present = present.reshape(N, K)
    q = torch.softmax(grade, 1)
    pooled = torch.einsum("nks,ncs->nkc", p, q)
    coords = p @ coord_grid(D, H, W, ndim, heat.device)
    m = 0.5 * (p + t)
    lp = torch.log(torch.clamp(p, min=1e-8))
    lt = torch.log(torch.clamp(t, min=1e-8))
    lm = torch.log(torch.clamp(m, min=1e-8))
    js_r = 0.5 * (p * (lp - lm)).sum(-1) + 0.5 * (t * (lt - lm)).sum(-1)
    n_pts = present.sum()
    js = (js_r * present).sum() / n_pts if int(n_pts) > 0 else js_r.sum() * 0
    labelled = target >= 0
    y = target.clamp(min=0)
    py = pooled.gather(-1, y[..., None]).squeeze(-1)
    w = weight[y] * labelled
    nll = (w * -torch.log(torch.clamp(py, min=1e-5))).sum() / w.sum()
    loss = js_w * js + nll_w * nll
    return loss, js, nll, coords, pooled


def run_head_loss(lib, N, K, C, D, H, W, ndim, args):
    R, S = N * K, D * H * W
    shape = shape_str(N, K, C, D, H, W) if ndim == 3 else shape_str(N, K, C, H, W)
    dev = "cuda"
    sigma, js_w, nll_w, scale = 2.0, 1.0, 0.5, 1.0
    heat = torch.randn(N, K, S, device=dev) * 2
    grade = torch.randn(N, C, S, device=dev) * 1.5
    size = torch.tensor([W, H, D][:ndim], device=dev, dtype=torch.float32)
    points = torch.rand(N, K, ndim, device=dev) * (size + 2) - 1.5
    points[:, -1, 0] = float("nan")  # one level per sample without a point
    target = torch.randint(-1, C, (N, K), device=dev)
    target[0, 0] = C - 1
    weight = torch.tensor([float(1 << min(c, 4)) for c in range(C)], device=dev)

    ws = torch.empty(int(lib.spinekit_head_loss_cuda_workspace_bytes(N, K, C, D, H, W, ndim)),
                     dtype=torch.uint8, device=dev)
    status = torch.empty(2, dtype=torch.int64, device=dev)
    losses = torch.empty(3, device=dev)
    coords = torch.empty(N, K, ndim, device=dev)
    pooled = torch.empty(N, K, C, device=dev)
    gh = torch.empty_like(heat)
    gg = torch.empty_like(grade)

    def ours():
        ok(lib.spinekit_head_loss_cuda(
            ptr(heat), ptr(grade), ptr(points), ptr(target), ptr(weight), N, K, C, D, H, W, ndim,
            sigma, js_w, nll_w, scale, ptr(losses), ptr(coords), ptr(pooled), None, ptr(gh),
            ptr(gg), ptr(ws), ptr(status), stream()), "head loss")

    h = heat.clone().requires_grad_(True)
    g = grade.clone().requires_grad_(True)

    def composite():
        loss, js, nll, c, pl = torch_head_loss(h, g, points, target, weight, D, H, W, ndim,
                                               sigma, js_w, nll_w)
        dh, dg = torch.autograd.grad(loss * scale, (h, g))
        return torch.stack([loss, js, nll]), c, pl, dh, dg

    ours()
    torch.cuda.synchronize()
    ref_losses, ref_c, ref_pl, ref_gh, ref_gg = composite()
    check("head_loss status", shape, status[:1].double(), torch.zeros(1), 0)
    check("head_loss losses", shape, losses, ref_losses, TOL_VALUE)
    check("head_loss coords", shape, coords, ref_c, TOL_VALUE)
    check("head_loss pooled", shape, pooled, ref_pl, TOL_VALUE)
    check("head_loss grad_heat", shape, gh, ref_gh, TOL_GRAD)
    check("head_loss grad_grade", shape, gg, ref_gg, TOL_GRAD)
    t_ours = median_ms(ours, args.warmup, args.iters)
    t_torch = median_ms(composite, args.warmup, args.iters)
    record("head_loss loss+grads", shape, t_ours, t_torch, 8 * N * (K + C) * S, args)


# ----------------------------------------------------------- stream order --
def run_stream_order(lib):
    """Heatmap pooling and DSNT on a non-default stream (created by PyTorch, so it does not
    synchronise with the legacy default stream): queued behind slow matmuls whose end writes
    their input, and before a clone of their output on the same stream. A kernel launched on
    any other stream reads the input before it is written (zeros, no NaN row) and the clone
    misses its output.

    The check means something only while the matmuls are still running when the kernels and
    the clones are queued: the stream is queried before and after. Still busy before and
    idle after means a launch of ours made the host wait for the stream (a failure); idle
    before means the queued work was too short, so it is doubled and tried again (up to
    four times, then a failure: nothing was tested)."""
    global failures
    dev = "cuda"
    N, K, C, D, H, W = 2, 10, 3, 24, 80, 80
    S = D * H * W
    shape = shape_str(N, K, C, D, H, W)
    heat_final = torch.rand(N, K, S, device=dev)
    grade = torch.rand(N, C, S, device=dev)
    ref = torch.einsum("nks,ncs->nkc", heat_final, grade)
    logits_final = torch.randn(N * K, S, device=dev)
    logits_final[7, 100] = float("nan")
    a = torch.randn(4096, 4096, device=dev) / 64
    pooled = torch.empty(N, K, C, device=dev)
    probs = torch.empty(N * K, S, device=dev)
    px = torch.empty(N * K, 3, device=dev)
    norm = torch.empty(N * K, 3, device=dev)
    bad = torch.empty(1, dtype=torch.int64, device=dev)
    side = torch.cuda.Stream()
    assert side.cuda_stream != torch.cuda.default_stream().cuda_stream

    matmuls = 30
    for attempt in range(4):
        heat = torch.zeros_like(heat_final)
        logits = torch.zeros_like(logits_final)
        torch.cuda.synchronize()
        with torch.cuda.stream(side):
            x = a
            for _ in range(matmuls):  # work queued ahead of the kernels
                x = torch.tanh(x @ a)
            zero = x[0, 0] * 0
            heat.copy_(heat_final + zero)
            logits.copy_(logits_final + zero)
            busy_before = not side.query()
            t0 = time.perf_counter()
            ok(lib.spinekit_heatmap_pool_forward_cuda(ptr(heat), ptr(grade), N, K, C, S,
                                                      ptr(pooled), stream()), "pool forward")
            ok(lib.spinekit_dsnt_forward_cuda(ptr(logits), N * K, D, H, W, 3, ptr(probs),
                                              ptr(px), ptr(norm), ptr(bad), stream()),
               "dsnt forward")
            launch_ms = (time.perf_counter() - t0) * 1e3
            pooled_seen = pooled.clone()
            bad_seen = bad.clone()
            busy_after = not side.query()
        t1 = time.perf_counter()
        side.synchronize()
        drain_ms = (time.perf_counter() - t1) * 1e3
        if busy_before:
            break
        print(f"     ({matmuls} matmuls had finished before the kernels were queued; "
              "trying with twice as many)")
        matmuls *= 2
    check("stream order: pooled", shape, pooled_seen, ref, TOL_VALUE)
    check("stream order: bad row", shape, bad_seen.double(), torch.tensor([7.0]), 0)
    print(f"     (the two launches took {launch_ms:.3f} ms on the host; the stream then "
          f"still ran {drain_ms:.1f} ms of queued work)")
    if not busy_before:
        print("FAIL stream order: the queued work never outlasted the launches; "
              "nothing was tested")
        failures += 1
    elif not busy_after:
        print("FAIL stream order: the stream was busy before our launches and idle after "
              "them: a launch made the host wait for the queued work")
        failures += 1


# ------------------------------------------------------------------- main --
def find_library(arg):
    candidates = [arg, os.environ.get("SPINEKIT_LIB"),
                  os.path.join(ROOT, "cppbuild", "linux-x86_64", "lib", "libspinekit.so")]
    for c in candidates:
        if c and os.path.exists(c):
            return c
    cannot_check("libspinekit.so not found (pass --lib or set SPINEKIT_LIB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lib", help="path of libspinekit.so")
    ap.add_argument("--iters", type=int, default=50, help="timed runs (median)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed runs first")
    args = ap.parse_args()

    if not torch.cuda.is_available():
        built = (f"built for CUDA {torch.version.cuda}" if torch.version.cuda
                 else "a CPU-only build")
        cannot_check(f"no CUDA device visible to PyTorch (torch {torch.__version__}, {built})")
    lib = load_library(find_library(args.lib))
    if not lib.spinekit_cuda_compiled():
        cannot_check("libspinekit was built without CUDA kernels")
    if lib.spinekit_cuda_device_count() <= 0:
        cannot_check("libspinekit sees no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    print(f"gpu_compare.py: {torch.cuda.get_device_name()} | torch {torch.__version__} "
          f"| CUDA {torch.version.cuda}")

    run_stream_order(lib)
    run_dsnt(lib, 8, 5, 1, 256, 256, 2, args)
    run_dsnt(lib, 2, 10, 24, 80, 80, 3, args)
    run_pool(lib, 8, 5, 3, 256 * 256, args)
    run_pool(lib, 2, 10, 3, 24 * 80 * 80, args)
    run_head_loss(lib, 8, 5, 3, 1, 256, 256, 2, args)
    run_head_loss(lib, 2, 10, 3, 24, 80, 80, 3, args)

    print(f"\nmedian of {args.iters} runs after {args.warmup} warm-up runs; GB/s counts the "
          "bytes that must be read and written once; memcpy = device-to-device copy of as "
          "many bytes")
    hdr = (f"{'op':<22} {'shape':<22} {'ours ms':>9} {'torch ms':>9} {'speed-up':>8} "
           f"{'ours GB/s':>10} {'% memcpy':>8} {'memcpy GB/s':>11}")
    print(hdr)
    print("-" * len(hdr))
    for op, shape, ours_ms, torch_ms, speedup, gbps, pct, ref in ROWS:
        print(f"{op:<22} {shape:<22} {ours_ms:9.4f} {torch_ms:9.4f} {speedup:7.2f}x "
              f"{gbps:10.1f} {pct:7.1f}% {ref:11.1f}")
    if failures:
        print(f"gpu_compare.py: {failures} comparison(s) FAILED")
        return 1
    print("gpu_compare.py: all comparisons passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
