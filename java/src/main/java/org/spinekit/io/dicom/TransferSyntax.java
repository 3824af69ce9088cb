package org.spinekit.io.dicom;

/** The transfer syntaxes SpineKit reads, with how their data set and pixel data are encoded. */
enum TransferSyntax {
  IMPLICIT_LITTLE("1.2.840.10008.1.2", "Implicit VR Little Endian", false, false),
  EXPLICIT_LITTLE("1.2.840.10008.1.2.1", "Explicit VR Little Endian", true, false),
  DEFLATED("1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", true, false),
  EXPLICIT_BIG("1.2.840.10008.1.2.2", "Explicit VR Big Endian", true, false),
  JPEG_BASELINE("1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", true, true),
  JPEG_EXTENDED("1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", true, true),
  JPEG_LOSSLESS("1.2.840.10008.1.2.4.57", "JPEG Lossless (Process 14)", true, true),
  JPEG_LOSSLESS_SV1("1.2.840.10008.1.2.4.70", "JPEG Lossless (Process 14, SV1)", true, true),
  JPEG_LS_LOSSLESS("1.2.840.10008.1.2.4.80", "JPEG-LS Lossless", true, true),
  JPEG_LS_NEAR_LOSSLESS("1.2.840.10008.1.2.4.81", "JPEG-LS Near-Lossless", true, true),
  JPEG2000_LOSSLESS("1.2.840.10008.1.2.4.90", "JPEG 2000 Lossless", true, true),
  JPEG2000("1.2.840.10008.1.2.4.91", "JPEG 2000", true, true),
  RLE("1.2.840.10008.1.2.5", "RLE Lossless", true, true);

  final String uid;
  final String description;
  final boolean explicitVr;
  final boolean encapsulated;

  TransferSyntax(String uid, String description, boolean explicitVr, boolean encapsulated) {
    this.uid = uid;
    this.description = description;
    this.explicitVr = explicitVr;
    this.encapsulated = encapsulated;
  }

  boolean bigEndian() {
    return this == EXPLICIT_BIG;
  }

  static TransferSyntax of(String uid) {
    for (TransferSyntax t : values()) {
      if (t.uid.equals(uid)) return t;
    }
    return null;
  }
}
