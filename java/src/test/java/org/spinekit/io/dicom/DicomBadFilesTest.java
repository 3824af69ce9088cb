package org.spinekit.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;

/**
 * Directories with bad files among good ones: without {@code skipBadFiles} every file is read and
 * one {@link BadFilesException} names them all; with it they are left out, each named with its
 * reason.
 */
class DicomBadFilesTest {
  @TempDir Path dir;

  static final String STUDY = "1.2.826.0.1.3680043.10002";

  private static final DicomSeriesReader.Options SKIP =
      DicomSeriesReader.Options.defaults().withSkipBadFiles(true);

  static DicomWriter.Series series(String uid, int number) {
    return new DicomWriter.Series("P1", STUDY, uid, number, "bad files", "CT", STUDY + ".9");
  }

  /** Axial slices 1.25 mm apart; slice z is written as instance z + 1, "(z + 1).dcm". */
  static Volume ct(int slices, int rows, int cols, long seed) {
    short[] v = new short[slices * rows * cols];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < v.length; i++) v[i] = (short) r.nextInt(0, 4096);
    return Volume.builder(slices, rows, cols)
        .shorts(v, false, 1, -1024)
        .spacing(0.7, 0.8, 1.25)
        .origin(-80.5, -60.25, 300)
        .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
        .build();
  }

  /** Cuts a file to half its length: its header or pixel data ends early. */
  static void truncate(Path f) throws IOException {
    byte[] b = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(b, b.length / 2));
  }

  /** Keeps the preamble and "DICM" (so it is still taken for DICOM), garbage after. */
  static void garble(Path f) throws IOException {
    byte[] b = Files.readAllBytes(f);
    SplittableRandom r = new SplittableRandom(7);
    for (int i = 132; i < b.length; i++) b[i] = (byte) r.nextInt(256);
    Files.write(f, b);
  }

  /** Six slices, 3.dcm truncated and 5.dcm garbled. */
  private Volume sixWithTwoBad() throws IOException {
    Volume v = ct(6, 16, 12, 1);
    DicomWriter.writeSeries(v, dir, series(STUDY + ".1", 1), Compression.NONE);
    truncate(dir.resolve("3.dcm"));
    garble(dir.resolve("5.dcm"));
    return v;
  }

  private void assertNamesBoth(BadFilesException e) {
    Path a = dir.resolve("3.dcm");
    Path b = dir.resolve("5.dcm");
    String m = e.getMessage();
    assertTrue(m.startsWith(dir + ": 2 files are bad:"), m);
    assertTrue(m.contains("\n  " + a + ": ") && m.contains("\n  " + b + ": "), m);
    assertEquals(dir, e.file());
    assertEquals(List.of(a, b), e.files());
    assertEquals(2, e.failures().size());
    assertEquals(a, e.failures().get(0).file());
    assertEquals(b, e.failures().get(1).file());
    for (MalformedFileException f : e.failures()) {
      assertTrue(m.contains(f.getMessage()), "reason of " + f.file() + " in " + m);
    }
  }

  @Test
  void withoutSkippingEveryBadFileIsNamedInOneError() throws IOException {
    sixWithTwoBad();
    assertNamesBoth(assertThrows(BadFilesException.class, () -> DicomSeriesReader.read(dir)));
    assertNamesBoth(
        assertThrows(
            BadFilesException.class,
            () -> DicomSeriesReader.scan(dir, DicomSeriesReader.Options.defaults())));
    assertNamesBoth(assertThrows(BadFilesException.class, () -> DicomSeriesReader.readAll(dir)));
    // One thread or several: the same files, in the same order.
    assertNamesBoth(
        assertThrows(
            BadFilesException.class,
            () ->
                DicomSeriesReader.read(dir, DicomSeriesReader.Options.defaults().withThreads(1))));
  }

  @Test
  void skippingLeavesTheBadFilesOutAndNamesThem() throws IOException {
    Volume written = sixWithTwoBad();
    DicomSeriesReader.Read r = DicomSeriesReader.readReporting(dir, SKIP);
    Volume v = r.volume();
    assertEquals(4, v.slices());
    assertEquals(2, r.skipped().size(), r.skipped().toString());
    assertTrue(r.skipped().get(0).startsWith(dir.resolve("3.dcm") + ": "), r.skipped().toString());
    assertTrue(r.skipped().get(1).startsWith(dir.resolve("5.dcm") + ": "), r.skipped().toString());
    assertTrue(v.warnings().containsAll(r.skipped()), v.warnings().toString());
    // The slices kept are the good files' own pixels.
    int plane = v.rows() * v.columns();
    List<Integer> instances = new ArrayList<>();
    for (int k = 0; k < v.slices(); k++) {
      SliceSource s = v.sources().get(k);
      instances.add(s.instanceNumber());
      int z = s.instanceNumber() - 1;
      assertArrayEquals(
          Arrays.copyOfRange(written.shorts(), z * plane, (z + 1) * plane),
          Arrays.copyOfRange(v.shorts(), k * plane, (k + 1) * plane),
          "slice " + k);
    }
    assertEquals(List.of(1, 2, 4, 6), instances.stream().sorted().toList());
    // The scan reports the same files.
    DicomSeriesReader.Scan scan = DicomSeriesReader.scan(dir, SKIP);
    assertEquals(r.skipped(), scan.skipped());
    assertEquals(4, scan.series().get(0).files().size());
  }

  @Test
  void oneBadFileIsItsOwnError() throws IOException {
    Volume v = ct(4, 16, 16, 5);
    DicomWriter.writeSeries(v, dir, series(STUDY + ".2", 2), Compression.NONE);
    Path cut = dir.resolve("2.dcm");
    truncate(cut);
    MalformedFileException own =
        assertThrows(MalformedFileException.class, () -> DicomFile.read(cut));
    BadFilesException e = assertThrows(BadFilesException.class, () -> DicomSeriesReader.read(dir));
    assertEquals(cut, e.file());
    assertEquals(own.getMessage(), e.getMessage());
    assertEquals(List.of(cut), e.files());
    assertInstanceOf(MalformedFileException.class, e.getCause());
    // A file named alone is read as it is: its own exception.
    MalformedFileException alone =
        assertThrows(MalformedFileException.class, () -> DicomSeriesReader.read(cut));
    assertFalse(alone instanceof BadFilesException, alone.toString());
    assertEquals(own.getMessage(), alone.getMessage());
  }

  @Test
  void notDicomFilesAreLeftOutWithoutAnError() throws IOException {
    DicomWriter.writeSeries(ct(3, 8, 8, 2), dir, series(STUDY + ".3", 3), Compression.NONE);
    Files.writeString(dir.resolve("notes.txt"), "not an image");
    Volume v = DicomSeriesReader.read(dir);
    assertEquals(3, v.slices());
    assertTrue(
        v.warnings().stream().anyMatch(w -> w.startsWith(dir.resolve("notes.txt") + ": ")),
        v.warnings().toString());
  }

  /** Files that parse but whose pixel data is cut short fail only when decoded. */
  @Test
  void decodingFailuresAreGatheredToo() throws IOException {
    Volume written = ct(5, 32, 32, 3);
    DicomWriter.writeSeries(written, dir, series(STUDY + ".4", 4), Compression.NONE);
    for (String f : List.of("2.dcm", "4.dcm")) {
      byte[] b = Files.readAllBytes(dir.resolve(f));
      Files.write(dir.resolve(f), Arrays.copyOf(b, b.length - 100));
    }
    // The headers are whole: the scan finds nothing wrong.
    DicomSeriesReader.Scan scan = DicomSeriesReader.scan(dir, DicomSeriesReader.Options.defaults());
    assertEquals(List.of(), scan.skipped());
    assertEquals(5, scan.series().get(0).slices().size());
    BadFilesException e = assertThrows(BadFilesException.class, () -> DicomSeriesReader.read(dir));
    assertEquals(List.of(dir.resolve("2.dcm"), dir.resolve("4.dcm")), e.files());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    DicomSeriesReader.Read r = DicomSeriesReader.readReporting(dir, SKIP);
    assertEquals(3, r.volume().slices());
    assertEquals(2, r.skipped().size(), r.skipped().toString());
  }

  @Test
  void duplicatesOddSizesAndBrokenFilesAreOneError() throws IOException {
    DicomWriter.writeSeries(
        ct(4, 8, 8, 4), dir.resolve("a"), series(STUDY + ".5", 5), Compression.NONE);
    Files.copy(dir.resolve("a/2.dcm"), dir.resolve("a/2copy.dcm"));
    Volume odd = ct(1, 10, 8, 6).toBuilder().origin(-80.5, -60.25, 310).build();
    DicomWriter.writeSeries(odd, dir.resolve("b"), series(STUDY + ".5", 5), Compression.NONE);
    garble(dir.resolve("a/4.dcm"));
    BadFilesException e = assertThrows(BadFilesException.class, () -> DicomSeriesReader.read(dir));
    assertEquals(
        List.of(dir.resolve("a/2copy.dcm"), dir.resolve("a/4.dcm"), dir.resolve("b/1.dcm")),
        e.files(),
        e.getMessage());
    assertTrue(e.getMessage().startsWith(dir + ": 3 files are bad:"), e.getMessage());
    assertTrue(
        e.getMessage().contains("same position") && e.getMessage().contains("mixes image sizes"),
        e.getMessage());
    // Skipped: the duplicate and the odd size are left out like the broken file.
    DicomSeriesReader.Read r = DicomSeriesReader.readReporting(dir, SKIP);
    assertEquals(3, r.volume().slices());
    assertEquals(8, r.volume().rows());
    assertEquals(3, r.skipped().size(), r.skipped().toString());
    assertTrue(
        r.skipped().stream().anyMatch(s -> s.startsWith(dir.resolve("b/1.dcm") + ": series ")),
        r.skipped().toString());
  }

  @Test
  void theMessageListsTwentyFailuresThenCounts() {
    List<MalformedFileException> fs = new ArrayList<>();
    for (int i = 0; i < 25; i++) {
      fs.add(new MalformedFileException(dir.resolve(i + ".dcm"), "bad " + i));
    }
    BadFilesException e = new BadFilesException(dir, fs, "a note");
    List<String> lines = e.getMessage().lines().toList();
    assertEquals(dir + ": 25 files are bad:", lines.get(0));
    assertEquals("  " + dir.resolve("0.dcm") + ": bad 0", lines.get(1));
    assertEquals("  " + dir.resolve("19.dcm") + ": bad 19", lines.get(20));
    assertEquals("  ... and 5 more", lines.get(21));
    assertEquals("a note", lines.get(22));
    assertEquals(23, lines.size());
    assertEquals(25, e.failures().size());
    assertNull(e.getCause());
    assertThrows(IllegalArgumentException.class, () -> new BadFilesException(dir, List.of()));
  }
}
