package org.spinekit.synth;

/** An intervertebral disc: a rounded cylinder between two bodies (not labelled). */
final class CervicalDisc {
  final double cx;
  final double cy;
  final double cz;
  final double ay;
  final double az;
  final double a;
  final double b;
  final double hh;
  final double[] box;

  private CervicalDisc(
      double cx, double cy, double cz, double ay, double az, double a, double b, double hh) {
    this.cx = cx;
    this.cy = cy;
    this.cz = cz;
    this.ay = ay;
    this.az = az;
    this.a = a;
    this.b = b;
    this.hh = hh;
    double r = Math.max(a, b) + 1;
    double e = hh + 1;
    this.box =
        new double[] {cx - a - 1, cx + a + 1, cy - r - e, cy + r + e, cz - r - e, cz + r + e};
  }

  static CervicalDisc between(CervicalVertebra upper, CervicalVertebra lower) {
    double[] top = upper.toPatient(0, 0, -upper.d.hh);
    double[] bottom = lower.toPatient(0, 0, lower.d.hh);
    double dy = top[1] - bottom[1];
    double dz = top[2] - bottom[2];
    double len = Math.hypot(dy, dz);
    return new CervicalDisc(
        0.5 * (top[0] + bottom[0]),
        0.5 * (top[1] + bottom[1]),
        0.5 * (top[2] + bottom[2]),
        dy / len,
        dz / len,
        0.97 * Math.min(upper.d.a, lower.d.a),
        0.97 * Math.min(upper.d.b, lower.d.b),
        0.5 * len + 1.5);
  }

  /** 0 outside, 1 annulus, 2 nucleus. */
  int classify(double x, double y, double z) {
    double u = x - cx;
    double v = (y - cy) * az - (z - cz) * ay;
    double w = (y - cy) * ay + (z - cz) * az;
    double q = u * u / (a * a) + v * v / (b * b);
    if (q > 1) return 0;
    double t = w * w / (hh * hh);
    if (t > 1) return 0;
    t *= t;
    if (q * q + t * t > 1) return 0;
    return q < 0.3 ? 2 : 1;
  }
}
