package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.SliceSource;
import org.spinekit.io.Volume;
import org.spinekit.io.dicom.DicomSeriesReader;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Level;
import org.spinekit.io.kaggle.Rsna2024;
import org.spinekit.lumbar.LumbarGeometry.AxialHit;
import org.spinekit.synth.LumbarSynth;

/**
 * {@link LumbarGeometry}: projections into hand-built oblique, reversed and sheared stacks against
 * values worked out by hand, and on synthetic studies the spinal canal point of each level lands on
 * the axial slices the subarticular labels of that level are on.
 */
class LumbarGeometryTest {
  private static final double EPS = 1e-9;

  @TempDir static Path dir;
  static Rsna2024.Dataset data;
  static List<String[]> truth;
  static Map<String, Integer> truthColumn;

  @BeforeAll
  static void synth() throws IOException {
    Path root = dir.resolve("synth");
    LumbarSynth.generate(root, LumbarSynth.Config.small(5).withStudies(3).withTestStudies(0));
    data = Rsna2024.open(root);
    List<String> lines =
        Files.readAllLines(root.resolve(LumbarSynth.TRUTH_CSV), StandardCharsets.UTF_8);
    truthColumn = new HashMap<>();
    String[] header = lines.get(0).split(",", -1);
    for (int k = 0; k < header.length; k++) truthColumn.put(header[k], k);
    truth = new ArrayList<>();
    for (String line : lines.subList(1, lines.size())) truth.add(line.split(",", -1));
  }

  /**
   * 10 slices of 64x48, tilted 36.87 degrees about x: rows along (1, 0, 0), columns along (0, 0.8,
   * -0.6), so the normal is (0, 0.6, 0.8); spacing 0.5 mm between rows, 0.75 between columns, 4
   * between slices; voxel (0, 0, 0) at (10, -20, 30).
   */
  static Volume oblique() {
    return Volume.builder(10, 64, 48)
        .floats(new float[10 * 64 * 48])
        .spacing(0.5, 0.75, 4)
        .origin(10, -20, 30)
        .orientation(new double[] {1, 0, 0}, new double[] {0, 0.8, -0.6})
        .build();
  }

  static void assertHit(AxialHit expected, AxialHit got) {
    assertEquals(expected.slice(), got.slice(), "slice of " + got);
    assertEquals(expected.row(), got.row(), EPS, "row of " + got);
    assertEquals(expected.column(), got.column(), EPS, "column of " + got);
    assertEquals(expected.distanceMm(), got.distanceMm(), EPS, "distance of " + got);
  }

  @Test
  void anObliqueStackAgainstHandWorkedPoints() {
    Volume v = oblique();
    // Column 6 (4.5 mm along x), row 10 (5 mm along (0, 0.8, -0.6)), 9.5 mm along the normal:
    // 1.5 mm past slice 2's plane (at 8 mm).
    assertHit(
        new AxialHit(2, 10, 6, 1.5), LumbarGeometry.project(new double[] {14.5, -10.3, 34.6}, v));
    // 10.5 mm along the normal: nearer slice 3's plane (12 mm).
    assertHit(
        new AxialHit(3, 10, 6, 1.5), LumbarGeometry.project(new double[] {14.5, -9.7, 35.4}, v));
    // Column 6.5, row -2 (off the image, still given), 0.25 mm before slice 7 (28 mm).
    assertHit(
        new AxialHit(7, -2, 6.5, 0.25),
        LumbarGeometry.project(new double[] {14.875, -4.15, 52.8}, v));
    // 6 mm before the first slice, at row 3, column 4: slice 0, 6 mm away.
    assertHit(new AxialHit(0, 3, 4, 6), LumbarGeometry.project(new double[] {13, -22.4, 24.3}, v));
    // 10 mm beyond the last slice (36 mm): slice 9, 10 mm away.
    assertHit(
        new AxialHit(9, 0, 0, 10),
        LumbarGeometry.project(new double[] {10, -20 + 27.6, 30 + 36.8}, v));
  }

  @Test
  void slicesRunningAgainstTheNormal() {
    // The synthetic axial series' layout: rows along +x, columns along +y (normal +z), slices
    // from head to foot.
    Volume v =
        Volume.builder(20, 160, 160)
            .floats(new float[20 * 160 * 160])
            .spacing(0.5, 0.5, 5)
            .origin(-40, -30, 100)
            .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
            .sliceDirection(new double[] {0, 0, -1})
            .build();
    // 13 mm below the top slice: 2.6 slices, nearest slice 3, 2 mm above it.
    assertHit(new AxialHit(3, 20, 20, 2), LumbarGeometry.project(new double[] {-30, -20, 87}, v));
    assertHit(new AxialHit(19, 0, 0, 0), LumbarGeometry.project(new double[] {-40, -30, 5}, v));
    assertHit(new AxialHit(0, 1, 2, 50), LumbarGeometry.project(new double[] {-39, -29.5, 150}, v));
  }

  @Test
  void aShearedStackProjectsAlongTheNormalNotTheSliceDirection() {
    // Slices step 5 mm along (0, 0.6, 0.8): 4 mm along the normal and 3 mm along the columns.
    Volume v =
        Volume.builder(10, 32, 32)
            .floats(new float[10 * 32 * 32])
            .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
            .sliceDirection(new double[] {0, 0.6, 0.8})
            .spacing(1, 1, 5)
            .build();
    // z 9: 2.25 slices, slice 2's plane (z 8) 1 mm below; that slice's voxel (0, 0) is (0, 6, 8).
    assertHit(new AxialHit(2, 4, 2, 1), LumbarGeometry.project(new double[] {2, 10, 9}, v));
  }

  @Test
  void voxelPositionsProjectBackToThemselves() {
    Volume v = oblique();
    double[] n = Volume.cross(v.rowDirection(), v.columnDirection());
    SplittableRandom rnd = new SplittableRandom(1);
    for (int i = 0; i < 1000; i++) {
      int k = rnd.nextInt(v.slices());
      double row = rnd.nextDouble(-10, 74);
      double column = rnd.nextDouble(-10, 58);
      double off = rnd.nextDouble(-1.9, 1.9);
      double[] p = v.toPatient(k, row, column);
      for (int a = 0; a < 3; a++) p[a] += off * n[a];
      assertHit(new AxialHit(k, row, column, Math.abs(off)), LumbarGeometry.project(p, v));
    }
  }

  @Test
  void projectWithinRefusesAPointBeyondTheLimit() {
    Volume v = oblique();
    double[] below = {13, -22.4, 24.3}; // 6 mm before slice 0
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> LumbarGeometry.projectWithin(below, v, 5.0));
    assertTrue(
        e.getMessage().contains("is 6.0 mm from the nearest slice of the axial series"),
        e.getMessage());
    assertTrue(e.getMessage().contains("beyond 5.0 mm"), e.getMessage());
    assertHit(new AxialHit(0, 3, 4, 6), LumbarGeometry.projectWithin(below, v, 6.5));
    assertHit(
        new AxialHit(2, 10, 6, 1.5),
        LumbarGeometry.projectWithin(new double[] {14.5, -10.3, 34.6}, v, 2));
    IllegalArgumentException m =
        assertThrows(
            IllegalArgumentException.class, () -> LumbarGeometry.projectWithin(below, v, -1));
    assertTrue(m.getMessage().startsWith("maxMm: "), m.getMessage());
  }

  @Test
  void badPointsAreRefusedNamingTheProblem() {
    Volume v = oblique();
    String[][] cases = {
      {null, "pointLps: expected 3 values (x, y, z in LPS mm), got none"},
      {"2", "pointLps: expected 3 values (x, y, z in LPS mm), got 2 values"},
      {"4", "pointLps: expected 3 values (x, y, z in LPS mm), got 4 values"},
    };
    for (String[] c : cases) {
      double[] p = c[0] == null ? null : new double[Integer.parseInt(c[0])];
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> LumbarGeometry.project(p, v));
      assertEquals(c[1], e.getMessage());
    }
    IllegalArgumentException nan =
        assertThrows(
            IllegalArgumentException.class,
            () -> LumbarGeometry.project(new double[] {0, Double.NaN, 0}, v));
    assertEquals("pointLps[1]: expected a finite coordinate, got NaN", nan.getMessage());
    IllegalArgumentException inf =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                LumbarGeometry.projectWithin(new double[] {0, 0, Double.NEGATIVE_INFINITY}, v, 5));
    assertEquals("pointLps[2]: expected a finite coordinate, got -Infinity", inf.getMessage());
  }

  /** The slice index in {@code v}'s order of the file of {@code instance}. */
  static int sliceOf(Volume v, int instance) {
    List<SliceSource> src = v.sources();
    for (int i = 0; i < src.size(); i++) {
      if (src.get(i).instanceNumber() == instance) return i;
    }
    throw new AssertionError("no instance " + instance + " in " + v);
  }

  String field(String[] row, String column) {
    return row[truthColumn.get(column)];
  }

  @Test
  void spinalCanalPointsLandOnTheSubarticularSlicesOfTheirLevel() throws IOException {
    int checked = 0;
    int sameSlice = 0;
    for (Rsna2024.LumbarLabel study : data.train()) {
      long axialId = -1;
      for (Rsna2024.SeriesDescription s : data.series()) {
        if (s.studyId() == study.studyId() && s.description().equals(Rsna2024.AXIAL_T2)) {
          axialId = s.seriesId();
        }
      }
      Volume axial =
          DicomSeriesReader.read(
              data.studyDirs().get(study.studyId()).resolve(Long.toString(axialId)));
      double top = Double.NEGATIVE_INFINITY;
      for (Level level : Level.values()) {
        double[] canal = null;
        Map<Condition, String[]> recess = new HashMap<>();
        for (String[] row : truth) {
          if (Long.parseLong(field(row, "study_id")) != study.studyId()) continue;
          if (!field(row, "level").equals(level.label)) continue;
          Condition c = Condition.parse(field(row, "condition"));
          if (c == Condition.SPINAL_CANAL_STENOSIS) {
            canal =
                new double[] {
                  Double.parseDouble(field(row, "x_mm")),
                  Double.parseDouble(field(row, "y_mm")),
                  Double.parseDouble(field(row, "z_mm"))
                };
          } else if (c == Condition.LEFT_SUBARTICULAR_STENOSIS
              || c == Condition.RIGHT_SUBARTICULAR_STENOSIS) {
            recess.put(c, row);
          }
        }
        String at = "study " + study.studyId() + " " + level.label;
        assertEquals(2, recess.size(), at);
        AxialHit hit = LumbarGeometry.projectWithin(canal, axial, axial.spacing()[2]);
        assertTrue(hit.distanceMm() < axial.spacing()[2], at + ": " + hit);
        assertTrue(hit.row() > 0 && hit.row() < axial.rows() - 1, at + ": " + hit);
        assertTrue(hit.column() > 0 && hit.column() < axial.columns() - 1, at + ": " + hit);
        for (String[] row : recess.values()) {
          assertEquals(axialId, Long.parseLong(field(row, "series_id")), at);
          int labelled = sliceOf(axial, Integer.parseInt(field(row, "instance_number")));
          assertTrue(
              Math.abs(hit.slice() - labelled) <= 1,
              at
                  + ": canal on slice "
                  + hit.slice()
                  + ", "
                  + field(row, "condition")
                  + " on "
                  + labelled);
          if (hit.slice() == labelled) sameSlice++;
          // The recess point lies in its slice's plane: it projects onto its own label.
          double[] p = {
            Double.parseDouble(field(row, "x_mm")),
            Double.parseDouble(field(row, "y_mm")),
            Double.parseDouble(field(row, "z_mm"))
          };
          AxialHit own = LumbarGeometry.project(p, axial);
          assertEquals(labelled, own.slice(), at);
          assertEquals(0, own.distanceMm(), 1e-3, at);
          assertEquals(Double.parseDouble(field(row, "x")), own.column(), 1e-3, at);
          assertEquals(Double.parseDouble(field(row, "y")), own.row(), 1e-3, at);
          checked++;
        }
        top = Math.max(top, canal[2]);
      }
      // 100 mm above the highest disc is far above the stack.
      double[] far = {axial.origin()[0], axial.origin()[1], top + 100};
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class, () -> LumbarGeometry.projectWithin(far, axial, 5.0));
      assertTrue(
          e.getMessage().contains("mm from the nearest slice of the axial series"), e.getMessage());
      assertTrue(e.getMessage().endsWith("beyond 5.0 mm"), e.getMessage());
    }
    assertEquals(3 * 5 * 2, checked);
    assertTrue(sameSlice >= checked / 2, sameSlice + " of " + checked + " on the same slice");
  }
}
