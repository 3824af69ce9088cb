package org.spinekit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The independent numpy implementations of the metrics ({@code src/test/resources/python/}): run
 * with Debian's Python, their output lines read as "key value", and the figures compared.
 */
public final class NumpyReference {
  private NumpyReference() {}

  /** Debian's Python, which has numpy (the one on PATH may not). */
  public static final Path PYTHON = Path.of("/usr/bin/python3");

  /** Skips the calling test when Python or numpy is missing, saying what to install. */
  public static void assumeNumpy() throws IOException {
    assumeTrue(
        Files.isExecutable(PYTHON), PYTHON + " is missing (install python3 and python3-numpy)");
    Subprocess.Result numpy =
        Subprocess.run(List.of(PYTHON.toString(), "-c", "import numpy"), Duration.ofMinutes(1));
    assumeTrue(
        numpy.exitCode() == 0, "numpy is missing for " + PYTHON + " (install python3-numpy)");
  }

  /**
   * Runs the test resource {@code python/<script>} with {@code args}; its lines as key (all but the
   * last word) -> value (the last word).
   */
  public static Map<String, String> run(String script, String... args) throws IOException {
    var url = NumpyReference.class.getResource("/python/" + script);
    assertNotNull(url, "test resource python/" + script);
    List<String> cmd = new ArrayList<>(List.of(PYTHON.toString()));
    try {
      cmd.add(Path.of(url.toURI()).toString());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    cmd.addAll(List.of(args));
    Subprocess.Result r = Subprocess.run(cmd, Duration.ofMinutes(2)).succeeded();
    Map<String, String> out = new HashMap<>();
    r.stdout()
        .lines()
        .forEach(
            line ->
                out.put(
                    line.substring(0, line.lastIndexOf(' ')),
                    line.substring(line.lastIndexOf(' ') + 1)));
    return out;
  }

  /** The value of {@code key} ("nan" is NaN); fails when the reference has no such line. */
  public static double number(Map<String, String> ref, String key) {
    String v = ref.get(key);
    assertNotNull(v, "reference line '" + key + "' in " + ref);
    return v.equals("nan") ? Double.NaN : Double.parseDouble(v);
  }

  /** {@code actual} within {@code tolerance} of {@code expected}, relatively; NaN only as NaN. */
  public static void relative(double expected, double actual, double tolerance, String what) {
    if (Double.isNaN(expected) || Double.isNaN(actual)) {
      assertEquals(
          Double.isNaN(expected), Double.isNaN(actual), what + ": " + expected + " vs " + actual);
      return;
    }
    assertTrue(
        Math.abs(actual - expected) <= tolerance * Math.abs(expected),
        what + ": python " + expected + ", java " + actual);
  }
}
