"""Rewrites a state dict written by nn_oracle.py into another published key layout, so the
SpineKit name maps are tested against keys produced independently of their regexes.

usage: nn_rename.py MODE IN.safetensors OUT.safetensors

MODE convnext-timm: torchvision's ConvNeXt keys -> timm's (stem, stages.i.downsample,
  stages.i.blocks.j.{conv_dw, norm, mlp.fc1, mlp.fc2, gamma}, head.norm, head.fc), with
  layer_scale [C, 1, 1] stored as timm's gamma [C].
MODE pvt-v2-original: timm's PVTv2 keys -> the original PVT code's (patch_embed1..4,
  block1..4 with mlp.dwconv.dwconv, norm1..4, head).
Prints "renamed <n>".
"""
import json
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nn_oracle import write_safetensors  # noqa: E402
from safetensors_common import from_bytes  # noqa: E402

CONVNEXT_BLOCK = {'0': 'conv_dw', '2': 'norm', '3': 'mlp.fc1', '5': 'mlp.fc2'}


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, h in header.items():
        if name == '__metadata__':
            continue
        a, b = h['data_offsets']
        out[name] = from_bytes(data[a:b], h['dtype'], h['shape'])
    return out


def convnext_timm(k, v):
    m = re.fullmatch(r'features\.(\d+)\.(.*)', k)
    if m is None:
        head = {'classifier.0': 'head.norm', 'classifier.2': 'head.fc'}
        part, p = k.rsplit('.', 1)
        return head[part] + '.' + p, v
    idx, rest = int(m.group(1)), m.group(2)
    if idx == 0:
        return 'stem.' + rest, v
    if idx % 2 == 0:
        return 'stages.%d.downsample.%s' % (idx // 2, rest), v
    stage = (idx - 1) // 2
    j, tail = rest.split('.', 1)
    if tail == 'layer_scale':
        return 'stages.%d.blocks.%s.gamma' % (stage, j), v.reshape(-1)
    _, layer, p = tail.split('.')
    return 'stages.%d.blocks.%s.%s.%s' % (stage, j, CONVNEXT_BLOCK[layer], p), v


def pvt_original(k, v):
    if k.startswith('patch_embed.'):
        return 'patch_embed1.' + k[len('patch_embed.'):], v
    m = re.fullmatch(r'stages\.(\d)\.(.*)', k)
    if m is None:
        return k, v
    i, rest = int(m.group(1)) + 1, m.group(2)
    if rest.startswith('downsample.'):
        return 'patch_embed%d.%s' % (i, rest[len('downsample.'):]), v
    if rest.startswith('norm.'):
        return 'norm%d.%s' % (i, rest[len('norm.'):]), v
    rest = rest[len('blocks.'):].replace('mlp.dwconv.', 'mlp.dwconv.dwconv.')
    return 'block%d.%s' % (i, rest), v


def main():
    mode, src, dst = sys.argv[1:4]
    fn = {'convnext-timm': convnext_timm, 'pvt-v2-original': pvt_original}[mode]
    out = {}
    for k, v in read_safetensors(src).items():
        nk, nv = fn(k, v)
        out[nk] = nv
    write_safetensors(dst, out)
    print('renamed %d' % len(out))


if __name__ == '__main__':
    main()
