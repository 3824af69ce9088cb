"""Writes the .npy files NpyTest reads: numpy.save / numpy.lib.format.write_array output of
every supported dtype in both byte orders and header versions 1.0, 2.0 and 3.0, plus the kinds
SpineKit refuses (Fortran order, object, structured, float16).

usage: npy_numpy_write.py OUTDIR
"""
import os
import sys

import numpy as np


def save(path, a, version=None):
    with open(path, 'wb') as f:
        if version is None:
            np.save(f, a, allow_pickle=True)
        else:
            np.lib.format.write_array(f, a, version=version, allow_pickle=True)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)  # noqa: E731
    save(p('f4_le.npy'), (np.arange(24, dtype='<f4') * 0.5 - 3).reshape(2, 3, 4))
    save(p('f4_be.npy'), (np.arange(24, dtype='>f4') * 0.5 - 3).reshape(2, 3, 4))
    save(p('f8_be.npy'), (np.arange(10) / 3).astype('>f8').reshape(2, 5))
    save(p('f8_le.npy'), (np.arange(10) / 3).astype('<f8').reshape(2, 5))
    save(p('i2_le.npy'), np.array([-32768, -1, 0, 1, 32767], dtype='<i2'))
    save(p('i2_be.npy'), np.array([-32768, -1, 0, 1, 32767], dtype='>i2'))
    save(p('u2_be.npy'), np.array([0, 1, 65535, 40000], dtype='>u2').reshape(2, 2))
    save(p('u2_le.npy'), np.array([0, 1, 65535, 40000], dtype='<u2').reshape(2, 2))
    save(p('i4_be.npy'), np.array([-2 ** 31, 7, 2 ** 31 - 1], dtype='>i4'))
    save(p('i8_le.npy'), np.array([-2 ** 62, -1, 0, 2 ** 40], dtype='<i8').reshape(1, 4))
    save(p('i8_be.npy'), np.array([-2 ** 62, -1, 0, 2 ** 40], dtype='>i8').reshape(1, 4))
    save(p('u1.npy'), np.arange(256, dtype=np.uint8).reshape(16, 16))
    save(p('scalar.npy'), np.array(3.5, dtype='<f4'))
    save(p('empty.npy'), np.zeros((0, 3), dtype='<f4'))
    big = (np.arange(3 * 70000, dtype='<f4') * 0.25).reshape(3, 70000)  # spans read chunks
    save(p('big_v2.npy'), big, version=(2, 0))
    save(p('f4_v3.npy'), (np.arange(24, dtype='<f4') * 0.5 - 3).reshape(2, 3, 4), version=(3, 0))
    save(p('fortran.npy'), np.asfortranarray(np.arange(6, dtype='<f4').reshape(2, 3)))
    save(p('object.npy'), np.array([1, 'a', None], dtype=object))
    save(p('structured.npy'), np.zeros(3, dtype=[('a', '<f4'), ('b', '<i4')]))
    save(p('f2.npy'), np.zeros(2, dtype='<f2'))
    print('wrote', len(os.listdir(out)))


if __name__ == '__main__':
    main()
