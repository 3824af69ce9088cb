package org.spinekit.internal.jni;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * The native codecs against what the native build found (spinekit-build.properties, written by
 * native/CMakeLists.txt and packed next to these classes): when CMake found OpenJPEG, CharLS or
 * libdeflate, libspinekit_codecs must load and decode with it, so the DICOM reader cannot fall back
 * to GDCM, nor the server to zlib, without a failing test. The codec library is built either way
 * (with stubs for what was not found), so it must always load.
 */
class CodecsBuildTest {
  static Properties buildRecord() throws IOException {
    try (InputStream in = Codecs.class.getResourceAsStream("spinekit-build.properties")) {
      assertNotNull(
          in,
          "org/spinekit/internal/jni/spinekit-build.properties is missing: the native"
              + " build (cppbuild/cppbuild.sh, run by Maven) records what it found there");
      Properties p = new Properties();
      p.load(in);
      return p;
    }
  }

  static boolean found(Properties build, String key) {
    String v = build.getProperty(key);
    if (!"true".equals(v) && !"false".equals(v)) {
      fail("spinekit-build.properties: " + key + " should be true or false, is " + v);
    }
    return Boolean.parseBoolean(v);
  }

  @Test
  void codecLibraryLoadsWithTheDecodersTheBuildFound() throws IOException {
    Properties build = buildRecord();
    assertNull(Codecs.loadFailure(), "libspinekit_codecs did not load");
    boolean openjpeg = found(build, "openjpeg");
    boolean charls = found(build, "charls");
    assertEquals(
        openjpeg,
        Codecs.j2kAvailable(),
        "JPEG 2000 decoder; the build found OpenJPEG: "
            + openjpeg
            + " "
            + build.getProperty("openjpeg.version"));
    assertEquals(
        charls,
        Codecs.jpeglsAvailable(),
        "JPEG-LS decoder; the build found CharLS: "
            + charls
            + " "
            + build.getProperty("charls.version"));
    boolean libdeflate = found(build, "libdeflate");
    assertEquals(
        libdeflate,
        Codecs.inflateAvailable(),
        "DEFLATE decoder; the build found libdeflate: "
            + libdeflate
            + " "
            + build.getProperty("libdeflate.version"));
    assertEquals(found(build, "cuda"), Kernels.cudaCompiled(), "CUDA kernels in libspinekit");
  }

  @Test
  void decodersTheBuildFoundRunOnCorruptInput() throws IOException {
    Properties build = buildRecord();
    assertNull(Codecs.loadFailure(), "libspinekit_codecs did not load");
    short[] out = new short[64];
    // Start of codestream and a truncated SIZ segment / start of image and a truncated SOF55.
    byte[] j2k = {(byte) 0xFF, 0x4F, (byte) 0xFF, 0x51, 0x00, 0x29, 0x00};
    byte[] jls = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xF7, 0x00, 0x0B, 0x10};
    check(Codecs.j2kDecode(j2k, 8, 8, out), found(build, "openjpeg"), "no JPEG 2000 decoder");
    check(Codecs.jpeglsDecode(jls, 8, 8, out), found(build, "charls"), "no JPEG-LS decoder");
  }

  private static void check(Codecs.Result r, boolean decoder, String stub) {
    assertFalse(r.ok(), "a truncated codestream decoded");
    if (decoder) {
      assertFalse(
          r.error().isEmpty() || r.error().equals(stub),
          "expected the decoder's own error, got \"" + r.error() + "\"");
    } else {
      assertEquals(stub, r.error());
    }
    assertTrue(r.precision() == 0);
  }
}
