"""EfficientNets laid out as timm's efficientnet.py builds them, for the name-map tests.

The modules carry timm's names (conv_stem, bn1, blocks.<stage>.<block>.<layer>, conv_head,
bn2, classifier; depthwise-separable, inverted-residual, edge-residual and conv-bn-act blocks
with timm's layer names), so the state dict has timm's keys. timm itself is not installed
here; the layout follows timm's _gen_efficientnet / _gen_efficientnetv2_s definitions.

build() checks the reference against torchvision: the torchvision model's state dict is
renamed onto this module's keys (the two list the same tensors in the same order; every
shape is checked) and both must give the same output. The tf_ variant is checked with
symmetric padding before its convolutions switch to TensorFlow "SAME" padding.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ('timm_efficientnet_b0', 'timm_efficientnet_b4', 'timm_tf_efficientnetv2_s')

# kind, repeats, kernel, stride, expansion, channels, se ratio
_B = [('ds', 1, 3, 1, 1, 16, 0.25), ('ir', 2, 3, 2, 6, 24, 0.25), ('ir', 2, 5, 2, 6, 40, 0.25),
      ('ir', 3, 3, 2, 6, 80, 0.25), ('ir', 3, 5, 1, 6, 112, 0.25), ('ir', 4, 5, 2, 6, 192, 0.25),
      ('ir', 1, 3, 1, 6, 320, 0.25)]
_V2S = [('cn', 2, 3, 1, 1, 24, 0), ('er', 4, 3, 2, 4, 48, 0), ('er', 4, 3, 2, 4, 64, 0),
        ('ir', 6, 3, 2, 4, 128, 0.25), ('ir', 9, 3, 1, 6, 160, 0.25),
        ('ir', 15, 3, 2, 6, 256, 0.25)]


def make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Conv(nn.Conv2d):
    """timm's create_conv2d without bias: symmetric padding ((s - 1) + (k - 1)) // 2, or
    TensorFlow 'SAME' padding computed from the input when `same` is set."""

    def __init__(self, cin, cout, k, stride=1, groups=1, bias=False):
        super().__init__(cin, cout, k, stride, ((stride - 1) + (k - 1)) // 2, groups=groups,
                         bias=bias)
        self.same = False

    def forward(self, x):
        if not self.same:
            return super().forward(x)
        pads = []
        for size, k, s in zip(x.shape[-2:], self.kernel_size, self.stride):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        x = F.pad(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class BatchNormAct(nn.BatchNorm2d):
    """timm's BatchNormAct2d: batch norm keys, then SiLU unless act is False."""

    def __init__(self, c, eps, act=True):
        super().__init__(c, eps=eps)
        self.act = nn.SiLU() if act else nn.Identity()

    def forward(self, x):
        return self.act(super().forward(x))


class SqueezeExcite(nn.Module):
    def __init__(self, c, rd):
        super().__init__()
        self.conv_reduce = nn.Conv2d(c, rd, 1, bias=True)
        self.act1 = nn.SiLU()
        self.conv_expand = nn.Conv2d(rd, c, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.conv_expand(self.act1(self.conv_reduce(s))))


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, k, stride, se, eps):
        super().__init__()
        self.has_skip = stride == 1 and cin == cout
        self.conv_dw = Conv(cin, cin, k, stride, groups=cin)
        self.bn1 = BatchNormAct(cin, eps)
        self.se = SqueezeExcite(cin, round(cin * se))
        self.conv_pw = Conv(cin, cout, 1)
        self.bn2 = BatchNormAct(cout, eps, act=False)

    def forward(self, x):
        y = self.bn2(self.conv_pw(self.se(self.bn1(self.conv_dw(x)))))
        return y + x if self.has_skip else y


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, k, stride, exp, se, eps):
        super().__init__()
        mid = make_divisible(cin * exp)
        self.has_skip = stride == 1 and cin == cout
        self.conv_pw = Conv(cin, mid, 1)
        self.bn1 = BatchNormAct(mid, eps)
        self.conv_dw = Conv(mid, mid, k, stride, groups=mid)
        self.bn2 = BatchNormAct(mid, eps)
        # timm's builder: se ratio relative to the block input, applied to the mid channels.
        self.se = SqueezeExcite(mid, round(mid * (se / exp)))
        self.conv_pwl = Conv(mid, cout, 1)
        self.bn3 = BatchNormAct(cout, eps, act=False)

    def forward(self, x):
        y = self.bn2(self.conv_dw(self.bn1(self.conv_pw(x))))
        y = self.bn3(self.conv_pwl(self.se(y)))
        return y + x if self.has_skip else y


class EdgeResidual(nn.Module):
    def __init__(self, cin, cout, k, stride, exp, eps):
        super().__init__()
        mid = make_divisible(cin * exp)
        self.has_skip = stride == 1 and cin == cout
        self.conv_exp = Conv(cin, mid, k, stride)
        self.bn1 = BatchNormAct(mid, eps)
        self.se = nn.Identity()
        self.conv_pwl = Conv(mid, cout, 1)
        self.bn2 = BatchNormAct(cout, eps, act=False)

    def forward(self, x):
        y = self.bn2(self.conv_pwl(self.se(self.bn1(self.conv_exp(x)))))
        return y + x if self.has_skip else y


class ConvBnAct(nn.Module):
    def __init__(self, cin, cout, k, stride, eps):
        super().__init__()
        self.has_skip = stride == 1 and cin == cout  # the arch string says 'skip'
        self.conv = Conv(cin, cout, k, stride)
        self.bn1 = BatchNormAct(cout, eps)

    def forward(self, x):
        y = self.bn1(self.conv(x))
        return y + x if self.has_skip else y


class TimmEfficientNet(nn.Module):
    def __init__(self, table, width, depth, stem, head, eps, in_ch, classes):
        super().__init__()
        ch = lambda c: make_divisible(c * width)  # noqa: E731
        cin = ch(stem)
        self.conv_stem = Conv(in_ch, cin, 3, 2)
        self.bn1 = BatchNormAct(cin, eps)
        stages = []
        for kind, reps, k, stride, exp, c, se in table:
            cout = ch(c)
            blocks = []
            for j in range(int(math.ceil(reps * depth))):
                s = stride if j == 0 else 1
                if kind == 'ds':
                    blocks.append(DepthwiseSeparable(cin, cout, k, s, se, eps))
                elif kind == 'ir':
                    blocks.append(InvertedResidual(cin, cout, k, s, exp, se, eps))
                elif kind == 'er':
                    blocks.append(EdgeResidual(cin, cout, k, s, exp, eps))
                else:
                    blocks.append(ConvBnAct(cin, cout, k, s, eps))
                cin = cout
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        self.conv_head = Conv(cin, ch(head), 1)
        self.bn2 = BatchNormAct(ch(head), eps)
        self.classifier = nn.Linear(ch(head), classes)

    def forward(self, x):
        x = self.bn2(self.conv_head(self.blocks(self.bn1(self.conv_stem(x)))))
        return self.classifier(x.mean((2, 3)))


def _check_against_torchvision(ref, tv, in_ch):
    """Renames torchvision's state dict onto the reference's keys and compares outputs."""
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for mod in tv.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.1, generator=g)
                mod.running_var.uniform_(0.5, 1.5, generator=g)
                mod.weight.uniform_(0.5, 1.5, generator=g)
                mod.bias.normal_(0, 0.1, generator=g)
    ref_sd, tv_sd = ref.state_dict(), tv.state_dict()
    if len(ref_sd) != len(tv_sd):
        raise SystemExit('timm reference has %d tensors, torchvision %d'
                         % (len(ref_sd), len(tv_sd)))
    renamed = {}
    for (rk, rv), (tk, tv_t) in zip(ref_sd.items(), tv_sd.items()):
        if rv.shape != tv_t.shape:
            raise SystemExit('timm reference %s %s vs torchvision %s %s'
                             % (rk, tuple(rv.shape), tk, tuple(tv_t.shape)))
        renamed[rk] = tv_t
    ref.load_state_dict(renamed, strict=True)
    ref.eval()
    tv.eval()
    x = torch.randn(2, in_ch, 40, 36, generator=g)
    with torch.no_grad():
        a, b = ref(x), tv(x)
    diff = (a - b).abs().max().item()
    if not diff <= 1e-5 * max(1.0, b.abs().max().item()):
        raise SystemExit('timm reference differs from torchvision by %g' % diff)


def build(arch, in_ch, classes):
    import torchvision.models as tvm
    if arch == 'timm_efficientnet_b0':
        args, tv = (_B, 1.0, 1.0, 32, 1280, 1e-5), tvm.efficientnet_b0
    elif arch == 'timm_efficientnet_b4':
        args, tv = (_B, 1.4, 1.8, 32, 1280, 1e-5), tvm.efficientnet_b4
    else:
        args, tv = (_V2S, 1.0, 1.0, 24, 1280, 1e-3), tvm.efficientnet_v2_s
    # The check draws from its own generator; the seeded default one builds the reference.
    state = torch.get_rng_state()
    ref = TimmEfficientNet(*args, in_ch=3, classes=classes)
    _check_against_torchvision(ref, tv(num_classes=classes), 3)
    torch.set_rng_state(state)
    ref = TimmEfficientNet(*args, in_ch=in_ch, classes=classes)
    if arch.startswith('timm_tf_'):
        for m in ref.modules():
            if isinstance(m, Conv):
                m.same = True
    return ref
