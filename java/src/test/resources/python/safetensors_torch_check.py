"""Parses a safetensors file written by Java and compares it with torch tensors.

usage: safetensors_torch_check.py FILE SIDECAR

Checks the layout the reference implementation produces (header length a multiple of 8,
padded with spaces; "__metadata__" first; data offsets contiguous from 0 to the end of the
file; each tensor aligned to its element size), then builds each tensor with torch from its
bytes and compares dtype, shape and every value with the sidecar (NaN equal to NaN, -0.0
distinct from 0.0). Prints "OK NAME" per tensor and "OK metadata"; exits 1 at the first
mismatch.
"""
import json
import math
import struct
import sys

import torch

from safetensors_common import DTYPES, FLOATS, from_bytes, read_sidecar, values


def fail(what):
    print('MISMATCH ' + what)
    sys.exit(1)


def same(a, b):
    if isinstance(a, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def main():
    path, sidecar = sys.argv[1], sys.argv[2]
    want, want_meta = read_sidecar(sidecar)
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    if n % 8:
        fail('header length %d is not a multiple of 8' % n)
    text = raw[8:8 + n].decode('utf-8')
    if text != text.rstrip(' ') + ' ' * (len(text) - len(text.rstrip(' '))):
        fail('header padding is not spaces')
    pairs = json.loads(text, object_pairs_hook=lambda kv: kv)
    keys = [k for k, _ in pairs]
    header = dict(pairs)
    if len(set(keys)) != len(keys):
        fail('duplicate keys')
    if want_meta:
        if keys[0] != '__metadata__':
            fail('__metadata__ is not first: %s' % keys[:2])
        meta = dict(header['__metadata__'])
        if meta != want_meta:
            fail('metadata %r, expected %r' % (meta, want_meta))
        print('OK metadata')
    elif '__metadata__' in header:
        fail('unexpected __metadata__')
    data = raw[8 + n:]
    entries = sorted(((dict(v)['data_offsets'], k, dict(v)) for k, v in pairs
                      if k != '__metadata__'), key=lambda e: tuple(e[0]))
    pos = 0
    for (b, e), name, info in entries:
        if b != pos:
            fail('%s begins at %d, expected %d' % (name, b, pos))
        size = torch.tensor([], dtype=DTYPES[info['dtype']][0]).element_size()
        if b % size:
            fail('%s at offset %d is not aligned to %d bytes' % (name, b, size))
        pos = e
    if pos != len(data):
        fail('tensors cover %d of %d data bytes' % (pos, len(data)))
    if set(header) - {'__metadata__'} != set(want):
        fail('names %s, expected %s' % (sorted(set(header) - {'__metadata__'}), sorted(want)))
    for name, (dtype, shape, vals) in want.items():
        info = dict(header[name])
        if info['dtype'] != dtype or info['shape'] != shape:
            fail('%s: %s %s, expected %s %s' % (name, info['dtype'], info['shape'], dtype, shape))
        b, e = info['data_offsets']
        t = from_bytes(data[b:e], dtype, shape)
        if t.dtype != DTYPES[dtype][0] or list(t.shape) != shape:
            fail('%s: built %s %s' % (name, t.dtype, list(t.shape)))
        got = values(t, dtype)
        if len(got) != len(vals):
            fail('%s: %d values, expected %d' % (name, len(got), len(vals)))
        for i, (x, y) in enumerate(zip(got, vals)):
            if not same(x, y):
                fail('%s: element %d is %r, expected %r' % (name, i, x, y))
        print('OK %s' % name)


if __name__ == '__main__':
    main()
