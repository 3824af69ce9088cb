"""Reference ResNeSt (split-attention ResNet) with timm's structure and state-dict keys.

timm is not installed here, so this module rebuilds timm's ResNet with ResNestBottleneck
blocks: the 'd' variants (deep 3x3 stem 32-32-64, average pooling in the shortcut),
split attention of radix 2 on the 3x3 convolution, its stride moved to a 3x3 average pool
after it (avd, avd_first False). Keys: conv1.0/1/3/4/6, bn1, layerN.i.conv1/bn1,
conv2.conv/bn0/fc1/bn1/fc2, conv3/bn3, downsample.1/.2 (.0 is the pool), fc.
"""
import torch
import torch.nn.functional as F
from torch import nn

# name: (blocks per stage, stem width)
CONFIGS = {
    'resnest14d': ([1, 1, 1, 1], 32),
    'resnest26d': ([2, 2, 2, 2], 32),
    'resnest50d': ([3, 4, 6, 3], 32),
}
ARCHS = set(CONFIGS)


def round_channels(v, divisor=8, min_value=None):
    """timm's make_divisible (round_limit 0.9)."""
    min_value = min_value or divisor
    r = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if r < 0.9 * v:
        r += divisor
    return r


class RadixSoftmax(nn.Module):
    def __init__(self, radix, cardinality):
        super().__init__()
        self.radix = radix
        self.cardinality = cardinality

    def forward(self, x):
        b = x.size(0)
        if self.radix == 1:
            return torch.sigmoid(x)
        x = x.view(b, self.cardinality, self.radix, -1).transpose(1, 2)
        return F.softmax(x, dim=1).reshape(b, -1)


class SplitAttn(nn.Module):
    def __init__(self, chs, stride, cardinality, radix):
        super().__init__()
        self.radix = radix
        mid = chs * radix
        attn = round_channels(chs * radix * 0.25, min_value=32)
        self.conv = nn.Conv2d(chs, mid, 3, stride, 1, 1, groups=cardinality * radix, bias=False)
        self.bn0 = nn.BatchNorm2d(mid)
        self.fc1 = nn.Conv2d(chs, attn, 1, groups=cardinality)
        self.bn1 = nn.BatchNorm2d(attn)
        self.fc2 = nn.Conv2d(attn, mid, 1, groups=cardinality)
        self.rsoftmax = RadixSoftmax(radix, cardinality)

    def forward(self, x):
        x = F.relu(self.bn0(self.conv(x)))
        b, rc, h, w = x.shape
        if self.radix > 1:
            x = x.reshape(b, self.radix, rc // self.radix, h, w)
            gap = x.sum(dim=1)
        else:
            gap = x
        gap = gap.mean((2, 3), keepdim=True)
        gap = F.relu(self.bn1(self.fc1(gap)))
        a = self.rsoftmax(self.fc2(gap)).view(b, -1, 1, 1)
        if self.radix > 1:
            out = (x * a.reshape(b, self.radix, rc // self.radix, 1, 1)).sum(dim=1)
        else:
            out = x * a
        return out.contiguous()


class Block(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride, downsample, radix=2, cardinality=1,
                 base_width=64, avd=True, avd_first=False):
        super().__init__()
        gw = int(planes * (base_width / 64.0)) * cardinality
        # timm never passes is_first from make_blocks: the pool only replaces a stride.
        avd_stride = stride if avd and stride > 1 else 0
        if avd_stride:
            stride = 1
        self.conv1 = nn.Conv2d(inplanes, gw, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(gw)
        self.avd_first = nn.AvgPool2d(3, avd_stride, 1) if avd_stride and avd_first else None
        self.conv2 = SplitAttn(gw, stride, cardinality, radix)
        self.avd_last = nn.AvgPool2d(3, avd_stride, 1) if avd_stride and not avd_first else None
        self.conv3 = nn.Conv2d(gw, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        if self.avd_first is not None:
            y = self.avd_first(y)
        y = self.conv2(y)
        if self.avd_last is not None:
            y = self.avd_last(y)
        y = self.bn3(self.conv3(y))
        s = x if self.downsample is None else self.downsample(x)
        return F.relu(y + s)


def avg_down(inplanes, out, stride):
    pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False) if stride > 1 \
        else nn.Identity()
    return nn.Sequential(pool, nn.Conv2d(inplanes, out, 1, bias=False), nn.BatchNorm2d(out))


class ResNeSt(nn.Module):
    def __init__(self, layers, stem_width=32, in_ch=3, classes=1000):
        super().__init__()
        sw = stem_width
        inplanes = sw * 2
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_ch, sw, 3, 2, 1, bias=False), nn.BatchNorm2d(sw), nn.ReLU(),
            nn.Conv2d(sw, sw, 3, 1, 1, bias=False), nn.BatchNorm2d(sw), nn.ReLU(),
            nn.Conv2d(sw, inplanes, 3, 1, 1, bias=False))
        self.bn1 = nn.BatchNorm2d(inplanes)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        for s, n in enumerate(layers):
            planes = 64 * 2 ** s
            stride = 1 if s == 0 else 2
            blocks = []
            for i in range(n):
                ds = avg_down(inplanes, planes * 4, stride) \
                    if i == 0 and (stride != 1 or inplanes != planes * 4) else None
                blocks.append(Block(inplanes, planes, stride if i == 0 else 1, ds))
                inplanes = planes * 4
            self.add_module('layer%d' % (s + 1), nn.Sequential(*blocks))
        self.num_features = inplanes
        self.fc = nn.Linear(inplanes, classes) if classes > 0 else nn.Identity()
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        for m in self.modules():
            if isinstance(m, Block):
                nn.init.zeros_(m.bn3.weight)

    def features_list(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        out = [x]
        x = self.maxpool(x)
        for s in range(1, 5):
            x = getattr(self, 'layer%d' % s)(x)
            out.append(x)
        return out

    def forward(self, x):
        x = self.features_list(x)[-1]
        return self.fc(x.mean((2, 3)))


def build(arch, in_ch, classes):
    layers, stem = CONFIGS[arch]
    return ResNeSt(layers, stem, in_ch, classes)
