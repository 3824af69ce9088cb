"""Reference values of PyTorch's optimisers and learning-rate schedulers for the SpineKit
training-engine tests.

usage: train_oracle.py OUT.safetensors

Optimisers: three float32 parameters ("init.<i>") and 8 steps of gradients ("grad.<s>.<i>"),
seeded; for each case the parameters after the 8 steps ("<case>.final.<i>") and the state
("<case>.exp_avg.<i>", "<case>.exp_avg_sq.<i>"). Cases use torch.optim.Adam / AdamW with the
single-tensor implementation (foreach=False), as listed in CASES.

Schedules: the learning rates of two parameter groups (base 0.1 and 0.01) before the first
step and after each scheduler.step(), float64 [T + 1, 2], as "sched.<name>"; the metrics fed
to ReduceLROnPlateau as "metric.<name>".
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_common import to_bytes  # noqa: E402

SHAPES = [(37, 29), (17,), (6, 3, 5, 5)]
STEPS = 8

# name -> (class, kwargs, groups or None, clip norm, clip value)
CASES = {
    'adam': ('Adam', dict(lr=1e-2), None, 0, 0),
    'adam_wd_ams': ('Adam', dict(lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
                                 amsgrad=True), None, 0, 0),
    'adamw': ('AdamW', dict(lr=1e-2, weight_decay=0.05), None, 0, 0),
    'adamw_ams_max': ('AdamW', dict(lr=3e-3, weight_decay=0.02, amsgrad=True, maximize=True),
                      None, 0, 0),
    'adamw_groups': ('AdamW', dict(lr=1e-2), [([0, 2], dict(lr=1e-2, weight_decay=0.1)),
                                              ([1], dict(lr=3e-3, weight_decay=0.0))], 0, 0),
    'adam_clip_norm': ('Adam', dict(lr=1e-2), None, 0.5, 0),
    'adamw_clip_value': ('AdamW', dict(lr=1e-2), None, 0, 0.3),
}


def write_safetensors(path, tensors):
    header = {}
    blobs = []
    offset = 0
    names = {torch.float32: 'F32', torch.float64: 'F64'}
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        dtype = names[t.dtype]
        b = to_bytes(t, dtype)
        header[name] = {'dtype': dtype, 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    hj = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hj += b' ' * ((8 - len(hj) % 8) % 8)
    with open(path + '.tmp', 'wb') as f:
        f.write(struct.pack('<Q', len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(path + '.tmp', path)


def optimisers(out):
    g = torch.Generator().manual_seed(1234)
    init = [torch.randn(s, generator=g) for s in SHAPES]
    grads = [[torch.randn(s, generator=g) * (1 + k) for s in SHAPES] for k in range(STEPS)]
    for i, t in enumerate(init):
        out['init.%d' % i] = t
    for k in range(STEPS):
        for i, t in enumerate(grads[k]):
            out['grad.%d.%d' % (k, i)] = t
    for case, (cls, kw, groups, clip_norm, clip_value) in CASES.items():
        params = [torch.nn.Parameter(t.clone()) for t in init]
        if groups is None:
            spec = params
        else:
            spec = [dict(params=[params[i] for i in idx], **gkw) for idx, gkw in groups]
        opt = getattr(torch.optim, cls)(spec, foreach=False, **kw)
        for k in range(STEPS):
            for p, gr in zip(params, grads[k]):
                p.grad = gr.clone()
            if clip_norm:
                torch.nn.utils.clip_grad_norm_(params, clip_norm)
            if clip_value:
                torch.nn.utils.clip_grad_value_(params, clip_value)
            opt.step()
        for i, p in enumerate(params):
            out['%s.final.%d' % (case, i)] = p.detach().clone()
            st = opt.state[p]
            out['%s.exp_avg.%d' % (case, i)] = st['exp_avg'].clone()
            out['%s.exp_avg_sq.%d' % (case, i)] = st['exp_avg_sq'].clone()


def lrs(make, steps, metrics=None):
    p = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.SGD([dict(params=[p[0]], lr=0.1), dict(params=[p[1]], lr=0.01)])
    sched = make(opt)
    rows = [[g['lr'] for g in opt.param_groups]]
    for k in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[k])
        rows.append([g['lr'] for g in opt.param_groups])
    return torch.tensor(rows, dtype=torch.float64)


def schedules(out):
    S = torch.optim.lr_scheduler
    out['sched.cosine'] = lrs(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-4), 25)
    out['sched.warmup_cosine'] = lrs(lambda o: S.SequentialLR(o, [
        S.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5),
        S.CosineAnnealingLR(o, T_max=15, eta_min=1e-5)], milestones=[5]), 20)
    out['sched.step'] = lrs(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12)
    m1 = [1.0, 0.9, 0.95, 0.91, 0.92, 0.93, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    out['metric.plateau_min'] = torch.tensor(m1, dtype=torch.float64)
    out['sched.plateau_min'] = lrs(lambda o: S.ReduceLROnPlateau(
        o, mode='min', factor=0.5, patience=2, threshold=0.01, cooldown=1, min_lr=0.004),
        len(m1), m1)
    m2 = [0.1, 0.2, 0.2, 0.25, 0.2, 0.2, 0.2, 0.7, 0.7, 0.7, 0.7, 0.7]
    out['metric.plateau_max'] = torch.tensor(m2, dtype=torch.float64)
    out['sched.plateau_max'] = lrs(lambda o: S.ReduceLROnPlateau(
        o, mode='max', factor=0.3, patience=1, threshold=0.1, threshold_mode='abs'),
        len(m2), m2)


def main():
    out = {}
    optimisers(out)
    schedules(out)
    write_safetensors(sys.argv[1], out)
    print('torch', torch.__version__)


if __name__ == '__main__':
    main()
