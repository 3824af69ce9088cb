"""Reference for org.spinekit.nn.LumbarNet (the lumbar one-stage heat/grade model).

lumbar2d_<encoder>: input [B, C, H, W]; output cat(heat [B, K, H/4, W/4],
                    grade [B, 3, H/4, W/4]) along channels.
lumbar3d_<encoder>: input [B, C, D, H, W] (nn_oracle: --size D H W); each slice encoded
                    in 2D, maps stacked along D, 3D decoder; output cat(heat
                    [B, K, D, H/4, W/4], grade [B, 3, D, H/4, W/4]).
C = in_ch, K = classes (level points). Decoder widths of the test models: 32, 16, 8.
"""
import re

import torch
import torch.nn.functional as F

from nn._encoders import encoder


class _Archs:
    EXAMPLES = ('lumbar2d_resnet18', 'lumbar3d_resnet18', 'lumbar2d_resnet_tiny',
                'lumbar3d_resnet_tiny')

    def __contains__(self, arch):
        return re.fullmatch(r'lumbar[23]d_\w+', arch) is not None

    def __iter__(self):
        return iter(self.EXAMPLES)


ARCHS = _Archs()
DECODER = [32, 16, 8]
GRADES = 3


def conv_bn_relu(dims, cin, cout):
    conv = torch.nn.Conv2d if dims == 2 else torch.nn.Conv3d
    bn = torch.nn.BatchNorm2d if dims == 2 else torch.nn.BatchNorm3d
    return torch.nn.Sequential(conv(cin, cout, 3, padding=1, bias=False), bn(cout),
                               torch.nn.ReLU())


class Block(torch.nn.Module):
    def __init__(self, dims, cin, skip, cout):
        super().__init__()
        self.conv1 = conv_bn_relu(dims, cin + skip, cout)
        self.conv2 = conv_bn_relu(dims, cout, cout)

    def forward(self, x, skip):
        x = F.interpolate(x, size=skip.shape[2:], mode='nearest')
        x = torch.cat([x, skip], 1)
        return self.conv2(self.conv1(x))


class Head(torch.nn.Module):
    def __init__(self, dims, enc_ch, dec_ch, points, grades):
        super().__init__()
        n = len(enc_ch)
        blocks = []
        cin = enc_ch[-1]
        for i in range(n - 1):
            blocks.append(Block(dims, cin, enc_ch[n - 2 - i], dec_ch[i]))
            cin = dec_ch[i]
        self.block = torch.nn.ModuleList(blocks)
        conv = torch.nn.Conv2d if dims == 2 else torch.nn.Conv3d
        self.heatmap = conv(cin, points, 1)
        self.grade = conv(cin, grades, 1)

    def forward(self, feats):
        d = feats[-1]
        for i, b in enumerate(self.block):
            d = b(d, feats[len(feats) - 2 - i])
        return self.heatmap(d), self.grade(d)


class LumbarNet(torch.nn.Module):
    def __init__(self, dims, enc, in_ch, points, grades=GRADES, dec=DECODER):
        super().__init__()
        self.dims = dims
        self.encoder = encoder(enc, in_ch)
        self.used = [i for i, s in enumerate(self.encoder.strides) if s >= 4]
        enc_ch = [self.encoder.channels[i] for i in self.used]
        self.head = Head(dims, enc_ch, dec, points, grades)

    def heads(self, x):
        if self.dims == 2:
            maps = self.encoder.features_list(x)
            return self.head([maps[i] for i in self.used])
        b, c, d, h, w = x.shape
        maps = self.encoder.features_list(x.permute(0, 2, 1, 3, 4).reshape(b * d, c, h, w))
        feats = []
        for i in self.used:
            f = maps[i]
            feats.append(f.reshape(b, d, *f.shape[1:]).permute(0, 2, 1, 3, 4))
        return self.head(feats)

    def forward(self, x):
        heat, grade = self.heads(x)
        return torch.cat([heat, grade], 1)


def build(arch, in_ch, classes):
    kind, enc = arch.split('_', 1)
    return LumbarNet(2 if kind == 'lumbar2d' else 3, enc, in_ch, classes)
