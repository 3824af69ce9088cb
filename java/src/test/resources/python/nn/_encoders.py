"""Encoders for the composite reference networks (cervical.py, lumbar.py), with the keys
of SpineKit's Encoder networks built without a classifier head.

encoder(name, in_ch) returns a module with features_list(x) (maps shallowest first) and
the attributes channels and strides (measured by a dry run). torchvision ResNets (and
resnet_tiny, the same layout 8 wide) are wrapped here; any other name is looked up in the
reference modules of this package, built with classes=0, and must have features_list(x).
"""
import importlib
import os

import torch
import torchvision.models as tvm


class ResNetEncoder(torch.nn.Module):
    """torchvision's resnet18/resnet50 without avgpool and fc: keys conv1, bn1, layer1..4;
    maps at strides 2 (after the stem), 4, 8, 16, 32."""

    def __init__(self, arch, in_ch):
        super().__init__()
        m = getattr(tvm, arch)()
        if in_ch != 3:
            m.conv1 = torch.nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
        self.conv1 = m.conv1
        self.bn1 = m.bn1
        self.maxpool = m.maxpool
        self.layer1 = m.layer1
        self.layer2 = m.layer2
        self.layer3 = m.layer3
        self.layer4 = m.layer4

    def features_list(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        out = [x]
        x = self.maxpool(x)
        for layer in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = layer(x)
            out.append(x)
        return out


class TinyResNet(ResNetEncoder):
    """resnet_tiny: torchvision's ResNet layout (BasicBlock, same keys) 8 wide with one
    block per stage, as org.spinekit.nn.ResNet.Config({1, 1, 1, 1}, false, 8, in, 0)."""

    def __init__(self, in_ch, width=8):
        torch.nn.Module.__init__(self)
        from torchvision.models.resnet import BasicBlock
        self.conv1 = torch.nn.Conv2d(in_ch, width, 7, 2, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(width)
        self.maxpool = torch.nn.MaxPool2d(3, 2, 1)
        inplanes = width
        for i in range(4):
            planes = width << i
            stride = 1 if i == 0 else 2
            down = None
            if stride != 1 or inplanes != planes:
                down = torch.nn.Sequential(
                    torch.nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                    torch.nn.BatchNorm2d(planes))
            setattr(self, 'layer%d' % (i + 1),
                    torch.nn.Sequential(BasicBlock(inplanes, planes, stride, down)))
            inplanes = planes


def _lookup(name, in_ch):
    here = os.path.dirname(os.path.abspath(__file__))
    for f in sorted(os.listdir(here)):
        if not f.endswith('.py') or f.startswith('_'):
            continue
        mod = importlib.import_module('nn.' + f[:-3])
        archs = getattr(mod, 'ARCHS', ())
        if isinstance(archs, (set, frozenset, list, tuple, dict)) and name in archs:
            m = mod.build(name, in_ch, 0)
            if not hasattr(m, 'features_list'):
                raise SystemExit('encoder %s has no features_list' % name)
            return m
    raise SystemExit('unknown encoder ' + name)


def encoder(name, in_ch):
    if name in ('resnet18', 'resnet34', 'resnet50'):
        m = ResNetEncoder(name, in_ch)
    elif name == 'resnet_tiny':
        m = TinyResNet(in_ch)
    else:
        m = _lookup(name, in_ch)
    was = m.training
    m.eval()
    with torch.no_grad():
        size = 64
        maps = m.features_list(torch.zeros(1, in_ch, size, size))
    m.train(was)
    m.channels = [f.shape[1] for f in maps]
    m.strides = [size // f.shape[-1] for f in maps]
    return m
