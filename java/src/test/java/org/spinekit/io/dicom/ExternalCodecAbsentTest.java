package org.spinekit.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.Volume;

/**
 * This module's tests run without an {@link ExternalCodec} (spinekit-gdcm is a separate artifact):
 * what needs one fails before writing anything, naming what to install, and the rest works.
 */
class ExternalCodecAbsentTest {
  @TempDir Path dir;

  @Test
  void compressedWritesFailCleanlyAndLeaveNothingBehind() throws IOException {
    assertFalse(ExternalCodec.installed().isPresent(), "no external codec on this class path");
    Volume v = DicomSeriesTest.ct(3, 8, 8, 1);
    for (Compression c : CodecSupport.needingCodec()) {
      Path out = dir.resolve(c.name());
      DicomWriter.Series s = DicomSeriesTest.series(DicomSeriesTest.STUDY + ".91", 91);
      MissingCodecException e =
          assertThrows(MissingCodecException.class, () -> DicomWriter.writeSeries(v, out, s, c));
      assertEquals(
          "writing "
              + c
              + " compressed DICOM needs an external codec, and none is installed: "
              + ExternalCodecs.HOW_TO_INSTALL,
          e.getMessage());
      try (Stream<Path> left = Files.exists(out) ? Files.list(out) : Stream.empty()) {
        assertEquals(List.of(), left.toList(), c + ": files left behind");
      }
    }
    List<Path> plain =
        DicomWriter.writeSeries(
            v,
            dir.resolve("plain"),
            DicomSeriesTest.series(DicomSeriesTest.STUDY + ".92", 92),
            Compression.NONE);
    assertEquals(3, plain.size());
    assertEquals(3, DicomSeriesReader.read(dir.resolve("plain")).slices());
  }
}
