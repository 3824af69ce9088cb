package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.CsvFormatException;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.io.kaggle.Rsna2024.LabelCoordinate;
import org.spinekit.lumbar.LumbarPoints.Accuracy;
import org.spinekit.lumbar.LumbarPoints.Point;
import org.spinekit.lumbar.LumbarPoints.Threshold;
import org.spinekit.synth.LumbarSynth;

/**
 * {@link LumbarPoints}: points.csv round trips and bad rows fail naming file, line and column; the
 * accuracy of the truth itself, of the truth moved by known amounts, with points missing, on the
 * wrong series, or on an instance the series lacks.
 */
class LumbarPointsTest {
  @TempDir static Path dir;
  static Rsna2024.Dataset data;
  static List<LabelCoordinate> truth;

  /** Per series: the volume read back (its sorted slices and size). */
  static Map<Long, Volume> volumes = new HashMap<>();

  static final String HEADER = "study_id,series_id,condition,level,x,y,instance_number";

  @BeforeAll
  static void synth() throws IOException {
    Path root = dir.resolve("synth");
    LumbarSynth.generate(root, LumbarSynth.Config.small(21).withStudies(3).withTestStudies(0));
    data = Rsna2024.open(root);
    truth = data.coordinates();
    assertEquals(75, truth.size());
    for (Rsna2024.SeriesDescription s : data.series()) {
      volumes.put(
          s.seriesId(),
          DicomSeriesReader.read(
              data.studyDirs().get(s.studyId()).resolve(Long.toString(s.seriesId()))));
    }
  }

  static Point point(LabelCoordinate c) {
    return new Point(
        c.studyId(), c.seriesId(), c.condition(), c.level(), c.x(), c.y(), c.instanceNumber());
  }

  static List<Point> exact() {
    return truth.stream().map(LumbarPointsTest::point).toList();
  }

  // ---------------------------------------------------------------- the file

  @Test
  void roundTrip() throws IOException {
    List<Point> points =
        List.of(
            new Point(
                4003253,
                702807833,
                Condition.SPINAL_CANAL_STENOSIS,
                Level.L1_L2,
                322.8316831683169,
                227.96,
                8),
            new Point(
                4003253,
                1054713880,
                Condition.LEFT_NEURAL_FORAMINAL_NARROWING,
                Level.L5_S1,
                0.1,
                -3.5,
                0),
            new Point(7, 9, Condition.RIGHT_SUBARTICULAR_STENOSIS, Level.L3_L4, 1e-05, 1.5e16, 17));
    Path f = dir.resolve("points.csv");
    LumbarPoints.write(f, points);
    List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
    assertEquals(
        List.of(
            HEADER,
            "4003253,702807833,Spinal Canal Stenosis,L1/L2,322.8316831683169,227.96,8",
            "4003253,1054713880,Left Neural Foraminal Narrowing,L5/S1,0.1,-3.5,0",
            "7,9,Right Subarticular Stenosis,L3/L4,1e-05,1.5e+16,17"),
        lines);
    assertEquals(points, LumbarPoints.read(f));
    // Columns are found by name, in any order; no temporary file is left behind.
    Path shuffled = dir.resolve("shuffled.csv");
    Files.writeString(
        shuffled,
        "level,x,y,instance_number,condition,series_id,study_id\r\n"
            + "L1/L2,322.8316831683169,227.96,8,Spinal Canal Stenosis,702807833,4003253\r\n");
    assertEquals(List.of(points.get(0)), LumbarPoints.read(shuffled));
    try (var s = Files.list(dir)) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
    }
    LumbarPoints.write(f, List.of());
    assertEquals(List.of(), LumbarPoints.read(f));
  }

  /** {@code text} (after the header) must fail at {@code line}, column {@code column}. */
  static void bad(String name, String rows, int line, String column, String... fragments)
      throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, HEADER + "\n" + rows, StandardCharsets.UTF_8);
    CsvFormatException e = assertThrows(CsvFormatException.class, () -> LumbarPoints.read(f));
    assertEquals(line, e.line(), e.getMessage());
    assertEquals(column, e.column(), e.getMessage());
    String where = f + ":" + line + ": column '" + column + "': ";
    assertTrue(e.getMessage().startsWith(where), e.getMessage());
    for (String s : fragments) assertTrue(e.getMessage().contains(s), e.getMessage());
  }

  @Test
  void badRowsFailNamingFileLineAndColumn() throws IOException {
    String good = "1,2,Spinal Canal Stenosis,L1/L2,10.5,20,3\n";
    bad(
        "condition.csv",
        good + "1,2,spinal canal stenosis,L2/L3,1,2,3\n",
        3,
        "condition",
        "unknown condition",
        "'spinal canal stenosis'");
    bad(
        "key.csv",
        "1,2,spinal_canal_stenosis,L2/L3,1,2,3\n",
        2,
        "condition",
        "Spinal Canal Stenosis");
    bad(
        "level.csv",
        good + "1,2,Spinal Canal Stenosis,L2-L3,1,2,3\n",
        3,
        "level",
        "unknown level",
        "L5/S1");
    bad(
        "x.csv",
        good + "1,2,Spinal Canal Stenosis,L2/L3,abc,2,3\n",
        3,
        "x",
        "not a decimal number",
        "'abc'");
    bad("y.csv", good + "1,2,Spinal Canal Stenosis,L2/L3,1,nan,3\n", 3, "y", "'nan'");
    bad("inf.csv", good + "1,2,Spinal Canal Stenosis,L2/L3,1,1e999,3\n", 3, "y", "out of range");
    bad(
        "instance.csv",
        good + "1,2,Spinal Canal Stenosis,L2/L3,1,2,-1\n",
        3,
        "instance_number",
        "not a non-negative integer");
    bad("fraction.csv", good + "1,2,Spinal Canal Stenosis,L2/L3,1,2,2.5\n", 3, "instance_number");
    bad(
        "study.csv",
        good + "\n,2,Spinal Canal Stenosis,L2/L3,1,2,3\n",
        4,
        "study_id",
        "empty value");
    bad(
        "series.csv",
        good + "1,x2,Spinal Canal Stenosis,L2/L3,1,2,3\n",
        3,
        "series_id",
        "not a non-negative integer id");
    bad(
        "repeated.csv",
        good + "1,5,Spinal Canal Stenosis,L1/L2,1,2,3\n",
        3,
        "level",
        "repeated (first on line 2)");

    Path missing = dir.resolve("missing.csv");
    Files.writeString(
        missing, "study_id,series_id,condition,level,x,y\n1,2,Spinal Canal Stenosis,L1/L2,1,2\n");
    CsvFormatException e = assertThrows(CsvFormatException.class, () -> LumbarPoints.read(missing));
    assertEquals(
        missing
            + ": missing column 'instance_number' (header has: study_id, series_id, condition,"
            + " level, x, y)",
        e.getMessage());
    Path width = dir.resolve("width.csv");
    Files.writeString(width, HEADER + "\n" + good + "1,2,Spinal Canal Stenosis,L2/L3,1,2\n");
    e = assertThrows(CsvFormatException.class, () -> LumbarPoints.read(width));
    assertEquals(width + ":3: 6 fields where the header has 7", e.getMessage());
  }

  @Test
  void writeRefusesWhatReadWouldRefuse() throws IOException {
    Path f = dir.resolve("refused.csv");
    Files.writeString(f, "kept");
    Point ok = new Point(1, 2, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 1, 2, 3);
    Object[][] cases = {
      {
        new Point(1, 2, Condition.SPINAL_CANAL_STENOSIS, Level.L2_L3, Double.NaN, 2, 3),
        "points[1].x: expected a finite number, got NaN"
      },
      {
        new Point(
            1, 2, Condition.SPINAL_CANAL_STENOSIS, Level.L2_L3, 1, Double.POSITIVE_INFINITY, 3),
        "points[1].y: expected a finite number, got Infinity"
      },
      {
        new Point(1, 2, Condition.SPINAL_CANAL_STENOSIS, Level.L2_L3, 1, 2, -1),
        "points[1].instanceNumber: expected >= 0, got -1"
      },
      {
        new Point(-1, 2, Condition.SPINAL_CANAL_STENOSIS, Level.L2_L3, 1, 2, 3),
        "points[1].studyId: expected an id >= 0, got -1"
      },
      {
        new Point(1, -2, Condition.SPINAL_CANAL_STENOSIS, Level.L2_L3, 1, 2, 3),
        "points[1].seriesId: expected an id >= 0, got -2"
      },
      {
        new Point(1, 7, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 5, 6, 3),
        "points[1]: study 1 Spinal Canal Stenosis L1/L2 repeated"
      },
    };
    for (Object[] c : cases) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> LumbarPoints.write(f, List.of(ok, (Point) c[0])));
      assertEquals(c[1], e.getMessage());
      assertEquals("kept", Files.readString(f), "the old file stays");
    }
  }

  // ---------------------------------------------------------------- accuracy

  /** All thresholds met: the hit counts equal the truth points. */
  static void assertAllHit(LumbarPoints.Row r, int points) {
    assertEquals(points, r.points(), r.name());
    for (Threshold t : Threshold.values()) {
      assertEquals(points, r.hits().get(t), r.name() + " " + t.label());
      assertEquals(1.0, r.fraction(t), r.name() + " " + t.label());
    }
  }

  @Test
  void theTruthItselfIsExact() throws IOException {
    Accuracy a = LumbarPoints.accuracy(data, exact(), 80);
    assertEquals(80, a.grid());
    assertEquals(6, a.rows().size());
    for (Condition c : Condition.values()) {
      assertEquals(c, a.row(c).condition());
      assertEquals(c.label, a.row(c).name());
      assertAllHit(a.row(c), 15);
      assertEquals(0, a.row(c).missing());
      assertEquals(0, a.row(c).wrongSeries());
    }
    assertEquals("all", a.all().name());
    assertAllHit(a.all(), 75);
    assertEquals(75, a.predicted());
    assertEquals(0, a.unmatched());
    List<String> lines = a.table().lines().toList();
    assertEquals(
        List.of(
            "| condition | points | x<1 | x<2 | x<4 | y<1 | y<2 | y<4 | z<1 | z<3 | missing |"
                + " wrong series |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            "| Spinal Canal Stenosis | 15 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |"
                + " 1.000 | 0 | 0 |"),
        lines.subList(0, 3));
    assertEquals(
        "| all | 75 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 | 0 | 0 |",
        lines.get(7));
    assertEquals(8, lines.size());
  }

  /** The instance {@code steps} slices away from {@code instance} in the series' order. */
  static int shiftedInstance(long series, int instance, int steps) {
    Volume v = volumes.get(series);
    int k = LumbarGeometryTest.sliceOf(v, instance);
    int to = k + steps < v.slices() ? k + steps : k - steps;
    assertTrue(to >= 0, "room to move " + steps + " slices in " + v);
    return v.sources().get(to).instanceNumber();
  }

  /**
   * Truth point {@code i} moved by kind {@code i % 5}: 0 not at all, 1 by 1.5 heatmap pixels in x,
   * 2 by 3 in y, 3 by 2 slices, 4 by 5 in x, 0.5 in y and 3 slices; with the thresholds each kind
   * still meets.
   */
  static final Threshold[][] MET = {
    Threshold.values(),
    {
      Threshold.X2,
      Threshold.X4,
      Threshold.Y1,
      Threshold.Y2,
      Threshold.Y4,
      Threshold.Z1,
      Threshold.Z3
    },
    {Threshold.X1, Threshold.X2, Threshold.X4, Threshold.Y4, Threshold.Z1, Threshold.Z3},
    {
      Threshold.X1,
      Threshold.X2,
      Threshold.X4,
      Threshold.Y1,
      Threshold.Y2,
      Threshold.Y4,
      Threshold.Z3
    },
    {Threshold.Y1, Threshold.Y2, Threshold.Y4},
  };

  static Point moved(LabelCoordinate c, int kind, int grid) {
    Volume v = volumes.get(c.seriesId());
    double px = (double) v.columns() / grid; // image pixels per heatmap pixel along x
    double py = (double) v.rows() / grid;
    return switch (kind) {
      case 0 -> point(c);
      case 1 ->
          new Point(
              c.studyId(),
              c.seriesId(),
              c.condition(),
              c.level(),
              c.x() + 1.5 * px,
              c.y(),
              c.instanceNumber());
      case 2 ->
          new Point(
              c.studyId(),
              c.seriesId(),
              c.condition(),
              c.level(),
              c.x(),
              c.y() - 3 * py,
              c.instanceNumber());
      case 3 ->
          new Point(
              c.studyId(),
              c.seriesId(),
              c.condition(),
              c.level(),
              c.x(),
              c.y(),
              shiftedInstance(c.seriesId(), c.instanceNumber(), 2));
      default ->
          new Point(
              c.studyId(),
              c.seriesId(),
              c.condition(),
              c.level(),
              c.x() - 5 * px,
              c.y() + 0.5 * py,
              shiftedInstance(c.seriesId(), c.instanceNumber(), 3));
    };
  }

  @Test
  void shiftedPointsMeetExactlyTheThresholdsTheirShiftAllows() throws IOException {
    for (int grid : new int[] {80, 64}) {
      List<Point> predicted = new ArrayList<>();
      Map<Condition, int[]> expected = new EnumMap<>(Condition.class);
      for (Condition c : Condition.values()) expected.put(c, new int[Threshold.values().length]);
      for (int i = 0; i < truth.size(); i++) {
        LabelCoordinate c = truth.get(i);
        predicted.add(moved(c, i % 5, grid));
        for (Threshold t : MET[i % 5]) expected.get(c.condition())[t.ordinal()]++;
      }
      Accuracy a = LumbarPoints.accuracy(data, predicted, grid);
      int[] all = new int[Threshold.values().length];
      for (Condition c : Condition.values()) {
        for (Threshold t : Threshold.values()) {
          int want = expected.get(c)[t.ordinal()];
          all[t.ordinal()] += want;
          assertEquals(want, a.row(c).hits().get(t), grid + " " + c + " " + t.label());
          assertEquals(want / 15.0, a.row(c).fraction(t), 1e-12);
        }
      }
      for (Threshold t : Threshold.values()) {
        assertEquals(all[t.ordinal()], a.all().hits().get(t), t.label());
      }
      // Each kind is 15 of the 75 points.
      assertEquals(45, a.all().hits().get(Threshold.X1));
      assertEquals(60, a.all().hits().get(Threshold.X2));
      assertEquals(60, a.all().hits().get(Threshold.Y2));
      assertEquals(75, a.all().hits().get(Threshold.Y4));
      assertEquals(45, a.all().hits().get(Threshold.Z1));
      assertEquals(60, a.all().hits().get(Threshold.Z3));
    }
    // Counted on a coarser heatmap, a 1.5 pixel shift at 80 is 0.75 pixels at 40: within x<1.
    List<Point> shifted = new ArrayList<>();
    for (LabelCoordinate c : truth) shifted.add(moved(c, 1, 80));
    Accuracy coarse = LumbarPoints.accuracy(data, shifted, 40);
    assertAllHit(coarse.all(), 75);
    Accuracy fine = LumbarPoints.accuracy(data, shifted, 80);
    assertEquals(0, fine.all().hits().get(Threshold.X1));
    assertEquals(75, fine.all().hits().get(Threshold.X2));
  }

  /**
   * Rewrites the Instance Number of every file under {@code series} from n to {@code 7 n}, in place
   * (the value keeps its two-byte length), and returns the new number of each old one.
   */
  static Map<Integer, Integer> spreadInstanceNumbers(Path series) throws IOException {
    Map<Integer, Integer> renumbered = new HashMap<>();
    byte[] tag = {0x20, 0x00, 0x13, 0x00, 'I', 'S'};
    try (var files = Files.list(series)) {
      for (Path f : files.toList()) {
        byte[] b = Files.readAllBytes(f);
        int at = -1;
        for (int i = 0; i + tag.length + 2 < b.length && at < 0; i++) {
          if (java.util.Arrays.equals(b, i, i + tag.length, tag, 0, tag.length)) at = i;
        }
        assertTrue(at >= 0, "Instance Number in " + f);
        int length = (b[at + 6] & 0xff) | (b[at + 7] & 0xff) << 8;
        assertEquals(2, length, f.toString());
        String old = new String(b, at + 8, 2, StandardCharsets.US_ASCII).strip();
        int n = Integer.parseInt(old);
        String now = String.format(java.util.Locale.ROOT, "%-2d", 7 * n);
        assertEquals(2, now.length(), "two digits for " + 7 * n);
        System.arraycopy(now.getBytes(StandardCharsets.US_ASCII), 0, b, at + 8, 2);
        Files.write(f, b);
        renumbered.put(n, 7 * n);
      }
    }
    return renumbered;
  }

  @Test
  void slicesAreCountedInTheSeriesOrderNotInInstanceNumbers(@TempDir Path tmp) throws IOException {
    Path root = tmp.resolve("spread");
    LumbarSynth.generate(root, LumbarSynth.Config.small(21).withStudies(1).withTestStudies(0));
    Rsna2024.Dataset before = Rsna2024.open(root);
    long t2 = -1;
    for (Rsna2024.SeriesDescription s : before.series()) {
      if (s.description().equals(Rsna2024.SAGITTAL_T2_STIR)) t2 = s.seriesId();
    }
    Path seriesDir = before.studyDirs().values().iterator().next().resolve(Long.toString(t2));
    Map<Integer, Integer> renumbered = spreadInstanceNumbers(seriesDir);
    List<LabelCoordinate> coordinates = new ArrayList<>();
    for (LabelCoordinate c : before.coordinates()) {
      coordinates.add(
          c.seriesId() != t2
              ? c
              : new LabelCoordinate(
                  c.studyId(),
                  c.seriesId(),
                  renumbered.get(c.instanceNumber()),
                  c.condition(),
                  c.level(),
                  c.x(),
                  c.y()));
    }
    Rsna2024.writeCoordinates(root.resolve(Rsna2024.COORDINATES_CSV), coordinates);
    Rsna2024.Dataset spread = Rsna2024.open(root);
    Volume v = DicomSeriesReader.read(seriesDir);
    List<Point> predicted = new ArrayList<>();
    for (LabelCoordinate c : spread.coordinates()) {
      if (c.seriesId() != t2) {
        predicted.add(point(c));
        continue;
      }
      // The next slice in the series' order: 7 Instance Numbers away, one slice.
      int k = LumbarGeometryTest.sliceOf(v, c.instanceNumber());
      int next = v.sources().get(k + 1 < v.slices() ? k + 1 : k - 1).instanceNumber();
      assertEquals(7, Math.abs(next - c.instanceNumber()));
      predicted.add(
          new Point(c.studyId(), c.seriesId(), c.condition(), c.level(), c.x(), c.y(), next));
    }
    Accuracy a = LumbarPoints.accuracy(spread, predicted, 80);
    LumbarPoints.Row scs = a.row(Condition.SPINAL_CANAL_STENOSIS);
    assertEquals(5, scs.points());
    assertEquals(0, scs.hits().get(Threshold.Z1));
    assertEquals(5, scs.hits().get(Threshold.Z3));
    assertEquals(5, scs.hits().get(Threshold.X1));
    assertAllHit(a.row(Condition.LEFT_SUBARTICULAR_STENOSIS), 5);
  }

  @Test
  void missingAndWrongSeriesPointsAreMisses() throws IOException {
    Map<Long, Long> t1OfStudy = new HashMap<>();
    for (Rsna2024.SeriesDescription s : data.series()) {
      if (s.description().equals(Rsna2024.SAGITTAL_T1)) t1OfStudy.put(s.studyId(), s.seriesId());
    }
    List<Point> predicted = new ArrayList<>();
    Map<Condition, Integer> missing = new EnumMap<>(Condition.class);
    Map<Condition, Integer> wrong = new EnumMap<>(Condition.class);
    for (int i = 0; i < truth.size(); i++) {
      LabelCoordinate c = truth.get(i);
      if (i % 7 == 0) {
        missing.merge(c.condition(), 1, Integer::sum);
      } else if (i % 7 == 1 && c.condition() == Condition.SPINAL_CANAL_STENOSIS) {
        // On the study's Sagittal T1, at the very same pixel and instance: still a miss.
        wrong.merge(c.condition(), 1, Integer::sum);
        predicted.add(
            new Point(
                c.studyId(),
                t1OfStudy.get(c.studyId()),
                c.condition(),
                c.level(),
                c.x(),
                c.y(),
                c.instanceNumber()));
      } else {
        predicted.add(point(c));
      }
    }
    // A point of a study the truth lacks is not matched and changes nothing.
    predicted.add(new Point(123, 4, Condition.SPINAL_CANAL_STENOSIS, Level.L1_L2, 1, 2, 999));
    Accuracy a = LumbarPoints.accuracy(data, predicted, 80);
    assertEquals(1, a.unmatched());
    assertEquals(predicted.size(), a.predicted());
    int allMissing = 0;
    int allWrong = 0;
    for (Condition c : Condition.values()) {
      LumbarPoints.Row r = a.row(c);
      int m = missing.getOrDefault(c, 0);
      int w = wrong.getOrDefault(c, 0);
      assertEquals(m, r.missing(), c.label);
      assertEquals(w, r.wrongSeries(), c.label);
      assertEquals(15, r.points());
      for (Threshold t : Threshold.values()) {
        assertEquals(15 - m - w, r.hits().get(t), c.label + " " + t.label());
      }
      allMissing += m;
      allWrong += w;
    }
    assertEquals(11, allMissing); // i = 0, 7, ..., 70
    assertTrue(wrong.get(Condition.SPINAL_CANAL_STENOSIS) > 0, wrong.toString());
    assertEquals(allMissing, a.all().missing());
    assertEquals(allWrong, a.all().wrongSeries());
    assertEquals(75 - allMissing - allWrong, a.all().hits().get(Threshold.Z3));
    assertTrue(a.table().contains("| " + allMissing + " | " + allWrong + " |\n"), a.table());

    // No predictions at all: every truth point missing, every fraction 0.
    Accuracy none = LumbarPoints.accuracy(data, List.of(), 80);
    assertEquals(75, none.all().missing());
    assertEquals(0.0, none.all().fraction(Threshold.X4));
  }

  @Test
  void anInstanceTheSeriesLacksFailsNamingStudySeriesAndInstance() {
    List<Point> predicted = new ArrayList<>(exact());
    LabelCoordinate c = truth.get(3);
    predicted.set(
        3, new Point(c.studyId(), c.seriesId(), c.condition(), c.level(), c.x(), c.y(), 999));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> LumbarPoints.accuracy(data, predicted, 80));
    assertTrue(
        e.getMessage()
            .contains(
                "predicted study "
                    + c.studyId()
                    + " "
                    + c.condition().label
                    + " "
                    + c.level().label
                    + ": study "
                    + c.studyId()
                    + " series "
                    + c.seriesId()
                    + " has no instance 999 (it has "),
        e.getMessage());
  }

  @Test
  void badArgumentsAreRefused() {
    IllegalArgumentException grid =
        assertThrows(IllegalArgumentException.class, () -> LumbarPoints.accuracy(data, exact(), 0));
    assertEquals("grid: expected >= 1 pixels, got 0", grid.getMessage());
    List<Point> twice = new ArrayList<>(exact());
    twice.add(twice.get(5));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LumbarPoints.accuracy(data, twice, 80));
    assertTrue(e.getMessage().startsWith("predicted[75]: study "), e.getMessage());
    assertTrue(e.getMessage().endsWith(" repeated"), e.getMessage());
  }
}
