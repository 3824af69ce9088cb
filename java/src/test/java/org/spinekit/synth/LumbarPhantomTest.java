package org.spinekit.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.spinekit.io.Volume;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Level;

/** The in-memory lumbar studies: anatomy that follows the grades, labels on their structures. */
class LumbarPhantomTest {
  private static final LumbarSynth.Config SMALL = LumbarSynth.Config.small(20240607L);

  /** Stored value above which a T2 pixel is CSF (CSF is about 1800, fat below 1000). */
  private static final double CSF_T2 = 1150;

  /** Stored value above which a T1 pixel is fat (fat about 1400, marrow about 1040). */
  private static final double FAT_T1 = 1100;

  /**
   * Stored value above which a T1 pixel near a foramen is fat: what surrounds it (nerve, disc,
   * muscle, cortex) stays below 700; the gain, the coil's shading and the slice's partial volume
   * can take fat down to about 1000.
   */
  private static final double FORAMEN_FAT_T1 = 900;

  private static double pixel(LumbarStudy st, LumbarTruth t) {
    Volume v = seriesOf(st, t).volume();
    return v.value(t.instanceNumber() - 1, (int) Math.round(t.y()), (int) Math.round(t.x()));
  }

  private static LumbarSeries seriesOf(LumbarStudy st, LumbarTruth t) {
    for (LumbarSeries s : st.series()) {
      if (s.seriesId() == t.seriesId()) return s;
    }
    throw new AssertionError("no series " + t.seriesId());
  }

  /** Pixels above {@code threshold} contiguous with the label's pixel along its image row. */
  private static int runAlongRow(LumbarStudy st, LumbarTruth t, double threshold) {
    Volume v = seriesOf(st, t).volume();
    int z = t.instanceNumber() - 1;
    int r = (int) Math.round(t.y());
    int c0 = (int) Math.round(t.x());
    int n = 0;
    for (int c = c0; c < v.columns() && v.value(z, r, c) > threshold; c++) n++;
    for (int c = c0 - 1; c >= 0 && v.value(z, r, c) > threshold; c--) n++;
    return n;
  }

  /** Pixels above {@code threshold} in a square of half-side {@code half} around the label. */
  private static int brightAround(LumbarStudy st, LumbarTruth t, int half, double threshold) {
    Volume v = seriesOf(st, t).volume();
    int z = t.instanceNumber() - 1;
    int r0 = (int) Math.round(t.y());
    int c0 = (int) Math.round(t.x());
    int n = 0;
    for (int r = r0 - half; r <= r0 + half; r++) {
      for (int c = c0 - half; c <= c0 + half; c++) {
        if (v.value(z, r, c) > threshold) n++;
      }
    }
    return n;
  }

  private static LumbarStudy withGrade(int index, Condition c, Level l, Grade g) {
    return LumbarSynth.study(SMALL, index, LumbarGrades.all(Grade.NORMAL_MILD).with(c, l, g));
  }

  @Test
  void canalDiameterMeasuredOnTheImageShrinksWithTheGrade() {
    for (int index = 0; index < 2; index++) {
      for (Level level : new Level[] {Level.L3_L4, Level.L4_L5}) {
        Map<Grade, Integer> measured = new EnumMap<>(Grade.class);
        Map<Grade, Double> truth = new EnumMap<>(Grade.class);
        for (Grade g : Grade.values()) {
          LumbarStudy st = withGrade(index, Condition.SPINAL_CANAL_STENOSIS, level, g);
          LumbarTruth t = st.truth(Condition.SPINAL_CANAL_STENOSIS, level);
          measured.put(g, runAlongRow(st, t, CSF_T2));
          truth.put(g, st.phantom().canalDiameter(level));
        }
        String where =
            "study "
                + index
                + " "
                + level.label
                + ": measured "
                + measured
                + " px, true "
                + truth
                + " mm";
        assertTrue(measured.get(Grade.NORMAL_MILD) > measured.get(Grade.MODERATE), where);
        assertTrue(measured.get(Grade.MODERATE) > measured.get(Grade.SEVERE), where);
        // Normal/Mild keeps at least 75% of the diameter, Moderate 45-60%, Severe 15-30%.
        double full =
            truth.get(Grade.NORMAL_MILD)
                / (1 - st(index).phantom().narrowing(Condition.SPINAL_CANAL_STENOSIS, level));
        assertTrue(
            truth.get(Grade.MODERATE) / full >= 0.44 && truth.get(Grade.MODERATE) / full <= 0.61,
            where);
        assertTrue(
            truth.get(Grade.SEVERE) / full >= 0.14 && truth.get(Grade.SEVERE) / full <= 0.31,
            where);
        // The image agrees with the geometry to within a couple of pixels.
        double px = seriesPixel(index);
        assertEquals(
            truth.get(Grade.NORMAL_MILD) / px, measured.get(Grade.NORMAL_MILD), 2.5, where);
      }
    }
  }

  private static LumbarStudy st(int index) {
    return LumbarSynth.study(SMALL, index, LumbarGrades.all(Grade.NORMAL_MILD));
  }

  private static double seriesPixel(int index) {
    return st(index).series(LumbarSeries.SAGITTAL_T2).volume().spacing()[1];
  }

  @Test
  void foraminalFatAndLateralRecessShrinkWithTheirGrades() {
    for (Level level : new Level[] {Level.L2_L3, Level.L5_S1}) {
      for (Condition c :
          new Condition[] {
            Condition.LEFT_NEURAL_FORAMINAL_NARROWING, Condition.RIGHT_NEURAL_FORAMINAL_NARROWING
          }) {
        int[] fat = new int[3];
        for (Grade g : Grade.values()) {
          LumbarStudy st = withGrade(1, c, level, g);
          fat[g.ordinal()] = brightAround(st, st.truth(c, level), 4, FAT_T1);
        }
        String where =
            c.label + " " + level.label + ": fat pixels " + java.util.Arrays.toString(fat);
        assertTrue(fat[0] > fat[1] && fat[1] > fat[2], where);
      }
      for (Condition c :
          new Condition[] {
            Condition.LEFT_SUBARTICULAR_STENOSIS, Condition.RIGHT_SUBARTICULAR_STENOSIS
          }) {
        double[] value = new double[3];
        for (Grade g : Grade.values()) {
          LumbarStudy st = withGrade(1, c, level, g);
          value[g.ordinal()] = pixel(st, st.truth(c, level));
        }
        String where =
            c.label + " " + level.label + ": recess pixel " + java.util.Arrays.toString(value);
        assertTrue(value[0] > CSF_T2 * 0.8, where);
        assertTrue(value[0] > value[2] + 500, where);
      }
    }
  }

  @Test
  void everyLabelLiesInsideItsImageOnItsStructureAtNormalGrade() {
    for (int index = 0; index < SMALL.studies() + SMALL.testStudies(); index++) {
      LumbarStudy st = LumbarSynth.study(SMALL, index, LumbarGrades.all(Grade.NORMAL_MILD));
      assertEquals(25, st.truth().size());
      for (LumbarTruth t : st.truth()) {
        Volume v = seriesOf(st, t).volume();
        String where = "study " + index + " " + t;
        assertTrue(t.instanceNumber() >= 1 && t.instanceNumber() <= v.slices(), where);
        assertTrue(t.x() >= 0 && t.x() <= v.columns() - 1, where);
        assertTrue(t.y() >= 0 && t.y() <= v.rows() - 1, where);
        LumbarPhantom.Tissue tissue = st.phantom().tissueAt(t.xMm(), t.yMm(), t.zMm());
        double value = pixel(st, t);
        switch (t.condition()) {
          case SPINAL_CANAL_STENOSIS -> {
            assertEquals(LumbarSeries.SAGITTAL_T2, seriesOf(st, t).description(), where);
            assertEquals(LumbarPhantom.Tissue.CSF, tissue, where);
            assertTrue(value > CSF_T2, where + ": T2 value " + value);
          }
          case LEFT_NEURAL_FORAMINAL_NARROWING, RIGHT_NEURAL_FORAMINAL_NARROWING -> {
            assertEquals(LumbarSeries.SAGITTAL_T1, seriesOf(st, t).description(), where);
            assertEquals(LumbarPhantom.Tissue.FAT, tissue, where);
            assertTrue(value > FORAMEN_FAT_T1, where + ": T1 value " + value);
          }
          case LEFT_SUBARTICULAR_STENOSIS, RIGHT_SUBARTICULAR_STENOSIS -> {
            assertEquals(LumbarSeries.AXIAL_T2, seriesOf(st, t).description(), where);
            assertEquals(LumbarPhantom.Tissue.CSF, tissue, where);
            assertTrue(value > CSF_T2 * 0.8, where + ": T2 value " + value);
          }
        }
        // The label is the point's projection on its slice: mapping it back lands within half
        // a slice of the point, along the slice normal only.
        double[] back = v.toPatient(t.instanceNumber() - 1, t.y(), t.x());
        double[] n = v.sliceDirection();
        double along = 0;
        double off2 = 0;
        for (int a = 0; a < 3; a++) {
          double d = back[a] - t.point()[a];
          along += d * n[a];
        }
        for (int a = 0; a < 3; a++) {
          double d = back[a] - t.point()[a] - along * n[a];
          off2 += d * d;
        }
        assertTrue(Math.abs(along) <= 0.5 * v.spacing()[2] + 1e-9, where + ": " + along);
        assertTrue(Math.sqrt(off2) < 1e-6, where);
      }
    }
  }

  @Test
  void patientLeftIsPlusXOnEverySeries() {
    for (int index = 0; index < 3; index++) {
      LumbarStudy st = LumbarSynth.study(SMALL, index);
      double mid = st.phantom().midlineX();
      Volume sag = st.series(LumbarSeries.SAGITTAL_T1).volume();
      Volume ax = st.series(LumbarSeries.AXIAL_T2).volume();
      assertArrayEquals(new double[] {0, 1, 0}, sag.rowDirection(), 0);
      assertArrayEquals(new double[] {0, 0, -1}, sag.columnDirection(), 0);
      assertArrayEquals(new double[] {1, 0, 0}, ax.rowDirection(), 0);
      assertArrayEquals(new double[] {0, 1, 0}, ax.columnDirection(), 0);
      for (Level l : Level.values()) {
        LumbarTruth left = st.truth(Condition.LEFT_NEURAL_FORAMINAL_NARROWING, l);
        LumbarTruth right = st.truth(Condition.RIGHT_NEURAL_FORAMINAL_NARROWING, l);
        double xLeft = sag.toPatient(left.instanceNumber() - 1, 0, 0)[0];
        double xRight = sag.toPatient(right.instanceNumber() - 1, 0, 0)[0];
        assertTrue(
            xLeft > mid + 10 && xRight < mid - 10,
            l.label + ": left slice x " + xLeft + ", right " + xRight + ", midline " + mid);
        assertTrue(left.xMm() > right.xMm());
        LumbarTruth sl = st.truth(Condition.LEFT_SUBARTICULAR_STENOSIS, l);
        LumbarTruth sr = st.truth(Condition.RIGHT_SUBARTICULAR_STENOSIS, l);
        assertEquals(sl.instanceNumber(), sr.instanceNumber());
        // Axial images: patient left toward higher column index.
        assertTrue(sl.x() > sr.x() + 5, l.label + ": left column " + sl.x() + ", right " + sr.x());
        assertTrue(ax.toPatient(0, sl.y(), sl.x())[0] > mid);
        assertTrue(ax.toPatient(0, sr.y(), sr.x())[0] < mid);
      }
      // The left foramen is fat in the left half of the phantom, not its mirror image.
      LumbarPhantom ph = st.phantom();
      double[] p = ph.point(Condition.LEFT_NEURAL_FORAMINAL_NARROWING, Level.L4_L5);
      assertEquals(LumbarPhantom.Tissue.FAT, ph.tissueAt(p[0], p[1], p[2]));
    }
  }

  @Test
  void onlyTheNarrowedSideChanges() {
    LumbarStudy normal =
        withGrade(0, Condition.LEFT_NEURAL_FORAMINAL_NARROWING, Level.L4_L5, Grade.NORMAL_MILD);
    LumbarStudy severe =
        withGrade(0, Condition.LEFT_NEURAL_FORAMINAL_NARROWING, Level.L4_L5, Grade.SEVERE);
    LumbarTruth right = normal.truth(Condition.RIGHT_NEURAL_FORAMINAL_NARROWING, Level.L4_L5);
    LumbarTruth left = normal.truth(Condition.LEFT_NEURAL_FORAMINAL_NARROWING, Level.L4_L5);
    assertEquals(brightAround(normal, right, 4, FAT_T1), brightAround(severe, right, 4, FAT_T1));
    assertTrue(brightAround(normal, left, 4, FAT_T1) > brightAround(severe, left, 4, FAT_T1) + 5);
  }

  @Test
  void pointsMapBetweenSeriesThroughTheGeometry() {
    for (int index = 0; index < 3; index++) {
      LumbarStudy st = LumbarSynth.study(SMALL, index);
      Volume sagT2 = st.series(LumbarSeries.SAGITTAL_T2).volume();
      Volume sagT1 = st.series(LumbarSeries.SAGITTAL_T1).volume();
      Volume ax = st.series(LumbarSeries.AXIAL_T2).volume();
      double axialStep = ax.spacing()[2];
      for (Level l : Level.values()) {
        LumbarTruth scs = st.truth(Condition.SPINAL_CANAL_STENOSIS, l);
        double[] p = sagT2.toPatient(scs.instanceNumber() - 1, scs.y(), scs.x());
        LumbarTruth sub = st.truth(Condition.LEFT_SUBARTICULAR_STENOSIS, l);
        double zAxial = ax.toPatient(sub.instanceNumber() - 1, 0, 0)[2];
        assertTrue(
            Math.abs(p[2] - zAxial) <= 0.5 * axialStep + 4,
            l.label + ": canal point z " + p[2] + ", axial slice z " + zAxial);
        // The axial slice at that height shows the canal at the sagittal point: CSF-bright.
        int slice = (int) Math.round((ax.origin()[2] - p[2]) / axialStep);
        int row = (int) Math.round((p[1] - ax.origin()[1]) / ax.spacing()[0]);
        int col = (int) Math.round((p[0] - ax.origin()[0]) / ax.spacing()[1]);
        assertTrue(ax.value(slice, row, col) > CSF_T2 * 0.8, l.label + " axial at canal point");
        // Foramina on the T1 lie at the canal's height, to the side.
        LumbarTruth nfn = st.truth(Condition.RIGHT_NEURAL_FORAMINAL_NARROWING, l);
        double[] q = sagT1.toPatient(nfn.instanceNumber() - 1, nfn.y(), nfn.x());
        assertTrue(Math.abs(q[2] - p[2]) < 12, l.label + ": foramen z " + q[2] + " canal " + p[2]);
        assertTrue(p[0] - q[0] > 10, l.label + ": right foramen x " + q[0] + " canal " + p[0]);
      }
      // Levels run from head to foot.
      for (int i = 1; i < Level.values().length; i++) {
        assertTrue(
            st.truth(Condition.SPINAL_CANAL_STENOSIS, Level.values()[i]).zMm()
                < st.truth(Condition.SPINAL_CANAL_STENOSIS, Level.values()[i - 1]).zMm() - 20);
      }
    }
  }

  @Test
  void studiesAreDeterministicAndDistinct() {
    LumbarStudy a = LumbarSynth.study(SMALL, 1);
    LumbarStudy b = LumbarSynth.study(SMALL, 1);
    assertEquals(a.studyId(), b.studyId());
    assertEquals(a.frameOfReferenceUid(), b.frameOfReferenceUid());
    assertEquals(a.truth(), b.truth());
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(a.series().get(i).volume().shorts(), b.series().get(i).volume().shorts());
      assertEquals(a.series().get(i).seriesId(), b.series().get(i).seriesId());
    }
    LumbarStudy other = LumbarSynth.study(SMALL, 2);
    assertNotEquals(a.studyId(), other.studyId());
    assertNotEquals(a.frameOfReferenceUid(), other.frameOfReferenceUid());
    LumbarStudy reseeded = LumbarSynth.study(SMALL.withSeed(SMALL.seed() + 1), 1);
    assertNotEquals(a.studyId(), reseeded.studyId());
    assertFalse(
        java.util.Arrays.equals(
            a.series().get(0).volume().shorts(), reseeded.series().get(0).volume().shorts()));
    // A study does not depend on how many others the set has.
    LumbarStudy inLarger = LumbarSynth.study(SMALL.withStudies(10), 1);
    assertArrayEquals(
        a.series().get(2).volume().shorts(), inLarger.series().get(2).volume().shorts());
    assertTrue(a.test() == false && LumbarSynth.study(SMALL, 3).test());
  }

  @Test
  void seriesShareAFrameAndAreMrUint16() {
    LumbarStudy st = LumbarSynth.study(SMALL, 0);
    assertTrue(st.frameOfReferenceUid().matches("2\\.25\\.[1-9][0-9]*"));
    assertTrue(st.frameOfReferenceUid().length() <= 64);
    for (LumbarSeries s : st.series()) {
      Volume v = s.volume();
      assertEquals(Volume.Kind.UINT16, v.kind());
      assertEquals(1.0, v.slope());
      assertEquals(0.0, v.intercept());
      assertEquals(Long.toString(st.studyId()), v.series().studyInstanceUid());
      assertEquals(Long.toString(s.seriesId()), v.series().seriesInstanceUid());
      int max = 0;
      for (short x : v.shorts()) max = Math.max(max, x & 0xffff);
      assertTrue(max > 1500 && max <= LumbarScanner.MAX_VALUE, s.description() + " max " + max);
    }
    // T1 and T2 contrasts differ the right way round: fat brighter than CSF on T1, not on T2.
    LumbarPhantom ph = st.phantom();
    double[] csf = ph.point(Condition.SPINAL_CANAL_STENOSIS, Level.L3_L4);
    double[] fat = ph.point(Condition.LEFT_NEURAL_FORAMINAL_NARROWING, Level.L3_L4);
    double t1Csf = ph.signal(csf[0], csf[1], csf[2], LumbarPhantom.Contrast.T1);
    double t2Csf = ph.signal(csf[0], csf[1], csf[2], LumbarPhantom.Contrast.T2);
    double t1Fat = ph.signal(fat[0], fat[1], fat[2], LumbarPhantom.Contrast.T1);
    double t2Fat = ph.signal(fat[0], fat[1], fat[2], LumbarPhantom.Contrast.T2);
    assertTrue(
        t1Fat > 3 * t1Csf && t2Csf > 1.8 * t2Fat, t1Fat + " " + t1Csf + " " + t2Fat + " " + t2Csf);
  }

  @Test
  void gradesAreSkewedLikeTheRealData() {
    SplittableRandom r = new SplittableRandom(5);
    int n = 3000;
    int[][] counts = new int[Level.values().length][3];
    int total = 0;
    int severeStudies = 0;
    for (int i = 0; i < n; i++) {
      LumbarGrades g = LumbarGrades.random(r);
      boolean anySevere = false;
      for (Condition c : Condition.values()) {
        for (Level l : Level.values()) {
          counts[l.ordinal()][g.get(c, l).ordinal()]++;
          total++;
          anySevere |= g.get(c, l) == Grade.SEVERE;
        }
      }
      if (anySevere) severeStudies++;
    }
    int[] byGrade = new int[3];
    for (int[] c : counts) {
      for (int k = 0; k < 3; k++) byGrade[k] += c[k];
    }
    double normal = byGrade[0] / (double) total;
    double moderate = byGrade[1] / (double) total;
    double severe = byGrade[2] / (double) total;
    String where = "normal " + normal + " moderate " + moderate + " severe " + severe;
    assertTrue(normal > 0.6 && normal < 0.85, where);
    assertTrue(moderate > 0.1 && moderate < 0.28, where);
    assertTrue(severe > 0.03 && severe < 0.15, where);
    assertTrue(severeStudies > n / 5, "studies with a severe grade: " + severeStudies);
    double degL12 = 1 - counts[0][0] / (5.0 * n);
    double degL45 = 1 - counts[3][0] / (5.0 * n);
    double degL5S1 = 1 - counts[4][0] / (5.0 * n);
    assertTrue(
        degL45 > 2 * degL12 && degL5S1 > 2 * degL12,
        "abnormal share L1/L2 " + degL12 + ", L4/L5 " + degL45 + ", L5/S1 " + degL5S1);
  }

  @Test
  void configRefusesWhatCannotWork() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SMALL.withSagittalSlices(5, 5, 4.0));
    assertTrue(e.getMessage().startsWith("sagittalT1Slices:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SMALL.withStudies(0));
    assertTrue(e.getMessage().startsWith("studies:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SMALL.withImageSize(16, 96));
    assertTrue(e.getMessage().startsWith("sagittalSize:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> SMALL.withFov(100, 160));
    assertTrue(e.getMessage().startsWith("sagittalFov:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> LumbarSynth.study(SMALL, 4));
    assertTrue(e.getMessage().startsWith("index:"), e.getMessage());
    LumbarSynth.Config demo = LumbarSynth.Config.demo(1);
    assertEquals(256, demo.sagittalSize());
    assertEquals(192, demo.axialSize());
    assertTrue(demo.studies() > SMALL.studies());
  }
}
