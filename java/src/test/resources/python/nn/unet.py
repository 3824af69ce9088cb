"""Reference UNet with segmentation_models_pytorch's structure and state-dict keys.

smp is not installed here. Its Unet is an encoder (for ResNets: torchvision's ResNet without
fc and avgpool, so keys encoder.conv1..., encoder.layer4...), returning the input itself and
the maps at strides 2..32; a decoder of five blocks (nearest x2 upsampling, concatenation of
the skip, two conv-BN-ReLU, keys decoder.blocks.i.conv1.0/.1 and conv2.0/.1; the input-sized
map is never used as a skip); and a 3x3 segmentation head (segmentation_head.0).

unet_resnet18_s4 stands for encoders whose first map is at stride 4 (ConvNeXt, PVTv2): the
stride-2 map is a zero-channel placeholder, as smp's timm-universal encoder inserts for
them, so the decoder's stride-2 block has no skip.
"""
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from . import resnest

ARCHS = {'unet_resnet18', 'unet_resnet34', 'unet_resnest14d', 'unet_resnet18_s4'}
DECODER_CHANNELS = (256, 128, 64, 32, 16)


class TorchvisionEncoder(nn.Module):
    """torchvision's ResNet minus fc/avgpool, registered under the same names as smp's
    ResNetEncoder (conv1, bn1, layer1..4)."""

    def __init__(self, name, in_ch, skip_stride2=False):
        super().__init__()
        m = getattr(torchvision.models, name)()
        if in_ch != 3:
            m.conv1 = nn.Conv2d(in_ch, 64, 7, 2, 3, bias=False)
        for k in ('conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'):
            setattr(self, k, getattr(m, k))
        self.skip_stride2 = skip_stride2
        expansion = 4 if name in ('resnet50', 'resnet101', 'resnet152') else 1
        chs = [in_ch, 64] + [64 * 2 ** i * expansion for i in range(4)]
        if skip_stride2:
            chs[1] = 0
        self.out_channels = chs

    def forward(self, x):
        f = [x]
        y = self.relu(self.bn1(self.conv1(x)))
        f.append(y[:, :0] if self.skip_stride2 else y)
        y = self.layer1(self.maxpool(y))
        f.append(y)
        for layer in (self.layer2, self.layer3, self.layer4):
            y = layer(y)
            f.append(y)
        return f


class ResNeStEncoder(nn.Module):
    """The reference ResNeSt minus fc, keys as smp's timm-resnest encoders."""

    def __init__(self, name, in_ch):
        super().__init__()
        m = resnest.build(name, in_ch, 0)
        for k in ('conv1', 'bn1', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4'):
            setattr(self, k, getattr(m, k))
        self.out_channels = [in_ch, 64, 256, 512, 1024, 2048]

    def forward(self, x):
        return [x] + resnest.ResNeSt.features_list(self, x)


def conv_bn_relu(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU())


class DecoderBlock(nn.Module):
    def __init__(self, cin, skip, cout):
        super().__init__()
        self.conv1 = conv_bn_relu(cin + skip, cout)
        self.conv2 = conv_bn_relu(cout, cout)

    def forward(self, x, skip=None):
        x = F.interpolate(x, scale_factor=2, mode='nearest')
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
        return self.conv2(self.conv1(x))


class UnetDecoder(nn.Module):
    def __init__(self, encoder_channels, decoder_channels):
        super().__init__()
        enc = list(encoder_channels[1:])[::-1]
        ins = [enc[0]] + list(decoder_channels[:-1])
        skips = enc[1:] + [0]
        self.blocks = nn.ModuleList(
            DecoderBlock(i, s, o) for i, s, o in zip(ins, skips, decoder_channels))

    def forward(self, features):
        features = features[1:][::-1]
        x = features[0]
        skips = features[1:]
        for i, b in enumerate(self.blocks):
            x = b(x, skips[i] if i < len(skips) else None)
        return x


class Unet(nn.Module):
    def __init__(self, encoder, classes, decoder_channels=DECODER_CHANNELS):
        super().__init__()
        self.encoder = encoder
        self.decoder = UnetDecoder(encoder.out_channels, decoder_channels)
        self.segmentation_head = nn.Sequential(
            nn.Conv2d(decoder_channels[-1], classes, 3, padding=1), nn.Identity(), nn.Identity())
        for m in self.decoder.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight, mode='fan_in', nonlinearity='relu')
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        head = self.segmentation_head[0]
        nn.init.xavier_uniform_(head.weight)
        nn.init.constant_(head.bias, 0)

    def forward(self, x):
        return self.segmentation_head(self.decoder(self.encoder(x)))


def build(arch, in_ch, classes):
    name = arch[len('unet_'):]
    if name.startswith('resnest'):
        enc = ResNeStEncoder(name, in_ch)
    elif name.endswith('_s4'):
        enc = TorchvisionEncoder(name[:-3], in_ch, skip_stride2=True)
    else:
        enc = TorchvisionEncoder(name, in_ch)
    return Unet(enc, classes)
