package org.spinekit.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench ci --baseline}: each benchmark of this run beside the same benchmark (name and
 * parameters) of an earlier one. The change is that of the mean of the measured iterations, with
 * Welch's 99% confidence interval from both runs' iterations; a change is flagged only when its
 * interval excludes zero and it exceeds {@link #MIN_CHANGE} (iterations of one fork vary less than
 * forks do, so a tiny significant change is still within the run-to-run noise).
 */
final class Compare {
  private Compare() {}

  /** The confidence level of the intervals. */
  static final double LEVEL = 0.99;

  /** Changes of the mean smaller than this are never flagged. */
  static final double MIN_CHANGE = 0.05;

  /**
   * One benchmark in both runs.
   *
   * @param change relative change of the mean cost per operation: + is slower
   * @param low the interval's low end
   * @param high its high end
   * @param flag {@code slower}, {@code faster} or empty
   */
  record Change(
      String key,
      double before,
      double after,
      double change,
      double low,
      double high,
      String flag) {}

  /** The benchmarks in both, in this run's order. */
  static List<Change> changes(List<JmhResults.Row> before, List<JmhResults.Row> after) {
    Map<String, JmhResults.Row> old = JmhResults.byKey(before);
    List<Change> out = new ArrayList<>();
    for (JmhResults.Row r : after) {
      JmhResults.Row o = old.get(r.key());
      if (o == null || !o.unit().equals(r.unit()) || !o.mode().equals(r.mode())) continue;
      double[] c = Stats.relativeChange(o.iterations(), r.iterations(), LEVEL);
      if (r.higherIsFaster()) {
        // Throughput: a higher score is a lower cost; report cost changes throughout.
        c = new double[] {1 / (1 + c[0]) - 1, 1 / (1 + c[2]) - 1, 1 / (1 + c[1]) - 1};
      }
      String flag = "";
      if (c[1] > 0 && c[0] >= MIN_CHANGE) flag = "slower";
      if (c[2] < 0 && c[0] <= -MIN_CHANGE) flag = "faster";
      out.add(new Change(r.key(), o.mean(), r.mean(), c[0], c[1], c[2], flag));
    }
    return out;
  }

  static String markdown(List<JmhResults.Row> before, List<JmhResults.Row> after, String source) {
    List<Change> changes = changes(before, after);
    StringBuilder b = new StringBuilder();
    b.append("Against ")
        .append(source)
        .append(" (cost per operation; + is slower; ")
        .append(Math.round(100 * LEVEL))
        .append("% interval; flagged: interval excludes 0 and |change| >= ")
        .append(Math.round(100 * MIN_CHANGE))
        .append("%):\n\n");
    b.append("| benchmark | before | after | change | interval | flag |\n");
    b.append("|---|---:|---:|---:|---|---|\n");
    for (Change c : changes) {
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %.4g | %.4g | %+.1f%% | %+.1f%% .. %+.1f%% | %s |%n",
              c.key(),
              c.before(),
              c.after(),
              100 * c.change(),
              100 * c.low(),
              100 * c.high(),
              c.flag().isEmpty() ? "" : "**" + c.flag() + "**"));
    }
    if (changes.isEmpty()) b.append("(no benchmark in common)\n");
    return b.toString();
  }
}
