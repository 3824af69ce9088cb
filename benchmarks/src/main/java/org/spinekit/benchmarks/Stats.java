package org.spinekit.benchmarks;

import java.util.Arrays;
import org.apache.commons.math3.distribution.TDistribution;

/** Medians and confidence intervals of benchmark iterations. */
final class Stats {
  private Stats() {}

  static double median(double[] v) {
    if (v.length == 0) throw new IllegalArgumentException("median of nothing");
    double[] s = v.clone();
    Arrays.sort(s);
    int h = s.length / 2;
    return s.length % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2;
  }

  static double mean(double[] v) {
    return Arrays.stream(v).average().orElseThrow();
  }

  /** Sample variance (n - 1), 0 for one value. */
  static double variance(double[] v) {
    if (v.length < 2) return 0;
    double m = mean(v);
    double s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return s / (v.length - 1);
  }

  /**
   * The relative change of the mean from {@code before} to {@code after} ({@code after / before -
   * 1}) and its {@code level} confidence interval: Welch's t interval of the difference of the
   * means (unequal variances, Welch-Satterthwaite degrees of freedom) divided by the mean before.
   * With fewer than two values on a side the interval is unbounded.
   *
   * @return {change, low, high}
   */
  static double[] relativeChange(double[] before, double[] after, double level) {
    double mb = mean(before);
    double ma = mean(after);
    double change = ma / mb - 1;
    if (before.length < 2 || after.length < 2) {
      return new double[] {change, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY};
    }
    double vb = variance(before) / before.length;
    double va = variance(after) / after.length;
    double se = Math.sqrt(va + vb);
    if (se == 0) return new double[] {change, change, change};
    double df =
        (va + vb) * (va + vb) / (va * va / (after.length - 1) + vb * vb / (before.length - 1));
    double t = new TDistribution(df).inverseCumulativeProbability(0.5 + level / 2);
    double half = t * se / mb;
    return new double[] {change, change - half, change + half};
  }
}
