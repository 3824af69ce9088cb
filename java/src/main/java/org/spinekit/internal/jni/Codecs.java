package org.spinekit.internal.jni;

import java.nio.charset.StandardCharsets;

/**
 * The codecs of libspinekit_codecs: JPEG 2000 on OpenJPEG and JPEG-LS on CharLS, with error paths
 * that are safe on corrupt codestreams, and DEFLATE on libdeflate for uploaded zips. Loading it
 * does not load libtorch.
 */
public final class Codecs {
  private Codecs() {}

  /** Result of a decode: OK, or what went wrong in the decoder's words. */
  public record Result(boolean ok, int precision, boolean signed, String error) {}

  private static volatile int available = -1;
  private static volatile String loadFailure;

  private static int available() {
    int a = available;
    if (a < 0) {
      try {
        a =
            NativeCodecs.spinekit_j2k_available()
                | NativeCodecs.spinekit_jpegls_available() << 1
                | NativeCodecs.spinekit_inflate_available() << 2;
      } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
        Throwable root = e;
        while (root.getCause() != null) root = root.getCause(); // the first load's error
        loadFailure = root == e ? e.toString() : e + " (" + root + ")";
        a = 0;
      }
      available = a;
    }
    return a;
  }

  /**
   * Why libspinekit_codecs could not be loaded (the DICOM reader then leaves JPEG 2000 and JPEG-LS
   * to GDCM), or null when it loaded.
   */
  public static String loadFailure() {
    available();
    return loadFailure;
  }

  /** Whether the JPEG 2000 decoder was compiled in (OpenJPEG present at build time). */
  public static boolean j2kAvailable() {
    return (available() & 1) != 0;
  }

  /** Whether the JPEG-LS decoder was compiled in (CharLS present at build time). */
  public static boolean jpeglsAvailable() {
    return (available() & 2) != 0;
  }

  /** Whether the DEFLATE decoder was compiled in (libdeflate present at build time). */
  public static boolean inflateAvailable() {
    return (available() & 4) != 0;
  }

  /**
   * Inflates the raw DEFLATE stream (no zlib or gzip wrapper) {@code in[offset, offset + length)}
   * into all of {@code out}: it must inflate to exactly {@code out.length} bytes, and nothing is
   * written past it whatever the stream holds.
   *
   * @return null when it did; otherwise what was wrong ("inflates to more than N bytes", "inflates
   *     to N bytes, not M", "corrupt or truncated DEFLATE data")
   * @throws IllegalArgumentException for a range outside {@code in}
   * @throws IllegalStateException when the decoder is not compiled in ({@link #inflateAvailable})
   */
  public static String inflate(byte[] in, int offset, int length, byte[] out) {
    checkRange(in, offset, length);
    if (!inflateAvailable()) {
      throw new IllegalStateException(
          "no DEFLATE decoder in libspinekit_codecs"
              + (loadFailure == null ? " (built without libdeflate)" : ": " + loadFailure));
    }
    byte[] err = new byte[128];
    int rc = NativeCodecs.spinekit_inflate(in, offset, length, out, out.length, err, err.length);
    return rc == 0 ? null : message(err);
  }

  /**
   * Checks that {@code [offset, offset + length)} lies within {@code in}.
   *
   * @throws IllegalArgumentException naming the range and the array's length when it does not
   */
  public static void checkRange(byte[] in, int offset, int length) {
    if (offset < 0 || length < 0 || offset > in.length - length) {
      throw new IllegalArgumentException(
          "in: expected offset "
              + offset
              + " and length "
              + length
              + " within "
              + in.length
              + " bytes");
    }
  }

  private static String message(byte[] err) {
    int n = 0;
    while (n < err.length && err[n] != 0) n++;
    return new String(err, 0, n, StandardCharsets.UTF_8);
  }

  /** Decodes a JPEG 2000 codestream of one rows x cols component into {@code out}. */
  public static Result j2kDecode(byte[] codestream, int rows, int cols, short[] out) {
    return decode(codestream, rows, cols, out, true);
  }

  /** Decodes a JPEG-LS codestream of one rows x cols component into {@code out}. */
  public static Result jpeglsDecode(byte[] codestream, int rows, int cols, short[] out) {
    return decode(codestream, rows, cols, out, false);
  }

  private static Result decode(byte[] codestream, int rows, int cols, short[] out, boolean j2k) {
    if ((long) rows * cols > out.length) {
      throw new IllegalArgumentException(
          "out: expected at least " + (long) rows * cols + " values, got " + out.length);
    }
    int[] ps = new int[1];
    byte[] err = new byte[256];
    int rc =
        j2k
            ? NativeCodecs.spinekit_j2k_decode(
                codestream, codestream.length, rows, cols, out, ps, err, err.length)
            : NativeCodecs.spinekit_jpegls_decode(
                codestream, codestream.length, rows, cols, out, ps, err, err.length);
    if (rc == 0) return new Result(true, ps[0] & 0xff, (ps[0] & 256) != 0, "");
    return new Result(false, 0, false, message(err));
  }
}
