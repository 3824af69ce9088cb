package org.spinekit.synth;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The random anatomy of one synthetic cervical spine CT study: a curved spinal axis (cervical
 * lordosis, upper thoracic kyphosis), the vertebrae C1..T12 placed along it with their discs, the
 * spinal canal and cord, the outline of the neck and chest with its fat layer, the airway, the ribs
 * of the thoracic levels and the lungs inside them, the skull base, tissue densities, noise level,
 * fractures and the image grid.
 *
 * <p>Everything is drawn from one {@link SplittableRandom} seeded by the study's seed, so the same
 * seed gives the same anatomy. {@link #withFractures} keeps all of it and changes only the
 * fractures, which lets a test compare one study with and without its fracture. Patient coordinates
 * are DICOM LPS mm: x towards the patient's left, y posterior, z superior.
 */
public final class CervicalAnatomy {
  /** Names of labels 1..19. */
  static final String[] NAMES = {
    "", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8",
    "T9", "T10", "T11", "T12"
  };

  // body half width, half depth, height, disc height below (mm), labels 2..19
  private static final double[][] BODY = {
    {8.5, 7.5, 15, 4.5}, // C2
    {8.0, 7.5, 13, 4.5},
    {8.5, 7.6, 13, 5.0},
    {9.0, 7.8, 13.5, 5.5},
    {10.0, 8.0, 13.5, 5.5},
    {11.0, 8.3, 14.5, 5.5}, // C7
    {12.5, 9.0, 16, 5.0}, // T1
    {13.5, 10.0, 17, 5.0},
    {14.0, 10.8, 17.5, 5.0},
    {14.5, 11.5, 18, 5.0},
    {15.0, 12.0, 18.5, 5.5},
    {15.5, 12.5, 19, 5.5},
    {16.0, 13.0, 19.5, 5.5},
    {16.5, 13.5, 20, 6.0},
    {17.5, 14.0, 21, 6.0},
    {18.5, 14.5, 22, 6.5},
    {19.5, 15.0, 23, 7.0},
    {21.0, 15.5, 24, 7.5}, // T12
  };
  private static final double[] SPINOUS_LENGTH = {
    0, 0, 20, 12, 13, 15, 18, 25, 28, 30, 32, 32, 32, 32, 32, 32, 32, 26, 26, 26
  };
  // neck / chest outline per label: half width, half depth, centre offset from the axis (y)
  private static final double[][] OUTLINE = {
    {},
    {72, 85, -10},
    {66, 72, -3},
    {58, 62, 4},
    {58, 60, 5},
    {58, 60, 5},
    {60, 61, 5},
    {68, 64, 3},
    {110, 80, -10},
    {150, 95, -25},
    {170, 105, -35},
    {175, 110, -40},
    {180, 112, -42},
    {182, 115, -44},
    {184, 116, -45},
    {185, 117, -46},
    {185, 118, -46},
    {184, 118, -45},
    {182, 117, -44},
    {180, 116, -42}
  };
  // airway per label: distance in front of the axis, half width, half depth
  private static final double[][] AIRWAY = {
    {}, {17, 14, 8}, {19, 13, 6}, {19, 11, 6}, {21, 10, 7}, {26, 9, 9}, {29, 8.5, 8.5},
    {30, 8.5, 8}, {31, 8, 8}, {32, 8, 8}, {32, 8, 8}, {32, 8, 8}, {32, 8, 8}, {32, 8, 8},
    {32, 8, 8}, {32, 8, 8}, {32, 8, 8}, {32, 8, 8}, {32, 8, 8}, {32, 8, 8}
  };
  // lateral semi-axis of the rib ellipses of T1..T12 (mm)
  private static final double[] RIB_SEMI_AXIS = {
    55, 75, 95, 108, 115, 120, 124, 127, 129, 130, 128, 124
  };
  private static final double[] FRACTURE_LEVEL_WEIGHT = {
    0, 0.08, 0.20, 0.05, 0.07, 0.15, 0.22, 0.23
  };
  private static final double TAB_STEP = 0.25;

  // image grid
  final int rows;
  final int columns;
  final int slices;
  final double pixel;
  final double sliceSpacing;
  final double x0;
  final double y0;
  final double zTop;

  final List<CervicalVertebra> vertebrae;
  final List<CervicalDisc> discs;
  final List<CervicalRib> ribs;
  final CervicalOcciput occiput;

  // tabulated spinal axis and per-position soft tissue, indexed by arc length s
  private final double[] axisX;
  private final double[] axisY;
  private final double[] axisZ;
  private final double[] canalX;
  private final double[] canalY;
  private final double[] canalZ;
  private final double[] canalU;
  private final double[] canalV;
  private final double[] outlineX;
  private final double[] outlineY;
  private final double[] outlineOff;
  private final double[] airOff;
  private final double[] airX;
  private final double[] airY;
  final double lungApexZ;
  private final double[] lungU;
  private final double[] lungV;
  private final double[] lungCentre;

  // densities (HU) and noise
  final double muscleHu;
  final double fatHu;
  final double fatThickness;
  final double csfHu;
  final double cordHu;
  final double discHu;
  final double lungHu;
  final double noiseSigma;
  final double texturePhaseX;
  final double texturePhaseY;
  final long noiseKey;
  // everything drawn, kept for withFractures
  private final Builder builder;

  private CervicalAnatomy(Builder b, List<CervicalVertebra> vertebrae) {
    this.rows = b.rows;
    this.columns = b.columns;
    this.slices = b.slices;
    this.pixel = b.pixel;
    this.sliceSpacing = b.sliceSpacing;
    this.x0 = b.x0;
    this.y0 = b.y0;
    this.zTop = b.zTop;
    this.vertebrae = List.copyOf(vertebrae);
    this.discs = List.copyOf(b.discs);
    this.ribs = List.copyOf(b.ribs);
    this.occiput = b.occiput;
    this.axisX = b.axisX;
    this.axisY = b.axisY;
    this.axisZ = b.axisZ;
    this.canalX = b.canalX;
    this.canalY = b.canalY;
    this.canalZ = b.canalZ;
    this.canalU = b.canalU;
    this.canalV = b.canalV;
    this.outlineX = b.outlineX;
    this.outlineY = b.outlineY;
    this.outlineOff = b.outlineOff;
    this.airOff = b.airOff;
    this.airX = b.airX;
    this.airY = b.airY;
    this.lungApexZ = b.lungApexZ;
    this.lungU = b.lungU;
    this.lungV = b.lungV;
    this.lungCentre = b.lungCentre;
    this.muscleHu = b.muscleHu;
    this.fatHu = b.fatHu;
    this.fatThickness = b.fatThickness;
    this.csfHu = b.csfHu;
    this.cordHu = b.cordHu;
    this.discHu = b.discHu;
    this.lungHu = b.lungHu;
    this.noiseSigma = b.noiseSigma;
    this.texturePhaseX = b.texturePhaseX;
    this.texturePhaseY = b.texturePhaseY;
    this.noiseKey = b.noiseKey;
    this.builder = b;
  }

  /**
   * Draws one study's anatomy.
   *
   * @param seed the study's seed
   * @param size rows and columns of every slice
   * @param pixel pixel spacing, mm
   * @param sliceSpacing slice spacing, mm
   * @param lastLabel the vertebra (8..19, T1..T12) through whose body the series ends
   * @param fractured whether to give the study one to three fractured cervical vertebrae
   */
  public static CervicalAnatomy sample(
      long seed, int size, double pixel, double sliceSpacing, int lastLabel, boolean fractured) {
    if (size < 32 || size > 2048) {
      throw new IllegalArgumentException("size: expected 32..2048 pixels, got " + size);
    }
    if (!(pixel >= 0.1 && pixel <= 5)) {
      throw new IllegalArgumentException("pixel: expected a spacing in 0.1..5 mm, got " + pixel);
    }
    if (!(sliceSpacing >= 0.1 && sliceSpacing <= 5)) {
      throw new IllegalArgumentException("sliceSpacing: expected 0.1..5 mm, got " + sliceSpacing);
    }
    if (lastLabel < 8 || lastLabel > 19) {
      throw new IllegalArgumentException("lastLabel: expected 8..19 (T1..T12), got " + lastLabel);
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    Builder b = new Builder();
    b.rows = size;
    b.columns = size;
    b.pixel = pixel;
    b.sliceSpacing = sliceSpacing;
    double sc = uniform(rnd, 0.9, 1.1);

    // --- dimensions and arc positions of the vertebrae
    CervicalVertebra.Dims[] dims = new CervicalVertebra.Dims[20];
    double[] discBelow = new double[20];
    for (int l = 1; l <= 19; l++) {
      double j = sc * uniform(rnd, 0.96, 1.04);
      dims[l] = l == 1 ? atlas(j) : l == 2 ? axis(j) : l <= 7 ? cervical(l, j) : thoracic(l, j);
      discBelow[l] = l == 1 ? 0 : BODY[l - 2][3] * sc * uniform(rnd, 0.9, 1.1);
    }
    double[] s = new double[20];
    s[1] = 0;
    s[2] = 9 * sc + dims[2].hh;
    for (int l = 3; l <= 19; l++) {
      s[l] = s[l - 1] + dims[l - 1].hh + discBelow[l - 1] + dims[l].hh;
    }
    // articular pillars reach half way into the joint with the neighbour
    for (int l = 2; l <= 19; l++) {
      CervicalVertebra.Dims g = dims[l];
      g.pw0 = -(g.hh + 0.5 * discBelow[l] - 0.6);
      g.pw1 = l == 2 ? 0 : g.hh + 0.5 * discBelow[l - 1] - 0.6;
    }

    // --- the curved axis: tangent angle phi(s) from the vertical, positive = posterior going
    // down; lordosis over the cervical spine, kyphosis over the thoracic spine
    double phi0 = Math.toRadians(uniform(rnd, -4, 4));
    double lordosis = Math.toRadians(uniform(rnd, 6, 16));
    double kyphosis = Math.toRadians(uniform(rnd, 4, 10));
    double cervicalEnd = s[7] + dims[7].hh + 0.5 * discBelow[7];
    double thoracicLength = s[19] + dims[19].hh - cervicalEnd;
    double lateral = uniform(rnd, -3, 3);
    double lateralX = uniform(rnd, -2, 2);
    double sTop = -uniform(rnd, 17, 24) * sc;
    double sMin = Math.floor((sTop - 20) / TAB_STEP) * TAB_STEP;
    double sMax = s[19] + 60;
    int n = (int) Math.ceil((sMax - sMin) / TAB_STEP) + 1;
    double zC1 = uniform(rnd, -80, 80);
    b.sMin = sMin;
    b.axisX = new double[n];
    b.axisY = new double[n];
    b.axisZ = new double[n];
    double[] phi = new double[n];
    // integrate from s = 0 (C1) both ways
    int i0 = (int) Math.round(-sMin / TAB_STEP);
    for (int i = 0; i < n; i++) {
      double si = sMin + i * TAB_STEP;
      phi[i] =
          si <= cervicalEnd
              ? phi0 - lordosis * Math.cos(Math.PI * clamp(si / cervicalEnd, 0, 1))
              : phi0
                  + lordosis
                  - (lordosis + kyphosis)
                      * 0.5
                      * (1 - Math.cos(Math.PI * clamp((si - cervicalEnd) / thoracicLength, 0, 1)));
      b.axisX[i] = lateralX + lateral * Math.sin(Math.PI * si / 200);
    }
    b.axisY[i0] = 0;
    b.axisZ[i0] = zC1;
    for (int i = i0 + 1; i < n; i++) {
      double p = 0.5 * (phi[i] + phi[i - 1]);
      b.axisY[i] = b.axisY[i - 1] + TAB_STEP * Math.sin(p);
      b.axisZ[i] = b.axisZ[i - 1] - TAB_STEP * Math.cos(p);
    }
    for (int i = i0 - 1; i >= 0; i--) {
      double p = 0.5 * (phi[i] + phi[i + 1]);
      b.axisY[i] = b.axisY[i + 1] - TAB_STEP * Math.sin(p);
      b.axisZ[i] = b.axisZ[i + 1] + TAB_STEP * Math.cos(p);
    }

    // --- densities
    double cortexBase = uniform(rnd, 1050, 1400);
    double cancellousBase = uniform(rnd, 230, 340);
    b.muscleHu = uniform(rnd, 35, 55);
    b.fatHu = uniform(rnd, -110, -85);
    b.fatThickness = uniform(rnd, 4, 9);
    b.csfHu = uniform(rnd, 0, 15);
    b.cordHu = uniform(rnd, 30, 40);
    b.discHu = uniform(rnd, 80, 120);
    b.lungHu = uniform(rnd, -870, -820);
    b.noiseSigma = uniform(rnd, 10, 28);
    b.texturePhaseX = uniform(rnd, 0, 2 * Math.PI);
    b.texturePhaseY = uniform(rnd, 0, 2 * Math.PI);
    b.noiseKey = rnd.nextLong();

    // --- vertebrae on the axis
    b.dims = dims;
    b.phiTab = phi;
    b.cortexHu = new double[20];
    b.cancellousHu = new double[20];
    for (int l = 1; l <= 19; l++) {
      b.cortexHu[l] = cortexBase + 40 * rnd.nextDouble() - 20;
      b.cancellousHu[l] = cancellousBase + 30 * rnd.nextDouble() - 15;
    }
    List<CervicalVertebra> verts = new ArrayList<>();
    for (int l = 1; l <= 19; l++) {
      double[] p = b.axisAt(s[l]);
      verts.add(
          new CervicalVertebra(
              l, type(l), dims[l], p[0], p[1], p[2], p[3], b.cortexHu[l], b.cancellousHu[l], null));
    }

    // --- discs between the bodies from C2/C3 down
    for (int l = 2; l < 19; l++) {
      b.discs.add(CervicalDisc.between(verts.get(l - 1), verts.get(l)));
    }

    // --- ribs of the thoracic vertebrae, both sides
    b.ribU = new double[20];
    b.ribV = new double[20];
    b.ribCentre = new double[20];
    for (int l = 8; l <= 19; l++) {
      double semiU = sc * RIB_SEMI_AXIS[l - 8];
      for (int side = -1; side <= 1; side += 2) {
        CervicalRib rib = new CervicalRib(verts.get(l - 1), side, semiU, 0.75 * semiU, 2.0);
        b.ribs.add(rib);
        b.ribU[l] = rib.semiU;
        b.ribV[l] = rib.semiV;
        b.ribCentre[l] = rib.vCentre;
      }
    }

    // --- soft tissue keyframes along s
    b.canalX = new double[n];
    b.canalY = new double[n];
    b.canalZ = new double[n];
    b.canalU = new double[n];
    b.canalV = new double[n];
    b.outlineX = new double[n];
    b.outlineY = new double[n];
    b.outlineOff = new double[n];
    b.airOff = new double[n];
    b.airX = new double[n];
    b.airY = new double[n];
    double neck = uniform(rnd, 0.92, 1.1);
    for (int i = 0; i < n; i++) {
      double si = sMin + i * TAB_STEP;
      double vc = keyframe(s, si, l -> l == 1 ? 13 * sc : dims[l].vc);
      double ru = keyframe(s, si, l -> l == 1 ? 11 * sc : dims[l].rcu);
      double rv = keyframe(s, si, l -> l == 1 ? 8 * sc : dims[l].rcv);
      double ph = phi[i];
      // canal centre: the axis point moved vc along the posterior direction (0, cos, sin)
      b.canalX[i] = b.axisX[i];
      b.canalY[i] = b.axisY[i] + vc * Math.cos(ph);
      b.canalZ[i] = b.axisZ[i] + vc * Math.sin(ph);
      b.canalU[i] = ru;
      b.canalV[i] = rv / Math.cos(ph);
      b.outlineX[i] = neck * keyframe(s, si, l -> OUTLINE[l][0]);
      b.outlineY[i] = neck * keyframe(s, si, l -> OUTLINE[l][1]);
      b.outlineOff[i] = keyframe(s, si, l -> OUTLINE[l][2]);
      b.airOff[i] = sc * keyframe(s, si, l -> AIRWAY[l][0]);
      b.airX[i] = sc * keyframe(s, si, l -> AIRWAY[l][1]);
      b.airY[i] = sc * keyframe(s, si, l -> AIRWAY[l][2]) / Math.cos(ph);
    }
    b.lungApexZ = b.axisAt(s[8])[2] + 6 * sc;
    b.lungU = new double[n];
    b.lungV = new double[n];
    b.lungCentre = new double[n];
    for (int i = 0; i < n; i++) {
      double si = sMin + i * TAB_STEP;
      // the rib cage of the level, which holds the lungs
      b.lungU[i] = keyframe(s, si, l -> b.ribU[Math.max(l, 8)]);
      b.lungV[i] = keyframe(s, si, l -> b.ribV[Math.max(l, 8)]);
      b.lungCentre[i] = keyframe(s, si, l -> b.ribCentre[Math.max(l, 8)]);
    }
    double[] c1 = b.axisAt(0);
    b.occiput = new CervicalOcciput(verts.get(0), sc);

    // --- image grid: from above C1 down into the body of lastLabel
    double sBottom = s[lastLabel] + dims[lastLabel].hh * uniform(rnd, -0.4, 0.4);
    b.zTop = b.axisAt(sTop)[2];
    double zBottom = b.axisAt(sBottom)[2];
    b.slices = (int) Math.floor((b.zTop - zBottom) / sliceSpacing) + 1;
    double yMid = 0.5 * (b.axisAt(sTop)[1] + b.axisAt(sBottom)[1]);
    b.x0 = c1[0] + uniform(rnd, -3, 3) - 0.5 * (size - 1) * pixel;
    b.y0 = yMid + 9 * sc + uniform(rnd, -3, 3) - 0.5 * (size - 1) * pixel;

    // --- fractures
    b.fractureHalfWidth = 0.9 * Math.max(pixel, 0.6);
    List<CervicalFracture> fractures = new ArrayList<>();
    if (fractured) {
      double k = rnd.nextDouble();
      int count = k < 0.6 ? 1 : k < 0.9 ? 2 : 3;
      List<Integer> levels = new ArrayList<>();
      while (levels.size() < count) {
        int l = pickLevel(rnd);
        if (!levels.contains(l)) levels.add(l);
      }
      Collections.sort(levels);
      for (int l : levels) fractures.add(fracture(rnd, l, dims[l], b.fractureHalfWidth));
    }
    b.baseVertebrae = verts;
    return b.build(fractures);
  }

  /** This anatomy with other fractures (of C1..C7) and everything else unchanged. */
  public CervicalAnatomy withFractures(List<CervicalFracture> fractures) {
    return builder.build(fractures);
  }

  /** The fractures of this study, in label order. */
  public List<CervicalFracture> fractures() {
    List<CervicalFracture> out = new ArrayList<>();
    for (CervicalVertebra v : vertebrae) {
      if (v.fracture != null) out.add(v.fracture);
    }
    return out;
  }

  /** A fracture of label drawn as {@link #sample} draws them, for tests that want one. */
  public CervicalFracture drawFracture(long seed, int label, CervicalFracture.Kind kind) {
    if (label < 1 || label > 7) {
      throw new IllegalArgumentException("label: expected 1..7 (C1..C7), got " + label);
    }
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int tries = 0; tries < 1000; tries++) {
      CervicalFracture f = fracture(rnd, label, builder.dims[label], builder.fractureHalfWidth);
      if (kind == null || f.kind() == kind) return f;
    }
    throw new IllegalArgumentException("kind: " + kind + " is not drawn for " + NAMES[label]);
  }

  public int rows() {
    return rows;
  }

  public int columns() {
    return columns;
  }

  public int slices() {
    return slices;
  }

  /** Patient z of slice k (slice 0 is the most superior). */
  double sliceZ(int k) {
    return zTop - k * sliceSpacing;
  }

  /** Index into the tabulated arrays of the position whose canal centre is at height z. */
  double canalIndexAtZ(double z) {
    return indexAtZ(canalZ, z);
  }

  double axisIndexAtZ(double z) {
    return indexAtZ(axisZ, z);
  }

  private static double indexAtZ(double[] zs, double z) {
    // zs decreases with the index
    if (z >= zs[0]) return 0;
    int n = zs.length;
    if (z <= zs[n - 1]) return n - 1;
    int lo = 0;
    int hi = n - 1;
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      if (zs[mid] >= z) lo = mid;
      else hi = mid;
    }
    double f = (zs[lo] - z) / (zs[lo] - zs[hi]);
    return lo + f;
  }

  static double at(double[] tab, double index) {
    int i = (int) index;
    if (i >= tab.length - 1) return tab[tab.length - 1];
    double f = index - i;
    return tab[i] * (1 - f) + tab[i + 1] * f;
  }

  double axisX(double idx) {
    return at(axisX, idx);
  }

  double axisY(double idx) {
    return at(axisY, idx);
  }

  double canalX(double idx) {
    return at(canalX, idx);
  }

  double canalY(double idx) {
    return at(canalY, idx);
  }

  double canalHalfU(double idx) {
    return at(canalU, idx);
  }

  double canalHalfV(double idx) {
    return at(canalV, idx);
  }

  double outlineHalfX(double idx) {
    return at(outlineX, idx);
  }

  double outlineHalfY(double idx) {
    return at(outlineY, idx);
  }

  double outlineOffset(double idx) {
    return at(outlineOff, idx);
  }

  /** Lateral semi-axis of the rib cage at a tabulated position. */
  double ribCageHalfX(double idx) {
    return at(lungU, idx);
  }

  /** Antero-posterior semi-axis of the rib cage. */
  double ribCageHalfY(double idx) {
    return at(lungV, idx);
  }

  /** Centre of the rib cage, posterior offset from the spinal axis. */
  double ribCageOffset(double idx) {
    return at(lungCentre, idx);
  }

  double airwayOffset(double idx) {
    return at(airOff, idx);
  }

  double airwayHalfX(double idx) {
    return at(airX, idx);
  }

  double airwayHalfY(double idx) {
    return at(airY, idx);
  }

  // ------------------------------------------------------------------------------------------

  private static CervicalVertebra.Type type(int l) {
    return l == 1
        ? CervicalVertebra.Type.ATLAS
        : l == 2
            ? CervicalVertebra.Type.AXIS
            : l <= 7 ? CervicalVertebra.Type.CERVICAL : CervicalVertebra.Type.THORACIC;
  }

  private static CervicalVertebra.Dims atlas(double j) {
    CervicalVertebra.Dims g = new CervicalVertebra.Dims();
    g.vc = 8.5 * j;
    g.rcu = 14 * j;
    g.rcv = 15 * j;
    g.t = 4 * j;
    g.wa = 0;
    g.ha = 4.5 * j;
    g.lmu = 17 * j;
    g.lmv = g.vc - 4 * j;
    g.lru = 6.5 * j;
    g.lrv = 9 * j;
    g.lrw = 5.5 * j;
    g.tpLen = 17 * j;
    g.tpT = 4 * j;
    g.tpH = 3.5 * j;
    g.tpAngle = 0;
    g.tpV = g.lmv;
    g.foramenR = 2.5 * j;
    return g;
  }

  private static CervicalVertebra.Dims axis(double j) {
    CervicalVertebra.Dims g = body(2, j);
    g.rcu = 12 * j;
    g.rcv = 8 * j;
    g.vc = g.b + j + g.rcv;
    g.t = 4.5 * j;
    g.wa = 0;
    g.ha = 0.35 * 2 * g.hh;
    g.spLen = SPINOUS_LENGTH[2] * j;
    g.spW = 3.5 * j;
    g.spH = 6 * j;
    g.spSlope = 0.2;
    g.bifid = true;
    g.tpLen = 8 * j;
    g.tpT = 4 * j;
    g.tpH = 3 * j;
    g.tpAngle = -0.2;
    g.tpV = g.b - j;
    g.foramenR = 2.4 * j;
    g.pu = g.rcu + 2 * j;
    g.pv = g.vc + 0.5 * j;
    g.pru = 4.5 * j;
    g.prv = 6.5 * j;
    g.dw = g.hh + 4 * j;
    g.dr = 5 * j;
    g.dh = 12 * j;
    g.lmu = 15 * j;
    g.lmv = 2 * j;
    g.lru = 6 * j;
    g.lrv = 7.5 * j;
    g.lrw = 3.5 * j;
    return g;
  }

  private static CervicalVertebra.Dims cervical(int l, double j) {
    CervicalVertebra.Dims g = body(l, j);
    double f = (l - 3) / 4.0;
    g.rcu = (12.5 - 0.5 * f) * j;
    g.rcv = (7.5 - 0.5 * f) * j;
    g.vc = g.b + j + g.rcv;
    g.t = 3.5 * j;
    g.wa = 0.1 * 2 * g.hh;
    g.ha = 0.33 * 2 * g.hh;
    g.spLen = SPINOUS_LENGTH[l] * j;
    g.spW = 2.5 * j;
    g.spH = 4 * j;
    g.spSlope = 0.25;
    g.bifid = l <= 6;
    g.tpLen = (10 + 3 * f) * j;
    g.tpT = 4 * j;
    g.tpH = 3.2 * j;
    g.tpAngle = -0.15;
    g.tpV = g.b;
    g.foramenR = l <= 6 ? 2.4 * j : 0;
    g.pu = g.rcu + 2 * j;
    g.pv = g.vc + 0.5 * j;
    g.pru = 4.5 * j;
    g.prv = 6.5 * j;
    return g;
  }

  private static CervicalVertebra.Dims thoracic(int l, double j) {
    CervicalVertebra.Dims g = body(l, j);
    g.rcu = (l == 8 ? 10 : l == 9 ? 9 : 8) * j;
    g.rcv = (l <= 9 ? 7.5 : 8) * j;
    g.vc = g.b + j + g.rcv;
    g.t = 4.5 * j;
    g.wa = 0.15 * 2 * g.hh;
    g.ha = 0.3 * 2 * g.hh;
    g.spLen = SPINOUS_LENGTH[l] * j;
    g.spW = 3 * j;
    g.spH = 5 * j;
    g.spSlope = l == 8 ? 0.45 : l == 9 ? 0.6 : l <= 16 ? 0.8 : 0.4;
    g.tpLen = 20 * j;
    g.tpT = 5 * j;
    g.tpH = 5 * j;
    g.tpAngle = 0.45;
    g.tpV = g.vc;
    g.foramenR = 0;
    g.pu = g.rcu + 3 * j;
    g.pv = g.vc + j;
    g.pru = 4 * j;
    g.prv = 5 * j;
    return g;
  }

  private static CervicalVertebra.Dims body(int l, double j) {
    CervicalVertebra.Dims g = new CervicalVertebra.Dims();
    double[] row = BODY[l - 2];
    g.a = row[0] * j;
    g.b = row[1] * j;
    g.hh = 0.5 * row[2] * j;
    return g;
  }

  private static int pickLevel(SplittableRandom rnd) {
    double r = rnd.nextDouble();
    double acc = 0;
    for (int l = 1; l <= 7; l++) {
      acc += FRACTURE_LEVEL_WEIGHT[l];
      if (r < acc) return l;
    }
    return 7;
  }

  private static CervicalFracture fracture(
      SplittableRandom rnd, int l, CervicalVertebra.Dims g, double halfWidth) {
    double k = rnd.nextDouble();
    CervicalFracture.Kind kind =
        l <= 2
            ? (k < 0.6 ? CervicalFracture.Kind.CRACK : CervicalFracture.Kind.STEP)
            : (k < 0.4
                ? CervicalFracture.Kind.CRACK
                : k < 0.7 ? CervicalFracture.Kind.STEP : CervicalFracture.Kind.COLLAPSE);
    switch (kind) {
      case CRACK:
        {
          double th = uniform(rnd, 0, Math.PI);
          double tau = Math.toRadians(uniform(rnd, -25, 25));
          if (l == 1) {
            // through the anterior or posterior arch, across the ring
            boolean anterior = rnd.nextBoolean();
            double side = rnd.nextBoolean() ? 1 : -1;
            double pu = side * uniform(rnd, 2, 9) * (anterior ? 1 : 1.1);
            double pv = anterior ? g.vc - g.rcv - 0.5 * g.t : g.vc + g.rcv + 0.5 * g.t;
            th = Math.toRadians(uniform(rnd, -30, 30));
            tau = Math.toRadians(uniform(rnd, -15, 15));
            return new CervicalFracture(
                l,
                kind,
                Math.cos(th) * Math.cos(tau),
                Math.sin(th) * Math.cos(tau),
                Math.sin(tau),
                pu,
                pv,
                0,
                0,
                0,
                0,
                halfWidth,
                8,
                0);
          }
          if (l == 2 && rnd.nextBoolean()) {
            // through the base of the dens
            double alpha = Math.toRadians(uniform(rnd, 15, 35));
            double az = uniform(rnd, 0, 2 * Math.PI);
            return new CervicalFracture(
                l,
                kind,
                Math.sin(alpha) * Math.cos(az),
                Math.sin(alpha) * Math.sin(az),
                Math.cos(alpha),
                0,
                0,
                g.hh + uniform(rnd, 0.5, 3),
                0,
                0,
                0,
                halfWidth,
                1.1 * g.dr + 2.5,
                0);
          }
          double pu = uniform(rnd, -0.4, 0.4) * g.a;
          double pv = uniform(rnd, -0.4, 0.4) * g.b;
          double pw = uniform(rnd, -0.3, 0.3) * g.hh;
          return new CervicalFracture(
              l,
              kind,
              Math.cos(th) * Math.cos(tau),
              Math.sin(th) * Math.cos(tau),
              Math.sin(tau),
              pu,
              pv,
              pw,
              0,
              0,
              0,
              halfWidth,
              Math.sqrt(g.a * g.a + g.b * g.b) + 1.5,
              0);
        }
      case STEP:
        {
          double nu;
          double nv;
          double nw;
          double pu;
          double pv;
          if (l == 1) {
            // one lateral part of the ring slides along a near-sagittal plane
            double side = rnd.nextBoolean() ? 1 : -1;
            double th = Math.toRadians(uniform(rnd, -30, 30));
            double tau = Math.toRadians(uniform(rnd, -15, 15));
            nu = side * Math.cos(th) * Math.cos(tau);
            nv = Math.sin(th) * Math.cos(tau);
            nw = Math.sin(tau);
            pu = side * uniform(rnd, 4, 9);
            pv = g.vc;
          } else {
            // an anterior fragment of the body slides along an oblique near-coronal plane
            double th = Math.toRadians(uniform(rnd, -50, 50));
            double tau = Math.toRadians(uniform(rnd, -20, 20));
            nu = Math.sin(th) * Math.cos(tau);
            nv = -Math.cos(th) * Math.cos(tau);
            nw = Math.sin(tau);
            pu = 0;
            pv = -g.b * uniform(rnd, 0.1, 0.5);
          }
          // in-plane directions: horizontal e1 = n x w^, e2 = n x e1
          double e1u = nv;
          double e1v = -nu;
          double e1n = Math.hypot(e1u, e1v);
          e1u /= e1n;
          e1v /= e1n;
          double e2u = nv * 0 - nw * e1v;
          double e2v = nw * e1u - nu * 0;
          double e2w = nu * e1v - nv * e1u;
          double m = uniform(rnd, 2, 3);
          double beta = Math.toRadians(uniform(rnd, -60, 60));
          double cb = Math.cos(beta);
          double sb = Math.sin(beta);
          return new CervicalFracture(
              l,
              kind,
              nu,
              nv,
              nw,
              pu,
              pv,
              0,
              m * (cb * e1u + sb * e2u),
              m * (cb * e1v + sb * e2v),
              m * sb * e2w,
              0.75 * halfWidth,
              0,
              0);
        }
      default:
        return new CervicalFracture(
            l, kind, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, uniform(rnd, 0.2, 0.4));
    }
  }

  private interface PerLevel {
    double of(int label);
  }

  /** Smooth interpolation of per-vertebra values between vertebra centres (arc length s). */
  private static double keyframe(double[] s, double si, PerLevel f) {
    if (si <= s[1]) return f.of(1);
    if (si >= s[19]) return f.of(19);
    int l = 1;
    while (s[l + 1] < si) l++;
    double t = (si - s[l]) / (s[l + 1] - s[l]);
    t = t * t * (3 - 2 * t);
    return f.of(l) * (1 - t) + f.of(l + 1) * t;
  }

  static double uniform(SplittableRandom rnd, double lo, double hi) {
    return lo + (hi - lo) * rnd.nextDouble();
  }

  static double clamp(double x, double lo, double hi) {
    return x < lo ? lo : x > hi ? hi : x;
  }

  /** Everything sampled, kept so that {@link #withFractures} can rebuild the vertebrae. */
  private static final class Builder {
    int rows;
    int columns;
    int slices;
    double pixel;
    double sliceSpacing;
    double x0;
    double y0;
    double zTop;
    final List<CervicalDisc> discs = new ArrayList<>();
    final List<CervicalRib> ribs = new ArrayList<>();
    CervicalOcciput occiput;
    double sMin;
    double[] axisX;
    double[] axisY;
    double[] axisZ;
    double[] phiTab;
    double[] canalX;
    double[] canalY;
    double[] canalZ;
    double[] canalU;
    double[] canalV;
    double[] outlineX;
    double[] outlineY;
    double[] outlineOff;
    double[] airOff;
    double[] airX;
    double[] airY;
    double lungApexZ;
    double[] ribU;
    double[] ribV;
    double[] ribCentre;
    double[] lungU;
    double[] lungV;
    double[] lungCentre;
    double muscleHu;
    double fatHu;
    double fatThickness;
    double csfHu;
    double cordHu;
    double discHu;
    double lungHu;
    double noiseSigma;
    double texturePhaseX;
    double texturePhaseY;
    long noiseKey;
    CervicalVertebra.Dims[] dims;
    double[] cortexHu;
    double[] cancellousHu;
    double fractureHalfWidth;
    List<CervicalVertebra> baseVertebrae;

    /** {x, y, z, phi} of the axis at arc length si. */
    double[] axisAt(double si) {
      double idx = (si - sMin) / TAB_STEP;
      return new double[] {at(axisX, idx), at(axisY, idx), at(axisZ, idx), at(phiTab, idx)};
    }

    CervicalAnatomy build(List<CervicalFracture> fractures) {
      CervicalFracture[] byLabel = new CervicalFracture[20];
      for (CervicalFracture f : fractures) {
        if (byLabel[f.label()] != null) {
          throw new IllegalArgumentException("fractures: two for " + NAMES[f.label()]);
        }
        byLabel[f.label()] = f;
      }
      List<CervicalVertebra> verts = new ArrayList<>();
      for (CervicalVertebra v : baseVertebrae) {
        verts.add(byLabel[v.label] == null ? v : v.withFracture(byLabel[v.label]));
      }
      return new CervicalAnatomy(this, verts);
    }
  }
}
