package org.spinekit.synth;

import java.util.Objects;
import java.util.SplittableRandom;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Level;

/**
 * An analytic lumbar spine in patient space (DICOM LPS millimetres: +x patient left, +y posterior,
 * +z superior) that MR series of any geometry can sample: {@link #tissueAt} says what lies at a
 * point, {@link #signal} what a T1- or T2-weighted sequence shows there.
 *
 * <p>The spine follows a lordotic arc in the mid-sagittal plane. Anatomy is laid out in the arc's
 * own coordinates: {@code u} lateral (mm toward patient left), {@code s} arc length down the line
 * of the vertebral-body centres (0 at the upper endplate of L1), {@code v} offset toward posterior
 * from that line. Vertebral bodies T11..L5, S1 and S2 are rounded boxes with a cortical rim; discs
 * between them have a nucleus and an annulus; behind the bodies runs the thecal sac (CSF, the conus
 * down to L1, the cauda equina below), in a bony canal lined with epidural fat and ligament;
 * pedicles, laminae, facets, spinous and transverse processes; at each disc level L1/L2..L5/S1 a
 * fat-filled neural foramen on each side with its exiting root, and a lateral recess (subarticular
 * zone) on each side of the canal. Around the spine: paraspinal and psoas muscles, aorta and vena
 * cava, abdominal soft tissue, subcutaneous fat.
 *
 * <p>Grades narrow the structures they name: spinal canal stenosis shortens the sac's
 * antero-posterior diameter at the disc level (a bulging disc from the front, a thickened
 * ligamentum flavum from the back) by 0-25% (Normal/Mild), 40-55% (Moderate) or 70-85% (Severe);
 * foraminal narrowing fills the foramen's fat from below and behind; subarticular stenosis closes
 * the lateral recess. The narrowing fraction within each band is drawn per (condition, level), in a
 * fixed number of draws so that studies differing only in grades share every other random choice.
 */
public final class LumbarPhantom {
  /** What lies at a point. */
  public enum Tissue {
    AIR,
    FAT,
    MUSCLE,
    SOFT_TISSUE,
    MARROW,
    CORTEX,
    NUCLEUS,
    ANNULUS,
    CSF,
    NERVE,
    CORD,
    LIGAMENT,
    DISC_BULGE,
    ARTERY,
    VEIN
  }

  /** The MR weightings the series use. */
  public enum Contrast {
    /** Fat bright, CSF dark (the Sagittal T1 series). */
    T1,
    /** CSF bright, fat intermediate, healthy nuclei bright (Sagittal T2/STIR and Axial T2). */
    T2
  }

  private static final Tissue[] TISSUES = Tissue.values();
  private static final int NV = 9; // vertebrae T11, T12, L1..L5, S1, S2
  private static final int ND = 8; // discs between them; disc i lies below vertebra i
  private static final int L1 = 2; // vertebra index of L1, also disc index of L1/L2
  private static final int NL = Level.values().length;
  private static final int S1 = 7;
  private static final int S2 = 8;

  // Curve: phi(s) = phi0 + kappa s; the arc's centre (cy, cz) lies posterior of the spine.
  private final double xMid;
  private final double phi0;
  private final double kappa;
  private final double radius;
  private final double cy;
  private final double cz;

  // Vertebral bodies and discs.
  private final double[] vTop = new double[NV];
  private final double[] vBot = new double[NV];
  private final double[] vA = new double[NV];
  private final double[] vB = new double[NV];
  private final double[] vMid = new double[NV];
  private final double[] marrowGain = new double[NV];
  private final double[] discDeg = new double[ND];

  // Canal.
  private final double sacDiameter; // antero-posterior, mm
  private final double sacHalfWidth; // at L1, mm
  private final double sacWidthSlope; // mm of half-width per mm of s
  private final double conusTip; // s where the cord ends
  private final double sacEnd; // s where the thecal sac ends (upper S2)

  // Per level (L1/L2 .. L5/S1).
  private final double[] levelS = new double[NL];
  private final double[] scsFraction = new double[NL];
  private final double[] scsSigma = new double[NL];
  private final double[][] nfnFraction = new double[2][NL]; // [0 right, 1 left][level]
  private final double[][] subFraction = new double[2][NL];
  private final double[] foramenS = new double[NL];
  private final double[] foramenHalfS = new double[NL];
  private final double[] foramenV = new double[NL];
  private final double[] foramenHalfV = new double[NL];

  // Body habitus.
  private final double bodyHalfWidth;
  private final double bodyHalfDepth;
  private final double bodyCentreY; // patient y of the body outline's centre
  private final double bodyCentreZ; // patient z where the back is deepest
  private final double subcutaneousFat;
  private final double[] texturePhase = new double[4];

  // Intensities [contrast][tissue], and the disc nuclei on T2.
  private final double[][] level = new double[2][TISSUES.length];
  private final LumbarGrades grades;

  private LumbarPhantom(SplittableRandom anatomy, LumbarGrades grades, SplittableRandom narrowing) {
    this.grades = grades;
    SplittableRandom r = anatomy;
    double scale = uniform(r, 0.92, 1.08);
    double[] height = {22, 23.5, 25, 26, 26.5, 26.5, 25.5, 28, 22};
    double[] halfWidth = {19, 20, 21, 22, 23.5, 24.5, 25.5, 28, 22};
    double[] halfDepth = {13, 13.5, 14.5, 15.5, 16, 16.5, 16.5, 16, 12};
    double[] discHeight = {6.5, 7.5, 8.5, 9.5, 10.5, 11, 10, 2.5};
    for (int i = 0; i < ND; i++) {
      double d = 0.05;
      if (i >= L1 && i < L1 + NL) d = grades.discDegeneration(Level.values()[i - L1]);
      discDeg[i] = d;
      discHeight[i] *= scale * (1 - 0.4 * d) * uniform(r, 0.95, 1.05);
    }
    for (int i = 0; i < NV; i++) {
      height[i] *= scale * uniform(r, 0.97, 1.03);
      vA[i] = halfWidth[i] * scale * uniform(r, 0.96, 1.04);
      vB[i] = halfDepth[i] * scale * uniform(r, 0.96, 1.04);
      marrowGain[i] = uniform(r, 0.9, 1.08);
    }
    vTop[L1] = 0;
    for (int i = L1; i < NV; i++) {
      if (i > L1) vTop[i] = vBot[i - 1] + discHeight[i - 1];
      vBot[i] = vTop[i] + height[i];
    }
    for (int i = L1 - 1; i >= 0; i--) {
      vBot[i] = vTop[i + 1] - discHeight[i];
      vTop[i] = vBot[i] - height[i];
    }
    for (int i = 0; i < NV; i++) vMid[i] = 0.5 * (vTop[i] + vBot[i]);
    for (int l = 0; l < NL; l++) {
      int d = L1 + l;
      levelS[l] = 0.5 * (vBot[d] + vTop[d + 1]);
      scsSigma[l] = 0.45 * discHeight[d] + 1.5;
    }

    // Lordosis: the tangent turns from pointing down-and-forward at L1 to down-and-back at S1.
    double phiTop = Math.toRadians(-uniform(r, 10, 22));
    double phiL5S1 = Math.toRadians(uniform(r, 24, 38));
    phi0 = phiTop;
    kappa = (phiL5S1 - phiTop) / levelS[NL - 1];
    radius = 1 / kappa;
    xMid = uniform(r, -12, 12);
    double sMidL3 = vMid[L1 + 2];
    double phiMid = phi0 + kappa * sMidL3;
    double yMid = uniform(r, -45, 5);
    double zMid = uniform(r, -70, 70);
    cy = yMid + radius * StrictMath.cos(phiMid);
    cz = zMid + radius * StrictMath.sin(phiMid);

    sacDiameter = uniform(r, 14, 17.5);
    sacHalfWidth = uniform(r, 10, 11.5);
    sacWidthSlope = uniform(r, 0.008, 0.016);
    conusTip = uniform(r, -5, 15);
    sacEnd = vTop[S2] + uniform(r, -4, 4);

    bodyHalfWidth = uniform(r, 140, 175);
    bodyHalfDepth = uniform(r, 95, 125);
    subcutaneousFat = uniform(r, 8, 30);
    // The back: a fixed depth behind the canal at L3, flat across the body, curving forward a
    // little above and below.
    double backThickness = uniform(r, 42, 52) + subcutaneousFat;
    double[] canalL3 = toPatient(0, vMid[L1 + 2], vB[L1 + 2] + 1.5 + sacDiameter + 2.5);
    bodyCentreY = canalL3[1] + backThickness - bodyHalfDepth;
    bodyCentreZ = canalL3[2];
    for (int i = 0; i < texturePhase.length; i++) texturePhase[i] = uniform(r, 0, 2 * Math.PI);

    double[] t1 = level[Contrast.T1.ordinal()];
    double[] t2 = level[Contrast.T2.ordinal()];
    set(t1, t2, Tissue.AIR, 0, 0);
    set(t1, t2, Tissue.FAT, 1400, 780);
    set(t1, t2, Tissue.MUSCLE, 480, 330);
    set(t1, t2, Tissue.SOFT_TISSUE, 640, 620);
    set(t1, t2, Tissue.MARROW, 1040, 600);
    set(t1, t2, Tissue.CORTEX, 170, 130);
    set(t1, t2, Tissue.NUCLEUS, 520, 1500);
    set(t1, t2, Tissue.ANNULUS, 420, 320);
    set(t1, t2, Tissue.CSF, 260, 1800);
    set(t1, t2, Tissue.NERVE, 600, 440);
    set(t1, t2, Tissue.CORD, 640, 700);
    set(t1, t2, Tissue.LIGAMENT, 280, 210);
    set(t1, t2, Tissue.DISC_BULGE, 420, 360);
    set(t1, t2, Tissue.ARTERY, 90, 70);
    set(t1, t2, Tissue.VEIN, 300, 480);
    for (double[] c : level) {
      for (int i = 1; i < c.length; i++) c[i] *= uniform(r, 0.93, 1.07);
    }

    for (int l = 0; l < NL; l++) {
      Level lv = Level.values()[l];
      scsFraction[l] = fraction(grades.get(Condition.SPINAL_CANAL_STENOSIS, lv), narrowing);
      nfnFraction[0][l] =
          fraction(grades.get(Condition.RIGHT_NEURAL_FORAMINAL_NARROWING, lv), narrowing);
      nfnFraction[1][l] =
          fraction(grades.get(Condition.LEFT_NEURAL_FORAMINAL_NARROWING, lv), narrowing);
      subFraction[0][l] =
          fraction(grades.get(Condition.RIGHT_SUBARTICULAR_STENOSIS, lv), narrowing);
      subFraction[1][l] = fraction(grades.get(Condition.LEFT_SUBARTICULAR_STENOSIS, lv), narrowing);
      // The foramen spans from below the upper pedicle to above the lower one.
      int d = L1 + l;
      double top = vTop[d] + 0.54 * (vBot[d] - vTop[d]);
      double bottom = vTop[d + 1] + 0.1 * (vBot[d + 1] - vTop[d + 1]);
      foramenS[l] = 0.5 * (top + bottom);
      foramenHalfS[l] = 0.5 * (bottom - top);
      double back = bAt(levelS[l]);
      double facetFront = sacAnterior(levelS[l]) + sacDiameter + 2.5 - 6;
      foramenV[l] = 0.5 * (back + facetFront);
      foramenHalfV[l] = 0.5 * (facetFront - back) + 0.5;
    }
  }

  /**
   * A phantom whose anatomy comes from {@code anatomy} and whose narrowing within each grade's band
   * comes from {@code narrowing}; both are advanced by a fixed number of draws.
   */
  public static LumbarPhantom create(
      SplittableRandom anatomy, LumbarGrades grades, SplittableRandom narrowing) {
    Objects.requireNonNull(anatomy, "anatomy");
    Objects.requireNonNull(grades, "grades");
    Objects.requireNonNull(narrowing, "narrowing");
    return new LumbarPhantom(anatomy, grades, narrowing);
  }

  public LumbarGrades grades() {
    return grades;
  }

  private static void set(double[] t1, double[] t2, Tissue t, double a, double b) {
    t1[t.ordinal()] = a;
    t2[t.ordinal()] = b;
  }

  private static double uniform(SplittableRandom r, double lo, double hi) {
    return lo + (hi - lo) * r.nextDouble();
  }

  private static double fraction(Grade g, SplittableRandom r) {
    double u = r.nextDouble();
    return switch (g) {
      case NORMAL_MILD -> 0.25 * u;
      case MODERATE -> 0.40 + 0.15 * u;
      case SEVERE -> 0.70 + 0.15 * u;
    };
  }

  // ---------------------------------------------------------------- coordinates

  /** Patient position (LPS mm) of arc coordinates (u, s, v). */
  public double[] toPatient(double u, double s, double v) {
    double phi = phi0 + kappa * s;
    double rr = radius - v;
    return new double[] {xMid + u, cy - rr * StrictMath.cos(phi), cz - rr * StrictMath.sin(phi)};
  }

  /** Arc coordinates (u, s, v) of a patient position. */
  public double[] toArc(double x, double y, double z) {
    double dy = y - cy;
    double dz = z - cz;
    double rr = Math.sqrt(dy * dy + dz * dz);
    double phi = StrictMath.atan2(-dz, -dy);
    return new double[] {x - xMid, (phi - phi0) / kappa, radius - rr};
  }

  /** The x of the mid-sagittal plane. */
  public double midlineX() {
    return xMid;
  }

  /** Arc length s of the centre of the disc of {@code level}. */
  public double levelS(Level level) {
    return levelS[level.ordinal()];
  }

  /** Half-depth of the vertebral bodies at s (piecewise linear between body centres). */
  private double bAt(double s) {
    if (s <= vMid[0]) return vB[0];
    for (int i = 1; i < NV; i++) {
      if (s <= vMid[i]) {
        double t = (s - vMid[i - 1]) / (vMid[i] - vMid[i - 1]);
        return vB[i - 1] + t * (vB[i] - vB[i - 1]);
      }
    }
    return vB[NV - 1];
  }

  /** v of the sac's anterior wall without narrowing. */
  private double sacAnterior(double s) {
    return bAt(s) + 1.5;
  }

  private double sacHalfWidthAt(double s) {
    return sacHalfWidth + sacWidthSlope * s;
  }

  private double sacTaper(double s) {
    return clamp((sacEnd - s) / 20.0, 0, 1);
  }

  // ---------------------------------------------------------------- ground truth

  /**
   * The ground-truth point of a (condition, level) in patient LPS mm: the centre of the (narrowed)
   * thecal sac at the disc level for spinal canal stenosis, the centre of the foramen for foraminal
   * narrowing, the centre of the lateral recess at the disc level for subarticular stenosis. Left
   * is toward +x.
   */
  public double[] point(Condition c, Level l) {
    int li = l.ordinal();
    double s = levelS[li];
    return switch (c) {
      case SPINAL_CANAL_STENOSIS -> {
        double[] sac = narrowedSac(s);
        yield toPatient(0, s, sac[0]);
      }
      case LEFT_NEURAL_FORAMINAL_NARROWING, RIGHT_NEURAL_FORAMINAL_NARROWING ->
          toPatient(side(c) * foramenU(foramenS[li]), foramenS[li], foramenV[li]);
      case LEFT_SUBARTICULAR_STENOSIS, RIGHT_SUBARTICULAR_STENOSIS ->
          toPatient(side(c) * recessU(s), s, recessV(s));
    };
  }

  /**
   * The point of a lateral recess where it crosses the axial plane at height {@code z}: the
   * recess's axis runs along the arc at fixed (u, v), so the point keeps its place in the recess
   * while following the plane. {@code c} must be a subarticular condition.
   */
  public double[] recessPointAtZ(Condition c, Level l, double z) {
    if (c != Condition.LEFT_SUBARTICULAR_STENOSIS && c != Condition.RIGHT_SUBARTICULAR_STENOSIS) {
      throw new IllegalArgumentException("condition: expected a subarticular stenosis, got " + c);
    }
    double s = levelS[l.ordinal()];
    // Two fixed-point steps: u and v of the recess vary slowly with s.
    for (int i = 0; i < 3; i++) {
      double v = recessV(s);
      double sinPhi = clamp((cz - z) / (radius - v), -1, 1);
      s = (StrictMath.asin(sinPhi) - phi0) / kappa;
    }
    return toPatient(side(c) * recessU(s), s, recessV(s));
  }

  /** The antero-posterior diameter (mm) of the thecal sac at the centre of a disc level. */
  public double canalDiameter(Level l) {
    double[] sac = narrowedSac(levelS[l.ordinal()]);
    return 2 * sac[1];
  }

  /** The narrowing fraction drawn for a (condition, level), within its grade's band. */
  public double narrowing(Condition c, Level l) {
    int li = l.ordinal();
    return switch (c) {
      case SPINAL_CANAL_STENOSIS -> scsFraction[li];
      case LEFT_NEURAL_FORAMINAL_NARROWING -> nfnFraction[1][li];
      case RIGHT_NEURAL_FORAMINAL_NARROWING -> nfnFraction[0][li];
      case LEFT_SUBARTICULAR_STENOSIS -> subFraction[1][li];
      case RIGHT_SUBARTICULAR_STENOSIS -> subFraction[0][li];
    };
  }

  private static int side(Condition c) {
    return switch (c) {
      case LEFT_NEURAL_FORAMINAL_NARROWING, LEFT_SUBARTICULAR_STENOSIS -> 1;
      case RIGHT_NEURAL_FORAMINAL_NARROWING, RIGHT_SUBARTICULAR_STENOSIS -> -1;
      default -> 0;
    };
  }

  private double foramenU(double s) {
    return sacHalfWidthAt(s) + 7;
  }

  private double recessU(double s) {
    return sacHalfWidthAt(s) + 1.0;
  }

  private double recessV(double s) {
    return sacAnterior(s) + 3;
  }

  /**
   * The sac's narrowed centre v, half AP diameter and half width at s, after the stenosis of the
   * nearby levels.
   */
  private double[] narrowedSac(double s) {
    double ant = sacAnterior(s);
    double taper = sacTaper(s);
    double d = sacDiameter * taper;
    double post = ant + d;
    double w = sacHalfWidthAt(s) * (0.5 + 0.5 * taper);
    for (int l = 0; l < NL; l++) {
      double t = (s - levelS[l]) / scsSigma[l];
      if (t > -4 && t < 4) {
        double g = StrictMath.exp(-0.5 * t * t) * scsFraction[l];
        ant += 0.65 * d * g;
        post -= 0.35 * d * g;
        w *= 1 - 0.35 * g;
      }
    }
    return new double[] {0.5 * (ant + post), 0.5 * (post - ant), w};
  }

  // ---------------------------------------------------------------- sampling

  /** The tissue at a patient position (LPS mm). */
  public Tissue tissueAt(double x, double y, double z) {
    return TISSUES[code(x, y, z) & 31];
  }

  /**
   * The noise-free signal at a patient position for a contrast, before the coil's shading; 0 in
   * air, up to about 1900.
   */
  public double signal(double x, double y, double z, Contrast c) {
    int code = code(x, y, z);
    int t = code & 31;
    int index = code >>> 5;
    double[] lv = level[c.ordinal()];
    double val = lv[t];
    if (t == Tissue.MARROW.ordinal()) {
      val *= marrowGain[index];
    } else if (t == Tissue.NUCLEUS.ordinal() && c == Contrast.T2) {
      val =
          lv[Tissue.ANNULUS.ordinal()]
              + (lv[t] - lv[Tissue.ANNULUS.ordinal()]) * (1 - 0.85 * discDeg[index]);
    } else if (t == Tissue.SOFT_TISSUE.ordinal()) {
      val *=
          1
              + 0.12
                  * StrictMath.sin(0.21 * x + texturePhase[0])
                  * StrictMath.sin(0.17 * y + texturePhase[1])
              + 0.06 * StrictMath.sin(0.37 * z + 0.11 * x + texturePhase[2]);
    }
    return val;
  }

  /** A smooth receive-coil shading: the posterior (surface-coil) side is brighter. */
  double coilGain(double y) {
    double spineBack = cy - radius + sacDiameter + 40;
    double t = clamp((spineBack - y) / 180.0, 0, 1.3);
    return 1.12 - 0.38 * t;
  }

  private int code(double x, double y, double z) {
    double dy = y - cy;
    double dz = z - cz;
    double rr = Math.sqrt(dy * dy + dz * dz);
    double phi = StrictMath.atan2(-dz, -dy);
    return classify(x - xMid, (phi - phi0) / kappa, radius - rr, y, z);
  }

  private static int code(Tissue t, int index) {
    return t.ordinal() | (index << 5);
  }

  private static int code(Tissue t) {
    return t.ordinal();
  }

  private int classify(double u, double s, double v, double y, double z) {
    double b = bAt(s);
    double ant = b + 1.5;
    double taper = sacTaper(s);
    double d = sacDiameter * taper;
    double w0 = sacHalfWidthAt(s);
    double vc = ant + 0.5 * d;
    double bonyBack = ant + sacDiameter + 2.5;

    // Body outline and subcutaneous fat, an elliptic cylinder along z whose back curves
    // forward a little away from L3.
    double dz = z - bodyCentreZ;
    double yc = y - (bodyCentreY - dz * dz / 1500.0);
    double eu = u / bodyHalfWidth;
    double ev = yc / bodyHalfDepth;
    if (eu * eu + ev * ev > 1) return code(Tissue.AIR);
    double iu = u / (bodyHalfWidth - subcutaneousFat);
    double iv = yc / (bodyHalfDepth - subcutaneousFat);
    if (iu * iu + iv * iv > 1) return code(Tissue.FAT);

    double au = Math.abs(u);
    int sideIdx = u >= 0 ? 1 : 0;
    if (au < 75 && v > -70 && v < 95) {
      // 1. Thecal sac, with its narrowing.
      double w = w0 * (0.5 + 0.5 * taper);
      if (d > 0.5) {
        double su = u / w;
        double sv = (v - vc) / (0.5 * d);
        if (su * su + sv * sv <= 1) {
          double[] sac = narrowedSac(s);
          double nu = u / sac[2];
          double nv = (v - sac[0]) / sac[1];
          if (nu * nu + nv * nv <= 1) {
            if (s < conusTip) {
              double t = Math.sqrt(clamp((conusTip - s) / 20.0, 0, 1));
              double cu = u / (4.5 * t + 1e-9);
              double cv = (v - sac[0]) / (3.5 * t + 1e-9);
              if (cu * cu + cv * cv <= 1) return code(Tissue.CORD);
            }
            if (s > conusTip - 10 && caudaEquina(u, v, sac)) return code(Tissue.NERVE);
            return code(Tissue.CSF);
          }
          return code(v < vc ? Tissue.DISC_BULGE : Tissue.LIGAMENT);
        }
      }
      // 2. Lateral recesses at the disc levels.
      for (int l = 0; l < NL; l++) {
        double ds = s - levelS[l];
        if (ds > -9 && ds < 9) {
          double ru = (au - recessU(s)) / 3.0;
          double rv = (v - recessV(s)) / 3.4;
          double rs = ds / 8.0;
          double rs4 = rs * rs * rs * rs;
          if (ru * ru + rv * rv + rs4 * rs4 <= 1) {
            double f = subFraction[sideIdx][l];
            double k = 1 - 0.85 * f;
            double nu = (au - recessU(s) + 1.2 * f) / (3.0 * k);
            double nv = (v - recessV(s) + 0.8 * f) / (3.4 * k);
            if (nu * nu + nv * nv + rs4 * rs4 <= 1) return code(Tissue.CSF);
            return code(Tissue.LIGAMENT);
          }
        }
      }
      // 3. Neural foramina.
      for (int l = 0; l < NL; l++) {
        double ds = s - foramenS[l];
        double hs = foramenHalfS[l];
        if (ds > -hs && ds < hs) {
          double fu = (au - foramenU(s)) / 5.0;
          double fv = (v - foramenV[l]) / foramenHalfV[l];
          double fs = ds / hs;
          if (fu * fu + fv * fv + fs * fs <= 1) {
            // The exiting root runs through the upper part.
            double nu = (ds + 0.5 * hs) / 2.3;
            double nv = (v - foramenV[l] + 0.5) / 2.6;
            if (nu * nu + nv * nv <= 1) return code(Tissue.NERVE);
            double f = nfnFraction[sideIdx][l];
            // Fat is lost from below (disc, facet) and from the front and back.
            double ks = 1 - 0.55 * f;
            double kv = 1 - 0.75 * f;
            double gs = (ds + hs * (1 - ks)) / (hs * ks);
            double gv = (v - foramenV[l]) / (foramenHalfV[l] * kv);
            double gu = fu / (1 - 0.3 * f);
            if (gu * gu + gv * gv + gs * gs <= 1) return code(Tissue.FAT);
            return code(v < foramenV[l] ? Tissue.DISC_BULGE : Tissue.LIGAMENT);
          }
        }
      }
      // 4. Vertebral bodies.
      for (int i = 0; i < NV; i++) {
        if (s >= vTop[i] - 0.5 && s <= vBot[i] + 0.5) {
          double h = 0.5 * (vBot[i] - vTop[i]);
          double bu = u / vA[i];
          double bv = v / vB[i];
          double bs = (s - vMid[i]) / h;
          double rho = bu * bu * bu * bu + bv * bv * bv * bv;
          double bs4 = bs * bs * bs * bs;
          if (rho + bs4 * bs4 <= 1) {
            double cu = u / (vA[i] - 1.4);
            double cv = v / (vB[i] - 1.4);
            double cs = (s - vMid[i]) / (h - 1.1);
            double cs4 = cs * cs * cs * cs;
            if (cu * cu * cu * cu + cv * cv * cv * cv + cs4 * cs4 > 1) {
              return code(Tissue.CORTEX);
            }
            return code(Tissue.MARROW, i);
          }
        }
      }
      // 5. Discs.
      for (int i = 0; i < ND; i++) {
        double top = vBot[i];
        double bottom = vTop[i + 1];
        if (s >= top - 1.5 && s <= bottom + 1.5) {
          double a = 0.5 * (vA[i] + vA[i + 1]) * 1.02;
          double bb = 0.5 * (vB[i] + vB[i + 1]) * 1.02;
          double du = u / a;
          double dv = v / bb;
          if (du * du * du * du + dv * dv * dv * dv <= 1) {
            double mid = 0.5 * (top + bottom);
            double half = Math.max(0.5 * (bottom - top), 0.5);
            double nu = u / (0.55 * a);
            double nv = (v - 0.12 * bb) / (0.5 * bb);
            double ns = (s - mid) / (0.6 * half);
            if (nu * nu + nv * nv + ns * ns <= 1) return code(Tissue.NUCLEUS, i);
            return code(Tissue.ANNULUS, i);
          }
        }
      }
      // 6. The bony canal around the sac: epidural fat, ligaments.
      {
        double cu = u / (w0 + 2);
        double cv = (v - (ant + 0.5 * sacDiameter + 1)) / (0.5 * sacDiameter + 2.5);
        double r2 = cu * cu + cv * cv;
        if (r2 <= 1) {
          if (v < vc) return code(Tissue.LIGAMENT);
          return code(r2 > 0.82 ? Tissue.LIGAMENT : Tissue.FAT);
        }
      }
      // 7. Posterior elements.
      int bone = posteriorElements(u, au, s, v, w0 + 2, bonyBack);
      if (bone >= 0) return bone;
      // 8. Vessels and muscles.
      double bodyFront = -b;
      double sBif = vMid[L1 + 3];
      if (s < sBif) {
        if (inCircle(u - 12, v - (bodyFront - 14), 10)) return code(Tissue.ARTERY);
      } else {
        double spread = 12 + 0.45 * (s - sBif);
        if (inCircle(au - spread, v - (bodyFront - 14), 6.5)) return code(Tissue.ARTERY);
      }
      if (inCircle(u + 18, v - (bodyFront - 11), 11)) return code(Tissue.VEIN);
      if (s > vTop[L1] + 5) {
        double grow = clamp((s - vTop[L1] - 5) / 130.0, 0, 1);
        double pu = (au - (vA[L1 + 2] + 10 + 10 * grow)) / (6 + 13 * grow);
        double pv = (v - (-3 + 4 * grow)) / (8 + 10 * grow);
        if (pu * pu + pv * pv <= 1) return code(Tissue.MUSCLE);
      }
      // Retroperitoneal fat beside the psoas, abdomen further out; the paraspinal muscles
      // fill the back.
      if (v < -b - 4) return code(Tissue.SOFT_TISSUE);
      double fu = (au - (vA[L1 + 2] + 24)) / 26;
      double fv = (v + 2) / (b + 8);
      if (fu * fu + fv * fv <= 1) return code(Tissue.FAT);
      return code(v < 0 ? Tissue.SOFT_TISSUE : Tissue.MUSCLE);
    }
    return code(v < -b - 4 ? Tissue.SOFT_TISSUE : Tissue.MUSCLE);
  }

  private static boolean inCircle(double du, double dv, double r) {
    return du * du + dv * dv <= r * r;
  }

  private static final double[][] ROOTS = {
    {0.3, 0.45}, {-0.3, 0.45}, {0.55, 0.25}, {-0.55, 0.25}, {0.75, -0.05}, {-0.75, -0.05}
  };

  private static boolean caudaEquina(double u, double v, double[] sac) {
    for (double[] p : ROOTS) {
      double du = u - p[0] * sac[2];
      double dv = v - (sac[0] + p[1] * sac[1]);
      if (du * du + dv * dv <= 1.0) return true;
    }
    return false;
  }

  /** Pedicles, laminae, facets, spinous and transverse processes; -1 when none is here. */
  private int posteriorElements(
      double u, double au, double s, double v, double bonyHalfWidth, double bonyBack) {
    for (int i = 0; i < NV; i++) {
      double top = vTop[i];
      double h = vBot[i] - top;
      if (s < top - 2 || s > vBot[i] + 20) continue;
      double b = vB[i];
      // Pedicle: from the back of the body to the lamina, lateral to the canal.
      {
        double pu = (au - (bonyHalfWidth + 4.5)) / 4.5;
        double ps = (s - (top + 0.32 * h)) / (0.21 * h);
        double pv = (v - 0.5 * (b - 2 + bonyBack)) / (0.5 * (bonyBack - b + 2));
        double pv4 = pv * pv * pv * pv;
        double f = pu * pu + ps * ps + pv4 * pv4;
        if (f <= 1) return f > 0.45 ? code(Tissue.CORTEX) : code(Tissue.MARROW, i);
      }
      // Lamina: a plate behind the canal, sloping down to overlap the disc below.
      if (i < S2) {
        double ls = (s - (top + 0.35 * h + 0.5 * (0.65 * h + 4))) / (0.5 * (0.65 * h + 4));
        double lu = au / (bonyHalfWidth + 8);
        double lv = (v - (bonyBack + 3 + 0.08 * (s - top))) / 3.2;
        double ls4 = ls * ls * ls * ls;
        double lu4 = lu * lu * lu * lu;
        double f = ls4 + lu4 + lv * lv;
        if (f <= 1) return f > 0.4 ? code(Tissue.CORTEX) : code(Tissue.MARROW, i);
      }
      // Spinous process: slanting down as it runs back.
      if (i < S2) {
        double depth = v - (bonyBack + 4);
        if (depth > 0 && depth < 30 && au < 3.5) {
          double centre = top + 0.55 * h + 0.3 * depth;
          double half = 0.3 * h * (1 - 0.25 * depth / 30);
          double ss = (s - centre) / half;
          double su = u / 3.5;
          double dd = (depth - 15) / 15;
          double f = ss * ss + su * su + dd * dd * dd * dd;
          if (f <= 1) return f > 0.5 ? code(Tissue.CORTEX) : code(Tissue.MARROW, i);
        }
      }
      // Transverse processes.
      if (i < S1) {
        double tu = (au - (bonyHalfWidth + 8 + 12)) / 12;
        double tv = (v - (b + 5)) / 3.8;
        double ts = (s - (top + 0.35 * h)) / 4.0;
        double tu4 = tu * tu * tu * tu;
        double f = tu4 + tv * tv + ts * ts;
        if (f <= 1) return f > 0.45 ? code(Tissue.CORTEX) : code(Tissue.MARROW, i);
      }
      // Facet joint below this vertebra (its inferior, the next one's superior process).
      if (i < ND - 1) {
        double centre = 0.5 * (vBot[i] + vTop[i + 1]);
        double half = 0.5 * (vTop[i + 1] - vBot[i]) + 7;
        double fu = (au - (bonyHalfWidth + 6)) / 5.5;
        double fv = (v - (bonyBack - 0.5)) / 6.5;
        double fs = (s - centre) / half;
        double fs4 = fs * fs * fs * fs;
        double f = fu * fu + fv * fv + fs4;
        if (f <= 1) {
          double joint = (v - (bonyBack - 0.5)) + 0.5 * (au - (bonyHalfWidth + 6));
          if (Math.abs(joint) < 0.7) return code(Tissue.CSF);
          return f > 0.55 ? code(Tissue.CORTEX) : code(Tissue.MARROW, i);
        }
      }
    }
    return -1;
  }

  private static double clamp(double x, double lo, double hi) {
    return x < lo ? lo : x > hi ? hi : x;
  }
}
