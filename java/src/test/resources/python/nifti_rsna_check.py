"""Checks a mask written from a DICOM-ordered label volume the way RSNA 2022 masks are used.

usage: nifti_rsna_check.py MASK LABELS SLICES ROWS COLUMNS

LABELS holds the volume's labels as little-endian int16 in [slice][row][column] order, slice
0 the most superior (instance 1). Checks that nibabel names the mask's axes L, A, S and that
the Kaggle transform seg[:, ::-1, ::-1].transpose(2, 1, 0) gives back the labels exactly.
"""
import sys

import nibabel as nib
import numpy as np


def main():
    mask, labels = sys.argv[1], sys.argv[2]
    s, r, c = (int(x) for x in sys.argv[3:6])
    img = nib.load(mask)
    codes = nib.aff2axcodes(img.affine)
    if codes != ('L', 'A', 'S'):
        print('MISMATCH axcodes %s, expected LAS' % (codes,))
        sys.exit(1)
    seg = np.asanyarray(img.dataobj)
    if seg.shape != (c, r, s):
        print('MISMATCH shape %s, expected %s' % (seg.shape, (c, r, s)))
        sys.exit(1)
    want = np.fromfile(labels, dtype='<i2').reshape(s, r, c)
    got = seg[:, ::-1, ::-1].transpose(2, 1, 0)
    if not np.array_equal(got, want):
        bad = np.argwhere(got != want)[0]
        print('MISMATCH at (slice, row, column) %s: %s, expected %s'
              % (tuple(bad), got[tuple(bad)], want[tuple(bad)]))
        sys.exit(1)
    print('OK LAS, %d labelled voxels' % int((want != 0).sum()))


if __name__ == '__main__':
    main()
