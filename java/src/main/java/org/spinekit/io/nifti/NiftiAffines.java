package org.spinekit.io.nifti;

/**
 * The 4x4 affine arithmetic of NIfTI: qform quaternions to and from matrices, the closest rotation
 * to a matrix (polar decomposition through a 3x3 singular value decomposition), the axis codes of
 * an affine and 4x4 inverses. Follows nibabel ({@code quaternions.py}, {@code orientations.py},
 * {@code Nifti1Header.get_qform} and {@code set_qform}) so that both read the same header the same
 * way.
 */
final class NiftiAffines {
  private NiftiAffines() {}

  /** A 3x3 singular value decomposition {@code a = u diag(s) v^T}, s in descending order. */
  record Svd(double[][] u, double[] s, double[][] v) {}

  static double[][] identity4() {
    double[][] m = new double[4][4];
    for (int i = 0; i < 4; i++) m[i][i] = 1;
    return m;
  }

  /**
   * One-sided Jacobi SVD of a 3x3 matrix. Columns of {@code u} that belong to zero singular values
   * are left zero (callers drop them, as nibabel does).
   */
  static Svd svd3(double[][] a) {
    double[][] w = new double[3][3];
    double[][] v = new double[3][3];
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) w[i][j] = a[i][j];
      v[i][i] = 1;
    }
    for (int sweep = 0; sweep < 64; sweep++) {
      boolean rotated = false;
      for (int p = 0; p < 2; p++) {
        for (int q = p + 1; q < 3; q++) {
          double alpha = 0;
          double beta = 0;
          double gamma = 0;
          for (int k = 0; k < 3; k++) {
            alpha += w[k][p] * w[k][p];
            beta += w[k][q] * w[k][q];
            gamma += w[k][p] * w[k][q];
          }
          if (gamma == 0 || Math.abs(gamma) <= 1e-17 * Math.sqrt(alpha * beta)) continue;
          rotated = true;
          double zeta = (beta - alpha) / (2 * gamma);
          double t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
          double c = 1 / Math.sqrt(1 + t * t);
          double s = c * t;
          for (int k = 0; k < 3; k++) {
            double wp = w[k][p];
            double wq = w[k][q];
            w[k][p] = c * wp - s * wq;
            w[k][q] = s * wp + c * wq;
            double vp = v[k][p];
            double vq = v[k][q];
            v[k][p] = c * vp - s * vq;
            v[k][q] = s * vp + c * vq;
          }
        }
      }
      if (!rotated) break;
    }
    double[] s = new double[3];
    for (int j = 0; j < 3; j++) {
      s[j] = Math.sqrt(w[0][j] * w[0][j] + w[1][j] * w[1][j] + w[2][j] * w[2][j]);
    }
    // Sort descending, permuting the columns of w and v alike.
    Integer[] order = {0, 1, 2};
    java.util.Arrays.sort(order, (x, y) -> Double.compare(s[y], s[x]));
    double[][] u = new double[3][3];
    double[][] vs = new double[3][3];
    double[] ss = new double[3];
    for (int j = 0; j < 3; j++) {
      int o = order[j];
      ss[j] = s[o];
      for (int k = 0; k < 3; k++) {
        vs[k][j] = v[k][o];
        u[k][j] = s[o] > 0 ? w[k][o] / s[o] : 0;
      }
    }
    return new Svd(u, ss, vs);
  }

  /**
   * The closest orthogonal matrix to {@code rs}, keeping only directions whose singular value
   * exceeds nibabel's rank tolerance ({@code max(s) * 3 * eps}).
   */
  static double[][] polar(double[][] rs) {
    Svd d = svd3(rs);
    double tol = d.s[0] * 3 * Math.ulp(1.0);
    double[][] r = new double[3][3];
    for (int j = 0; j < 3; j++) {
      if (!(d.s[j] > tol)) continue;
      for (int a = 0; a < 3; a++) {
        for (int b = 0; b < 3; b++) r[a][b] += d.u[a][j] * d.v[b][j];
      }
    }
    return r;
  }

  /** Column lengths of the upper 3x3 of an affine (the voxel sizes along i, j, k). */
  static double[] zooms(double[][] aff) {
    double[] z = new double[3];
    for (int c = 0; c < 3; c++) {
      z[c] = Math.sqrt(aff[0][c] * aff[0][c] + aff[1][c] * aff[1][c] + aff[2][c] * aff[2][c]);
    }
    return z;
  }

  /**
   * nibabel's {@code io_orientation}: for each voxel axis, the world axis it runs closest to (0, 1,
   * 2) and the sign (+1 or -1); {@code {-1, 0}} where an axis has no direction.
   */
  static int[][] orientation(double[][] aff) {
    double[] z = zooms(aff);
    double[][] rs = new double[3][3];
    for (int a = 0; a < 3; a++) {
      for (int c = 0; c < 3; c++) rs[a][c] = aff[a][c] / (z[c] == 0 ? 1 : z[c]);
    }
    double[][] r = polar(rs);
    int[][] out = new int[3][2];
    for (int in = 0; in < 3; in++) {
      boolean zero = true;
      int best = 0;
      for (int a = 0; a < 3; a++) {
        if (Math.abs(r[a][in]) > 1e-8) zero = false;
        if (Math.abs(r[a][in]) > Math.abs(r[best][in])) best = a;
      }
      if (zero) {
        out[in][0] = -1;
        continue;
      }
      out[in][0] = best;
      out[in][1] = r[best][in] < 0 ? -1 : 1;
      for (int c = 0; c < 3; c++) r[best][c] = 0;
    }
    return out;
  }

  /** nibabel's {@code aff2axcodes} for RAS+ world axes, '?' for an axis without direction. */
  static String axcodes(double[][] aff) {
    final String pos = "RAS";
    final String neg = "LPI";
    StringBuilder s = new StringBuilder(3);
    for (int[] o : orientation(aff)) {
      if (o[0] < 0) {
        s.append('?');
      } else {
        s.append(o[1] > 0 ? pos.charAt(o[0]) : neg.charAt(o[0]));
      }
    }
    return s.toString();
  }

  /** The rotation of a unit quaternion (w, x, y, z), nibabel's {@code quat2mat}. */
  static double[][] quatToMat(double w, double x, double y, double z) {
    double n = w * w + x * x + y * y + z * z;
    double[][] m = new double[3][3];
    if (n < Math.ulp(1.0)) {
      m[0][0] = m[1][1] = m[2][2] = 1;
      return m;
    }
    double s = 2.0 / n;
    double xs = x * s;
    double ys = y * s;
    double zs = z * s;
    double wx = w * xs;
    double wy = w * ys;
    double wz = w * zs;
    double xx = x * xs;
    double xy = x * ys;
    double xz = x * zs;
    double yy = y * ys;
    double yz = y * zs;
    double zz = z * zs;
    m[0][0] = 1.0 - (yy + zz);
    m[0][1] = xy - wz;
    m[0][2] = xz + wy;
    m[1][0] = xy + wz;
    m[1][1] = 1.0 - (xx + zz);
    m[1][2] = yz - wx;
    m[2][0] = xz - wy;
    m[2][1] = yz + wx;
    m[2][2] = 1.0 - (xx + yy);
    return m;
  }

  /**
   * The quaternion (w, x, y, z), w >= 0, of a proper rotation matrix (Shepperd's method, on the
   * largest of the four candidate pivots).
   */
  static double[] matToQuat(double[][] r) {
    double tr = r[0][0] + r[1][1] + r[2][2];
    double w;
    double x;
    double y;
    double z;
    if (tr > 0) {
      double s = Math.sqrt(tr + 1) * 2;
      w = 0.25 * s;
      x = (r[2][1] - r[1][2]) / s;
      y = (r[0][2] - r[2][0]) / s;
      z = (r[1][0] - r[0][1]) / s;
    } else if (r[0][0] > r[1][1] && r[0][0] > r[2][2]) {
      double s = Math.sqrt(1 + r[0][0] - r[1][1] - r[2][2]) * 2;
      w = (r[2][1] - r[1][2]) / s;
      x = 0.25 * s;
      y = (r[0][1] + r[1][0]) / s;
      z = (r[0][2] + r[2][0]) / s;
    } else if (r[1][1] > r[2][2]) {
      double s = Math.sqrt(1 + r[1][1] - r[0][0] - r[2][2]) * 2;
      w = (r[0][2] - r[2][0]) / s;
      x = (r[0][1] + r[1][0]) / s;
      y = 0.25 * s;
      z = (r[1][2] + r[2][1]) / s;
    } else {
      double s = Math.sqrt(1 + r[2][2] - r[0][0] - r[1][1]) * 2;
      w = (r[1][0] - r[0][1]) / s;
      x = (r[0][2] + r[2][0]) / s;
      y = (r[1][2] + r[2][1]) / s;
      z = 0.25 * s;
    }
    if (w < 0) {
      w = -w;
      x = -x;
      y = -y;
      z = -z;
    }
    return new double[] {w, x, y, z};
  }

  /**
   * The qform affine of a header: rotation from the quaternion (b, c, d), a = sqrt(1 - b^2 - c^2 -
   * d^2) (0 when that is slightly negative, as nibabel allows within 3 eps of the stored
   * precision), voxel sizes from pixdim[1..3] and qfac = sign of pixdim[0] (0 read as 1).
   *
   * @throws IllegalArgumentException when b^2 + c^2 + d^2 exceeds 1 beyond that tolerance
   */
  static double[][] qform(NiftiHeader h) {
    double b = h.quaternB;
    double c = h.quaternC;
    double d = h.quaternD;
    double w2 = 1.0 - (b * b + c * c + d * d);
    double eps = h.version == 1 ? Math.ulp(1.0f) : Math.ulp(1.0);
    double a;
    if (w2 < 0) {
      if (w2 < -3 * eps) {
        throw new IllegalArgumentException(
            "qform quaternion (b, c, d) = ("
                + b
                + ", "
                + c
                + ", "
                + d
                + ") has b^2 + c^2 + d^2 = "
                + (1 - w2)
                + " > 1");
      }
      a = 0;
    } else {
      a = Math.sqrt(w2);
    }
    double[][] r = quatToMat(a, b, c, d);
    double[] vox = {Math.abs(h.pixdim[1]), Math.abs(h.pixdim[2]), Math.abs(h.pixdim[3])};
    if (h.pixdim[0] < 0) vox[2] = -vox[2];
    double[][] m = identity4();
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) m[i][j] = r[i][j] * vox[j];
    }
    m[0][3] = h.qoffsetX;
    m[1][3] = h.qoffsetY;
    m[2][3] = h.qoffsetZ;
    return m;
  }

  /** The sform affine of a header (its three srow rows). */
  static double[][] sform(NiftiHeader h) {
    double[][] m = identity4();
    for (int r = 0; r < 3; r++) m[r] = h.srow[r].clone();
    return m;
  }

  /**
   * nibabel's fallback affine when neither code is set ({@code shape_zoom_affine} with the x flip
   * of ANALYZE): voxel sizes from pixdim, x negated, voxel centre of the grid at 0.
   */
  static double[][] base(NiftiHeader h) {
    int ndim = (int) Math.max(1, Math.min(7, h.dim[0]));
    double[] shape = {1, 1, 1};
    double[] zoom = {1, 1, 1};
    for (int i = 0; i < Math.min(3, ndim); i++) {
      shape[i] = h.dim[i + 1];
      zoom[i] = h.pixdim[i + 1];
    }
    zoom[0] = -zoom[0];
    double[][] m = identity4();
    for (int i = 0; i < 3; i++) {
      m[i][i] = zoom[i];
      m[i][3] = -(shape[i] - 1) / 2.0 * zoom[i];
    }
    return m;
  }

  /**
   * Sets the qform fields of {@code h} to represent {@code aff} (nibabel's {@code set_qform}: voxel
   * sizes from the column lengths, qfac -1 for a left-handed affine, the rotation from the closest
   * orthogonal matrix).
   */
  static void setQform(NiftiHeader h, double[][] aff) {
    double[] z = zooms(aff);
    double[][] r = new double[3][3];
    for (int a = 0; a < 3; a++) {
      for (int c = 0; c < 3; c++) r[a][c] = aff[a][c] / z[c];
    }
    double qfac = 1;
    if (det3(r) < 0) {
      qfac = -1;
      for (int a = 0; a < 3; a++) r[a][2] = -r[a][2];
    }
    double[] q = matToQuat(polar(r));
    h.quaternB = q[1];
    h.quaternC = q[2];
    h.quaternD = q[3];
    h.qoffsetX = aff[0][3];
    h.qoffsetY = aff[1][3];
    h.qoffsetZ = aff[2][3];
    h.pixdim[0] = qfac;
    h.pixdim[1] = z[0];
    h.pixdim[2] = z[1];
    h.pixdim[3] = z[2];
  }

  static void setSform(NiftiHeader h, double[][] aff) {
    for (int r = 0; r < 3; r++) h.srow[r] = aff[r].clone();
  }

  static double det3(double[][] m) {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  }

  /** The inverse of an affine 4x4 (last row 0 0 0 1); null when its 3x3 part is singular. */
  static double[][] invert(double[][] m) {
    double det = det3(m);
    double scale = 0;
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) scale = Math.max(scale, Math.abs(m[i][j]));
    }
    if (!(Math.abs(det) > 1e-12 * scale * scale * scale)) return null;
    double[][] inv = identity4();
    inv[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
    inv[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
    inv[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
    inv[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
    inv[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
    inv[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
    inv[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
    inv[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
    inv[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
    for (int i = 0; i < 3; i++) {
      inv[i][3] = -(inv[i][0] * m[0][3] + inv[i][1] * m[1][3] + inv[i][2] * m[2][3]);
    }
    return inv;
  }

  static double[][] multiply(double[][] a, double[][] b) {
    double[][] c = new double[4][4];
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 4; j++) {
        double s = 0;
        for (int k = 0; k < 4; k++) s += a[i][k] * b[k][j];
        c[i][j] = s;
      }
    }
    return c;
  }

  static double[][] copy(double[][] m) {
    double[][] c = new double[m.length][];
    for (int i = 0; i < m.length; i++) c[i] = m[i].clone();
    return c;
  }
}
