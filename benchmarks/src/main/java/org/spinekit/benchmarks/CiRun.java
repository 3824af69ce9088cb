package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.spinekit.io.json.Json;

/**
 * A {@code spinekit bench ci} run read back from its {@code ci.json}: when it ran and its guarded
 * figures with the floors they were held against.
 *
 * @param date the machine record's date
 * @param figures by guard name
 */
record CiRun(Path file, String date, boolean quick, Map<String, Figure> figures) {
  /** A guarded figure; NaN where the run had none (no figure, or no floor). */
  record Figure(double value, double floor, double low, double high) {}

  /** Reads {@code ci.json}, or the one in a directory. */
  static CiRun read(Path p) throws IOException {
    Path file = Files.isDirectory(p) ? p.resolve("ci.json") : p;
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(p + ": no ci.json there (expected a bench ci --out)");
    }
    Object root;
    try {
      root = Json.parse(Files.readString(file, StandardCharsets.UTF_8));
    } catch (Json.SyntaxException e) {
      throw new IllegalArgumentException(file + ": not JSON: " + e.getMessage(), e);
    }
    if (!(root instanceof Map<?, ?> m)
        || !(m.get("guards") instanceof List<?> guards)
        || !(m.get("machine") instanceof Map<?, ?> machine)) {
      throw new IllegalArgumentException(file + ": not a bench ci result (no guards, no machine)");
    }
    Map<String, Figure> figures = new LinkedHashMap<>();
    for (Object o : guards) {
      if (!(o instanceof Map<?, ?> g) || !(g.get("name") instanceof String name)) {
        throw new IllegalArgumentException(file + ": a guard without a name");
      }
      figures.put(
          name,
          new Figure(
              number(g.get("value")),
              number(g.get("floor")),
              number(g.get("low")),
              number(g.get("high"))));
    }
    return new CiRun(
        file,
        machine.get("date") instanceof String d ? d : "?",
        Boolean.TRUE.equals(m.get("quick")),
        figures);
  }

  private static double number(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }
}
