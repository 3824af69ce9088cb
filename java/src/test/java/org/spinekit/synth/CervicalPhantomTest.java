package org.spinekit.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;
import org.spinekit.io.Volume;

/** The in-memory phantom: determinism, densities under the labels, anatomy order, fractures. */
class CervicalPhantomTest {
  private static final int SIZE = 112;

  private static CervicalAnatomy anatomy(long seed, boolean fractured) {
    return CervicalAnatomy.sample(seed, SIZE, 1.0, 1.0, 9, fractured);
  }

  @Test
  void sameSeedSameVoxelsWhateverTheThreads() throws Exception {
    CervicalPhantom.Rendered a = CervicalPhantom.render(anatomy(11, true));
    ForkJoinPool one = new ForkJoinPool(1);
    CervicalPhantom.Rendered b;
    try {
      b = one.submit(() -> CervicalPhantom.render(anatomy(11, true))).get();
    } finally {
      one.shutdown();
    }
    assertArrayEquals(a.image().shorts(), b.image().shorts());
    assertArrayEquals(a.mask().shorts(), b.mask().shorts());
    assertEquals(a.truth(), b.truth());
    assertEquals(a.boxes(), b.boxes());

    CervicalPhantom.Rendered c = CervicalPhantom.render(anatomy(12, true));
    assertFalse(
        a.image().slices() == c.image().slices()
            && java.util.Arrays.equals(a.image().shorts(), c.image().shorts()),
        "seeds 11 and 12 gave the same image");
  }

  @Test
  void geometryIsTheRsnaSeriesOrder() {
    CervicalAnatomy an = anatomy(3, false);
    Volume v = CervicalPhantom.render(an).image();
    assertEquals(Volume.Kind.UINT16, v.kind());
    assertEquals(-1024, v.intercept());
    assertEquals(1, v.slope());
    assertArrayEquals(new double[] {1, 0, 0}, v.rowDirection());
    assertArrayEquals(new double[] {0, 1, 0}, v.columnDirection());
    assertArrayEquals(new double[] {0, 0, -1}, v.sliceDirection());
    assertEquals(SIZE, v.rows());
    assertEquals(SIZE, v.columns());
    // from above C1 into T2 at 1 mm: well over 150 slices, each 1 mm lower than the last
    assertTrue(v.slices() > 150 && v.slices() < 260, "slices " + v.slices());
    assertEquals(v.toPatient(0, 0, 0)[2] - 1, v.toPatient(1, 0, 0)[2], 1e-9);
  }

  @Test
  void labelsSitOnBoneInCraniocaudalOrder() {
    for (long seed = 1; seed <= 3; seed++) {
      CervicalAnatomy an = anatomy(seed, seed == 2);
      CervicalPhantom.Rendered r = CervicalPhantom.render(an);
      Volume img = r.image();
      short[] m = r.mask().shorts();
      short[] im = img.shorts();
      int rows = img.rows();
      int cols = img.columns();
      int plane = rows * cols;
      double[] sum = new double[20];
      double[] sliceSum = new double[20];
      long[] n = new long[20];
      for (int i = 0; i < m.length; i++) {
        int l = m[i];
        sum[l] += (im[i] & 0xffff) - 1024;
        sliceSum[l] += i / plane;
        n[l]++;
      }
      // soft tissue two voxels out from each cervical vertebra, in plane
      double[] ring = new double[8];
      long[] ringN = new long[8];
      for (int k = 0; k < img.slices(); k++) {
        for (int y = 2; y < rows - 2; y++) {
          for (int x = 2; x < cols - 2; x++) {
            int i = k * plane + y * cols + x;
            if (m[i] != 0) continue;
            int near = 0;
            boolean adjacent = false;
            for (int dy = -2; dy <= 2; dy++) {
              for (int dx = -2; dx <= 2; dx++) {
                int l = m[i + dy * cols + dx];
                if (l == 0) continue;
                if (Math.abs(dy) <= 1 && Math.abs(dx) <= 1) adjacent = true;
                else if (l <= 7) near = l;
              }
            }
            if (near != 0 && !adjacent) {
              ring[near] += (im[i] & 0xffff) - 1024;
              ringN[near]++;
            }
          }
        }
      }
      double lastCentre = -1;
      for (int l = 1; l <= 7; l++) {
        assertTrue(
            n[l] > 3000 && n[l] < 40000,
            "seed " + seed + " C" + l + ": " + n[l] + " voxels of 1 mm^3");
        double mean = sum[l] / n[l];
        assertTrue(mean > 400, "seed " + seed + " C" + l + ": mean " + mean + " HU");
        double around = ring[l] / ringN[l];
        assertTrue(around < 150, "seed " + seed + " around C" + l + ": mean " + around + " HU");
        double centre = sliceSum[l] / n[l];
        assertTrue(
            centre > lastCentre + 8,
            "seed "
                + seed
                + " C"
                + l
                + " centre slice "
                + centre
                + " not below the one above ("
                + lastCentre
                + ")");
        lastCentre = centre;
      }
      for (int l = 8; l <= 9; l++) {
        assertTrue(n[l] > 0, "seed " + seed + " T" + (l - 7) + " missing");
        assertTrue(sum[l] / n[l] > 400, "seed " + seed + " T" + (l - 7));
        assertTrue(sliceSum[l] / n[l] > lastCentre);
        lastCentre = sliceSum[l] / n[l];
      }
      for (int l = 10; l <= 19; l++) {
        assertEquals(0, n[l], "seed " + seed + " label " + l + " below the series end");
      }
      // background: everything not labelled averages far below bone
      assertTrue(sum[0] / n[0] < 0, "background mean " + sum[0] / n[0]);

      // the truth agrees with the mask
      for (CervicalTruth t : r.truth()) {
        assertEquals(n[t.label()], t.voxels(), "voxels of " + t.name());
        if (t.label() <= 9) {
          assertTrue(
              t.sliceMin() <= t.centerSlice() && t.centerSlice() <= t.sliceMax() || t.label() == 9,
              t.name() + " centre outside its extent: " + t);
        }
      }
    }
  }

  @Test
  void everyFractureKindIsVisibleAndConfinedToItsVertebra() {
    CervicalAnatomy clean = anatomy(21, false);
    assertTrue(clean.fractures().isEmpty());
    CervicalPhantom.Rendered base = CervicalPhantom.render(clean);
    int[][] cases = {{2, 0}, {6, 0}, {1, 1}, {5, 1}, {4, 2}, {7, 2}, {1, 0}};
    CervicalFracture.Kind[] kinds = CervicalFracture.Kind.values();
    for (int[] c : cases) {
      int label = c[0];
      CervicalFracture.Kind kind = kinds[c[1]];
      CervicalFracture f = clean.drawFracture(100 + label, label, kind);
      CervicalAnatomy broken = clean.withFractures(List.of(f));
      CervicalPhantom.Rendered r = CervicalPhantom.render(broken);
      String what = kind + " of C" + label;
      assertEquals(kind, r.truth().get(label - 1).fracture(), what);

      short[] a = base.image().shorts();
      short[] b = r.image().shorts();
      short[] ma = base.mask().shorts();
      short[] mb = r.mask().shorts();
      int[] box = box(base, label, r);
      Volume v = base.image();
      int plane = v.rows() * v.columns();
      long strong = 0;
      double inside = 0;
      for (int i = 0; i < a.length; i++) {
        int k = i / plane;
        int y = (i % plane) / v.columns();
        int x = i % v.columns();
        boolean in =
            k >= box[0] - 1
                && k <= box[1] + 1
                && y >= box[2] - 2
                && y <= box[3] + 2
                && x >= box[4] - 2
                && x <= box[5] + 2;
        int d = Math.abs((a[i] & 0xffff) - (b[i] & 0xffff));
        if (!in) {
          assertEquals(
              0, d, what + ": image changed outside the vertebra at " + k + "," + y + "," + x);
          assertEquals(ma[i], mb[i], what + ": mask changed outside the vertebra");
        } else {
          inside += d;
          if (d > 150) strong++;
        }
        if (mb[i] != ma[i]) {
          assertTrue(
              ma[i] == label || mb[i] == label, what + ": label " + ma[i] + " became " + mb[i]);
        }
      }
      // a learnable signal: many voxels change by more than 150 HU
      assertTrue(strong >= 80, what + ": only " + strong + " voxels changed by > 150 HU");
      assertTrue(inside > 40000, what + ": total change " + inside + " HU");
      if (kind == CervicalFracture.Kind.CRACK) {
        // a crack stays inside the vertebra: same labels, darker image
        assertArrayEquals(ma, mb, what + ": a crack must not change the mask");
      }
      // boxes: each on the fractured vertebra's pixels
      assertFalse(r.boxes().isEmpty(), what + ": no boxes");
      for (CervicalPhantom.Box bx : r.boxes()) {
        assertEquals(label, bx.label());
        int k = bx.instanceNumber() - 1;
        boolean labelled = false;
        for (int y = bx.y(); y < bx.y() + bx.height(); y++) {
          for (int x = bx.x(); x < bx.x() + bx.width(); x++) {
            if (mb[k * plane + y * v.columns() + x] == label) labelled = true;
          }
        }
        assertTrue(labelled, what + ": box " + bx + " covers none of the vertebra");
        assertTrue(
            k >= box[0] && k <= box[1],
            what + ": box slice " + k + " outside " + box[0] + ".." + box[1]);
      }
    }
  }

  @Test
  void fracturedStudiesHaveCervicalFracturesOnly() {
    int withFracture = 0;
    List<CervicalFracture.Kind> seen = new ArrayList<>();
    for (long seed = 0; seed < 40; seed++) {
      List<CervicalFracture> fs = CervicalAnatomy.sample(seed, 64, 2.0, 2.0, 8, true).fractures();
      assertFalse(fs.isEmpty(), "seed " + seed);
      assertTrue(fs.size() <= 3);
      withFracture++;
      for (CervicalFracture f : fs) {
        assertTrue(f.label() >= 1 && f.label() <= 7);
        assertFalse(f.label() <= 2 && f.kind() == CervicalFracture.Kind.COLLAPSE);
        if (!seen.contains(f.kind())) seen.add(f.kind());
      }
      assertTrue(CervicalAnatomy.sample(seed, 64, 2.0, 2.0, 8, false).fractures().isEmpty());
    }
    assertEquals(40, withFracture);
    assertEquals(3, seen.size(), "kinds drawn: " + seen);
  }

  @Test
  void badArgumentsNameThemselves() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> CervicalAnatomy.sample(1, 128, 1.0, 1.0, 7, false));
    assertTrue(e.getMessage().startsWith("lastLabel"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new CervicalFracture(
                    8, CervicalFracture.Kind.CRACK, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5, 0));
    assertTrue(e.getMessage().startsWith("label"), e.getMessage());
    CervicalAnatomy an = anatomy(1, false);
    CervicalFracture collapse =
        new CervicalFracture(
            1, CervicalFracture.Kind.COLLAPSE, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0.3);
    e = assertThrows(IllegalArgumentException.class, () -> an.withFractures(List.of(collapse)));
    assertTrue(e.getMessage().contains("C1"), e.getMessage());
    assertNull(CervicalFracture.Kind.parse("none"));
    assertNotNull(CervicalFracture.Kind.parse("step"));
  }

  /** {slice, row, column} min/max of a label over the masks of two renders. */
  private static int[] box(CervicalPhantom.Rendered a, int label, CervicalPhantom.Rendered b) {
    int[] out = {Integer.MAX_VALUE, -1, Integer.MAX_VALUE, -1, Integer.MAX_VALUE, -1};
    for (CervicalPhantom.Rendered r : List.of(a, b)) {
      CervicalTruth t = r.truth().get(label - 1);
      out[0] = Math.min(out[0], t.sliceMin());
      out[1] = Math.max(out[1], t.sliceMax());
      out[2] = Math.min(out[2], t.rowMin());
      out[3] = Math.max(out[3], t.rowMax());
      out[4] = Math.min(out[4], t.columnMin());
      out[5] = Math.max(out[5], t.columnMax());
    }
    return out;
  }
}
