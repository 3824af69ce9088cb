package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.spinekit.io.json.Json;

/**
 * The rows of a JMH JSON result file ({@code -rf json}, or what {@link CiBench} writes): one per
 * benchmark method and parameter set, with every measured iteration, so that ratios, medians and
 * confidence intervals can be computed again from the file alone (by {@code bench ci --baseline}
 * and {@code bench plot}).
 */
final class JmhResults {
  private JmhResults() {}

  /**
   * One benchmark at one parameter set.
   *
   * @param benchmark the class's simple name and the method, e.g. {@code
   *     DsntBenchmark.forwardBackward}
   * @param mode JMH's mode: {@code avgt} (time per operation) or {@code thrpt} (operations per
   *     time)
   * @param params the parameters, sorted by name
   * @param unit e.g. {@code ms/op} or {@code ops/s}
   * @param iterations the measured iterations of every fork, in order
   */
  record Row(
      String benchmark, String mode, Map<String, String> params, String unit, double[] iterations) {
    Row {
      params = new TreeMap<>(params);
      if (iterations.length == 0) {
        throw new IllegalArgumentException(benchmark + ": no measured iteration");
      }
    }

    /** {@code DsntBenchmark.forwardBackward{impl=fused,shape=8x5x80x80,threads=2}}. */
    String key() {
      return key(benchmark, params);
    }

    static String key(String benchmark, Map<String, String> params) {
      StringBuilder b = new StringBuilder(benchmark).append('{');
      boolean first = true;
      for (Map.Entry<String, String> e : new TreeMap<>(params).entrySet()) {
        if (!first) b.append(',');
        b.append(e.getKey()).append('=').append(e.getValue());
        first = false;
      }
      return b.append('}').toString();
    }

    /** True when a larger score is faster (throughput), false for time per operation. */
    boolean higherIsFaster() {
      return mode.equals("thrpt");
    }

    double mean() {
      return Arrays.stream(iterations).average().orElseThrow();
    }

    double median() {
      return Stats.median(iterations);
    }

    /**
     * Seconds-like cost of one operation from the median iteration: the score itself for a time
     * mode, its inverse for throughput (so that cost ratios read the same way for both).
     */
    double cost() {
      return higherIsFaster() ? 1 / median() : median();
    }
  }

  /** Reads a JMH JSON file. */
  static List<Row> read(Path file) throws IOException {
    String text = Files.readString(file, StandardCharsets.UTF_8);
    try {
      return parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /** Parses JMH's JSON: an array of benchmark results. */
  @SuppressWarnings("unchecked")
  static List<Row> parse(String text) {
    Object root;
    try {
      root = Json.parse(text);
    } catch (Json.SyntaxException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
    if (!(root instanceof List<?> list)) {
      throw new IllegalArgumentException("expected JMH's JSON (an array of results)");
    }
    List<Row> rows = new ArrayList<>();
    for (Object o : list) {
      if (!(o instanceof Map<?, ?> m)) throw new IllegalArgumentException("expected objects");
      String bench = string(m, "benchmark");
      int dot = bench.lastIndexOf('.');
      int cls = bench.lastIndexOf('.', dot - 1);
      String simple = bench.substring(cls + 1);
      Map<String, String> params = new LinkedHashMap<>();
      if (m.get("params") instanceof Map<?, ?> p) {
        for (Map.Entry<?, ?> e : p.entrySet()) params.put((String) e.getKey(), "" + e.getValue());
      }
      if (!(m.get("primaryMetric") instanceof Map<?, ?> pm)) {
        throw new IllegalArgumentException(bench + ": no primaryMetric");
      }
      List<Double> it = new ArrayList<>();
      if (pm.get("rawData") instanceof List<?> forks) {
        for (Object f : forks) {
          for (Object v : (List<Object>) f) it.add(((Number) v).doubleValue());
        }
      } else {
        throw new IllegalArgumentException(bench + ": no rawData");
      }
      rows.add(
          new Row(
              simple,
              string(m, "mode"),
              params,
              string(pm, "scoreUnit"),
              it.stream().mapToDouble(Double::doubleValue).toArray()));
    }
    return rows;
  }

  private static String string(Map<?, ?> m, String key) {
    if (!(m.get(key) instanceof String s)) {
      throw new IllegalArgumentException("expected a string '" + key + "'");
    }
    return s;
  }

  /** The rows by {@link Row#key}. */
  static Map<String, Row> byKey(List<Row> rows) {
    Map<String, Row> out = new LinkedHashMap<>();
    for (Row r : rows) out.put(r.key(), r);
    return out;
  }
}
