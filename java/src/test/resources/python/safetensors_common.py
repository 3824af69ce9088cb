"""Shared by the safetensors test scripts: the dtype table and the sidecar text format.

A sidecar describes the tensors and metadata of a safetensors file, one item per line,
tab-separated: "tensor NAME_HEX DTYPE SHAPE VALUES" (SHAPE comma-separated, empty for a 0-d
tensor; VALUES space-separated, floats as Python/Java print them incl. NaN, Infinity,
-Infinity, integers and booleans as integers) and "meta KEY_HEX VALUE_HEX" (UTF-8 as hex).
"""
import math

import numpy as np
import torch

# safetensors dtype -> (torch dtype, numpy dtype of the raw little-endian bytes)
DTYPES = {
    'F64': (torch.float64, '<f8'),
    'F32': (torch.float32, '<f4'),
    'F16': (torch.float16, '<f2'),
    'BF16': (torch.bfloat16, '<i2'),
    'I64': (torch.int64, '<i8'),
    'I32': (torch.int32, '<i4'),
    'I16': (torch.int16, '<i2'),
    'I8': (torch.int8, 'i1'),
    'U8': (torch.uint8, 'u1'),
    'BOOL': (torch.bool, '?'),
}
FLOATS = ('F64', 'F32', 'F16', 'BF16')


def to_bytes(t, dtype):
    """The tensor's bytes as safetensors stores them (row-major, little-endian)."""
    t = t.contiguous()
    if dtype == 'BF16':
        return t.view(torch.int16).numpy().astype('<i2').tobytes()
    return t.numpy().astype(DTYPES[dtype][1]).tobytes()


def from_bytes(buf, dtype, shape):
    arr = np.frombuffer(buf, dtype=DTYPES[dtype][1]).copy()
    if dtype == 'BF16':
        return torch.from_numpy(arr.astype(np.int16)).view(torch.bfloat16).reshape(shape)
    return torch.from_numpy(arr).reshape(shape)


def fmt(x):
    if isinstance(x, bool):
        return str(int(x))
    if isinstance(x, int):
        return str(x)
    if math.isnan(x):
        return 'NaN'
    if math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    return repr(x)


def values(t, dtype):
    flat = t.reshape(-1)
    if dtype in FLOATS:
        return [float(v) for v in flat.double().tolist()]
    return [int(v) for v in flat.long().tolist()]


def write_sidecar(path, tensors, metadata):
    with open(path, 'w', encoding='utf-8') as f:
        for name, (dtype, t) in tensors.items():
            f.write('tensor\t%s\t%s\t%s\t%s\n' % (
                name.encode('utf-8').hex(), dtype, ','.join(str(s) for s in t.shape),
                ' '.join(fmt(v) for v in values(t, dtype))))
        for k, v in metadata.items():
            f.write('meta\t%s\t%s\n' % (k.encode('utf-8').hex(), v.encode('utf-8').hex()))


def read_sidecar(path):
    tensors, metadata = {}, {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            parts = line.rstrip('\n').split('\t')
            if parts[0] == 'meta':
                metadata[bytes.fromhex(parts[1]).decode('utf-8')] = \
                    bytes.fromhex(parts[2]).decode('utf-8')
                continue
            name = bytes.fromhex(parts[1]).decode('utf-8')
            dtype = parts[2]
            shape = [int(s) for s in parts[3].split(',')] if parts[3] else []
            raw = parts[4].split(' ') if parts[4] else []
            vals = [float(v) for v in raw] if dtype in FLOATS else [int(v) for v in raw]
            tensors[name] = (dtype, shape, vals)
    return tensors, metadata
