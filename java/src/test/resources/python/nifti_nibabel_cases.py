"""Writes NIfTI files with nibabel for the Java reader to check.

usage: nifti_nibabel_cases.py OUT_DIR

For each case NAME: the image file, NAME.f64 (the values nibabel reads, get_fdata() as
little-endian float64 in file order, i fastest) and NAME.expect (text: file, dims, affine,
axcodes, dtype, values), written from what nibabel itself reads back from the file.
"""
import os
import sys

import nibabel as nib
import numpy as np


def oblique(zooms, angles, offset):
    """An affine with a rotation about each axis (radians) and the given voxel sizes."""
    ax, ay, az = angles
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    a = np.eye(4)
    a[:3, :3] = rx @ ry @ rz @ np.diag(zooms)
    a[:3, 3] = offset
    return a


def expect(out, name, fname):
    img = nib.load(os.path.join(out, fname))
    data = img.get_fdata(dtype=np.float64)
    if data.ndim == 4:
        assert data.shape[3] == 1, data.shape
        data = data[..., 0]
    data.reshape(-1, order='F').astype('<f8').tofile(os.path.join(out, name + '.f64'))
    with open(os.path.join(out, name + '.expect'), 'w') as f:
        f.write('file %s\n' % fname)
        f.write('dims %d %d %d\n' % data.shape[:3])
        f.write('affine %s\n' % ' '.join(repr(float(x)) for x in img.affine.reshape(-1)))
        f.write('axcodes %s\n' % ''.join(c if c else '?' for c in nib.aff2axcodes(img.affine)))
        f.write('dtype %s\n' % img.get_data_dtype().name)
        f.write('values %s.f64\n' % name)


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(20220)
    shape = (7, 6, 5)
    cases = []

    # int16, sform only: a sheared affine (only sform can hold shear).
    d = rng.integers(-2000, 2000, size=shape).astype(np.int16)
    aff = oblique((0.8, 0.9, 2.5), (0.1, -0.2, 0.3), (-100.5, 20.25, 33.0))
    aff[0, 1] += 0.15
    img = nib.Nifti1Image(d, aff)
    img.set_qform(None, code=0)
    img.set_sform(aff, code=2)
    cases.append(('int16_sform', img, '.nii'))

    # uint8, qform only, left-handed (qfac -1), oblique.
    d = rng.integers(0, 256, size=shape).astype(np.uint8)
    aff = oblique((0.7, 0.7, 3.0), (0.05, 0.0, -0.4), (10.0, -120.0, 55.5))
    aff[:, 0] *= -1
    img = nib.Nifti1Image(d, aff)
    img.set_sform(None, code=0)
    img.set_qform(aff, code=1)
    assert img.header['pixdim'][0] == -1
    cases.append(('uint8_qform', img, '.nii'))

    # float32 with both, different: sform wins.
    d = rng.normal(size=shape).astype(np.float32)
    d[0, 0, 0] = np.float32(1e-40)  # subnormal
    d[1, 0, 0] = -0.0
    qa = oblique((1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (1.0, 2.0, 3.0))
    sa = oblique((1.5, 0.5, 2.0), (0.0, 0.3, 0.0), (-5.0, 6.0, -7.0))
    img = nib.Nifti1Image(d, sa)
    img.set_qform(qa, code=1)
    img.set_sform(sa, code=1)
    cases.append(('float32_both', img, '.nii'))

    # Float data stored as int16 with scl_slope / scl_inter chosen by nibabel.
    d = (rng.normal(size=shape) * 37.3 + 5.1).astype(np.float64)
    img = nib.Nifti1Image(d, np.diag([0.5, 0.6, 0.7, 1.0]))
    img.set_data_dtype(np.int16)
    cases.append(('int16_scaled', img, '.nii'))

    # Labels, gzip.
    d = rng.integers(0, 20, size=(40, 33, 21)).astype(np.uint8)
    img = nib.Nifti1Image(d, oblique((0.3, 0.3, 1.0), (0, 0, 0), (-60.0, -70.0, 12.0)))
    cases.append(('uint8_labels_gz', img, '.nii.gz'))

    # NIfTI-2, float64 and int32.
    d = rng.normal(size=shape) * 1e5
    img = nib.Nifti2Image(d, oblique((1.25, 1.5, 1.75), (0.2, 0.1, -0.1), (1e3, -2e3, 3e3)))
    cases.append(('nifti2_float64', img, '.nii'))
    d = rng.integers(-2**31, 2**31 - 1, size=shape, dtype=np.int64).astype(np.int32)
    img = nib.Nifti2Image(d, np.diag([2.0, 3.0, 4.0, 1.0]))
    cases.append(('nifti2_int32_gz', img, '.nii.gz'))

    # Big-endian int16 and float32.
    d = rng.integers(-30000, 30000, size=shape).astype(np.int16)
    hdr = nib.Nifti1Header(endianness='>')
    img = nib.Nifti1Image(d, oblique((1.0, 2.0, 3.0), (0.3, 0.2, 0.1), (4.0, 5.0, 6.0)), hdr)
    cases.append(('int16_bigendian', img, '.nii'))
    d = rng.normal(size=shape).astype(np.float32)
    hdr = nib.Nifti1Header(endianness='>')
    img = nib.Nifti1Image(d, np.diag([-1.0, 1.0, 1.0, 1.0]), hdr)
    cases.append(('float32_bigendian_gz', img, '.nii.gz'))

    # No codes: pixdim scaling only (x flipped, grid centred).
    d = rng.integers(0, 1000, size=shape).astype(np.uint16)
    img = nib.Nifti1Image(d, np.diag([0.9, 1.1, 2.2, 1.0]))
    img.set_qform(None, code=0)
    img.set_sform(None, code=0)
    cases.append(('uint16_nocodes', img, '.nii'))

    # 4D with one volume; int8.
    d = rng.integers(-128, 128, size=shape + (1,)).astype(np.int8)
    img = nib.Nifti1Image(d, oblique((1.0, 1.0, 1.0), (0.0, 0.0, 1.0), (0.0, 0.0, 0.0)))
    cases.append(('int8_4d', img, '.nii'))

    for name, img, ext in cases:
        fname = name + ext
        nib.save(img, os.path.join(out, fname))
        if 'bigendian' in name:
            with open(os.path.join(out, fname), 'rb') as f:
                raw = f.read(4) if ext == '.nii' else __import__('gzip').open(f).read(4)
            assert raw == b'\x00\x00\x01\x5c', raw
        if name == 'int16_scaled':
            with open(os.path.join(out, fname), 'rb') as f:
                h = nib.Nifti1Header.from_fileobj(f)
            assert np.isfinite(h['scl_slope']) and h['scl_slope'] not in (0, 1), h['scl_slope']
        expect(out, name, fname)
    print('wrote %d cases' % len(cases))


if __name__ == '__main__':
    main()
