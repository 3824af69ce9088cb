/**
 * DICOM files and series to volumes: the parser, the pixel decoders, the series reader and the
 * writer; {@link org.spinekit.io.dicom.ExternalCodec} plugs in GDCM for what is left to it.
 */
package org.spinekit.io.dicom;
