package org.spinekit.internal.jni;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.Platform;

/** JavaCPP peers of libspinekit_codecs (native/include/spinekit/codec.h); see {@link Codecs}. */
@Platform(include = "spinekit/codec.h", link = "spinekit_codecs")
final class NativeCodecs {
  static {
    Loader.load();
  }

  private NativeCodecs() {}

  static native int spinekit_j2k_available();

  static native int spinekit_j2k_decode(
      @Cast("const uint8_t*") @Const byte[] data,
      long len,
      int rows,
      int cols,
      @Cast("int16_t*") short[] out,
      int[] precisionSign,
      @Cast("char*") byte[] err,
      int errlen);

  static native int spinekit_jpegls_available();

  static native int spinekit_jpegls_decode(
      @Cast("const uint8_t*") @Const byte[] data,
      long len,
      int rows,
      int cols,
      @Cast("int16_t*") short[] out,
      int[] precisionSign,
      @Cast("char*") byte[] err,
      int errlen);

  static native int spinekit_inflate_available();

  // A critical region: the arrays are the JVM's own, pinned, not copied in and out (an upload's
  // whole body is passed for each of its entries).
  @CriticalRegion
  static native int spinekit_inflate(
      @Cast("const uint8_t*") @Const byte[] in,
      long inOffset,
      long inLen,
      @Cast("uint8_t*") byte[] out,
      long outLen,
      @Cast("char*") byte[] err,
      int errlen);
}
