package org.spinekit.synth;

/**
 * The skull base above C1 (unlabelled bone), in the frame of C1: occipital condyles on the lateral
 * masses of the atlas and the lower part of the skull, an ellipsoidal shell whose floor is pierced
 * by the foramen magnum.
 */
final class CervicalOcciput {
  final CervicalVertebra c1;
  final double sc;
  final double[] box;

  CervicalOcciput(CervicalVertebra c1, double sc) {
    this.c1 = c1;
    this.sc = sc;
    double[] lo = c1.toPatient(0, 0, 6 * sc);
    double r = 75 * sc;
    this.box = new double[] {lo[0] - r, lo[0] + r, lo[1] - r, lo[1] + r, lo[2] - 15, lo[2] + 120};
  }

  /** 0 outside, 1 cortex, 2 cancellous. */
  int classify(double x, double y, double z) {
    double u = c1.localU(x) / sc;
    double v = c1.localV(y, z) / sc;
    double w = c1.localW(y, z) / sc;
    double au = Math.abs(u);
    int r = CervicalVertebra.roundedCylinder(au - 14, v - 6, w - 10.5, 6, 8.5, 3.5, 1.2);
    if (r != 0) return r;
    if (v < -12) return 0;
    double hole = u * u / (15 * 15) + (v - 13) * (v - 13) / (18 * 18);
    if (hole < 1) return 0;
    double du = u / 64;
    double dv = (v - 15) / 70;
    double dw = (w - 62) / 50;
    if (du * du + dv * dv + dw * dw > 1) return 0;
    du = u / 58;
    dv = (v - 15) / 64;
    dw = (w - 62) / 44;
    if (du * du + dv * dv + dw * dw < 1) return 0;
    du = u / 62;
    dv = (v - 15) / 68;
    dw = (w - 62) / 48;
    double eu = u / 60;
    double ev = (v - 15) / 66;
    double ew = (w - 62) / 46;
    boolean inner =
        du * du + dv * dv + dw * dw < 1 && eu * eu + ev * ev + ew * ew > 1 && hole > 1.3;
    return inner ? 2 : 1;
  }
}
