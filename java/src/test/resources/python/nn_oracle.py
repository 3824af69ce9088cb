"""Reference outputs of PyTorch networks for the SpineKit model-zoo tests.

usage: nn_oracle.py ARCH OUTDIR [--in-ch C] [--size H W] [--batch N] [--seed S]
                    [--classes K] [--features] [--train-out] [--calib-batch M] [--spread]

Builds ARCH (a torchvision model name, or a reference module registered in nn/), gives it
seeded random weights with randomised batch-norm statistics (so eval mode is exercised),
and writes OUTDIR/weights.safetensors (the state dict, PyTorch's keys) and
OUTDIR/io.safetensors ("input", "output" in eval mode, "output64" of the same network in
float64, and "feature.<i>" when --features
and the model has a features(x) method). Prints "noise <x>" (max |float32 - float64| of PyTorch's own outputs) and "params <n>"
(trainable parameters).

More options: [--feature-modules NAMES] [--train-seed S] [--calibrate-on-input]
[--threads T]. --feature-modules writes the eval outputs of the named submodules (forward
hooks, e.g. features.0,features.2) as "feature.<i>", and those of the float64 copy as
"feature64.<i>"; --train-seed writes "train_output", the training-mode output right after
torch.manual_seed(S); --calibrate-on-input and --threads: see --help.
"""
import argparse
import copy
import importlib
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_common import to_bytes  # noqa: E402

TORCH_DTYPE = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64',
               torch.float16: 'F16', torch.int32: 'I32', torch.uint8: 'U8'}


def write_safetensors(path, tensors):
    header = {}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        dtype = TORCH_DTYPE[t.dtype]
        b = to_bytes(t, dtype)
        header[name] = {'dtype': dtype, 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    hj = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hj += b' ' * ((8 - len(hj) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def build(arch, in_ch, classes):
    """A torchvision model, or nn/<module>.py's build(arch, in_ch, classes)."""
    import torchvision.models as tvm
    if hasattr(tvm, arch):
        m = getattr(tvm, arch)(num_classes=classes)
        if in_ch != 3:
            replace_first_conv(m, in_ch)
        return m
    for name in sorted(os.listdir(os.path.join(os.path.dirname(__file__), 'nn'))):
        if not name.endswith('.py') or name.startswith('_'):
            continue
        mod = importlib.import_module('nn.' + name[:-3])
        if hasattr(mod, 'ARCHS') and arch in mod.ARCHS:
            return mod.build(arch, in_ch, classes)
    raise SystemExit('unknown arch ' + arch)


def replace_first_conv(m, in_ch):
    for name, c in m.named_modules():
        if isinstance(c, torch.nn.Conv2d) and c.in_channels == 3:
            new = torch.nn.Conv2d(in_ch, c.out_channels, c.kernel_size, c.stride, c.padding,
                                  c.dilation, c.groups, c.bias is not None)
            parent = m
            parts = name.split('.')
            for p in parts[:-1]:
                parent = getattr(parent, p)
            setattr(parent, parts[-1], new)
            return
    raise SystemExit('no 3-channel input conv')


def randomise(m, g):
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d)):
                mod.running_mean.normal_(0, 0.1, generator=g)
                mod.running_var.uniform_(0.5, 1.5, generator=g)
                if mod.affine:
                    mod.weight.uniform_(0.5, 1.5, generator=g)
                    mod.bias.normal_(0, 0.1, generator=g)
            elif isinstance(mod, (torch.nn.LayerNorm, torch.nn.GroupNorm)):
                if mod.weight is not None:
                    mod.weight.uniform_(0.5, 1.5, generator=g)
                    mod.bias.normal_(0, 0.1, generator=g)
        # Layer-scale style parameters (ConvNeXt) start tiny; make them matter.
        for name, p in m.named_parameters():
            if name.endswith('layer_scale') or name.endswith('gamma'):
                p.uniform_(0.5, 1.5, generator=g)


def spread(m, g):
    """--spread: linear weights N(0, 1/fan_in) and conv/linear biases N(0, 0.1), for networks
    whose own init (trunc-normal std 0.02, zero biases) would leave attention near uniform
    and every bias untested."""
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.Linear):
                mod.weight.normal_(0, mod.in_features ** -0.5, generator=g)
            if isinstance(mod, (torch.nn.Linear, torch.nn.Conv2d)) and mod.bias is not None:
                mod.bias.normal_(0, 0.1, generator=g)


def calibrate(m, x, only_bn=False):
    """Sets batch-norm running statistics to those of the input (as a trained network has
    them), so activations stay O(1) through deep networks and the 1e-4 comparison means
    something at every depth. only_bn: every other module (dropout, stochastic depth) stays
    in eval mode during the calibrating forward."""
    bns = [b for b in m.modules()
           if isinstance(b, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d))]
    if not bns:
        return
    for b in bns:
        b.reset_running_stats()
        b.momentum = None
    m.train()
    if only_bn:
        for mod in m.modules():
            if mod not in bns:
                mod.training = False
    with torch.no_grad():
        m(x)
    for b in bns:
        b.momentum = 0.1
        b.num_batches_tracked.fill_(7)


def hooked_features(m, x, names, prefix='feature.'):
    """The outputs of the named submodules during one forward, as <prefix><i>."""
    mods = dict(m.named_modules())
    out = {}
    hooks = []
    for i, n in enumerate(names):
        if n not in mods:
            raise SystemExit('no submodule ' + n)
        hooks.append(mods[n].register_forward_hook(
            lambda mod, inp, res, i=i: out.__setitem__(prefix + str(i), res.clone())))
    m(x)
    for h in hooks:
        h.remove()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('arch')
    ap.add_argument('out')
    ap.add_argument('--in-ch', type=int, default=3)
    ap.add_argument('--size', type=int, nargs='+', default=[64, 64])
    ap.add_argument('--batch', type=int, default=2)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--classes', type=int, default=1000)
    ap.add_argument('--features', action='store_true')
    ap.add_argument('--feature-modules', default='',
                    help='comma-separated submodule names (e.g. features.0,features.2) whose '
                         'eval outputs are written as feature.<i>')
    ap.add_argument('--train-seed', type=int, default=None,
                    help='also write "train_output": the training-mode output of a copy of the '
                         'network right after torch.manual_seed(S) (dropout, stochastic depth '
                         'and batch statistics as a seeded libtorch forward draws them)')
    ap.add_argument('--threads', type=int, default=2,
                    help='intra-op threads (1 avoids OpenMP barrier stalls on a busy machine '
                         'for networks of many small ops, e.g. float64 depthwise convolutions)')
    ap.add_argument('--calibrate-on-input', action='store_true',
                    help='calibrate batch norm on the evaluation input itself (twice over at '
                         'batch 1) with dropout and stochastic depth off: networks whose deep '
                         'maps are tiny (EfficientNet at 64x64) otherwise blow up')
    ap.add_argument('--stats', action='store_true', help='print output statistics')
    ap.add_argument('--calib-batch', type=int, default=0,
                    help='samples for the batch-norm calibration (default max(batch, 2)); '
                    'networks with batch norm on pooled 1x1 maps (split attention) need more')
    ap.add_argument('--spread', action='store_true', help='see spread()')
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    m = build(a.arch, a.in_ch, a.classes)
    g = torch.Generator().manual_seed(a.seed + 1)
    randomise(m, g)
    if a.spread:
        spread(m, g)
    m.eval()
    x = torch.randn(a.batch, a.in_ch, *a.size, generator=g)
    calibrate(m, torch.randn(a.calib_batch or max(a.batch, 2), a.in_ch, *a.size, generator=g))
    m.eval()
    if a.calibrate_on_input:
        calibrate(m, x if a.batch >= 2 else torch.cat([x, x]), only_bn=True)
        m.eval()
    io = {'input': x}
    with torch.no_grad():
        io['output'] = m(x)
        # The same network in float64: the Java float64 forward must match it to ~1e-10,
        # and its distance to the float32 output is PyTorch's own float32 rounding.
        m64 = copy.deepcopy(m).double()
        io['output64'] = m64(x.double())
        noise = (io['output'].double() - io['output64']).abs().max().item()
        if a.features and hasattr(m, 'features_list'):
            for i, f in enumerate(m.features_list(x)):
                io['feature.%d' % i] = f
        if a.feature_modules:
            names = a.feature_modules.split(',')
            io.update(hooked_features(m, x, names))
            io.update(hooked_features(m64, x.double(), names, 'feature64.'))
    if a.train_seed is not None:
        mt = copy.deepcopy(m).train()
        torch.manual_seed(a.train_seed)
        with torch.no_grad():
            io['train_output'] = mt(x)
    if a.stats:
        print('output absmax %.4g std %.4g' % (io['output'].abs().max(), io['output'].std()))
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, 'weights.safetensors'), m.state_dict())
    write_safetensors(os.path.join(a.out, 'io.safetensors'), io)
    print('noise %.6g' % noise)
    print('params %d' % sum(p.numel() for p in m.parameters() if p.requires_grad))


if __name__ == '__main__':
    main()
