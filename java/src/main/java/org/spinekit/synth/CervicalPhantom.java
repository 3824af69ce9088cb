package org.spinekit.synth;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.spinekit.io.Volume;

/**
 * Renders a {@link CervicalAnatomy} onto its axial grid: the CT image (HU stored as unsigned 16-bit
 * with Rescale Intercept -1024, Slope 1) and the vertebra label mask (0 background, 1..7 C1..C7,
 * 8..19 T1..T12), slice 0 the most superior, as in the RSNA 2022 series.
 *
 * <p>Each slice is evaluated on its own (in parallel on the common or the calling fork-join pool)
 * without allocating per voxel; the noise is a hash of the voxel index, so the result does not
 * depend on the order or the number of threads. Intensities: air, fat, muscle with a slow texture,
 * airway, lungs, CSF and cord, discs, skull base, ribs, cortical and cancellous bone, fracture
 * lines; then a 3x3 binomial blur in plane and Gaussian noise. The mask comes from the same bone
 * geometry before blur and noise.
 */
public final class CervicalPhantom {
  /** HU of the stored value 0. */
  public static final int RESCALE_INTERCEPT = -1024;

  private CervicalPhantom() {}

  /**
   * One box of {@code train_bounding_boxes.csv}: the pixels of one fractured vertebra in one slice
   * where the fracture changed the bone; {@code x} is the first column, {@code y} the first row.
   */
  public record Box(int label, int instanceNumber, int x, int y, int width, int height) {}

  /** The rendered study. */
  public record Rendered(Volume image, Volume mask, List<CervicalTruth> truth, List<Box> boxes) {}

  /** Renders the image, the mask, the per-vertebra truth and the fracture boxes. */
  public static Rendered render(CervicalAnatomy an) {
    int slices = an.slices;
    int rows = an.rows;
    int cols = an.columns;
    int plane = rows * cols;
    short[] image = new short[slices * plane];
    short[] mask = new short[slices * plane];
    List<CervicalVertebra> fractured = new ArrayList<>();
    for (CervicalVertebra v : an.vertebrae) {
      if (v.fracture != null) fractured.add(v);
    }
    int[][] zone = new int[slices][4 * fractured.size()];
    IntStream.range(0, slices)
        .parallel()
        .forEach(k -> renderSlice(an, k, image, mask, fractured, zone[k]));

    Volume img =
        geometry(an, Volume.builder(slices, rows, cols))
            .shorts(image, false, 1, RESCALE_INTERCEPT)
            .build();
    Volume msk = geometry(an, Volume.builder(slices, rows, cols)).shorts(mask, false, 1, 0).build();

    List<Box> boxes = new ArrayList<>();
    for (int k = 0; k < slices; k++) {
      for (int f = 0; f < fractured.size(); f++) {
        int[] z = zone[k];
        if (z[4 * f] <= z[4 * f + 1]) {
          boxes.add(
              new Box(
                  fractured.get(f).label,
                  k + 1,
                  z[4 * f + 2],
                  z[4 * f],
                  z[4 * f + 3] - z[4 * f + 2] + 1,
                  z[4 * f + 1] - z[4 * f] + 1));
        }
      }
    }
    return new Rendered(img, msk, CervicalTruth.of(an, mask), boxes);
  }

  private static Volume.Builder geometry(CervicalAnatomy an, Volume.Builder b) {
    return b.spacing(an.pixel, an.pixel, an.sliceSpacing)
        .origin(an.x0, an.y0, an.zTop)
        .orientation(new double[] {1, 0, 0}, new double[] {0, 1, 0})
        .sliceDirection(new double[] {0, 0, -1});
  }

  private static void renderSlice(
      CervicalAnatomy an,
      int k,
      short[] image,
      short[] mask,
      List<CervicalVertebra> fractured,
      int[] zone) {
    int rows = an.rows;
    int cols = an.columns;
    int plane = rows * cols;
    int base = k * plane;
    double px = an.pixel;
    double z = an.sliceZ(k);
    float[] hu = new float[plane];

    double ia = an.axisIndexAtZ(z);
    double ic = an.canalIndexAtZ(z);
    double axX = an.axisX(ia);
    double axY = an.axisY(ia);
    double ox = axX;
    double oy = axY + an.outlineOffset(ia);
    double orx = an.outlineHalfX(ia);
    double ory = an.outlineHalfY(ia);
    double irx = orx - an.fatThickness;
    double iry = ory - an.fatThickness;
    double acx = axX;
    double acy = axY - an.airwayOffset(ia);
    double arx = an.airwayHalfX(ia);
    double ary = an.airwayHalfY(ia);
    // lungs: inside the rib cage, beside the mediastinum, growing from the apex down
    double depth = an.lungApexZ - z;
    double grow = depth > 0 ? Math.min(1, Math.sqrt(depth / 45)) : 0;
    double lr = grow * 0.33 * an.ribCageHalfX(ia);
    double lcx = 0.52 * an.ribCageHalfX(ia);
    double lcy = axY + an.ribCageOffset(ia) + 0.15 * an.ribCageHalfY(ia);
    double lry = grow * 0.7 * an.ribCageHalfY(ia);
    double ccx = an.canalX(ic);
    double ccy = an.canalY(ic);
    double cru = an.canalHalfU(ic);
    double crv = an.canalHalfV(ic);
    double cordU = 0.55 * cru;
    double cordV = 0.55 * crv;

    float[] texX = new float[cols];
    for (int c = 0; c < cols; c++) {
      texX[c] = (float) Math.sin((an.x0 + c * px) / 17.0 + an.texturePhaseX);
    }
    float[] texY = new float[rows];
    for (int r = 0; r < rows; r++) {
      texY[r] = (float) (8 * Math.cos((an.y0 + r * px) / 23.0 + an.texturePhaseY + 0.05 * z));
    }
    float muscle = (float) an.muscleHu;
    for (int r = 0; r < rows; r++) {
      double y = an.y0 + r * px;
      double ey = (y - oy) / ory;
      double iy = (y - oy) / iry;
      double dyAir = (y - acy) / ary;
      double dyLung = lr > 0 ? (y - lcy) / lry : 0;
      double dyCanal = (y - ccy) / crv;
      double dyCord = (y - ccy) / cordV;
      int row = r * cols;
      for (int c = 0; c < cols; c++) {
        double x = an.x0 + c * px;
        double ex = (x - ox) / orx;
        float v;
        if (ex * ex + ey * ey > 1) {
          v = -1000;
        } else {
          double ix = (x - ox) / irx;
          if (ix * ix + iy * iy > 1) {
            v = (float) an.fatHu;
          } else {
            v = muscle + texX[c] * texY[r];
            double dx = (x - acx) / arx;
            if (dx * dx + dyAir * dyAir <= 1) {
              v = -1000;
            } else if (lr > 0) {
              double lx = (Math.abs(x - axX) - lcx) / lr;
              if (lx * lx + dyLung * dyLung <= 1) v = (float) an.lungHu;
            }
          }
          double cx = (x - ccx) / cru;
          if (cx * cx + dyCanal * dyCanal <= 1) {
            double qx = (x - ccx) / cordU;
            v = (float) (qx * qx + dyCord * dyCord <= 1 ? an.cordHu : an.csfHu);
          }
        }
        hu[row + c] = v;
      }
    }

    for (CervicalDisc d : an.discs) {
      if (z < d.box[4] || z > d.box[5]) continue;
      int r0 = rowLo(an, d.box[2]);
      int r1 = rowHi(an, d.box[3]);
      int c0 = colLo(an, d.box[0]);
      int c1 = colHi(an, d.box[1]);
      for (int r = r0; r <= r1; r++) {
        double y = an.y0 + r * px;
        for (int c = c0; c <= c1; c++) {
          int cls = d.classify(an.x0 + c * px, y, z);
          if (cls != 0) hu[r * cols + c] = (float) (cls == 2 ? an.discHu - 15 : an.discHu);
        }
      }
    }

    CervicalOcciput occ = an.occiput;
    if (z >= occ.box[4] && z <= occ.box[5]) {
      int r0 = rowLo(an, occ.box[2]);
      int r1 = rowHi(an, occ.box[3]);
      int c0 = colLo(an, occ.box[0]);
      int c1 = colHi(an, occ.box[1]);
      float cortex = (float) (0.95 * occ.c1.cortexHu);
      float marrow = (float) (occ.c1.cancellousHu + 200);
      for (int r = r0; r <= r1; r++) {
        double y = an.y0 + r * px;
        for (int c = c0; c <= c1; c++) {
          int cls = occ.classify(an.x0 + c * px, y, z);
          if (cls != 0) hu[r * cols + c] = cls == 2 ? marrow : cortex;
        }
      }
    }

    for (CervicalRib rib : an.ribs) {
      if (z < rib.box[4] || z > rib.box[5]) continue;
      int r0 = rowLo(an, rib.box[2]);
      int r1 = rowHi(an, rib.box[3]);
      int c0 = colLo(an, rib.box[0]);
      int c1 = colHi(an, rib.box[1]);
      float cortex = (float) rib.vertebra.cortexHu;
      float marrow = (float) rib.vertebra.cancellousHu;
      for (int r = r0; r <= r1; r++) {
        double y = an.y0 + r * px;
        for (int c = c0; c <= c1; c++) {
          int cls = rib.classify(an.x0 + c * px, y, z);
          if (cls != 0) hu[r * cols + c] = cls == 2 ? marrow : cortex;
        }
      }
    }

    for (CervicalVertebra v : an.vertebrae) {
      if (z < v.box[4] || z > v.box[5]) continue;
      int r0 = rowLo(an, v.box[2]);
      int r1 = rowHi(an, v.box[3]);
      int c0 = colLo(an, v.box[0]);
      int c1 = colHi(an, v.box[1]);
      short label = (short) v.label;
      for (int r = r0; r <= r1; r++) {
        double y = an.y0 + r * px;
        double lv = v.localV(y, z);
        double lw = v.localW(y, z);
        for (int c = c0; c <= c1; c++) {
          int code = v.classify(v.localU(an.x0 + c * px), lv, lw);
          if (code == CervicalVertebra.OUTSIDE) continue;
          int i = r * cols + c;
          hu[i] = (float) v.hu(code, an.muscleHu);
          mask[base + i] = label;
        }
      }
    }
    // fracture boxes: pixels that kept the fractured vertebra's label and lie where the fracture
    // changed the bone
    for (int f = 0; f < fractured.size(); f++) {
      CervicalVertebra v = fractured.get(f);
      int j = 4 * f;
      zone[j] = Integer.MAX_VALUE;
      zone[j + 1] = Integer.MIN_VALUE;
      zone[j + 2] = Integer.MAX_VALUE;
      zone[j + 3] = Integer.MIN_VALUE;
      if (z < v.box[4] || z > v.box[5]) continue;
      int r0 = rowLo(an, v.box[2]);
      int r1 = rowHi(an, v.box[3]);
      int c0 = colLo(an, v.box[0]);
      int c1 = colHi(an, v.box[1]);
      for (int r = r0; r <= r1; r++) {
        double y = an.y0 + r * px;
        double lv = v.localV(y, z);
        double lw = v.localW(y, z);
        for (int c = c0; c <= c1; c++) {
          if (mask[base + r * cols + c] != v.label
              || !v.inFractureZone(v.localU(an.x0 + c * px), lv, lw)) {
            continue;
          }
          if (r < zone[j]) zone[j] = r;
          if (r > zone[j + 1]) zone[j + 1] = r;
          if (c < zone[j + 2]) zone[j + 2] = c;
          if (c > zone[j + 3]) zone[j + 3] = c;
        }
      }
    }

    float[] tmp = new float[plane];
    for (int r = 0; r < rows; r++) {
      int row = r * cols;
      for (int c = 0; c < cols; c++) {
        float left = hu[row + Math.max(c - 1, 0)];
        float right = hu[row + Math.min(c + 1, cols - 1)];
        tmp[row + c] = 0.25f * left + 0.5f * hu[row + c] + 0.25f * right;
      }
    }
    float sigma = (float) an.noiseSigma;
    long key = an.noiseKey;
    for (int r = 0; r < rows; r++) {
      int up = Math.max(r - 1, 0) * cols;
      int row = r * cols;
      int down = Math.min(r + 1, rows - 1) * cols;
      for (int c = 0; c < cols; c++) {
        float v = 0.25f * tmp[up + c] + 0.5f * tmp[row + c] + 0.25f * tmp[down + c];
        v += sigma * CervicalNoise.gaussian(key, (long) base + row + c);
        int stored = Math.round(v - RESCALE_INTERCEPT);
        image[base + row + c] = (short) (stored < 0 ? 0 : Math.min(stored, 65535));
      }
    }
  }

  private static int rowLo(CervicalAnatomy an, double y) {
    return Math.max(0, (int) Math.floor((y - an.y0) / an.pixel));
  }

  private static int rowHi(CervicalAnatomy an, double y) {
    return Math.min(an.rows - 1, (int) Math.ceil((y - an.y0) / an.pixel));
  }

  private static int colLo(CervicalAnatomy an, double x) {
    return Math.max(0, (int) Math.floor((x - an.x0) / an.pixel));
  }

  private static int colHi(CervicalAnatomy an, double x) {
    return Math.min(an.columns - 1, (int) Math.ceil((x - an.x0) / an.pixel));
  }
}
