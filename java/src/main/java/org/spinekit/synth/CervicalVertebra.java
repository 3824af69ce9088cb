package org.spinekit.synth;

/**
 * The analytic bone of one vertebra of the cervical phantom: body, dens, neural arch, articular
 * pillars, transverse and spinous processes as unions of rounded cylinders, ellipsoids, rounded
 * boxes and an elliptic ring, in the vertebra's own frame ({@code u} towards the patient's left,
 * {@code v} posterior, {@code w} superior, mm) placed on the curved spinal axis.
 *
 * <p>{@link #classify} tells, for one point, whether it is outside, in the cortical shell, in the
 * cancellous interior or in the lucent line of a fracture; it allocates nothing, so the phantom can
 * call it for every voxel. The mask and the intensities both come from it, so the labels cover
 * exactly the bone.
 */
final class CervicalVertebra {
  /** Outside the bone. */
  static final int OUTSIDE = 0;

  /** Cortical shell. */
  static final int CORTEX = 1;

  /** Cancellous interior. */
  static final int CANCELLOUS = 2;

  /** The soft-tissue line of a crack or step, inside the vertebra (still labelled). */
  static final int FRACTURE_LINE = 3;

  enum Type {
    ATLAS,
    AXIS,
    CERVICAL,
    THORACIC
  }

  /** Shape numbers in mm, set once by {@link CervicalAnatomy} and never changed afterwards. */
  static final class Dims {
    double cortex = 1.2;
    // body: half width (u), half depth (v), half height (w)
    double a;
    double b;
    double hh;
    // spinal canal centre (v) and half axes; arch thickness, centre and half height (w)
    double vc;
    double rcu;
    double rcv;
    double t;
    double wa;
    double ha;
    // spinous process: length, half width, half height, drop per mm, bifid tip
    double spLen;
    double spW;
    double spH;
    double spSlope;
    boolean bifid;
    // transverse process: length, half thickness, half height, backward angle (rad), foramen
    double tpLen;
    double tpT;
    double tpH;
    double tpAngle;
    double tpV;
    double foramenR;
    // articular pillars: centre (u, v), half axes, w extent
    double pu;
    double pv;
    double pru;
    double prv;
    double pw0;
    double pw1;
    // dens (axis): centre w, radius, half height
    double dw;
    double dr;
    double dh;
    // atlas: lateral masses centre (u, v), half axes
    double lmu;
    double lmv;
    double lru;
    double lrv;
    double lrw;
  }

  final int label;
  final Type type;
  final Dims d;
  // frame: centre and superior axis (0, ay, az); posterior axis is (0, az, -ay)
  final double cx;
  final double cy;
  final double cz;
  final double ay;
  final double az;
  final double cortexHu;
  final double cancellousHu;
  final CervicalFracture fracture;
  // patient-space bounding box {xmin, xmax, ymin, ymax, zmin, zmax}
  final double[] box;

  CervicalVertebra(
      int label,
      Type type,
      Dims d,
      double cx,
      double cy,
      double cz,
      double tilt,
      double cortexHu,
      double cancellousHu,
      CervicalFracture fracture) {
    this(
        label,
        type,
        d,
        cx,
        cy,
        cz,
        -Math.sin(tilt),
        Math.cos(tilt),
        cortexHu,
        cancellousHu,
        fracture);
  }

  private CervicalVertebra(
      int label,
      Type type,
      Dims d,
      double cx,
      double cy,
      double cz,
      double ay,
      double az,
      double cortexHu,
      double cancellousHu,
      CervicalFracture fracture) {
    if (fracture != null && fracture.label() != label) {
      throw new IllegalArgumentException(
          "fracture: expected one of vertebra " + label + ", got one of " + fracture.label());
    }
    if (fracture != null
        && fracture.kind() == CervicalFracture.Kind.COLLAPSE
        && type == Type.ATLAS) {
      throw new IllegalArgumentException("fracture: C1 has no body to collapse");
    }
    this.label = label;
    this.type = type;
    this.d = d;
    this.cx = cx;
    this.cy = cy;
    this.cz = cz;
    this.ay = ay;
    this.az = az;
    this.cortexHu = cortexHu;
    this.cancellousHu = cancellousHu;
    this.fracture = fracture;
    this.box = patientBox();
  }

  CervicalVertebra withFracture(CervicalFracture f) {
    return new CervicalVertebra(label, type, d, cx, cy, cz, ay, az, cortexHu, cancellousHu, f);
  }

  /** Local u of a patient point. */
  double localU(double x) {
    return x - cx;
  }

  /** Local v of a patient point. */
  double localV(double y, double z) {
    return (y - cy) * az - (z - cz) * ay;
  }

  /** Local w of a patient point. */
  double localW(double y, double z) {
    return (y - cy) * ay + (z - cz) * az;
  }

  /** Patient position of a local point. */
  double[] toPatient(double u, double v, double w) {
    return new double[] {cx + u, cy + v * az + w * ay, cz - v * ay + w * az};
  }

  /** The density of this vertebra's value class (cortex, cancellous or fracture line). */
  double hu(int code, double softTissueHu) {
    return switch (code) {
      case CORTEX -> cortexHu;
      case CANCELLOUS ->
          fracture != null && fracture.kind() == CervicalFracture.Kind.COLLAPSE
              ? cancellousHu + 150
              : cancellousHu;
      case FRACTURE_LINE -> softTissueHu;
      default -> throw new IllegalArgumentException("code: expected 1..3, got " + code);
    };
  }

  /** {@link #OUTSIDE}, {@link #CORTEX}, {@link #CANCELLOUS} or {@link #FRACTURE_LINE}. */
  int classify(double u, double v, double w) {
    CervicalFracture f = fracture;
    if (f == null) return shape(u, v, w, 0);
    switch (f.kind()) {
      case CRACK:
        {
          int s = shape(u, v, w, 0);
          if (s != OUTSIDE && Math.abs(f.distance(u, v, w)) <= f.halfWidth()) {
            double pu = u - f.pu();
            double pv = v - f.pv();
            double pw = w - f.pw();
            if (pu * pu + pv * pv + pw * pw <= f.reach() * f.reach()) return FRACTURE_LINE;
          }
          return s;
        }
      case STEP:
        {
          double dist = f.distance(u, v, w);
          int s = dist > 0 ? shape(u - f.su(), v - f.sv(), w - f.sw(), 0) : shape(u, v, w, 0);
          if (s != OUTSIDE && Math.abs(dist) <= f.halfWidth()) return FRACTURE_LINE;
          return s;
        }
      case COLLAPSE:
        return shape(u, v, w, f.severity());
      default:
        throw new IllegalStateException("fracture kind " + f.kind());
    }
  }

  /**
   * Whether a labelled point lies where the fracture changed the bone: near the crack or step
   * plane, or in a collapsed body. Used for the per-slice boxes of {@code
   * train_bounding_boxes.csv}.
   */
  boolean inFractureZone(double u, double v, double w) {
    CervicalFracture f = fracture;
    if (f == null) return false;
    return switch (f.kind()) {
      case CRACK -> Math.abs(f.distance(u, v, w)) <= f.halfWidth() + 2;
      case STEP ->
          Math.abs(f.distance(u, v, w))
              <= f.halfWidth() + 2 + Math.sqrt(f.su() * f.su() + f.sv() * f.sv() + f.sw() * f.sw());
      case COLLAPSE -> Math.abs(u) <= d.a + 1 && Math.abs(v) <= d.b + 1 && Math.abs(w) <= d.hh + 1;
    };
  }

  private int shape(double u, double v, double w, double collapse) {
    Dims g = d;
    double c = g.cortex;
    double au = Math.abs(u);
    boolean cortex = false;
    int r;
    if (type == Type.ATLAS) {
      // ring: anterior arch, posterior arch
      r = ring(u, v - g.vc, w - g.wa, g.rcu, g.rcv, g.t, g.ha, c);
      if (r == CANCELLOUS) return r;
      cortex |= r == CORTEX;
      r = roundedCylinder(au - g.lmu, v - g.lmv, w, g.lru, g.lrv, g.lrw, c);
      if (r == CANCELLOUS) return r;
      cortex |= r == CORTEX;
      r = transverse(au, v, w, c);
      if (r == CANCELLOUS) return r;
      cortex |= r == CORTEX;
      // posterior tubercle
      r = roundedBox(u, v - (g.vc + g.rcv + g.t + 2), w - g.wa, 3, 3.5, 3.5, c);
      if (r == CANCELLOUS) return r;
      cortex |= r == CORTEX;
      return cortex ? CORTEX : OUTSIDE;
    }
    double wb = w;
    if (collapse > 0) {
      double frac = (g.b - v) / (2 * g.b);
      frac = frac < 0 ? 0 : frac > 1 ? 1 : frac;
      double k = 1 - collapse * frac;
      wb = (w + g.hh) / k - g.hh;
    }
    r = roundedCylinder(u, v, wb, g.a, g.b, g.hh, c);
    if (r == CANCELLOUS) return r;
    cortex |= r == CORTEX;
    if (type == Type.AXIS) {
      r = ellipsoid(u, v, w - g.dw, g.dr, g.dr * 1.1, g.dh, c);
      if (r == CANCELLOUS) return r;
      cortex |= r == CORTEX;
      // superior articular facets beside the dens
      r = roundedCylinder(au - g.lmu, v - g.lmv, w - (g.hh - 1.5), g.lru, g.lrv, g.lrw, c);
      if (r == CANCELLOUS) return r;
      cortex |= r == CORTEX;
    }
    r = ring(u, v - g.vc, w - g.wa, g.rcu, g.rcv, g.t, g.ha, c);
    if (r == CANCELLOUS) return r;
    cortex |= r == CORTEX;
    double pm = 0.5 * (g.pw0 + g.pw1);
    double ph = 0.5 * (g.pw1 - g.pw0);
    r = roundedCylinder(au - g.pu, v - g.pv, w - pm, g.pru, g.prv, ph, c);
    if (r == CANCELLOUS) return r;
    cortex |= r == CORTEX;
    r = spinous(au, v, w, c);
    if (r == CANCELLOUS) return r;
    cortex |= r == CORTEX;
    r = transverse(au, v, w, c);
    if (r == CANCELLOUS) return r;
    cortex |= r == CORTEX;
    return cortex ? CORTEX : OUTSIDE;
  }

  private int spinous(double au, double v, double w, double c) {
    Dims g = d;
    double start = g.vc + g.rcv + 0.3 * g.t;
    double hl = 0.5 * g.spLen;
    double dv = v - (start + hl);
    if (dv < -hl || dv > hl) return OUTSIDE;
    if (g.bifid && dv > hl - 5 && au < 1.0) return OUTSIDE;
    double dw = w - (g.wa - g.spSlope * (v - start));
    double taper = 1.15 - 0.3 * (dv + hl) / (2 * hl);
    return roundedBox(au, dv, dw, g.spW * taper, hl, g.spH, c);
  }

  private int transverse(double au, double v, double w, double c) {
    Dims g = d;
    if (g.tpLen <= 0) return OUTSIDE;
    double base = type == Type.ATLAS ? g.lmu : g.rcu + g.t - 2;
    double du = au - base;
    double dv = v - g.tpV;
    double cos = Math.cos(g.tpAngle);
    double sin = Math.sin(g.tpAngle);
    double along = du * cos + dv * sin;
    double across = -du * sin + dv * cos;
    int r = roundedBox(along - 0.5 * g.tpLen, across, w - g.wa, 0.5 * g.tpLen, g.tpT, g.tpH, c);
    if (r != OUTSIDE && g.foramenR > 0) {
      double fu = type == Type.ATLAS ? 9 : 5.5;
      double e = along - fu;
      if (e * e + across * across < g.foramenR * g.foramenR) return OUTSIDE;
    }
    return r;
  }

  /** Rounded cylinder: ((x/rx)^2 + (y/ry)^2)^2 + (z/rz)^8 <= 1. */
  static int roundedCylinder(
      double x, double y, double z, double rx, double ry, double rz, double c) {
    double q = x * x / (rx * rx) + y * y / (ry * ry);
    if (q > 1) return OUTSIDE;
    double t = z * z / (rz * rz);
    if (t > 1) return OUTSIDE;
    t *= t;
    if (q * q + t * t > 1) return OUTSIDE;
    double ix = rx - c;
    double iy = ry - c;
    double iz = rz - c;
    if (ix <= 0 || iy <= 0 || iz <= 0) return CORTEX;
    q = x * x / (ix * ix) + y * y / (iy * iy);
    t = z * z / (iz * iz);
    t *= t;
    return q * q + t * t <= 1 ? CANCELLOUS : CORTEX;
  }

  static int ellipsoid(double x, double y, double z, double rx, double ry, double rz, double c) {
    double q = x * x / (rx * rx) + y * y / (ry * ry) + z * z / (rz * rz);
    if (q > 1) return OUTSIDE;
    double ix = rx - c;
    double iy = ry - c;
    double iz = rz - c;
    if (ix <= 0 || iy <= 0 || iz <= 0) return CORTEX;
    q = x * x / (ix * ix) + y * y / (iy * iy) + z * z / (iz * iz);
    return q <= 1 ? CANCELLOUS : CORTEX;
  }

  /** Rounded box: (x/rx)^4 + (y/ry)^4 + (z/rz)^4 <= 1. */
  static int roundedBox(double x, double y, double z, double rx, double ry, double rz, double c) {
    double p = x * x / (rx * rx);
    double q = y * y / (ry * ry);
    double s = z * z / (rz * rz);
    if (p > 1 || q > 1 || s > 1 || p * p + q * q + s * s > 1) return OUTSIDE;
    double ix = rx - c;
    double iy = ry - c;
    double iz = rz - c;
    if (ix <= 0 || iy <= 0 || iz <= 0) return CORTEX;
    p = x * x / (ix * ix);
    q = y * y / (iy * iy);
    s = z * z / (iz * iz);
    return p * p + q * q + s * s <= 1 ? CANCELLOUS : CORTEX;
  }

  /**
   * Elliptic ring around the canal: outside the inner ellipse (iu, iv), inside the outer one (iu +
   * t, iv + t), {@code |z| <= hz}.
   */
  static int ring(
      double x, double y, double z, double iu, double iv, double t, double hz, double c) {
    if (z > hz || z < -hz) return OUTSIDE;
    double ou = iu + t;
    double ov = iv + t;
    double qo = x * x / (ou * ou) + y * y / (ov * ov);
    if (qo > 1) return OUTSIDE;
    double qi = x * x / (iu * iu) + y * y / (iv * iv);
    if (qi < 1) return OUTSIDE;
    if (hz - Math.abs(z) < c || t < 2 * c) return CORTEX;
    double ou2 = ou - c;
    double ov2 = ov - c;
    double iu2 = iu + c;
    double iv2 = iv + c;
    return x * x / (ou2 * ou2) + y * y / (ov2 * ov2) <= 1
            && x * x / (iu2 * iu2) + y * y / (iv2 * iv2) >= 1
        ? CANCELLOUS
        : CORTEX;
  }

  /** {umax, vmin, vmax, wmin, wmax} of the bone in the local frame, with a margin. */
  double[] localBounds() {
    Dims g = d;
    double umax;
    double vmin;
    double vmax;
    double wmin;
    double wmax;
    double tpReach =
        g.tpLen > 0 ? (type == Type.ATLAS ? g.lmu : g.rcu + g.t - 2) + g.tpLen + g.tpT : 0;
    if (type == Type.ATLAS) {
      umax = Math.max(Math.max(g.rcu + g.t, g.lmu + g.lru), tpReach);
      vmin = Math.min(g.vc - g.rcv - g.t, g.lmv - g.lrv);
      vmax = g.vc + g.rcv + g.t + 5.5;
      wmin = -Math.max(g.lrw, Math.max(g.ha, g.tpH));
      wmax = -wmin;
    } else {
      double spEnd = g.vc + g.rcv + 0.3 * g.t + g.spLen;
      umax = Math.max(Math.max(g.a, g.rcu + g.t), Math.max(g.pu + g.pru, tpReach));
      vmin = -g.b;
      vmax = Math.max(spEnd, g.tpV + g.tpLen + g.tpT);
      wmin =
          Math.min(
              Math.min(-g.hh, g.pw0),
              Math.min(g.wa - g.ha, g.wa - g.tpH) - g.spSlope * g.spLen - g.spH);
      wmax = Math.max(Math.max(g.hh, g.pw1), g.wa + Math.max(g.ha, Math.max(g.tpH, g.spH)));
      if (type == Type.AXIS) {
        umax = Math.max(umax, g.lmu + g.lru);
        wmax = Math.max(wmax, g.dw + g.dh);
        wmax = Math.max(wmax, g.hh - 1.5 + g.lrw);
      }
    }
    double m = 1;
    if (fracture != null && fracture.kind() == CervicalFracture.Kind.STEP) {
      m +=
          Math.sqrt(
              fracture.su() * fracture.su()
                  + fracture.sv() * fracture.sv()
                  + fracture.sw() * fracture.sw());
    }
    return new double[] {umax + m, vmin - m, vmax + m, wmin - m, wmax + m};
  }

  private double[] patientBox() {
    double[] lb = localBounds();
    double[] bx = {
      Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
      Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
      Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY
    };
    for (int i = 0; i < 8; i++) {
      double u = (i & 1) == 0 ? -lb[0] : lb[0];
      double v = (i & 2) == 0 ? lb[1] : lb[2];
      double w = (i & 4) == 0 ? lb[3] : lb[4];
      double[] p = toPatient(u, v, w);
      for (int a = 0; a < 3; a++) {
        bx[2 * a] = Math.min(bx[2 * a], p[a]);
        bx[2 * a + 1] = Math.max(bx[2 * a + 1], p[a]);
      }
    }
    return bx;
  }
}
