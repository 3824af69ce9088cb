"""Checks NIfTI files written by Java against what nibabel reads from them.

usage: nifti_nibabel_check.py DIR

For each DIR/NAME.expect (lines "key values": file, dims, affine (16 numbers, row-major),
axcodes, dtype, values (a file of little-endian float64 in file order, i fastest) and
optionally codes (qform_code sform_code) and qform_matches_sform): loads the file with nibabel
and compares. Prints "OK NAME" per file; exits 1 at the first mismatch, saying what differs.
"""
import glob
import os
import sys

import nibabel as nib
import numpy as np


def fail(name, what):
    print('MISMATCH %s: %s' % (name, what))
    sys.exit(1)


def main():
    d = sys.argv[1]
    files = sorted(glob.glob(os.path.join(d, '*.expect')))
    if not files:
        fail(d, 'no .expect files')
    for path in files:
        name = os.path.basename(path)[:-len('.expect')]
        exp = {}
        with open(path) as f:
            for line in f:
                key, _, rest = line.strip().partition(' ')
                exp[key] = rest
        img = nib.load(os.path.join(d, exp['file']))
        shape = tuple(int(x) for x in exp['dims'].split())
        if img.shape[:3] != shape or any(s != 1 for s in img.shape[3:]):
            fail(name, 'shape %s, expected %s' % (img.shape, shape))
        aff = np.array([float(x) for x in exp['affine'].split()]).reshape(4, 4)
        if not np.allclose(img.affine, aff, rtol=1e-6, atol=1e-5):
            fail(name, 'affine\n%s\nexpected\n%s' % (img.affine, aff))
        codes = ''.join(c if c else '?' for c in nib.aff2axcodes(img.affine))
        if codes != exp['axcodes']:
            fail(name, 'axcodes %s, expected %s' % (codes, exp['axcodes']))
        if img.get_data_dtype().name != exp['dtype']:
            fail(name, 'dtype %s, expected %s' % (img.get_data_dtype().name, exp['dtype']))
        hdr = img.header
        if 'codes' in exp:
            q, s = (int(x) for x in exp['codes'].split())
            if int(hdr['qform_code']) != q or int(hdr['sform_code']) != s:
                fail(name, 'qform/sform codes %d/%d, expected %d/%d'
                     % (hdr['qform_code'], hdr['sform_code'], q, s))
        if exp.get('qform_matches_sform') == 'yes':
            if not np.allclose(hdr.get_qform(), hdr.get_sform(), rtol=1e-6, atol=1e-5):
                fail(name, 'qform\n%s\n!= sform\n%s' % (hdr.get_qform(), hdr.get_sform()))
        want = np.fromfile(os.path.join(d, exp['values']), dtype='<f8')
        got = img.get_fdata(dtype=np.float64).reshape(-1, order='F')
        if got.shape != want.shape:
            fail(name, '%d values, expected %d' % (got.size, want.size))
        same = (got == want) | (np.isnan(got) & np.isnan(want))
        if not same.all():
            at = int(np.argmin(same))
            fail(name, 'value %d is %r, expected %r (%d differ)'
                 % (at, got[at], want[at], int((~same).sum())))
        print('OK %s' % name)


if __name__ == '__main__':
    main()
