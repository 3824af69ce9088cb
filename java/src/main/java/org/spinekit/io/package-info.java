/**
 * Files on disk to voxels and tensors: DICOM series, NIfTI masks, safetensors weights and the
 * Kaggle CSV layouts of the two RSNA data sets; GDCM stays behind this package.
 */
package org.spinekit.io;
