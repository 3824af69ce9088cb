package org.spinekit.internal.jni;

import java.nio.charset.StandardCharsets;

/**
 * The image codecs of libspinekit_codecs: JPEG 2000 on OpenJPEG and JPEG-LS on CharLS, with error
 * paths that are safe on corrupt codestreams. Loading it does not load libtorch.
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
        a = NativeCodecs.spinekit_j2k_available() | NativeCodecs.spinekit_jpegls_available() << 1;
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
    int n = 0;
    while (n < err.length && err[n] != 0) n++;
    return new Result(false, 0, false, new String(err, 0, n, StandardCharsets.UTF_8));
  }
}
