package org.spinekit.synth;

/**
 * A rib (unlabelled bone, as in the RSNA masks): an arc of an ellipse centred on the vertebra's
 * mid-sagittal plane, from the tip of the transverse process laterally and forwards, dropping as it
 * goes, in the frame of its vertebra.
 */
final class CervicalRib {
  final CervicalVertebra vertebra;
  final double side;
  final double vCentre;
  final double semiU;
  final double semiV;
  final double phiTip;
  final double phiEnd;
  final double w0;
  final double drop;
  final double halfRadial;
  final double halfHeight;
  final double[] box;

  /**
   * @param semiU lateral semi-axis of the rib ellipse
   * @param semiV antero-posterior semi-axis
   * @param sweep the arc, in radians of the ellipse parameter, from the transverse process
   */
  CervicalRib(CervicalVertebra vertebra, int side, double semiU, double semiV, double sweep) {
    CervicalVertebra.Dims g = vertebra.d;
    this.vertebra = vertebra;
    this.side = side;
    double ut = g.rcu + g.t - 2 + g.tpLen * Math.cos(g.tpAngle);
    double vt = g.tpV + g.tpLen * Math.sin(g.tpAngle);
    this.semiU = Math.max(semiU, ut + 1);
    this.semiV = semiV;
    double cu = ut / this.semiU;
    this.vCentre = vt - semiV * Math.sqrt(1 - cu * cu);
    this.phiTip = Math.atan2((vt - vCentre) / semiV, cu);
    this.phiEnd = phiTip - sweep;
    this.w0 = g.wa;
    this.drop = 12;
    this.halfRadial = 3 * g.tpT / 5;
    this.halfHeight = 4 * g.tpH / 5;
    double[] bx = {
      Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
      Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
      Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY
    };
    double e = halfRadial + 1;
    for (int i = 0; i < 8; i++) {
      double u = side * ((i & 1) == 0 ? 0 : this.semiU + e);
      double v = (i & 2) == 0 ? vCentre - semiV - e : vt + e;
      double w = (i & 4) == 0 ? w0 - drop * sweep - halfHeight - 1 : w0 + halfHeight + 1;
      double[] p = vertebra.toPatient(u, v, w);
      for (int a = 0; a < 3; a++) {
        bx[2 * a] = Math.min(bx[2 * a], p[a]);
        bx[2 * a + 1] = Math.max(bx[2 * a + 1], p[a]);
      }
    }
    this.box = bx;
  }

  /** 0 outside, 1 cortex, 2 marrow. */
  int classify(double x, double y, double z) {
    CervicalVertebra vt = vertebra;
    double u = side * vt.localU(x);
    if (u <= 0) return 0;
    double dv = vt.localV(y, z) - vCentre;
    double pu = u / semiU;
    double pv = dv / semiV;
    double rho = Math.sqrt(pu * pu + pv * pv);
    // distance from the ellipse along the ray from its centre
    double dr = (rho - 1) * Math.sqrt(u * u + dv * dv) / rho;
    if (dr > halfRadial || dr < -halfRadial) return 0;
    double phi = Math.atan2(pv, pu);
    if (phi > phiTip || phi < phiEnd) return 0;
    double dw = vt.localW(y, z) - (w0 - drop * (phiTip - phi));
    double p = dr / halfRadial;
    double q = dw / halfHeight;
    if (p * p + q * q > 1) return 0;
    double c = vt.d.cortex;
    p = dr / (halfRadial - c);
    q = dw / (halfHeight - c);
    return p * p + q * q <= 1 ? 2 : 1;
  }
}
