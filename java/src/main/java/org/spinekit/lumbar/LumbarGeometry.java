package org.spinekit.lumbar;

import java.util.Locale;
import java.util.Objects;
import org.spinekit.io.Volume;

/**
 * Where a point of patient space falls in an axial series: the slice whose plane is nearest to it
 * and its place on that slice. This is how a level found on the sagittal series (a spinal canal
 * point, say) chooses the axial slices of that level.
 *
 * <p>Everything comes from the volume's geometry (origin, row, column and slice directions,
 * spacing): slice {@code k}'s plane passes through {@code toPatient(k, 0, 0)} with the normal
 * {@code rowDirection x columnDirection}. Distances are measured along that normal, so oblique
 * stacks, stacks whose slices step against the normal (head to foot, as axial series usually do)
 * and sheared stacks (slice direction not along the normal) are all handled. A point of the patient
 * position {@link Volume#toPatient} gives for {@code (k, row, column)} projects back to exactly
 * {@code k, row, column} at distance 0.
 */
public final class LumbarGeometry {
  private LumbarGeometry() {}

  /**
   * The nearest slice to a point and the point's projection on it.
   *
   * @param slice the slice (0-based, in the volume's order) whose plane is nearest to the point;
   *     beyond the first or the last slice, that end slice
   * @param row the row of the projection on that slice, in pixels (fractional; pixel centres at
   *     whole numbers, possibly outside {@code 0..rows-1})
   * @param column the column of the projection, likewise
   * @param distanceMm the distance in mm from the point to that slice's plane
   */
  public record AxialHit(int slice, double row, double column, double distanceMm) {}

  /**
   * The slice of {@code axial} whose plane is nearest to {@code pointLps} (measured along the slice
   * normal) and where the point projects onto it.
   *
   * @param pointLps x, y, z in patient LPS mm
   * @throws IllegalArgumentException when the point is null, not 3 values or not finite, or when
   *     the volume's slices do not advance along their normal
   */
  public static AxialHit project(double[] pointLps, Volume axial) {
    checkPoint(pointLps);
    Objects.requireNonNull(axial, "axial");
    double[] origin = axial.origin();
    double[] r = axial.rowDirection();
    double[] c = axial.columnDirection();
    double[] spacing = axial.spacing();
    double[] n = Volume.cross(r, c);
    double norm = Math.sqrt(dot(n, n));
    if (!(norm > 1e-6)) {
      throw new IllegalArgumentException(
          "axial: row and column directions are parallel, no slice normal");
    }
    for (int a = 0; a < 3; a++) n[a] /= norm;
    // How far along the normal one slice step goes (negative when slices run against it).
    double step = spacing[2] * dot(n, axial.sliceDirection());
    int slices = axial.slices();
    double[] d = new double[3];
    for (int a = 0; a < 3; a++) d[a] = pointLps[a] - origin[a];
    double height = dot(n, d);
    int k = 0;
    if (slices > 1) {
      if (!(Math.abs(step) > 1e-6 * spacing[2])) {
        throw new IllegalArgumentException(
            "axial: the slice direction lies in the image plane (it advances "
                + step
                + " mm along the normal per slice), so slices have no order along the normal");
      }
      double t = height / step;
      k = (int) Math.max(0, Math.min(slices - 1, Math.rint(t)));
    }
    double off = height - k * step;
    // The point projected on slice k's plane, relative to that slice's voxel (0, 0).
    double[] s = axial.sliceDirection();
    double[] v = new double[3];
    for (int a = 0; a < 3; a++) v[a] = d[a] - off * n[a] - k * spacing[2] * s[a];
    // v = u r + w c, solved on the Gram matrix so nearly orthogonal directions stay exact.
    double rr = dot(r, r);
    double rc = dot(r, c);
    double cc = dot(c, c);
    double vr = dot(v, r);
    double vc = dot(v, c);
    double det = rr * cc - rc * rc;
    double u = (vr * cc - vc * rc) / det;
    double w = (vc * rr - vr * rc) / det;
    return new AxialHit(k, w / spacing[0], u / spacing[1], Math.abs(off));
  }

  /**
   * {@link #project}, refusing a point farther than {@code maxMm} from the plane of every slice (a
   * point beyond the first or last slice is as far as it is from that end slice's plane).
   *
   * @throws IllegalArgumentException naming the distance and the limit when the point is too far,
   *     and as {@link #project} does
   */
  public static AxialHit projectWithin(double[] pointLps, Volume axial, double maxMm) {
    if (!(maxMm >= 0)) {
      throw new IllegalArgumentException("maxMm: expected a distance >= 0 mm, got " + maxMm);
    }
    AxialHit hit = project(pointLps, axial);
    if (hit.distanceMm() > maxMm) {
      throw new IllegalArgumentException(
          String.format(
              Locale.ROOT,
              "point (%.1f, %.1f, %.1f) is %.1f mm from the nearest slice of the axial series"
                  + " (slice %d of %d), beyond %.1f mm",
              pointLps[0],
              pointLps[1],
              pointLps[2],
              hit.distanceMm(),
              hit.slice(),
              axial.slices(),
              maxMm));
    }
    return hit;
  }

  private static void checkPoint(double[] p) {
    if (p == null || p.length != 3) {
      throw new IllegalArgumentException(
          "pointLps: expected 3 values (x, y, z in LPS mm), got "
              + (p == null ? "none" : p.length + " values"));
    }
    for (int a = 0; a < 3; a++) {
      if (!Double.isFinite(p[a])) {
        throw new IllegalArgumentException(
            "pointLps[" + a + "]: expected a finite coordinate, got " + p[a]);
      }
    }
  }

  private static double dot(double[] a, double[] b) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  }
}
