/**
 * DICOM files and series to volumes: the parser, the pixel decoders (and GDCM for what is left to
 * it), the series reader and the writer.
 */
package org.spinekit.io.dicom;
