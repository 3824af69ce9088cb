package org.spinekit.io.dicom;

/**
 * DICOM RLE Lossless (PS3.5 Annex G) decoding of one frame: a 64-byte header of segment offsets,
 * then one PackBits segment per byte plane, most significant plane first. Every offset and run is
 * checked against the buffer; corrupt data is an exception, never a read outside it.
 */
final class Rle {
  private Rle() {}

  /**
   * Decodes a frame of {@code rows*cols} samples of {@code bytesPerSample} (1 or 2) into {@code
   * out} from {@code off}, as raw (unsigned) sample bits.
   */
  static void decode(
      byte[] b, int from, int len, int rows, int cols, int bytesPerSample, short[] out, int off) {
    if (len < 64)
      throw new IllegalArgumentException(
          "RLE frame of " + len + " bytes has no" + " 64-byte header");
    int segments = i32(b, from);
    if (segments != bytesPerSample) {
      throw new IllegalArgumentException(
          "RLE header lists "
              + segments
              + " segments; "
              + bytesPerSample
              + " expected for "
              + bytesPerSample * 8
              + "-bit samples");
    }
    int n = rows * cols;
    byte[] plane = new byte[n];
    for (int s = 0; s < segments; s++) {
      int start = i32(b, from + 4 + 4 * s);
      int end = s + 1 < segments ? i32(b, from + 8 + 4 * s) : len;
      if (start < 64 || start > len || end < start || end > len) {
        throw new IllegalArgumentException(
            "RLE segment "
                + (s + 1)
                + " spans bytes "
                + start
                + ".."
                + end
                + " of a "
                + len
                + "-byte frame");
      }
      unpack(b, from + start, from + end, plane, s + 1);
      int shift = 8 * (segments - 1 - s);
      if (s == 0) {
        for (int i = 0; i < n; i++) out[off + i] = (short) ((plane[i] & 0xff) << shift);
      } else {
        for (int i = 0; i < n; i++) out[off + i] |= (short) ((plane[i] & 0xff) << shift);
      }
    }
  }

  private static void unpack(byte[] b, int p, int end, byte[] out, int segment) {
    int o = 0;
    while (o < out.length) {
      if (p >= end) {
        throw new IllegalArgumentException(
            "RLE segment " + segment + " ends after " + o + " of " + out.length + " bytes");
      }
      int n = b[p++];
      if (n >= 0) {
        int count = n + 1;
        if (p + count > end || o + count > out.length) {
          throw new IllegalArgumentException(
              "RLE segment "
                  + segment
                  + ": literal run of "
                  + count
                  + " bytes overruns the segment or the frame");
        }
        System.arraycopy(b, p, out, o, count);
        p += count;
        o += count;
      } else if (n != -128) {
        int count = 1 - n;
        if (p >= end || o + count > out.length) {
          throw new IllegalArgumentException(
              "RLE segment "
                  + segment
                  + ": repeat run of "
                  + count
                  + " bytes overruns the segment or the frame");
        }
        java.util.Arrays.fill(out, o, o + count, b[p++]);
        o += count;
      }
    }
  }

  private static int i32(byte[] b, int at) {
    return (b[at] & 0xff)
        | ((b[at + 1] & 0xff) << 8)
        | ((b[at + 2] & 0xff) << 16)
        | ((b[at + 3] & 0xff) << 24);
  }
}
