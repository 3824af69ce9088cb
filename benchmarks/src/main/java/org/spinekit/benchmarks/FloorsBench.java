package org.spinekit.benchmarks;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.spinekit.cli.Cli;
import org.spinekit.io.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code spinekit bench floors}: floors for the guards from calibration runs of {@code bench ci}:
 * for each figure the lowest and highest value over the runs, and a floor {@code margin} below the
 * lowest (rounded down to 2 significant digits), in the format {@link CiFloors} reads.
 */
@Command(
    name = "floors",
    description = {
      "Floors from calibration runs (bench ci --out directories or their ci.json): each guarded"
          + " figure's band over the runs and a floor MARGIN below its lowest value, as a floors"
          + " file (to stdout, or --out)"
    })
final class FloorsBench implements Callable<Integer>, Cli.NoLibtorch {
  @Parameters(paramLabel = "RUN", arity = "2..*", description = "the calibration runs")
  List<Path> runs;

  @Option(
      names = "--margin",
      paramLabel = "F",
      defaultValue = "0.25",
      description = "the floor is (1 - F) times the lowest value seen (default ${DEFAULT-VALUE})")
  double margin;

  @Option(names = "--out", paramLabel = "FILE", description = "write the floors file here")
  Path out;

  @Override
  public Integer call() throws IOException {
    if (!(margin >= 0 && margin < 1)) {
      throw new IllegalArgumentException("--margin: expected 0 <= F < 1, got " + margin);
    }
    List<CiRun> read = new ArrayList<>();
    for (Path p : runs) read.add(CiRun.read(p));
    String text = floors(read, margin);
    if (out == null) {
      System.out.print(text);
    } else {
      AtomicFiles.write(out, text.getBytes(StandardCharsets.UTF_8));
      System.out.println("written: " + out);
    }
    return 0;
  }

  /** An ISO date-time to the minute. */
  static String minutes(String date) {
    return date.length() > 16 && date.charAt(10) == 'T' ? date.substring(0, 16) : date;
  }

  /** The floors file of {@code runs}: each figure from the runs that have it (at least 2). */
  static String floors(List<CiRun> runs, double margin) {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "# Chosen by 'spinekit bench floors --margin %s' from %d bench ci runs (%s .. %s),"
                + " %s:%n",
            BigDecimal.valueOf(margin).stripTrailingZeros().toPlainString(),
            runs.size(),
            minutes(runs.get(0).date()),
            minutes(runs.get(runs.size() - 1).date()),
            LocalDate.now()));
    b.append(
        String.format(
            Locale.ROOT,
            "# FLOOR = (1 - %s) x LOW, rounded down to 2 significant digits; LOW..HIGH is the"
                + " band seen.%n",
            BigDecimal.valueOf(margin).stripTrailingZeros().toPlainString()));
    b.append(
        String.format(
            Locale.ROOT, "# %-32s %8s %8s %8s %4s%n", "NAME", "FLOOR", "LOW", "HIGH", "RUNS"));
    for (String name : PlotBench.names(runs)) {
      double lo = Double.POSITIVE_INFINITY;
      double hi = Double.NEGATIVE_INFINITY;
      int seen = 0;
      for (CiRun r : runs) {
        CiRun.Figure f = r.figures().get(name);
        if (f == null) continue;
        if (!Double.isFinite(f.value())) {
          throw new IllegalArgumentException(
              r.file()
                  + ": "
                  + name
                  + " has no figure (a benchmark failed): not a calibration run");
        }
        lo = Math.min(lo, f.value());
        hi = Math.max(hi, f.value());
        seen++;
      }
      if (seen < 2) {
        b.append("# ").append(name).append(": in fewer than 2 runs, no floor\n");
        continue;
      }
      double floor =
          new BigDecimal((1 - margin) * lo)
              .round(new MathContext(2, RoundingMode.FLOOR))
              .doubleValue();
      b.append(new CiFloors.Floor(name, floor, lo, hi, seen).line()).append('\n');
    }
    return b.toString();
  }
}
