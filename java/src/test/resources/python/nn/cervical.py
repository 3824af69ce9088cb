"""Reference for org.spinekit.nn.CervicalClassifier and org.spinekit.nn.Gru.

cervical_<encoder>:  input [B, S, H, W] (nn_oracle: --in-ch S --size H W), one channel
                     per slice; S = in_ch, classes = logits per crop.
cervical3_<encoder>: input [B, S, 3, H, W] (nn_oracle: --in-ch S --size 3 H W).
The test widths: BiGRU 2 layers x 32, attention MLP 16, spatial dropout 0.2.

gru_bi2:  nn.GRU(12, 16, num_layers=2, bidirectional=True, batch_first=True), input
          [B, T, 12] (nn_oracle: --in-ch T --size 12); the output sequence only.
gru_uni1: nn.GRU(12, 16, batch_first=True), same input.
"""
import re

import torch
import torch.nn.functional as F

from nn._encoders import encoder


class _Archs:
    """cervical_<encoder>, cervical3_<encoder> for any encoder name, and the GRUs."""
    EXAMPLES = ('cervical_resnet18', 'cervical3_resnet18', 'cervical_resnet_tiny', 'gru_bi2',
                'gru_uni1')

    def __contains__(self, arch):
        return (arch in ('gru_bi2', 'gru_uni1')
                or re.fullmatch(r'cervical3?_\w+', arch) is not None)

    def __iter__(self):
        return iter(self.EXAMPLES)


ARCHS = _Archs()


def init_gru(gru):
    """Orthogonal recurrent weights per [H, H] gate block, xavier-uniform input weights,
    zero biases (as org.spinekit.nn.Gru)."""
    h = gru.hidden_size
    with torch.no_grad():
        for name, p in gru.named_parameters():
            if name.startswith('weight_hh'):
                for g in range(3):
                    torch.nn.init.orthogonal_(p[g * h:(g + 1) * h])
            elif name.startswith('weight_ih'):
                torch.nn.init.xavier_uniform_(p)
            else:
                p.zero_()


class GruOutput(torch.nn.GRU):
    """nn.GRU (same keys) whose forward gives the output sequence only."""

    def forward(self, x):
        return super().forward(x)[0]


class CervicalClassifier(torch.nn.Module):
    def __init__(self, enc, slices, ch, classes, hidden=32, layers=2, att=16, p=0.2):
        super().__init__()
        self.slices = slices
        self.ch = ch
        self.encoder = encoder(enc, ch)
        feat = self.encoder.channels[-1]
        self.gru = torch.nn.GRU(feat, hidden, num_layers=layers, batch_first=True,
                                bidirectional=True)
        init_gru(self.gru)
        self.attention = torch.nn.Sequential(torch.nn.Linear(2 * hidden, att), torch.nn.Tanh(),
                                             torch.nn.Linear(att, 1))
        self.head = torch.nn.Linear(2 * hidden, classes)
        self.drop = torch.nn.Dropout2d(p)

    def forward(self, x):
        b, s = x.shape[0], x.shape[1]
        assert s == self.slices
        images = x.reshape(b * s, self.ch, x.shape[-2], x.shape[-1])
        maps = self.drop(self.encoder.features_list(images)[-1])
        pooled = F.adaptive_avg_pool2d(maps, 1).flatten(1)
        seq, _ = self.gru(pooled.reshape(b, s, -1))
        w = torch.softmax(self.attention(seq), 1)
        return self.head((seq * w).sum(1))


def build(arch, in_ch, classes):
    if arch.startswith('gru_'):
        bi = arch == 'gru_bi2'
        m = GruOutput(12, 16, num_layers=2 if bi else 1, batch_first=True, bidirectional=bi)
        init_gru(m)
        return m
    prefix, enc = arch.split('_', 1)
    return CervicalClassifier(enc, in_ch, 3 if prefix == 'cervical3' else 1, classes)
