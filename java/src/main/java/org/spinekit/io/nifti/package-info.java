/** NIfTI-1/-2 images with their sform/qform affines, and masks resampled onto DICOM grids. */
package org.spinekit.io.nifti;
