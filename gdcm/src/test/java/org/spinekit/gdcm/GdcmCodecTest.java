package org.spinekit.gdcm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.spinekit.io.dicom.CodecSupport;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.ExternalCodec;

/**
 * The codec is found through the service file, and the library's codec-tagged tests that run in
 * this module (surefire's dependenciesToScan) see it: otherwise they would test uncompressed files
 * only.
 */
@Tag("codec")
class GdcmCodecTest {
  @Test
  void isTheInstalledCodec() {
    ExternalCodec c = ExternalCodec.installed().orElseThrow();
    assertInstanceOf(GdcmCodec.class, c);
    assertEquals("GDCM (libgdcm-java)", c.name());
    assertTrue(CodecSupport.EXTERNAL, "the library's codec tests see the codec");
    assertEquals(List.of(Compression.values()), CodecSupport.writable().toList());
  }
}
