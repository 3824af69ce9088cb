package org.spinekit.benchmarks;

import java.io.ByteArrayOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import org.spinekit.cli.Cli;
import org.spinekit.cli.Converters;
import org.spinekit.cli.RuntimeOptions;
import org.spinekit.runtime.NativeRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code spinekit bench}: a short JMH run of the kernel benchmarks and of the copy-bandwidth
 * yardstick through the JMH Runner API, then one table: fused and composite times, the speed-up,
 * and the memory-traffic floor of each row ({@link Floors} bytes over the copy bandwidth measured
 * in the same run). The subcommands {@code io} ({@link IoBench}), {@code train} ({@link
 * TrainBench}), {@code forward} ({@link ForwardBench}) and others run the other benchmarks; the
 * command line is SpineKit's ({@link Cli}: exit codes, common options).
 */
@Command(
    name = "spinekit bench",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = Cli.Version.class,
    synopsisSubcommandLabel = "[COMMAND]",
    description = {
      "Without a command, or with 'kernels': the kernel benchmarks (DSNT, heatmap"
          + " pooling, head loss) fused beside their libtorch composites, and the memory-traffic"
          + " floor of each from the copy bandwidth measured in the same run. Each configuration"
          + " runs in its own JVM (1 fork) with libtorch and the kernels on --threads (default:"
          + " all cores); times are per forward + backward, in ms."
    },
    subcommands = {
      BenchMain.Kernels.class,
      IoBench.class,
      TrainBench.class,
      ServeBench.class,
      ForwardBench.class,
      AllocatorBench.class,
      DistBench.class,
      CiBench.class,
      FloorsBench.class,
      PlotBench.class
    })
public final class BenchMain implements Callable<Integer> {
  /** The kernel benchmarks, in table order. */
  static final List<String> KERNELS =
      List.of("DsntBenchmark", "HeatmapPoolBenchmark", "HeadLossBenchmark");

  /** The shapes of the benchmarks' {@code @Param}, in table order. */
  static final List<String> SHAPES = List.of("8x5x80x80", "8x5x256x256", "2x10x24x80x80");

  /** Other processes' share of the machine above which a fork counts as disturbed. */
  static final double DISTURBED = 0.05;

  static final String DEFAULT_REGEX = "(Dsnt|HeatmapPool|HeadLoss)Benchmark";

  @Spec CommandSpec spec;

  @Mixin RuntimeOptions runtime;

  @Mixin KernelOptions kernels;

  public static void main(String[] args) {
    System.exit(Cli.execute(new BenchMain(), args));
  }

  @Override
  public Integer call() throws IOException {
    return run(kernels, RuntimeOptions.of(spec));
  }

  /** {@code spinekit bench kernels}: what {@code spinekit bench} runs without a command. */
  @Command(
      name = "kernels",
      description = {"the kernel benchmarks (what spinekit bench runs" + " without a command)"})
  static final class Kernels implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin KernelOptions kernels;

    @Override
    public Integer call() throws IOException {
      return run(kernels, RuntimeOptions.of(spec));
    }
  }

  /** The options of the kernel benchmarks. */
  static final class KernelOptions {
    @Parameters(
        paramLabel = "REGEX",
        arity = "0..1",
        defaultValue = DEFAULT_REGEX,
        converter = RegexText.class,
        description = {
          "kernel benchmarks to run: a Java regex found in the benchmark name"
              + " (default ${DEFAULT-VALUE}, i.e. all; e.g. Dsnt or HeadLoss); the"
              + " copy-bandwidth benchmark of the floors always runs"
        })
    String regex;

    @Option(
        names = "--quick",
        description = {
          "1 warm-up and 2 measured iterations of 0.5 s" + " (default 2 and 3 of 1 s)"
        })
    boolean quick;

    @Option(
        names = "--shape",
        paramLabel = "SHAPE",
        split = ",",
        converter = Converters.HeatmapShapes.class,
        description = {
          "shapes NxKxHxW or"
              + " NxKxDxHxW, comma-separated (default 8x5x80x80,8x5x256x256,2x10x24x80x80)"
        })
    List<Converters.HeatmapShape> shapes;

    @Option(
        names = "--verbose",
        description = {
          "print JMH's own output and the 1-s samples"
              + " of other processes' CPU use (default: JMH's output to a log file, progress lines"
              + " only)"
        })
    boolean verbose;

    @Option(
        names = "--json",
        paramLabel = "FILE",
        description = "also write JMH's results as" + " JSON to FILE")
    Path json;
  }

  /** A REGEX checked by {@link #checkRegex}. */
  static final class RegexText extends Cli.Converter<String> {
    @Override
    protected String parse(String text) {
      checkRegex(text);
      return text;
    }
  }

  static int run(KernelOptions o, RuntimeOptions runtime) throws IOException {
    if (!runtime.givenBesidesThreads().isEmpty()) {
      throw new IllegalArgumentException(
          "bench kernels: "
              + String.join(", ", runtime.givenBesidesThreads())
              + ": the benchmark forks run libtorch and the kernels"
              + " on --threads and take the other settings from the environment (SPINEKIT_*)");
    }
    int threads = runtime.workers();
    String regex = o.regex;
    boolean quick = o.quick;
    boolean verbose = o.verbose;
    String[] shapes =
        o.shapes == null ? null : o.shapes.stream().map(Object::toString).toArray(String[]::new);
    String json = o.json == null ? null : o.json.toString();
    int warmupIters = quick ? 1 : 2;
    int measureIters = quick ? 2 : 3;
    TimeValue iterTime = quick ? TimeValue.milliseconds(500) : TimeValue.seconds(1);

    printMachine(threads, warmupIters, measureIters, iterTime);

    ChainedOptionsBuilder b =
        new OptionsBuilder()
            .include(regex)
            .include(CopyBandwidthBenchmark.class.getSimpleName() + "\\.")
            .forks(1)
            .warmupIterations(warmupIters)
            .warmupTime(iterTime)
            .measurementIterations(measureIters)
            .measurementTime(iterTime)
            .param("threads", String.valueOf(threads))
            .shouldFailOnError(true);
    if (shapes != null) b.param("shape", shapes);
    if (json != null) b.result(json).resultFormat(ResultFormatType.JSON);

    double before = Interference.sample(1000);
    if (!Double.isNaN(before)) {
      System.out.printf(
          "other processes before the run: %.0f%% of the machine%s%n",
          100 * before, before > DISTURBED ? " (WARNING: the machine is not idle)" : "");
    }
    Forks forks = new Forks(verbose);
    Collection<RunResult> results;
    Interference.Snapshot start;
    Interference.Snapshot end;
    OutputStream sink;
    if (verbose) {
      sink =
          new FilterOutputStream(System.out) {
            @Override
            public void close() throws IOException {
              flush(); // System.out stays open
            }
          };
    } else {
      Path log = Files.createTempFile("spinekit-bench-", ".log");
      System.out.println("JMH log: " + log);
      sink = Files.newOutputStream(log);
    }
    try (Progress progress = new Progress(sink, !verbose, forks)) {
      PrintStream out = new PrintStream(progress, true, StandardCharsets.UTF_8);
      try (JmhLock lock = JmhLock.acquire(CiBench.LOCK_WAIT, System.out)) {
        start = Interference.now();
        results =
            new Runner(b.build(), OutputFormatFactory.createFormatInstance(out, VerboseMode.NORMAL))
                .run();
      } catch (RunnerException e) {
        throw new IOException("benchmark run failed: " + e.getMessage(), e);
      }
      forks.end();
      end = Interference.now();
      out.flush();
    }
    int rc = report(results, shapes, forks);
    double others = Interference.others(start, end);
    if (!Double.isNaN(others)) {
      System.out.printf(
          "other processes used %.0f%% of the machine over the whole run;"
              + " hypervisor steal %.1f%%%n",
          100 * others, 100 * Interference.steal(start, end));
    }
    if (forks.disturbed() > 0) {
      System.out.println(
          "WARNING: "
              + forks.disturbed()
              + " fork(s) ran while other processes"
              + " used more than "
              + Math.round(100 * DISTURBED)
              + "% of the machine (marked *)."
              + " An OpenMP parallel region waits for its slowest thread, so a busy core can slow"
              + " a call many times over: those rows are not the kernels' figures. Run again on an"
              + " idle machine, or with --threads below the free cores.");
    }
    return rc;
  }

  /** Fails before anything runs when REGEX is malformed or selects no kernel benchmark. */
  private static void checkRegex(String regex) {
    Pattern p;
    try {
      p = Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "not a Java regex: " + e.getDescription() + " in '" + regex + "'");
    }
    for (String k : KERNELS) {
      if (p.matcher(BenchMain.class.getPackageName() + "." + k + ".forwardBackward").find()) {
        return;
      }
    }
    throw new IllegalArgumentException(
        "'" + regex + "' selects none of the kernel" + " benchmarks " + KERNELS);
  }

  private static void printMachine(
      int threads, int warmupIters, int measureIters, TimeValue iterTime) {
    Inputs.setThreads(threads); // loads libtorch and libspinekit here, as in every fork
    NativeRuntime.State state = NativeRuntime.state();
    long memBytes =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getTotalMemorySize();
    String tunables = System.getenv("GLIBC_TUNABLES");
    System.out.println(
        "spinekit bench, "
            + ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z")));
    System.out.printf(
        "machine: %s, %d cores, %.0f GiB RAM; %s %s%n",
        cpuModel(),
        Runtime.getRuntime().availableProcessors(),
        memBytes / (double) (1L << 30),
        System.getProperty("os.name"),
        System.getProperty("os.version"));
    System.out.printf(
        "java: %s %s; libtorch threads %d, SpineKit kernel threads %d;" + " CPU tensors%n",
        System.getProperty("java.vm.name"),
        System.getProperty("java.runtime.version"),
        state.threads(),
        state.kernelThreads());
    System.out.println("GLIBC_TUNABLES: " + (tunables == null ? "(unset)" : tunables));
    System.out.printf(
        "JMH: 1 fork per row, %d warm-up + %d measured iterations of %s,"
            + " average time per forward + backward%n",
        warmupIters, measureIters, iterTime);
  }

  static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) return line.substring(line.indexOf(':') + 1).trim();
      }
    } catch (IOException | RuntimeException e) {
      // not Linux: fall through
    }
    return System.getProperty("os.arch");
  }

  /** One benchmark at one shape: the fused [0] and composite [1] results (null when not run). */
  private static final class Row {
    final Result[] byImpl = new Result[2];
  }

  static String simpleClass(String benchmarkMethod) {
    String cls = benchmarkMethod.substring(0, benchmarkMethod.lastIndexOf('.'));
    return cls.substring(cls.lastIndexOf('.') + 1);
  }

  static int report(Collection<RunResult> results, String[] shapes, Forks forks) {
    Result copy = null;
    int mib = 0;
    double copyOthers = Double.NaN;
    Map<String, Map<String, Row>> rows = new LinkedHashMap<>();
    for (String k : KERNELS) rows.put(k, new LinkedHashMap<>());
    for (RunResult r : results) {
      BenchmarkParams p = r.getParams();
      String cls = simpleClass(p.getBenchmark());
      if (cls.equals(CopyBandwidthBenchmark.class.getSimpleName())) {
        copy = r.getPrimaryResult();
        mib = Integer.parseInt(p.getParam("mib"));
        copyOthers = forks.of(cls, null, null);
        continue;
      }
      rows.computeIfAbsent(cls, x -> new LinkedHashMap<>())
              .computeIfAbsent(p.getParam("shape"), x -> new Row())
              .byImpl[Inputs.fused(p.getParam("impl")) ? 0 : 1] =
          r.getPrimaryResult();
    }
    if (copy == null) {
      System.err.println("spinekit bench: the copy-bandwidth benchmark gave no result");
      return 1;
    }
    double copyMs = copy.getScore();
    double bandwidth = Floors.copyBytes(mib) / (copyMs * 1e-3);
    System.out.println();
    String fmt = "%-12s %-14s %14s %14s %9s %9s %9s %11s %7s%n";
    System.out.printf(
        fmt,
        "benchmark",
        "shape",
        "fused ms",
        "composite ms",
        "speed-up",
        "floor MB",
        "floor ms",
        "fused/floor",
        "others");
    int printed = 0;
    for (Map.Entry<String, Map<String, Row>> e : rows.entrySet()) {
      List<String> order = new ArrayList<>(e.getValue().keySet());
      List<String> want = shapes != null ? Arrays.asList(shapes) : SHAPES;
      order.sort((x, y) -> Integer.compare(rank(want, x), rank(want, y)));
      for (String shape : order) {
        Row row = e.getValue().get(shape);
        Result f = row.byImpl[0];
        Result c = row.byImpl[1];
        long bytes = Floors.bytes(e.getKey(), shape);
        double floorMs = bytes > 0 ? Floors.floorMs(bytes, bandwidth) : Double.NaN;
        double others =
            Math.max(
                nanToZero(forks.of(e.getKey(), "fused", shape)),
                nanToZero(forks.of(e.getKey(), "composite", shape)));
        System.out.printf(
            fmt,
            e.getKey().replace("Benchmark", ""),
            shape,
            score(f),
            score(c),
            f != null && c != null ? String.format("%.2fx", c.getScore() / f.getScore()) : "-",
            bytes > 0 ? String.format("%.1f", bytes / 1e6) : "-",
            bytes > 0 ? String.format("%.3f", floorMs) : "-",
            f != null && bytes > 0 ? String.format("%.2f", f.getScore() / floorMs) : "-",
            share(others));
        printed++;
      }
    }
    System.out.printf(
        "%ncopy bandwidth: %.2f GB/s (dst.copy_(src) of %d MiB float32: %.1f MB"
            + " read + written in %s ms; others %s)%n",
        bandwidth / 1e9,
        mib,
        Floors.copyBytes(mib) / 1e6,
        score(copy),
        share(nanToZero(copyOthers)));
    System.out.println(
        "ms: mean of the measured iterations, ±: half their range;"
            + " speed-up = composite / fused;");
    System.out.println(
        "floor = bytes the fused kernel must read and write / copy bandwidth;"
            + " others: CPU share of other processes during the row's forks");
    if (printed == 0) {
      System.err.println("spinekit bench: no kernel benchmark matched");
      return 2;
    }
    return 0;
  }

  private static double nanToZero(double v) {
    return Double.isNaN(v) ? 0 : v;
  }

  private static String share(double others) {
    return String.format("%.0f%%%s", 100 * others, others > DISTURBED ? "*" : "");
  }

  private static int rank(List<String> order, String shape) {
    int i = order.indexOf(shape);
    return i < 0 ? order.size() : i;
  }

  private static String score(Result r) {
    if (r == null) return "-";
    double mean = r.getScore();
    double min = r.getStatistics().getMin();
    double max = r.getStatistics().getMax();
    if (r.getStatistics().getN() < 2 || !(mean > 0)) return String.format("%.3f", mean);
    return String.format("%.3f ±%.0f%%", mean, 50 * (max - min) / mean);
  }

  /** Other processes' share of the machine during each fork, by benchmark and parameters. */
  static final class Forks {
    private final boolean print;
    private final Map<String, Double> others = new HashMap<>();
    private String current;
    private Interference.Snapshot since;

    Forks(boolean print) {
      this.print = print;
    }

    private static String key(String cls, String impl, String shape) {
      return cls + "|" + impl + "|" + shape;
    }

    /** A fork of {@code cls} with these parameters (null where it has none) starts now. */
    void start(String cls, String impl, String shape) {
      end();
      current = key(cls, impl, shape);
      since = Interference.now();
    }

    /** The current fork, if any, has ended. */
    void end() {
      if (current == null) return;
      double v = Interference.others(since, Interference.now());
      others.put(current, v);
      if (print && !Double.isNaN(v)) {
        System.out.printf(
            "# spinekit bench: other processes used %.1f%% of the machine" + " during this fork%n",
            100 * v);
      }
      current = null;
    }

    double of(String cls, String impl, String shape) {
      return others.getOrDefault(key(cls, impl, shape), Double.NaN);
    }

    /** Forks during which others used more than {@link #DISTURBED} of the machine. */
    long disturbed() {
      return others.values().stream().filter(v -> v > DISTURBED).count();
    }
  }

  /**
   * JMH's human-readable output to {@code sink}, telling {@link Forks} when each fork starts and,
   * with {@code announce}, printing one progress line per fork to stderr.
   */
  static final class Progress extends OutputStream {
    private static final Pattern PARAM = Pattern.compile("(\\w+) = ([^,)]+)");

    private final OutputStream sink;
    private final boolean announce;
    private final Forks forks;
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream();
    private String benchmark = "";
    private String params = "";

    Progress(OutputStream sink, boolean announce, Forks forks) {
      this.sink = sink;
      this.announce = announce;
      this.forks = forks;
    }

    @Override
    public void write(int b) throws IOException {
      if (b == '\n') {
        onLine(buf.toString(StandardCharsets.UTF_8)); // before the line goes out: see end()
        buf.reset();
      } else {
        buf.write(b);
      }
      sink.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      for (int i = off; i < off + len; i++) write(b[i]);
    }

    private void onLine(String s) {
      if (s.startsWith("# Benchmark: ")) {
        benchmark = s.substring("# Benchmark: ".length()).trim();
        params = "";
      } else if (s.startsWith("# Parameters: ")) {
        params = s.substring("# Parameters: ".length()).trim();
      } else if (s.startsWith("# Run progress: ")) {
        Map<String, String> p = new HashMap<>();
        Matcher m = PARAM.matcher(params);
        while (m.find()) p.put(m.group(1), m.group(2).trim());
        String cls = simpleClass(benchmark);
        forks.start(cls, p.get("impl"), p.get("shape"));
        if (announce) {
          System.err.println(
              "[" + s.substring("# Run progress: ".length()) + "] " + cls + " " + params);
        }
      } else if (announce && (s.startsWith("<failure>") || s.contains("Exception"))) {
        System.err.println(s);
      }
    }

    @Override
    public void flush() throws IOException {
      sink.flush();
    }

    @Override
    public void close() throws IOException {
      sink.close();
    }
  }
}
