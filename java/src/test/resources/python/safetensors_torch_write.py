"""Writes a safetensors file from torch tensors, by hand (torch 1.13 has no safetensors).

usage: safetensors_torch_write.py OUT.safetensors OUT.sidecar

Header JSON with "__metadata__", tensors in the order given here (not the reference's
order: readers must follow the offsets), padded with spaces to a multiple of 8 bytes as the
reference implementation does; the sidecar (see safetensors_common) lists what was written.
"""
import json
import struct
import sys

import torch

from safetensors_common import to_bytes, write_sidecar


def main():
    out, sidecar = sys.argv[1], sys.argv[2]
    g = torch.Generator().manual_seed(2024)
    f32 = torch.randn(3, 4, 5, generator=g)
    f32[0, 0, 0] = float('nan')
    f32[0, 0, 1] = float('inf')
    f32[0, 0, 2] = float('-inf')
    f32[0, 0, 3] = -0.0
    f32[0, 0, 4] = 1e-40  # subnormal
    f16 = (torch.randn(7, 3, generator=g) * 100).half()
    f16[0, 0] = 6e-8  # subnormal in half
    f16[0, 1] = 65504.0
    tensors = {
        'encoder.weight': ('F32', f32),
        'decoder.bias': ('F64', torch.randn(6, generator=g, dtype=torch.float64) * 1e10),
        'half': ('F16', f16),
        'brain.float': ('BF16', (torch.randn(2, 9, generator=g) * 1e3).bfloat16()),
        'steps': ('I64', torch.tensor([0, -1, 2**62 + 12345, -2**63, 2**63 - 1])),
        'idx32': ('I32', torch.randint(-2**31, 2**31 - 1, (4, 4), generator=g,
                                       dtype=torch.int32)),
        'idx16': ('I16', torch.randint(-2**15, 2**15 - 1, (3, 3), generator=g,
                                       dtype=torch.int16)),
        'small': ('I8', torch.arange(-128, 128, 3, dtype=torch.int8)),
        'pixels': ('U8', torch.randint(0, 256, (2, 3, 4), generator=g, dtype=torch.uint8)),
        'mask': ('BOOL', torch.rand(5, 2, generator=g) > 0.5),
        'scalar': ('F32', torch.tensor(3.25)),
        'empty': ('F32', torch.zeros(0, 4)),
        'empty_int': ('I64', torch.zeros(2, 0, 3, dtype=torch.int64)),
        'caf\u00e9/\u0394 "q"\\n': ('I16', torch.tensor([7], dtype=torch.int16)),
    }
    metadata = {'format': 'pt', 'note': 'line one\nline "two" \u2713'}
    header = {'__metadata__': metadata}
    blobs = []
    offset = 0
    for name, (dtype, t) in tensors.items():
        b = to_bytes(t, dtype)
        header[name] = {'dtype': dtype, 'shape': list(t.shape),
                        'data_offsets': [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    hj = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    hj += b' ' * ((8 - len(hj) % 8) % 8)
    with open(out, 'wb') as f:
        f.write(struct.pack('<Q', len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    write_sidecar(sidecar, tensors, metadata)
    print('wrote %d tensors, %d data bytes' % (len(tensors), offset))


if __name__ == '__main__':
    main()
