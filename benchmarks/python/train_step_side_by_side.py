#!/usr/bin/env python3
"""The Python torch side of `spinekit bench train` (benchmarks/README.md, "Training step").

The same models, batches, losses and optimiser as the Java side (TrainBench):
  unet_b0     2.5D segmentation: UNet decoder (256, 128, 64, 32, 16; as
              segmentation_models_pytorch) on an EfficientNet-B0 encoder (torchvision),
              3 input channels, 9 classes, cross entropy, AdamW.
  cervical    stage-2 classifier: per-slice ResNet-18 encoder (1 channel) -> spatial
              dropout -> BiGRU 2 x 256 over the slices -> attention pooling -> 1 logit,
              BCE with logits, AdamW.
Train step = forward + loss + backward + AdamW step (+ zero_grad). Inference = eval
forward at batch 1 under no_grad. Prints one JSON object per case on stdout:
  {"case": ..., "params": n, "times_ms": [...]}  (the measured steps, warm-up excluded)

    /usr/bin/python3 benchmarks/python/train_step_side_by_side.py --threads 2 \
        --case unet_b0:train:2x3x128x128 --warmup 3 --steps 10
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class ConvBnRelu(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(inplace=True))


class DecoderBlock(nn.Module):
    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv1 = ConvBnRelu(cin + skip, cout)
        self.conv2 = ConvBnRelu(cout, cout)

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


class UnetB0(nn.Module):
    """EfficientNet-B0 features at strides 2..32 (channels 32, 24, 40, 112, 320)."""
    TAPS = (0, 2, 3, 5, 7)

    def __init__(self, in_ch=3, classes=9):
        super().__init__()
        self.encoder = torchvision.models.efficientnet_b0().features[:8]
        if in_ch != 3:
            raise SystemExit('unet_b0: 3 input channels only')
        enc = [32, 24, 40, 112, 320]
        dec = [256, 128, 64, 32, 16]
        ins = [enc[-1]] + dec[:-1]
        skips = enc[-2::-1] + [0]
        self.blocks = nn.ModuleList(DecoderBlock(i, s, o) for i, s, o in zip(ins, skips, dec))
        self.head = nn.Conv2d(dec[-1], classes, 3, padding=1)

    def forward(self, x):
        feats = []
        for i, layer in enumerate(self.encoder):
            x = layer(x)
            if i in self.TAPS:
                feats.append(x)
        x = feats[-1]
        skips = feats[-2::-1] + [None]
        for b, s in zip(self.blocks, skips):
            x = b(x, s)
        return self.head(x)


def make(case):
    name, mode, shape = case.split(':')
    dims = [int(v) for v in shape.split('x')]
    g = torch.Generator().manual_seed(0)
    if name == 'unet_b0':
        model = UnetB0(dims[1], 9)
        x = torch.randn(*dims, generator=g)
        y = torch.randint(0, 9, (dims[0], dims[2], dims[3]), generator=g)
        loss = lambda out: F.cross_entropy(out, y)  # noqa: E731
    elif name == 'cervical':
        # The reference module of the model-zoo tests: the same keys, init and widths as
        # CervicalClassifier.Config.of(slices) (BiGRU 2 x 256, attention 128, dropout 0.2).
        from nn.cervical import CervicalClassifier
        model = CervicalClassifier('resnet18', dims[1], 1, 1, hidden=256, layers=2, att=128,
                                   p=0.2)
        x = torch.randn(*dims, generator=g)
        y = (torch.rand(dims[0], 1, generator=g) > 0.5).float()
        loss = lambda out: F.binary_cross_entropy_with_logits(out, y)  # noqa: E731
    else:
        raise SystemExit('unknown case ' + case)
    return model, mode, x, loss


def run(case, warmup, steps):
    torch.manual_seed(0)
    model, mode, x, loss_fn = make(case)
    params = sum(p.numel() for p in model.parameters())
    times = []
    if mode == 'train':
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-2)
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x))
            loss.backward()
            opt.step()
            loss.item()
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1e3)
    else:
        model.eval()
        with torch.no_grad():
            for i in range(warmup + steps):
                t0 = time.perf_counter()
                model(x).sum().item()
                if i >= warmup:
                    times.append((time.perf_counter() - t0) * 1e3)
    return {'case': case, 'params': params, 'times_ms': times}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--case', action='append', required=True,
                    help='NAME:train|infer:NxCxHxW (cervical: BxSxHxW, one channel per slice)')
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--steps', type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, '..', '..', 'java', 'src', 'test', 'resources',
                                    'python'))
    for case in a.case:
        print(json.dumps(run(case, a.warmup, a.steps)), flush=True)


if __name__ == '__main__':
    main()
