package org.spinekit.jni;

import java.nio.charset.StandardCharsets;

/**
 * The image codecs of libspinekit_codecs: a JPEG 2000 decoder on OpenJPEG whose error paths
 * are safe on corrupt codestreams. Loading it does not load libtorch.
 */
public final class Codecs {
  private Codecs() {}

  /** Result of a decode: OK, or what went wrong in the decoder's words. */
  public record Result(boolean ok, int precision, boolean signed, String error) {}

  private static volatile Boolean available;

  /** Whether the JPEG 2000 decoder was compiled in (OpenJPEG present at build time). */
  public static boolean j2kAvailable() {
    Boolean a = available;
    if (a == null) {
      try {
        a = NativeCodecs.spinekit_j2k_available() == 1;
      } catch (UnsatisfiedLinkError e) {
        a = false;
      }
      available = a;
    }
    return a;
  }

  /** Decodes a codestream of one rows x cols component into {@code out} (rows*cols). */
  public static Result j2kDecode(byte[] codestream, int rows, int cols, short[] out) {
    if ((long) rows * cols > out.length) {
      throw new IllegalArgumentException("out: expected at least " + (long) rows * cols
          + " values, got " + out.length);
    }
    int[] ps = new int[1];
    byte[] err = new byte[256];
    int rc = NativeCodecs.spinekit_j2k_decode(codestream, codestream.length, rows, cols, out,
        ps, err, err.length);
    if (rc == 0) return new Result(true, ps[0] & 0xff, (ps[0] & 256) != 0, "");
    int n = 0;
    while (n < err.length && err[n] != 0) n++;
    return new Result(false, 0, false, new String(err, 0, n, StandardCharsets.UTF_8));
  }
}
