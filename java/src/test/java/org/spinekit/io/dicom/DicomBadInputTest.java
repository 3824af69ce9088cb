package org.spinekit.io.dicom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.Volume;

/**
 * Truncated, non-DICOM, pixel-less, padded and corrupted files: each is read or refused with a
 * {@link MalformedFileException} naming the file, never another exception or a crash.
 */
class DicomBadInputTest {
  @TempDir Path dir;

  private Path writeOne(Compression c) throws IOException {
    Volume v = DicomSeriesTest.ct(1, 24, 20, 42);
    Path d = dir.resolve("src-" + c);
    return DicomWriter.writeSeries(
            v, d, DicomSeriesTest.series(DicomSeriesTest.STUDY + ".77", 1), c)
        .get(0);
  }

  private static MalformedFileException refused(Path f) {
    MalformedFileException e = assertThrows(MalformedFileException.class, () -> DicomFile.read(f));
    assertTrue(e.getMessage().startsWith(f.toString()), "names the file: " + e.getMessage());
    assertEquals(f, e.file());
    return e;
  }

  @ParameterizedTest
  @Tag("codec")
  @MethodSource("org.spinekit.io.dicom.CodecSupport#writable")
  void everyTruncationIsRefusedNamingTheFile(Compression c) throws IOException {
    byte[] whole = Files.readAllBytes(writeOne(c));
    Path cut = dir.resolve("cut.dcm");
    int step = Math.max(1, whole.length / 300);
    for (int n = 0; n < whole.length; n += step) {
      Files.write(cut, Arrays.copyOf(whole, n));
      MalformedFileException e = refused(cut);
      String m = e.getMessage();
      assertTrue(
          m.contains("truncated")
              || m.contains("not a DICOM file")
              || m.contains("no pixel data")
              || m.contains("has no")
              || m.contains("ends"),
          "cut at " + n + ": " + m);
    }
  }

  @Test
  void notDicomAndNoPixelsAreNamed() throws IOException {
    Path txt = dir.resolve("notes.dcm");
    Files.writeString(txt, "StudyInstanceUID,patient_overall\n".repeat(20));
    assertTrue(refused(txt) instanceof NotDicomException);
    Path empty = dir.resolve("empty.dcm");
    Files.write(empty, new byte[0]);
    assertTrue(refused(empty).getMessage().contains("only 0 bytes"));

    byte[] whole = Files.readAllBytes(writeOne(Compression.NONE));
    int px = indexOf(whole, new byte[] {(byte) 0xE0, 0x7F, 0x10, 0x00, 'O', 'W'});
    Path noPixels = dir.resolve("nopixels.dcm");
    Files.write(noPixels, Arrays.copyOf(whole, px));
    assertTrue(refused(noPixels).getMessage().contains("no pixel data (7FE0,0010)"));
    assertThrows(MalformedFileException.class, () -> DicomFile.readHeader(noPixels));
  }

  @Test
  void junkAfterThePixelDataIsIgnoredWithAWarning() throws IOException {
    Path f = writeOne(Compression.NONE);
    DicomImage good = DicomFile.read(f);
    byte[] whole = Files.readAllBytes(f);
    byte[] junk = new byte[333];
    new SplittableRandom(1).nextBytes(junk);
    Path padded = dir.resolve("padded.dcm");
    Files.write(padded, concat(whole, junk));
    DicomImage img = DicomFile.read(padded);
    assertTrue(Arrays.equals(good.pixels(), img.pixels()));
    assertTrue(
        img.header().warnings().stream()
            .anyMatch(w -> w.contains("333 bytes after the" + " pixel data")),
        img.header().warnings().toString());
  }

  @Test
  void pixelDataShorterThanTheImageIsRefused() throws IOException {
    byte[] whole = Files.readAllBytes(writeOne(Compression.NONE));
    int px = indexOf(whole, new byte[] {(byte) 0xE0, 0x7F, 0x10, 0x00, 'O', 'W'});
    // Declare (and hold) 100 bytes fewer than rows x columns x 2.
    int len = 24 * 20 * 2 - 100;
    byte[] b = Arrays.copyOf(whole, px + 12 + len);
    b[px + 8] = (byte) len;
    b[px + 9] = (byte) (len >>> 8);
    b[px + 10] = 0;
    b[px + 11] = 0;
    Path f = dir.resolve("short.dcm");
    Files.write(f, b);
    assertTrue(refused(f).getMessage().contains("truncated pixel data: 860 bytes"));
  }

  /**
   * Random bytes flipped anywhere in a compressed or plain file: the result is an image or a {@link
   * MalformedFileException}; nothing else escapes and the JVM survives. (A corrupted codestream can
   * decode to wrong pixels; no format-level check can see that.)
   */
  @ParameterizedTest
  @Tag("codec")
  @MethodSource("org.spinekit.io.dicom.CodecSupport#writable")
  void corruptedFilesNeverEscapeAsOtherErrors(Compression c) throws IOException {
    byte[] whole = Files.readAllBytes(writeOne(c));
    SplittableRandom r = new SplittableRandom(c.ordinal());
    Path f = dir.resolve("corrupt.dcm");
    int refusedCount = 0;
    for (int trial = 0; trial < 60; trial++) {
      byte[] b = whole.clone();
      int flips = 1 + r.nextInt(8);
      for (int k = 0; k < flips; k++) {
        // Half the flips land in the pixel data region (the last quarter of the file).
        int at = r.nextBoolean() ? r.nextInt(b.length) : b.length - 1 - r.nextInt(b.length / 4);
        b[at] = (byte) r.nextInt(256);
      }
      Files.write(f, b);
      try {
        DicomFile.read(f);
      } catch (MalformedFileException e) {
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        refusedCount++;
      } catch (Exception e) {
        fail("trial " + trial + ": " + e, e);
      }
    }
    // Some corruptions must be caught (deterministic seeds: the count is fixed per syntax).
    assertTrue(refusedCount > 0, c + ": no corrupted file was refused");
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static int indexOf(byte[] hay, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= hay.length; i++) {
      for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
      return i;
    }
    throw new AssertionError("pattern not found");
  }
}
