#!/usr/bin/env python3
"""The Python torch side of `spinekit bench forward` (benchmarks/README.md, "Forward passes
beside Python torch and ONNX Runtime").

The Java side (ForwardBench) builds a network as the cpu-small pipelines do, writes into DIR
  NAME.safetensors   its state dict (SafeTensors, the keys of the Java modules)
  NAME.input.npy     the input (float32)
  NAME.java.npy      the Java eval forward of that input (float32)
and runs this script on it. The script builds a replica of the network whose state_dict keys
are the Java names, loads the weights with strict=True, checks its output against Java's
(exit 3 when the largest difference exceeds --tolerance times the largest |Java output|),
writes DIR/NAME.onnx (torch.onnx.export, opset 13) unless --no-onnx, and times eval forwards
under torch.no_grad() on --threads threads. Prints one JSON line:
  {"net": ..., "params": n, "max_abs_diff": d, "max_abs_java": m, "onnx": path|null,
   "times_ms": [...]}  (the measured forwards, warm-up excluded)

Networks (the cpu-small presets; resnet10_w32 = torchvision's ResNet layout, one BasicBlock
per stage, 32 wide, channels 32, 32, 64, 128, 256 at strides 2..32):
  cervical_seg  smp-style Unet on resnet10_w32 (3 channels), decoder 64, 32, 16, 16, 8,
                9 classes; input [1, 3, 128, 128]
  cervical_cls  stage-2 classifier: resnet10_w32 per slice (1 channel) -> avg pool -> BiGRU
                64 x 1 layer -> attention (Linear 128->32, tanh, Linear 32->1) -> Linear
                128->1; input [1, 24, 64, 64]
  lumbar_scs    LumbarNet 2D (resnet10_w32, 1 channel; decoder 64, 32, 32 from stride 32 to
                4; 1x1 heads of 5 level points and 3 grades), slice by slice over a stack;
                input [1, 1, 12, 96, 96], output cat(heat, grade) [1, 8, 12, 24, 24]

    /usr/bin/python3 benchmarks/python/forward_side_by_side.py --dir DIR --net cervical_seg \
        --threads 2 --warmup 5 --iterations 50
"""
import argparse
import json
import struct
import sys
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# safetensors dtype -> numpy dtype of the raw little-endian bytes
DTYPES = {'F64': '<f8', 'F32': '<f4', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4', 'I16': '<i2',
          'I8': 'i1', 'U8': 'u1', 'BOOL': '?'}


def read_safetensors(path):
    """{name: tensor}: 8-byte little-endian header length, JSON header, raw data."""
    with open(path, 'rb') as f:
        buf = f.read()
    (n,) = struct.unpack('<Q', buf[:8])
    header = json.loads(buf[8:8 + n].decode('utf-8'))
    data = buf[8 + n:]
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        begin, end = info['data_offsets']
        arr = np.frombuffer(data[begin:end], dtype=DTYPES[info['dtype']])
        out[name] = torch.from_numpy(arr.copy()).reshape(info['shape'])
    return out


# ----------------------------------------------------------------------------- networks

def conv_bn_relu(cin, cout):
    """Keys 0 (conv, no bias) and 1 (batch norm), then ReLU."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU())


class Basic(nn.Module):
    """A ResNet basic block (torchvision's keys: conv1, bn1, conv2, bn2, downsample.0/.1)."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or cin != planes:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet10(nn.Module):
    """resnet10_w32 without a head: maps at strides 2 (stem), 4, 8, 16, 32."""

    def __init__(self, in_ch, width=32):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        cin = width
        for i in range(4):
            planes = width << i
            setattr(self, 'layer%d' % (i + 1), nn.Sequential(Basic(cin, planes,
                                                                   1 if i == 0 else 2)))
            cin = planes
        self.channels = [width, width, 2 * width, 4 * width, 8 * width]

    def features(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        out = [x]
        x = F.max_pool2d(x, 3, 2, 1)
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            out.append(x)
        return out


class UnetBlock(nn.Module):
    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv1 = conv_bn_relu(cin + skip, cout)
        self.conv2 = conv_bn_relu(cout, cout)

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], 1)
        return self.conv2(self.conv1(x))


class UnetDecoder(nn.Module):
    def __init__(self, enc, dec):
        super().__init__()
        # Encoder maps at strides 2..32; block i works at stride 16 / 2^i, whose map (if any)
        # is its skip.
        skips = list(enc[-2::-1]) + [0] * (len(dec) - len(enc) + 1)
        ins = [enc[-1]] + list(dec[:-1])
        self.blocks = nn.ModuleList(UnetBlock(i, s, o) for i, s, o in zip(ins, skips, dec))

    def forward(self, feats):
        x = feats[-1]
        skips = feats[-2::-1]
        for i, b in enumerate(self.blocks):
            x = b(x, skips[i] if i < len(skips) else None)
        return x


class Unet(nn.Module):
    def __init__(self, in_ch, dec, classes):
        super().__init__()
        self.encoder = ResNet10(in_ch)
        self.decoder = UnetDecoder(self.encoder.channels, dec)
        self.segmentation_head = nn.Sequential(nn.Conv2d(dec[-1], classes, 3, padding=1))

    def forward(self, x):
        return self.segmentation_head(self.decoder(self.encoder.features(x)))


class CervicalClassifier(nn.Module):
    def __init__(self, slices, hidden, layers, att, outputs):
        super().__init__()
        self.slices = slices
        self.encoder = ResNet10(1)
        self.gru = nn.GRU(self.encoder.channels[-1], hidden, num_layers=layers,
                          batch_first=True, bidirectional=True)
        self.attention = nn.Sequential(nn.Linear(2 * hidden, att), nn.Tanh(),
                                       nn.Linear(att, 1))
        self.head = nn.Linear(2 * hidden, outputs)

    def forward(self, x):
        b, s = x.shape[0], x.shape[1]
        maps = self.encoder.features(x.reshape(b * s, 1, x.shape[-2], x.shape[-1]))[-1]
        pooled = F.adaptive_avg_pool2d(maps, 1).flatten(1)  # Dropout2d: identity in eval
        seq, _ = self.gru(pooled.reshape(b, s, -1))
        w = torch.softmax(self.attention(seq), 1)
        return self.head((seq * w).sum(1))


class LumbarBlock(nn.Module):
    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv1 = conv_bn_relu(cin + skip, cout)
        self.conv2 = conv_bn_relu(cout, cout)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[2:], mode='nearest')
        return self.conv2(self.conv1(torch.cat([x, skip], 1)))


class LumbarHead(nn.Module):
    def __init__(self, enc, dec, points, grades):
        super().__init__()
        n = len(enc)
        blocks, cin = [], enc[-1]
        for i in range(n - 1):
            blocks.append(LumbarBlock(cin, enc[n - 2 - i], dec[i]))
            cin = dec[i]
        self.block = nn.ModuleList(blocks)
        self.heatmap = nn.Conv2d(cin, points, 1)
        self.grade = nn.Conv2d(cin, grades, 1)

    def forward(self, feats):
        d = feats[-1]
        for i, b in enumerate(self.block):
            d = b(d, feats[len(feats) - 2 - i])
        return self.heatmap(d), self.grade(d)


class LumbarNet2d(nn.Module):
    """The 2D lumbar net on a slice stack [B, C, D, H, W]: each slice decoded alone, the maps
    stacked back as [B, K, D, h, w]; heat and grade concatenated along channels."""

    def __init__(self, in_ch, points, grades, dec):
        super().__init__()
        self.encoder = ResNet10(in_ch)
        self.head = LumbarHead(self.encoder.channels[1:], dec, points, grades)

    def forward(self, x):
        b, c, d, h, w = x.shape
        maps = self.encoder.features(x.permute(0, 2, 1, 3, 4).reshape(b * d, c, h, w))
        heat, grade = self.head(maps[1:])  # strides 4..32: the stem's map is not used
        y = torch.cat([heat, grade], 1)
        return y.reshape(b, d, *y.shape[1:]).permute(0, 2, 1, 3, 4)


NETS = {
    'cervical_seg': lambda: Unet(3, (64, 32, 16, 16, 8), 9),
    'cervical_cls': lambda: CervicalClassifier(24, 64, 1, 32, 1),
    'lumbar_scs': lambda: LumbarNet2d(1, 5, 3, (64, 32, 32)),
}


# ----------------------------------------------------------------------------- the run

def run(a):
    base = '%s/%s' % (a.dir, a.net)
    model = NETS[a.net]()
    model.load_state_dict(read_safetensors(base + '.safetensors'), strict=True)
    model.eval()
    x = torch.from_numpy(np.load(base + '.input.npy'))
    want = torch.from_numpy(np.load(base + '.java.npy'))
    with torch.no_grad():
        got = model(x)
    if tuple(got.shape) != tuple(want.shape):
        sys.exit('%s: Python output %s, Java output %s' % (a.net, tuple(got.shape),
                                                            tuple(want.shape)))
    diff = (got - want).abs().max().item()
    scale = want.abs().max().item()
    print('%s: max |Python - Java| = %.3g (max |Java| = %.3g, relative %.3g)'
          % (a.net, diff, scale, diff / max(scale, 1e-30)), file=sys.stderr, flush=True)
    onnx = None
    if not a.no_onnx:
        onnx = base + '.onnx'
        # The exporter warns about shape inference of constants and the GRU's batch size: the
        # check in ForwardBench (ONNX Runtime's output against Java's) is what counts.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(model, x, onnx, opset_version=13, input_names=['x'],
                              output_names=['y'], do_constant_folding=True)
    if a.channels_last:
        # PyTorch's own channels-last: the module's parameters (and a 4D input) in NHWC order,
        # as Java's predictors store their convolution weights (Net.channelsLast).
        model = model.to(memory_format=torch.channels_last)
        if x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            diff = (model(x) - want).abs().max().item()
    times = []
    with torch.no_grad():
        for i in range(a.warmup + a.iterations):
            t0 = time.perf_counter()
            model(x)
            if i >= a.warmup:
                times.append((time.perf_counter() - t0) * 1e3)
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({'net': a.net, 'params': params, 'max_abs_diff': diff,
                      'max_abs_java': scale, 'onnx': onnx, 'times_ms': times}), flush=True)
    if not diff <= a.tolerance * scale:
        print('%s: MISMATCH: max |Python - Java| = %.3g exceeds %.0e x max |Java| = %.3g'
              % (a.net, diff, a.tolerance, a.tolerance * scale), file=sys.stderr)
        sys.exit(3)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--dir', required=True, help='where ForwardBench wrote the files')
    ap.add_argument('--net', required=True, choices=sorted(NETS))
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--iterations', type=int, default=50)
    ap.add_argument('--tolerance', type=float, default=1e-3,
                    help='largest difference allowed, relative to max |Java output|')
    ap.add_argument('--no-onnx', action='store_true', help='do not export DIR/NET.onnx')
    ap.add_argument('--channels-last', action='store_true',
                    help='time the model in channels-last order (after the check and export)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    run(a)


if __name__ == '__main__':
    main()
