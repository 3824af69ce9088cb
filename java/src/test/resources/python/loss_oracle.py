"""Reference values and gradients of the SpineKit losses (org.spinekit.loss), from torch.

usage: loss_oracle.py OUT.safetensors

For every case writes, under "<case>.": the prediction "x" (float64), the target "y"
(int64 or float64), optional weights "w", per-case constants ("cw" class weights, "pw" pos
weights, "neg"/"pos" target weights, "alpha"), the gradient fed to the output "go", and for
float64 and float32 ("f64."/"f32.") the loss "out" and its gradient w.r.t. x, "grad".
The float32 results are computed from x cast to float32, as the Java test does.

The references are PyTorch's own functions where PyTorch has the loss (F.cross_entropy,
F.binary_cross_entropy_with_logits, torchvision.ops.sigmoid_focal_loss); otherwise the
definition documented in the Java class, written out in torch ops (Dice as
segmentation_models_pytorch's DiceLoss, Jensen-Shannon as head_loss.h).
"""
import math
import os
import sys

import torch
import torch.nn.functional as F
from torchvision.ops import sigmoid_focal_loss

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nn_oracle import write_safetensors  # noqa: E402

G = torch.Generator().manual_seed(20240501)


def randn(*shape, scale=1.0):
    return torch.randn(*shape, generator=G, dtype=torch.float64) * scale


def randint(lo, hi, *shape):
    return torch.randint(lo, hi, shape, generator=G)


def bernoulli(p, *shape):
    return (torch.rand(*shape, generator=G, dtype=torch.float64) < p).double()


# ---------------------------------------------------------------- references

def dice(x, y, multiclass, smooth=0.0, eps=1e-7, classes=None, ignore=None, log_loss=False):
    """Soft Dice as segmentation_models_pytorch's DiceLoss (from_logits=True)."""
    n, c = x.shape[0], x.shape[1]
    if multiclass:
        p = torch.exp(torch.log_softmax(x, dim=1)).reshape(n, c, -1)
        labels = y.reshape(n, -1)
        keep = torch.ones_like(labels, dtype=torch.bool) if ignore is None else labels != ignore
        onehot = F.one_hot(labels * keep, c).permute(0, 2, 1) * keep.unsqueeze(1)
        if ignore is not None:
            p = p * keep.unsqueeze(1)
        t = onehot.to(x.dtype)
    else:
        p = torch.exp(F.logsigmoid(x)).reshape(n, c, -1)
        t = y.reshape(n, c, -1)
        if ignore is not None:
            keep = t != ignore
            p, t = p * keep, t * keep
    inter = (p * t).sum(dim=(0, 2))
    card = (p + t).sum(dim=(0, 2))
    score = (2 * inter + smooth) / (card + smooth).clamp_min(eps)
    loss = -torch.log(score.clamp_min(eps)) if log_loss else 1 - score
    loss = loss * (t.sum(dim=(0, 2)) > 0).to(loss.dtype)
    if classes is not None:
        loss = loss[torch.tensor(classes)]
    return loss.mean()


def ce(x, y, cw=None, ignore=-100, smoothing=0.0, s=None, reduction='mean'):
    """F.cross_entropy; with sample weights s: sum(s l) / sum(s w_y) over non-ignored."""
    if s is None and reduction == 'mean':
        mean = F.cross_entropy(x, y, weight=cw, ignore_index=ignore, label_smoothing=smoothing)
        if (y != ignore).any():
            return mean
        # Nothing counts: PyTorch gives NaN, SpineKit 0 with zero gradient (documented).
        assert math.isnan(mean.item())
        return x.sum() * 0
    per = F.cross_entropy(x, y, weight=cw, ignore_index=ignore, label_smoothing=smoothing,
                          reduction='none')
    if s is not None:
        s = s.reshape(s.shape + (1,) * (per.dim() - s.dim()))
        per = per * s
    if reduction == 'none':
        return per
    if reduction == 'sum':
        return per.sum()
    valid = y != ignore
    den = valid.to(x.dtype)
    if cw is not None:
        den = den * cw[torch.where(valid, y, torch.zeros_like(y))]
    if s is not None:
        den = den * s
    den = den.sum()
    return per.sum() / den if den.item() != 0 else per.sum() * 0


def bce(x, y, pw=None, neg=None, pos=None, s=None, reduction='mean', norm='count'):
    if pw is not None and neg is None and s is not None and reduction == 'mean' \
            and norm == 'count' and s.shape == x.shape:
        # PyTorch's own weighted mean.
        return F.binary_cross_entropy_with_logits(x, y, weight=s, pos_weight=pw)
    per = F.binary_cross_entropy_with_logits(x, y, pos_weight=pw, reduction='none')
    w = None
    if s is not None:
        w = s.reshape(s.shape + (1,) * (x.dim() - s.dim())).expand_as(x)
    if neg is not None:
        tw = y * pos + (1 - y) * neg
        w = tw if w is None else w * tw
    wl = per if w is None else per * w
    if reduction == 'none':
        return wl
    if reduction == 'sum':
        return wl.sum()
    if w is None or norm == 'count':
        return wl.mean()
    if norm == 'weights':
        return wl.sum() / w.sum()
    rows = x.shape[0]
    # per row (exam) sum(w l) / sum(w), then the mean over rows: the cervical metric.
    return (wl.reshape(rows, -1).sum(1) / w.reshape(rows, -1).sum(1)).mean()


def focal_multiclass(x, y, gamma, alpha=None, ignore=-100, reduction='mean'):
    valid = y != ignore
    safe = torch.where(valid, y, torch.zeros_like(y))
    logp = torch.log_softmax(x, dim=1).gather(1, safe.unsqueeze(1)).squeeze(1)
    l = -logp
    if gamma != 0:
        l = l * (-torch.expm1(logp)) ** gamma
    if alpha is not None:
        l = l * alpha[safe]
    l = l.masked_fill(~valid, 0.0)
    if reduction == 'none':
        return l
    if reduction == 'sum':
        return l.sum()
    return l.sum() / valid.sum()


def gaussian(points, shape, sigma):
    """Normalised Gaussian targets [N, K, S] at points [N, K, ndim] (x, y[, z]) in pixels;
    rows with a non-finite point are 0."""
    n, k, ndim = points.shape
    if ndim == 2:
        h, w = shape
        d = 1
    else:
        d, h, w = shape
    zs, ys, xs = torch.meshgrid(torch.arange(d, dtype=points.dtype),
                                torch.arange(h, dtype=points.dtype),
                                torch.arange(w, dtype=points.dtype), indexing='ij')
    grid = [xs.reshape(-1), ys.reshape(-1), zs.reshape(-1)][:ndim]
    grid = torch.stack(grid, 1)  # [S, ndim]
    finite = torch.isfinite(points).all(-1)
    pts = torch.nan_to_num(points, 0.0, 0.0, 0.0)
    d2 = ((grid.view(1, 1, -1, ndim) - pts.view(n, k, 1, ndim)) ** 2).sum(-1)
    t = torch.softmax(-d2 / (2 * sigma * sigma), -1)
    return t * finite.unsqueeze(-1).to(t.dtype)


def js(x, t, eps=1e-8):
    """Jensen-Shannon divergence of the spatial softmax of x [N, K, ...] against t [N, K, S],
    mean over rows with a target."""
    n, k = x.shape[:2]
    p = torch.softmax(x.reshape(n, k, -1), -1)
    lm = ((p + t) * 0.5).clamp_min(eps).log()
    rows = 0.5 * (p * (p.clamp_min(eps).log() - lm)).sum(-1) \
        + 0.5 * (t * (t.clamp_min(eps).log() - lm)).sum(-1)
    has = (t.sum(-1) > 0).to(x.dtype)
    cnt = has.sum()
    return (rows * has).sum() / cnt if cnt.item() > 0 else (rows * has).sum() * 0


def head(packed, target, k, cw, sigma):
    """The fused head loss (head_loss.h) on packed logits and targets."""
    heat, grade = packed[:, :k], packed[:, k:]
    n, c = grade.shape[:2]
    ndim = target.shape[2] - 1
    pts, y = target[..., :ndim], target[..., ndim].long()
    t = gaussian(pts, heat.shape[2:], sigma)
    loss_js = js(heat, t)
    p = torch.softmax(heat.reshape(n, k, -1), -1)
    q = torch.softmax(grade.reshape(n, c, -1), 1)
    pooled = torch.bmm(p, q.transpose(1, 2))
    valid = y >= 0
    ys = torch.where(valid, y, torch.zeros_like(y))
    ly = pooled.clamp_min(1e-5).log().gather(2, ys.unsqueeze(2)).squeeze(2)
    wy = cw[ys] * valid.to(cw.dtype)
    nll = -(wy * ly).sum() / wy.sum()
    return loss_js + nll


# ---------------------------------------------------------------- cases

CASES = {}


def case(name, fn, x, y, w=None, consts=None, dtypes=('f64', 'f32')):
    CASES[name] = (fn, x, y, w, consts or {}, dtypes)


def build_cases():
    # Dice
    y = randint(0, 4, 2, 5, 6)
    case('dice_mc', lambda x, y, w, c: dice(x, y, True), randn(2, 4, 5, 6, scale=2), y)
    y = torch.tensor([0, 1, 3])[randint(0, 3, 2, 5, 6)]  # class 2 absent
    case('dice_mc_nobg_smooth', lambda x, y, w, c: dice(x, y, True, smooth=1.0,
         classes=[1, 2, 3]), randn(2, 4, 5, 6, scale=2), y)
    y = randint(0, 4, 2, 5, 6)
    y[0, :2] = 255
    y[1, 3, 1:4] = 255
    case('dice_mc_ignore_log', lambda x, y, w, c: dice(x, y, True, classes=[0, 2, 3],
         ignore=255, log_loss=True), randn(2, 4, 5, 6, scale=2), y)
    y = torch.zeros(2, 5, 6, dtype=torch.long)
    case('dice_mc_allbg_nobg', lambda x, y, w, c: dice(x, y, True, classes=[1, 2, 3]),
         randn(2, 4, 5, 6, scale=2), y)
    case('dice_mc_allbg', lambda x, y, w, c: dice(x, y, True), randn(2, 4, 5, 6, scale=2),
         y.clone())
    y = bernoulli(0.4, 2, 3, 4, 5)
    y[:, 1] = 0  # an absent label
    case('dice_ml', lambda x, y, w, c: dice(x, y, False, smooth=0.5), randn(2, 3, 4, 5), y)
    y = bernoulli(0.5, 2, 3, 4, 5)
    y[0, 0, :2] = -1
    case('dice_ml_ignore', lambda x, y, w, c: dice(x, y, False, ignore=-1), randn(2, 3, 4, 5), y)
    case('dice_mc_3d', lambda x, y, w, c: dice(x, y, True), randn(1, 3, 3, 4, 5, scale=2),
         randint(0, 3, 1, 3, 4, 5))

    # Cross entropy
    case('ce_plain', lambda x, y, w, c: ce(x, y), randn(6, 5, scale=2), randint(0, 5, 6))
    y = randint(0, 4, 2, 3, 5)
    y[0, 1, :3] = -100
    cw = torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64)
    case('ce_spatial', lambda x, y, w, c: ce(x, y, cw=c['cw'].to(x.dtype), smoothing=0.1),
         randn(2, 4, 3, 5, scale=2), y, consts={'cw': cw})
    case('ce_ignore0_sum', lambda x, y, w, c: ce(x, y, cw=c['cw'].to(x.dtype), ignore=0,
         reduction='sum'), randn(2, 4, 3, 5), randint(0, 4, 2, 3, 5), consts={'cw': cw})
    cw3 = torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64)
    case('ce_sample_w', lambda x, y, w, c: ce(x, y, cw=c['cw'].to(x.dtype), smoothing=0.05,
         s=w), randn(6, 3, scale=2), randint(0, 3, 6),
         w=torch.rand(6, generator=G, dtype=torch.float64) * 2, consts={'cw': cw3})
    case('ce_element_w_none', lambda x, y, w, c: ce(x, y, s=w, reduction='none'),
         randn(2, 3, 4), randint(0, 3, 2, 4),
         w=torch.rand(2, 4, generator=G, dtype=torch.float64))
    case('ce_all_ignored', lambda x, y, w, c: ce(x, y), randn(3, 4),
         torch.full((3,), -100, dtype=torch.long))

    # Binary cross entropy
    case('bce_plain', lambda x, y, w, c: F.binary_cross_entropy_with_logits(x, y),
         randn(4, 8, scale=2), bernoulli(0.3, 4, 8))
    case('bce_soft_posw_elem', lambda x, y, w, c: bce(x, y, pw=c['pw'].to(x.dtype),
         s=w), randn(3, 5, scale=2), torch.rand(3, 5, generator=G, dtype=torch.float64),
         w=torch.rand(3, 5, generator=G, dtype=torch.float64),
         consts={'pw': torch.tensor([1.0, 2.0, 0.5, 3.0, 1.5], dtype=torch.float64)})
    yv = bernoulli(0.25, 4, 7)
    yc = torch.cat([yv, yv.amax(1, keepdim=True)], 1)  # patient_overall = any vertebra
    neg = torch.tensor([1.0] * 7 + [7.0], dtype=torch.float64)
    pos = torch.tensor([2.0] * 7 + [14.0], dtype=torch.float64)
    case('bce_cervical', lambda x, y, w, c: bce(x, y, neg=c['neg'].to(x.dtype),
         pos=c['pos'].to(x.dtype), norm='rows'), randn(4, 8, scale=2), yc,
         consts={'neg': neg, 'pos': pos})
    case('bce_weights_norm', lambda x, y, w, c: bce(x, y, pw=c['pw'].to(x.dtype), s=w,
         norm='weights'), randn(3, 4, 2), bernoulli(0.5, 3, 4, 2),
         w=torch.rand(3, generator=G, dtype=torch.float64) + 0.1,
         consts={'pw': torch.tensor([2.0, 0.5], dtype=torch.float64)})
    case('bce_sum', lambda x, y, w, c: bce(x, y, reduction='sum'), randn(2, 3),
         bernoulli(0.5, 2, 3))
    case('bce_none', lambda x, y, w, c: bce(x, y, s=w, reduction='none'), randn(2, 3),
         bernoulli(0.5, 2, 3), w=torch.rand(2, generator=G, dtype=torch.float64))

    # Focal
    case('focal_bin', lambda x, y, w, c: sigmoid_focal_loss(x, y, alpha=0.25, gamma=2.0,
         reduction='mean'), randn(4, 6, scale=2), bernoulli(0.3, 4, 6))
    case('focal_bin_noalpha_sum', lambda x, y, w, c: sigmoid_focal_loss(x, y, alpha=-1,
         gamma=1.5, reduction='sum'), randn(4, 6, scale=2), bernoulli(0.3, 4, 6))
    y = randint(0, 4, 2, 3, 3)
    y[1, 0] = -100
    case('focal_mc', lambda x, y, w, c: focal_multiclass(x, y, 2.0, alpha=c['alpha'].to(x.dtype)),
         randn(2, 4, 3, 3, scale=2), y,
         consts={'alpha': torch.tensor([0.25, 0.5, 0.75, 1.0], dtype=torch.float64)})
    x = randn(5, 3, scale=2)
    y = randint(0, 3, 5)
    f0 = focal_multiclass(x, y, 0.0)
    assert abs(f0.item() - F.cross_entropy(x, y).item()) < 1e-12, 'gamma 0 is cross entropy'
    case('focal_mc_gamma0', lambda x, y, w, c: focal_multiclass(x, y, 0.0), x, y)

    # Jensen-Shannon (the target map / points are data; gradients w.r.t. x only)
    pts = torch.rand(2, 3, 2, generator=G, dtype=torch.float64) * torch.tensor([8.0, 7.0])
    pts[1, 2] = float('nan')
    tmap = gaussian(pts, (7, 8), 1.5).reshape(2, 3, 7, 8)
    case('js_2d_map', lambda x, y, w, c: js(x, y.reshape(2, 3, -1)), randn(2, 3, 7, 8), tmap)
    case('js_2d_points', lambda x, y, w, c: js(x, gaussian(y, (7, 8), 1.5)),
         randn(2, 3, 7, 8), pts.clone())
    pts3 = torch.rand(1, 2, 3, generator=G, dtype=torch.float64) * torch.tensor([5.0, 6.0, 4.0])
    case('js_3d_points', lambda x, y, w, c: js(x, gaussian(y, (4, 6, 5), 1.2)),
         randn(1, 2, 4, 6, 5), pts3)
    case('js_peaked', lambda x, y, w, c: js(x, gaussian(y, (7, 8), 0.7)),
         randn(2, 3, 7, 8, scale=12), pts.clone())
    case('js_none', lambda x, y, w, c: js(x, gaussian(y, (7, 8), 1.5)),
         randn(1, 2, 7, 8), torch.full((1, 2, 2), float('nan'), dtype=torch.float64))

    # The fused head loss, float32 only (the kernel's type); reference in float64.
    tgt = torch.cat([torch.rand(2, 3, 2, generator=G, dtype=torch.float64) * 7,
                     torch.tensor([[0.0, 2.0, 1.0], [-1.0, 1.0, 2.0]],
                                  dtype=torch.float64).unsqueeze(-1)], -1)
    tgt[0, 1, 0] = float('nan')
    case('head_2d', lambda x, y, w, c: head(x, y, 3, c['cw'].to(x.dtype), 1.5),
         randn(2, 6, 8, 8), tgt,
         consts={'cw': torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)}, dtypes=('f64x32',))


def main():
    out_path = sys.argv[1]
    torch.set_num_threads(1)
    build_cases()
    tensors = {}
    for name, (fn, x, y, w, consts, dtypes) in CASES.items():
        tensors[name + '.x'] = x
        tensors[name + '.y'] = y
        if w is not None:
            tensors[name + '.w'] = w
        for k, v in consts.items():
            tensors[name + '.' + k] = v
        go = None
        for tag in dtypes:
            # f64x32: float32 inputs, computed in float64 (the reference of a float32 kernel)
            dt = torch.float32 if tag == 'f32' else torch.float64
            xi = x.float().double() if tag == 'f64x32' else x.to(dt)
            xi = xi.clone().requires_grad_(True)
            yi = y.to(dt) if y.is_floating_point() else y
            wi = None if w is None else w.to(dt)
            out = fn(xi, yi, wi, consts)
            if go is None:
                go = torch.ones((), dtype=torch.float64) if out.dim() == 0 \
                    else torch.randn(out.shape, generator=G, dtype=torch.float64)
                tensors[name + '.go'] = go
            (grad,) = torch.autograd.grad(out, xi, go.to(dt))
            tensors['%s.%s.out' % (name, tag)] = out.detach()
            tensors['%s.%s.grad' % (name, tag)] = grad
    write_safetensors(out_path, tensors)
    print('cases %d' % len(CASES))


if __name__ == '__main__':
    main()
