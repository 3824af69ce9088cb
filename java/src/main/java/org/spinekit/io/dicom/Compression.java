package org.spinekit.io.dicom;

/** Lossless pixel data encodings the DICOM writer produces. */
public enum Compression {
  /** Explicit VR Little Endian, uncompressed. */
  NONE("1.2.840.10008.1.2.1"),
  /** JPEG-LS Lossless (1.2.840.10008.1.2.4.80). */
  JPEG_LS("1.2.840.10008.1.2.4.80"),
  /** JPEG Lossless, Process 14, first-order prediction (1.2.840.10008.1.2.4.70). */
  JPEG_LOSSLESS("1.2.840.10008.1.2.4.70"),
  /** JPEG 2000 Lossless (1.2.840.10008.1.2.4.90). */
  JPEG2000("1.2.840.10008.1.2.4.90"),
  /** RLE Lossless (1.2.840.10008.1.2.5). */
  RLE("1.2.840.10008.1.2.5");

  public final String transferSyntaxUid;

  Compression(String uid) {
    this.transferSyntaxUid = uid;
  }

  /** By command-line name: none, jpegls, jpeg-lossless, j2k, rle. */
  public static Compression parse(String s) {
    return switch (s.toLowerCase(java.util.Locale.ROOT)) {
      case "none", "raw" -> NONE;
      case "jpegls", "jpeg-ls" -> JPEG_LS;
      case "jpeg-lossless", "jpeglossless" -> JPEG_LOSSLESS;
      case "j2k", "jpeg2000" -> JPEG2000;
      case "rle" -> RLE;
      default ->
          throw new IllegalArgumentException(
              "compression: expected none, jpegls,"
                  + " jpeg-lossless, j2k or rle, got '"
                  + s
                  + "'");
    };
  }
}
