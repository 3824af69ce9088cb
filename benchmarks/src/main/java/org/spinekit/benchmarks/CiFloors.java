package org.spinekit.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The floors of the guarded figures ({@link Guards}): a text file of lines {@code NAME FLOOR LOW
 * HIGH RUNS} ({@code #} starts a comment), where LOW..HIGH is the band the figure spanned over RUNS
 * calibration runs and FLOOR the value below which {@code spinekit bench ci} fails. The committed
 * file is {@code ci-floors.txt} beside this class (in the jar), with the rule that set each floor
 * in its comments; {@code spinekit bench floors} writes one from runs.
 */
final class CiFloors {
  private CiFloors() {}

  /** The built-in file's resource name. */
  static final String RESOURCE = "ci-floors.txt";

  /**
   * One guard's floor and the band it was chosen from.
   *
   * @param floor the run fails below this
   * @param low the lowest value seen in the calibration runs
   * @param high the highest
   * @param runs how many calibration runs
   */
  record Floor(String name, double floor, double low, double high, int runs) {
    Floor {
      if (!(floor > 0) || !(low >= floor) || !(high >= low) || runs < 1) {
        throw new IllegalArgumentException(
            name
                + ": expected 0 < FLOOR <= LOW <= HIGH and RUNS >= 1, got "
                + floor
                + " "
                + low
                + " "
                + high
                + " "
                + runs);
      }
    }

    String line() {
      return String.format(
          Locale.ROOT, "%-34s %8.4g %8.4g %8.4g %4d", name, floor, low, high, runs);
    }
  }

  /** The built-in floors. */
  static Map<String, Floor> builtIn(Set<String> known) throws IOException {
    try (InputStream in = CiFloors.class.getResourceAsStream(RESOURCE)) {
      if (in == null) throw new IOException("the jar has no " + RESOURCE);
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), RESOURCE, known);
    }
  }

  static Map<String, Floor> read(Path file, Set<String> known) throws IOException {
    return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString(), known);
  }

  /**
   * Parses a floors file; {@code known} are the guards' names (a line naming another is an error: a
   * typo would otherwise leave a guard without its floor).
   */
  static Map<String, Floor> parse(String text, String source, Set<String> known) {
    Map<String, Floor> out = new LinkedHashMap<>();
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      int hash = line.indexOf('#');
      if (hash >= 0) line = line.substring(0, hash);
      line = line.strip();
      if (line.isEmpty()) continue;
      String where = source + ":" + (i + 1) + ": ";
      String[] w = line.split("\\s+");
      if (w.length != 5) {
        throw new IllegalArgumentException(
            where + "expected NAME FLOOR LOW HIGH RUNS, got '" + line + "'");
      }
      if (!known.contains(w[0])) {
        throw new IllegalArgumentException(
            where + "no guard named '" + w[0] + "' (guards: " + String.join(", ", known) + ")");
      }
      if (out.containsKey(w[0])) throw new IllegalArgumentException(where + "'" + w[0] + "' again");
      try {
        out.put(
            w[0],
            new Floor(
                w[0],
                Double.parseDouble(w[1]),
                Double.parseDouble(w[2]),
                Double.parseDouble(w[3]),
                Integer.parseInt(w[4])));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(where + "not a number in '" + line + "'");
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + e.getMessage());
      }
    }
    return out;
  }
}
