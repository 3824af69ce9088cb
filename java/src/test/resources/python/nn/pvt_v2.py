"""Reference PVTv2 (pvt_v2_b0, pvt_v2_b4) for the SpineKit model-zoo tests.

torchvision has no PVTv2, so this module rebuilds it from the paper's description with the
state-dict keys of timm's current pvt_v2 (patch_embed.*, stages.i.downsample.*,
stages.i.blocks.j.{norm1,attn.{q,kv,sr,norm,proj},norm2,mlp.{fc1,dwconv,fc2}},
stages.i.norm, head). Structure: a 7x7 stride-4 overlapping patch embedding, then four
stages (stages 1-3 open with a 3x3 stride-2 overlapping embedding); each block is pre-norm
spatial-reduction attention (keys and values from a sr x sr stride-sr conv of the tokens,
then a LayerNorm) and an MLP with a 3x3 depthwise conv between its two linears; each stage
ends in a LayerNorm. Block and stage norms use eps 1e-6, the embedding and reduction norms
PyTorch's default 1e-5. Global average pool, then the linear head.
"""
import math

import torch
from torch import nn
from torch.nn import functional as F

ARCHS = {
    # depths, embed dims, heads
    'pvt_v2_b0': ((2, 2, 2, 2), (32, 64, 160, 256), (1, 2, 5, 8)),
    'pvt_v2_b4': ((3, 8, 27, 3), (64, 128, 320, 512), (1, 2, 5, 8)),
}
SR_RATIOS = (8, 4, 2, 1)
MLP_RATIOS = (8, 8, 4, 4)


def drop_path(x, p, training):
    if p == 0.0 or not training:
        return x
    keep = 1.0 - p
    mask = x.new_empty((x.shape[0],) + (1,) * (x.dim() - 1)).bernoulli_(keep)
    if keep > 0.0:
        mask.div_(keep)
    return x * mask


class Embed(nn.Module):
    """Overlapping patch embedding: conv (k, stride, k // 2) then LayerNorm; NHWC out."""

    def __init__(self, cin, cout, k, stride):
        super().__init__()
        self.proj = nn.Conv2d(cin, cout, k, stride, k // 2)
        self.norm = nn.LayerNorm(cout)

    def forward(self, x):
        return self.norm(self.proj(x).permute(0, 2, 3, 1))


class SRAttention(nn.Module):
    def __init__(self, dim, heads, sr):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.proj = nn.Linear(dim, dim)
        if sr > 1:
            self.sr = nn.Conv2d(dim, dim, sr, sr)
            self.norm = nn.LayerNorm(dim)
        else:
            self.sr = None

    def forward(self, x, h, w):
        b, n, c = x.shape
        q = self.q(x).reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3)
        src = x
        if self.sr is not None:
            src = x.permute(0, 2, 1).reshape(b, c, h, w)
            src = self.norm(self.sr(src).reshape(b, c, -1).permute(0, 2, 1))
        kv = self.kv(src).reshape(b, -1, 2, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        a = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, n, c))


class DwMlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.dwconv = nn.Conv2d(hidden, hidden, 3, 1, 1, groups=hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x, h, w):
        y = self.fc1(x)
        b, n, c = y.shape
        y = self.dwconv(y.transpose(1, 2).reshape(b, c, h, w)).flatten(2).transpose(1, 2)
        return self.fc2(F.gelu(y))


class Block(nn.Module):
    def __init__(self, dim, heads, sr, mlp_ratio, dp):
        super().__init__()
        self.dp = dp
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = SRAttention(dim, heads, sr)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = DwMlp(dim, int(dim * mlp_ratio))

    def forward(self, x, h, w):
        x = x + drop_path(self.attn(self.norm1(x), h, w), self.dp, self.training)
        return x + drop_path(self.mlp(self.norm2(x), h, w), self.dp, self.training)


class Stage(nn.Module):
    def __init__(self, cin, dim, depth, heads, sr, mlp_ratio, dps, downsample):
        super().__init__()
        self.downsample = Embed(cin, dim, 3, 2) if downsample else None
        self.blocks = nn.ModuleList(
            [Block(dim, heads, sr, mlp_ratio, dps[j]) for j in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x):
        if self.downsample is not None:
            x = self.downsample(x)
        b, h, w, c = x.shape
        x = x.reshape(b, h * w, c)
        for blk in self.blocks:
            x = blk(x, h, w)
        return self.norm(x).reshape(b, h, w, c).permute(0, 3, 1, 2).contiguous()


class PvtV2(nn.Module):
    def __init__(self, depths, dims, heads, in_ch=3, classes=1000, drop_path_rate=0.0):
        super().__init__()
        self.patch_embed = Embed(in_ch, dims[0], 7, 4)
        total = sum(depths)
        rates = [drop_path_rate * i / (total - 1) if total > 1 else 0.0 for i in range(total)]
        stages, cur, prev = [], 0, dims[0]
        for i, d in enumerate(depths):
            stages.append(Stage(prev, dims[i], d, heads[i], SR_RATIOS[i], MLP_RATIOS[i],
                                rates[cur:cur + d], i > 0))
            cur += d
            prev = dims[i]
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(dims[-1], classes) if classes > 0 else None
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Conv2d):
                fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
                nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
                nn.init.zeros_(m.bias)

    def features_list(self, x):
        x = self.patch_embed(x)
        out = []
        for s in self.stages:
            x = s(x)
            out.append(x)
        return out

    def forward(self, x):
        x = self.features_list(x)[-1].mean(dim=(-1, -2))
        return x if self.head is None else self.head(x)


def build(arch, in_ch, classes):
    depths, dims, heads = ARCHS[arch]
    return PvtV2(depths, dims, heads, in_ch, classes)
