package org.spinekit.io.dicom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.Volume;

/** Writing series and reading them back: order, geometry, rescale, and what is wrong. */
class DicomSeriesTest {
  @TempDir Path dir;

  static final String STUDY = "1.2.826.0.1.3680043.10001";

  static DicomWriter.Series series(String uid, int number) {
    return new DicomWriter.Series("P1", STUDY, uid, number, "test series", "CT", STUDY + ".9");
  }

  /** An axial CT volume stored like RSNA 2022: slice 0 (instance 1) on top. */
  static Volume ct(int slices, int rows, int cols, long seed) {
    short[] v = new short[slices * rows * cols];
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < v.length; i++) v[i] = (short) r.nextInt(0, 4096);
    return Volume.builder(slices, rows, cols)
        .shorts(v, false, 1, -1024)
        .spacing(0.7, 0.8, 1.25)
        .origin(-80.5, -60.25, 300)
        .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
        .sliceDirection(new double[] {0, 0, -1})
        .build();
  }

  private static void assertSameVoxelsFlipped(Volume written, Volume read) {
    int n = written.slices();
    int plane = written.rows() * written.columns();
    for (int k = 0; k < n; k++) {
      for (int i = 0; i < plane; i++) {
        assertEquals(
            written.shorts()[(n - 1 - k) * plane + i],
            read.shorts()[k * plane + i],
            "slice " + k + " voxel " + i);
      }
    }
  }

  @ParameterizedTest
  @Tag("codec")
  @MethodSource("org.spinekit.io.dicom.CodecSupport#writable")
  void writesAndReadsBackWithGeometry(Compression c) throws IOException {
    Volume v = ct(6, 20, 24, 1);
    List<Path> files = DicomWriter.writeSeries(v, dir, series(STUDY + ".2", 2), c);
    assertEquals(6, files.size());
    assertEquals("1.dcm", files.get(0).getFileName().toString());
    Volume r = DicomSeriesReader.read(dir);
    assertEquals(c.transferSyntaxUid, r.series().transferSyntaxUid());
    assertEquals(Volume.Kind.UINT16, r.kind());
    assertEquals(-1024, r.intercept());
    assertEquals(1, r.slope());
    assertArrayEquals(new double[] {0.7, 0.8, 1.25}, r.spacing(), 1e-9);
    // Read back sorted along the normal (+z): the written slice order reversed.
    assertArrayEquals(new double[] {0, 0, 1}, r.sliceDirection(), 1e-12);
    assertSameVoxelsFlipped(v, r);
    for (int k = 0; k < 6; k++) {
      assertArrayEquals(v.toPatient(5 - k, 3, 4), r.toPatient(k, 3, 4), 1e-6, "slice " + k);
      assertEquals(6 - k, r.sources().get(k).instanceNumber());
    }
    assertEquals(List.of(), r.warnings());
    assertEquals("test series", r.series().seriesDescription());
    assertEquals(STUDY, r.series().studyInstanceUid());
    assertEquals(-1024 + (v.shorts()[0] & 0xffff), r.value(5, 0, 0), 0);
  }

  @ParameterizedTest
  @Tag("codec")
  @MethodSource("org.spinekit.io.dicom.CodecSupport#writable")
  void writingIsByteForByteRepeatable(Compression c) throws Exception {
    Volume v = ct(2, 16, 12, 9);
    List<Path> a = DicomWriter.writeSeries(v, dir.resolve("a"), series(STUDY + ".2", 2), c);
    Thread.sleep(1100); // a clock-derived tag would now differ
    List<Path> b = DicomWriter.writeSeries(v, dir.resolve("b"), series(STUDY + ".2", 2), c);
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals(
          Files.readAllBytes(a.get(i)), Files.readAllBytes(b.get(i)), c + ": file " + (i + 1));
    }
  }

  @Test
  void sortsByPositionNotByNameOrInstance() throws IOException {
    Volume v = ct(5, 8, 8, 2);
    List<Path> files = DicomWriter.writeSeries(v, dir, series(STUDY + ".3", 3), Compression.NONE);
    // Rename the files so that neither file order nor names follow the positions.
    for (int i = 0; i < files.size(); i++) {
      Files.move(files.get(i), dir.resolve("x" + ((i * 3) % 5) + ".dcm"));
    }
    Volume r = DicomSeriesReader.read(dir);
    assertSameVoxelsFlipped(v, r);
  }

  @Test
  void missingSliceIsAWarningNamingTheNeighbours() throws IOException {
    Volume v = ct(7, 8, 8, 3);
    DicomWriter.writeSeries(v, dir, series(STUDY + ".4", 4), Compression.NONE);
    Files.delete(dir.resolve("4.dcm"));
    Volume r = DicomSeriesReader.read(dir);
    assertEquals(6, r.slices());
    assertEquals(1.25, r.spacing()[2], 1e-9);
    String w = String.join("\n", r.warnings());
    assertTrue(
        w.contains("non-uniform slice spacing")
            && w.contains("5.dcm")
            && w.contains("3.dcm")
            && w.contains("1 slice(s) missing"),
        w);
  }

  @Test
  void aTruncatedSliceFailsTheSeriesNamingTheFile() throws IOException {
    Volume v = ct(4, 16, 16, 5);
    DicomWriter.writeSeries(v, dir, series(STUDY + ".6", 6), Compression.NONE);
    Path cut = dir.resolve("3.dcm");
    byte[] b = Files.readAllBytes(cut);
    Files.write(cut, java.util.Arrays.copyOf(b, b.length - 100));
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> DicomSeriesReader.read(dir));
    assertEquals(cut, e.file());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    Volume rest =
        DicomSeriesReader.read(dir, DicomSeriesReader.Options.defaults().withSkipBadFiles(true));
    assertEquals(3, rest.slices(), rest.warnings().toString());
  }

  @Test
  void duplicatePositionsAreAnErrorNamingBothFiles() throws IOException {
    Volume v = ct(4, 8, 8, 4);
    DicomWriter.writeSeries(v, dir, series(STUDY + ".5", 5), Compression.NONE);
    Files.copy(dir.resolve("2.dcm"), dir.resolve("2copy.dcm"));
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> DicomSeriesReader.read(dir));
    assertTrue(
        e.getMessage().contains("2.dcm")
            && e.getMessage().contains("2copy.dcm")
            && e.getMessage().contains("same position"),
        e.getMessage());
    Volume kept =
        DicomSeriesReader.read(dir, DicomSeriesReader.Options.defaults().withSkipBadFiles(true));
    assertEquals(4, kept.slices());
    assertTrue(kept.warnings().get(0).contains("kept the first"), kept.warnings().toString());
  }

  @Test
  void mixedSizesInOneSeriesAreAnError() throws IOException {
    DicomWriter.writeSeries(
        ct(3, 8, 8, 5), dir.resolve("a"), series(STUDY + ".6", 6), Compression.NONE);
    Volume other = ct(1, 10, 8, 6).toBuilder().origin(-80.5, -60.25, 310).build();
    DicomWriter.writeSeries(other, dir.resolve("b"), series(STUDY + ".6", 6), Compression.NONE);
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> DicomSeriesReader.read(dir));
    assertTrue(
        e.getMessage().contains("mixes image sizes") && e.getMessage().contains("10x8"),
        e.getMessage());
  }

  @Test
  void mixedOrientationsInOneSeriesAreAnError() throws IOException {
    DicomWriter.writeSeries(
        ct(3, 8, 8, 5), dir.resolve("a"), series(STUDY + ".7", 7), Compression.NONE);
    Volume tilted =
        ct(1, 8, 8, 6).toBuilder()
            .orientation(new double[] {0, 1, 0}, new double[] {0, 0, -1})
            .build();
    DicomWriter.writeSeries(tilted, dir.resolve("b"), series(STUDY + ".7", 7), Compression.NONE);
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> DicomSeriesReader.read(dir));
    assertTrue(e.getMessage().contains("mixes orientations"), e.getMessage());
  }

  @Test
  @Tag("codec")
  void severalSeriesAreReadInParallelIdenticallyOnAnyThreadCount() throws Exception {
    for (int s = 0; s < 3; s++) {
      DicomWriter.writeSeries(
          ct(5, 16, 12, 10 + s),
          dir.resolve("s" + s),
          series(STUDY + ".1" + s, 3 - s),
          s == 1 ? CodecSupport.compressedIfPossible() : Compression.NONE);
    }
    Files.writeString(dir.resolve("README.txt"), "not an image");
    MalformedFileException e =
        assertThrows(MalformedFileException.class, () -> DicomSeriesReader.read(dir));
    assertTrue(e.getMessage().contains("3 series"), e.getMessage());
    List<Volume> one =
        DicomSeriesReader.readAll(dir, DicomSeriesReader.Options.defaults().withThreads(1));
    List<Volume> two =
        DicomSeriesReader.readAll(dir, DicomSeriesReader.Options.defaults().withThreads(2));
    assertEquals(3, one.size());
    // Ordered by Series Number: s2 (1), s1 (2), s0 (3).
    assertEquals(STUDY + ".12", one.get(0).series().seriesInstanceUid());
    assertTrue(
        one.get(0).warnings().stream().anyMatch(w -> w.contains("README.txt")),
        one.get(0).warnings().toString());
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(one.get(i).shorts(), two.get(i).shorts());
    }
    // Several callers at once.
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<List<Volume>>> fs = new ArrayList<>();
      for (int i = 0; i < 4; i++) fs.add(pool.submit(() -> DicomSeriesReader.readAll(dir)));
      for (Future<List<Volume>> f : fs) {
        List<Volume> got = f.get();
        for (int i = 0; i < 3; i++) assertArrayEquals(one.get(i).shorts(), got.get(i).shorts());
      }
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void differingRescaleGivesModalityValues() throws IOException {
    Volume v = ct(2, 4, 4, 7);
    DicomWriter.writeSeries(v, dir, series(STUDY + ".8", 8), Compression.NONE);
    Volume other =
        Volume.builder(1, 4, 4)
            .shorts(new short[16], false, 2, -1000)
            .spacing(0.7, 0.8, 1.25)
            .origin(-80.5, -60.25, 300 - 2 * 1.25)
            .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
            .build();
    Path d2 = dir.resolve("extra");
    DicomWriter.writeSeries(other, d2, series(STUDY + ".8", 8), Compression.NONE);
    Files.move(d2.resolve("1.dcm"), dir.resolve("3.dcm"));
    Volume r = DicomSeriesReader.read(dir);
    assertEquals(Volume.Kind.FLOAT32, r.kind());
    assertEquals(-1000, r.value(0, 1, 1), 0); // the lowest slice is the added one
    assertEquals((v.shorts()[0] & 0xffff) - 1024, r.value(2, 0, 0), 0);
    assertTrue(r.warnings().stream().anyMatch(w -> w.contains("rescale")));
    Volume m = DicomSeriesReader.read(dir, DicomSeriesReader.Options.defaults().withModality(true));
    assertArrayEquals(r.floats(), m.floats());
  }

  @Test
  void writerChecksItsArguments() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> series("1.2.03", 1));
    assertTrue(e.getMessage().startsWith("seriesInstanceUid"), e.getMessage());
    Volume f = Volume.builder(1, 2, 2).floats(new float[4]).build();
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DicomWriter.writeSeries(f, dir, series(STUDY + ".1", 1), Compression.NONE));
    assertTrue(e.getMessage().contains("FLOAT32"), e.getMessage());
    assertEquals("-1024", DicomWriter.ds(-1024));
    assertEquals("0.1", DicomWriter.ds(0.1));
    assertTrue(DicomWriter.ds(-123.45678901234567).length() <= 16);
    assertEquals(-123.456789012346, Double.parseDouble(DicomWriter.ds(-123.45678901234567)), 1e-11);
    assertTrue(DicomWriter.ds(1.0e-20).length() <= 16);
  }
}
