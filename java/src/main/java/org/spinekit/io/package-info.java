/**
 * Files on disk to voxels and tensors: the volume type and atomic writes shared by the format
 * packages (dicom, nifti, safetensors, npy, json, kaggle).
 */
package org.spinekit.io;
