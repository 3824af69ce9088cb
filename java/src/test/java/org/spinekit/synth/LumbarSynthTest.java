package org.spinekit.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.CodecSupport;
import org.spinekit.io.dicom.Compression;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;

/** Generate, write, read back with the ordinary readers: the labels still hit the anatomy. */
class LumbarSynthTest {
  private static final LumbarSynth.Config SMALL = LumbarSynth.Config.small(77L);

  @TempDir Path dir;

  /** The slice of a read-back volume that came from the file of {@code instance}. */
  private static int sliceOf(Volume v, int instance) {
    List<SliceSource> src = v.sources();
    for (int i = 0; i < src.size(); i++) {
      if (src.get(i).instanceNumber() == instance) return i;
    }
    throw new AssertionError("no instance " + instance + " in " + v);
  }

  private static Map<Path, byte[]> contents(Path root) throws IOException {
    Map<Path, byte[]> out = new TreeMap<>();
    try (Stream<Path> w = Files.walk(root)) {
      for (Path p : w.filter(Files::isRegularFile).toList()) {
        out.put(root.relativize(p), Files.readAllBytes(p));
      }
    }
    return out;
  }

  @Test
  void writesTheRsna2024LayoutAndTheReadersFindTheLabelsOnTheAnatomy() throws IOException {
    LumbarSynth.Summary summary = LumbarSynth.generate(dir, SMALL);
    assertEquals(4, summary.studies());
    assertEquals(12, summary.series());

    Rsna2024.Dataset ds = Rsna2024.open(dir);
    assertEquals(List.of(), ds.warnings());
    assertEquals(3, ds.train().size());
    assertEquals(9, ds.series().size());
    assertEquals(75, ds.coordinates().size());
    List<Rsna2024.SeriesDescription> testSeries =
        Rsna2024.readSeriesDescriptions(dir.resolve(Rsna2024.TEST_SERIES_CSV));
    assertEquals(3, testSeries.size());
    List<Rsna2024.Prediction> sample =
        Rsna2024.readSubmission(dir.resolve(Rsna2024.SAMPLE_SUBMISSION_CSV));
    assertEquals(25, sample.size());
    for (Rsna2024.Prediction p : sample) {
      assertEquals(testSeries.get(0).studyId(), p.studyId());
      assertEquals(1.0 / 3, p.normalMild(), 1e-6);
    }
    long testStudy = testSeries.get(0).studyId();
    for (Rsna2024.SeriesDescription s : testSeries) {
      assertTrue(
          Files.isDirectory(
              dir.resolve(LumbarSynth.TEST_IMAGES_DIR)
                  .resolve(Long.toString(testStudy))
                  .resolve(Long.toString(s.seriesId()))));
    }

    // Summary counts what is on disk.
    long dicom;
    long bytes = 0;
    try (Stream<Path> w = Files.walk(dir)) {
      List<Path> files = w.filter(Files::isRegularFile).toList();
      dicom = files.stream().filter(p -> p.toString().endsWith(".dcm")).count();
      for (Path p : files) bytes += Files.size(p);
      assertEquals(summary.files(), files.size());
    }
    assertEquals(summary.files(), dicom + 6);
    assertEquals(summary.bytes(), bytes);

    Map<Long, String> description = new HashMap<>();
    for (Rsna2024.SeriesDescription s : ds.series()) description.put(s.seriesId(), s.description());
    Map<Long, Volume> volumes = new HashMap<>();
    for (Rsna2024.SeriesDescription s : ds.series()) {
      Volume v =
          DicomSeriesReader.read(
              ds.studyDirs().get(s.studyId()).resolve(Long.toString(s.seriesId())));
      assertEquals(Long.toString(s.studyId()), v.series().studyInstanceUid());
      assertEquals(Long.toString(s.seriesId()), v.series().seriesInstanceUid());
      assertEquals(s.description(), v.series().seriesDescription());
      assertEquals("MR", v.series().modality());
      volumes.put(s.seriesId(), v);
    }
    Map<Long, Map<String, double[]>> truth = readTruth(dir.resolve(LumbarSynth.TRUTH_CSV));
    assertEquals(4, truth.size());

    for (int index = 0; index < 3; index++) {
      LumbarStudy mem = LumbarSynth.study(SMALL, index);
      Rsna2024.LumbarLabel label = ds.train().get(index);
      assertEquals(mem.studyId(), label.studyId());
      // The files hold exactly the in-memory voxels, whatever order the reader sorts them in.
      for (LumbarSeries s : mem.series()) {
        Volume read = volumes.get(s.seriesId());
        Volume made = s.volume();
        assertEquals(made.slices(), read.slices());
        for (int k = 0; k < made.slices(); k++) {
          int slice = sliceOf(read, k + 1);
          double[] a = made.toPatient(k, 0, 0);
          double[] b = read.toPatient(slice, 0, 0);
          assertArrayEquals(a, b, 1e-3, s.description() + " instance " + (k + 1));
          for (int r = 0; r < made.rows(); r += 7) {
            for (int c = 0; c < made.columns(); c += 5) {
              assertEquals(made.value(k, r, c), read.value(slice, r, c));
            }
          }
        }
      }

      Map<Level, double[]> leftNfn = new HashMap<>();
      Map<Level, double[]> rightNfn = new HashMap<>();
      for (Rsna2024.LabelCoordinate p : ds.coordinates()) {
        if (p.studyId() != label.studyId()) continue;
        Volume v = volumes.get(p.seriesId());
        assertEquals(Rsna2024.seriesFor(p.condition()), description.get(p.seriesId()));
        int slice = sliceOf(v, p.instanceNumber());
        assertTrue(
            p.x() >= 0 && p.x() <= v.columns() - 1 && p.y() >= 0 && p.y() <= v.rows() - 1,
            p.toString());
        double[] patient = v.toPatient(slice, p.y(), p.x());
        double[] t = truth.get(p.studyId()).get(p.condition().label + "|" + p.level().label);
        // The label is the truth point's projection on the slice the reader put it in.
        double along = 0;
        double[] n = v.sliceDirection();
        for (int a = 0; a < 3; a++) along += (patient[a] - t[a]) * n[a];
        assertTrue(Math.abs(along) <= 0.5 * v.spacing()[2] + 1e-3, p + ": " + along);
        double off = 0;
        for (int a = 0; a < 3; a++) {
          double d = patient[a] - t[a] - along * n[a];
          off += d * d;
        }
        assertTrue(Math.sqrt(off) < 0.01, p + ": in-plane offset " + Math.sqrt(off));
        Grade g = label.grade(p.condition(), p.level());
        assertEquals(Grade.values()[(int) t[3]], g);
        double value = v.value(slice, (int) Math.round(p.y()), (int) Math.round(p.x()));
        if (g == Grade.NORMAL_MILD) {
          double min =
              switch (p.condition()) {
                case SPINAL_CANAL_STENOSIS -> 1150; // CSF on T2
                case LEFT_NEURAL_FORAMINAL_NARROWING, RIGHT_NEURAL_FORAMINAL_NARROWING ->
                    900; // fat, T1
                default -> 900; // the recess's CSF on T2
              };
          assertTrue(value > min, p + " (" + g.label + "): value " + value);
        }
        if (p.condition() == Condition.LEFT_NEURAL_FORAMINAL_NARROWING) {
          leftNfn.put(p.level(), patient);
        } else if (p.condition() == Condition.RIGHT_NEURAL_FORAMINAL_NARROWING) {
          rightNfn.put(p.level(), patient);
        }
      }
      // Patient left is +x: the left foramen's slice lies at larger x than the right one's,
      // either side of the canal's mid-sagittal point.
      for (Level l : Level.values()) {
        double mid = scsPoint(ds, volumes, label.studyId(), l)[0];
        assertTrue(
            leftNfn.get(l)[0] > mid + 8 && rightNfn.get(l)[0] < mid - 8,
            l.label
                + ": left "
                + leftNfn.get(l)[0]
                + " mid "
                + mid
                + " right "
                + rightNfn.get(l)[0]);
        Rsna2024.LabelCoordinate sl =
            coordinate(ds, label.studyId(), Condition.LEFT_SUBARTICULAR_STENOSIS, l);
        Rsna2024.LabelCoordinate sr =
            coordinate(ds, label.studyId(), Condition.RIGHT_SUBARTICULAR_STENOSIS, l);
        assertTrue(
            sl.x() > sr.x() + 5, l.label + ": axial left column " + sl.x() + ", right " + sr.x());
        // The canal point of the sagittal lies at the height of the axial slice of its level.
        Volume ax = volumes.get(sl.seriesId());
        double zAxial = ax.toPatient(sliceOf(ax, sl.instanceNumber()), 0, 0)[2];
        double[] canal = scsPoint(ds, volumes, label.studyId(), l);
        assertTrue(
            Math.abs(canal[2] - zAxial) <= 0.5 * ax.spacing()[2] + 4,
            l.label + ": canal z " + canal[2] + ", axial slice z " + zAxial);
      }
    }
  }

  private static Rsna2024.LabelCoordinate coordinate(
      Rsna2024.Dataset ds, long study, Condition c, Level l) {
    for (Rsna2024.LabelCoordinate p : ds.coordinates()) {
      if (p.studyId() == study && p.condition() == c && p.level() == l) return p;
    }
    throw new AssertionError("no " + c + " " + l + " for study " + study);
  }

  private static double[] scsPoint(
      Rsna2024.Dataset ds, Map<Long, Volume> volumes, long study, Level l) {
    Rsna2024.LabelCoordinate p = coordinate(ds, study, Condition.SPINAL_CANAL_STENOSIS, l);
    Volume v = volumes.get(p.seriesId());
    return v.toPatient(sliceOf(v, p.instanceNumber()), p.y(), p.x());
  }

  /** study -> "condition|level" -> (x, y, z mm, grade ordinal), checking the header. */
  private static Map<Long, Map<String, double[]>> readTruth(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    assertEquals(
        "study_id,split,condition,level,grade,x_mm,y_mm,z_mm,series_id," + "instance_number,x,y",
        lines.get(0));
    Map<Long, Map<String, double[]>> out = new HashMap<>();
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      assertEquals(12, f.length, line);
      Grade g = Grade.parse(f[4]);
      assertTrue(g != null, line);
      out.computeIfAbsent(Long.parseLong(f[0]), k -> new HashMap<>())
          .put(
              f[2] + "|" + f[3],
              new double[] {
                Double.parseDouble(f[5]),
                Double.parseDouble(f[6]),
                Double.parseDouble(f[7]),
                g.ordinal()
              });
    }
    for (Map<String, double[]> m : out.values()) assertEquals(25, m.size());
    return out;
  }

  @Test
  void theSameConfigWritesByteIdenticalFiles() throws IOException {
    LumbarSynth.Config one = SMALL.withStudies(2).withTestStudies(1);
    LumbarSynth.generate(dir.resolve("a"), one.withThreads(1));
    LumbarSynth.generate(dir.resolve("b"), one.withThreads(3));
    Map<Path, byte[]> a = contents(dir.resolve("a"));
    Map<Path, byte[]> b = contents(dir.resolve("b"));
    assertEquals(a.keySet(), b.keySet());
    for (Path p : a.keySet()) assertArrayEquals(a.get(p), b.get(p), p.toString());
    LumbarSynth.generate(dir.resolve("c"), one.withSeed(one.seed() + 1));
    Map<Path, byte[]> c = contents(dir.resolve("c"));
    assertFalse(c.keySet().equals(a.keySet()));
    assertFalse(
        java.util.Arrays.equals(
            a.get(Path.of(LumbarSynth.TRUTH_CSV)), c.get(Path.of(LumbarSynth.TRUTH_CSV))));
  }

  @Test
  @Tag("codec")
  void compressedSeriesReadBackToTheSameVoxels() throws IOException {
    assumeTrue(CodecSupport.EXTERNAL, "writing compressed DICOM needs spinekit-gdcm");
    LumbarSynth.Config c =
        SMALL.withStudies(1).withTestStudies(0).withCompression(Compression.JPEG_LS);
    LumbarSynth.generate(dir, c);
    LumbarStudy mem = LumbarSynth.study(c, 0);
    Path studyDir = dir.resolve(Rsna2024.TRAIN_IMAGES_DIR).resolve(Long.toString(mem.studyId()));
    for (LumbarSeries s : mem.series()) {
      Volume read = DicomSeriesReader.read(studyDir.resolve(Long.toString(s.seriesId())));
      assertEquals(Compression.JPEG_LS.transferSyntaxUid, read.series().transferSyntaxUid());
      Volume made = s.volume();
      for (int k = 0; k < made.slices(); k++) {
        int slice = sliceOf(read, k + 1);
        for (int r = 0; r < made.rows(); r++) {
          for (int col = 0; col < made.columns(); col++) {
            if (made.value(k, r, col) != read.value(slice, r, col)) {
              throw new AssertionError(
                  s.description()
                      + " instance "
                      + (k + 1)
                      + " ("
                      + r
                      + ", "
                      + col
                      + "): wrote "
                      + made.value(k, r, col)
                      + ", read "
                      + read.value(slice, r, col));
            }
          }
        }
      }
    }
    assertTrue(Rsna2024.open(dir).warnings().isEmpty());
  }

  @Test
  void rewritingReplacesItsOwnSeriesAndRefusesForeignStudies() throws IOException {
    LumbarSynth.Config wide =
        SMALL.withStudies(1).withTestStudies(0).withSagittalSlices(17, 11, 4.0);
    LumbarSynth.generate(dir, wide);
    LumbarStudy mem = LumbarSynth.study(wide, 0);
    Path t1 =
        dir.resolve(Rsna2024.TRAIN_IMAGES_DIR)
            .resolve(Long.toString(mem.studyId()))
            .resolve(Long.toString(mem.series(LumbarSeries.SAGITTAL_T1).seriesId()));
    assertEquals(17, count(t1));
    LumbarSynth.generate(dir, wide.withSagittalSlices(13, 11, 4.0));
    assertEquals(13, count(t1));
    assertEquals(13, DicomSeriesReader.read(t1).slices());

    Files.createDirectories(dir.resolve(Rsna2024.TRAIN_IMAGES_DIR).resolve("123456"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LumbarSynth.generate(dir, wide));
    assertTrue(
        e.getMessage().startsWith("out: ") && e.getMessage().contains("123456"), e.getMessage());
  }

  private static long count(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".dcm")).count();
    }
  }

  @Test
  void summaryCountsSeriesAndFilesOfTrainAndTestStudies() throws IOException {
    LumbarSynth.Config c = SMALL.withStudies(1).withTestStudies(2);
    LumbarSynth.Summary s = LumbarSynth.generate(dir, c);
    assertEquals(3, s.studies());
    assertEquals(9, s.series());
    int expected = 6;
    List<Long> testIds = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      LumbarStudy st = LumbarSynth.study(c, i);
      for (LumbarSeries ser : st.series()) expected += ser.volume().slices();
      if (st.test()) testIds.add(st.studyId());
    }
    assertEquals(expected, s.files());
    assertTrue(s.seconds() > 0 && s.bytes() > 0);
    assertEquals(50, Rsna2024.readSubmission(dir.resolve(Rsna2024.SAMPLE_SUBMISSION_CSV)).size());
    for (long id : testIds) {
      assertTrue(
          Files.isDirectory(dir.resolve(LumbarSynth.TEST_IMAGES_DIR).resolve(Long.toString(id))));
      assertFalse(Files.exists(dir.resolve(Rsna2024.TRAIN_IMAGES_DIR).resolve(Long.toString(id))));
    }
  }
}
