package org.spinekit.benchmarks;

import java.io.ByteArrayOutputStream;
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
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.format.OutputFormatFactory;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import org.spinekit.cli.Cli;
import org.spinekit.cli.RuntimeOptions;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.json.Json;
import org.spinekit.runtime.NativeRuntime;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spinekit bench ci}: the benchmarks that guard the hot paths, turned into a verdict. It
 * runs the JMH benchmarks the {@link Guards} read (each configuration in its own fork), computes
 * every guarded figure from the run alone (ratios and fractions of the memory floor, never absolute
 * times), holds each against its floor ({@link CiFloors}) and exits 1 when one falls below it. It
 * writes, atomically, into {@code --out}: {@code jmh.json} (JMH's JSON), {@code ci.json} (the
 * machine, the figures, their floors and the verdict: what {@code bench plot} and {@code bench
 * floors} read), {@code machine.json}, and {@code summary.md} (the Markdown tables, also printed).
 * With {@code --baseline} it also compares every benchmark with an earlier run's.
 */
@Command(
    name = "ci",
    sortOptions = false,
    description = {
      "The guarded benchmark set for CI: fused kernels beside their libtorch composites, 2.5D"
          + " stacking beside its composite and its memory floor, the augmentation beside OpenCV"
          + " (and, without --quick, the large and 3D kernel shapes, the memory floors of the"
          + " fused kernels and the loader's scaling). Each guarded figure is a ratio measured in"
          + " the same run; the run fails (exit 1) when one falls below its floor. Writes"
          + " jmh.json, ci.json, machine.json and summary.md into --out."
    })
final class CiBench implements Callable<Integer> {
  /**
   * Threads of every guarded benchmark: one. An OpenMP parallel region waits for its slowest
   * thread, so on a shared machine one busy core slows a multi-threaded call many times over (a
   * 2-thread quick run beside a compiler measured the fused heatmap pooling at half its composite's
   * speed); single-thread ratios hold.
   */
  static final int THREADS = 1;

  /** How long a run waits for another benchmark run on the machine (JMH's lock) to finish. */
  static final java.time.Duration LOCK_WAIT = java.time.Duration.ofMinutes(30);

  @Spec CommandSpec spec;

  @Option(
      names = "--out",
      paramLabel = "DIR",
      defaultValue = "bench-ci",
      description = "where the results go (default ${DEFAULT-VALUE})")
  Path out;

  @Option(
      names = "--quick",
      description = {
        "the quick set (the guards CI runs after the tests, about 3 minutes on 2 cores): 1 fork"
            + " per configuration, 2 warm-up and 6 measured iterations of 0.5 s (default: every"
            + " guard, 2 forks, 3 warm-up and 5 measured iterations of 1 s)"
      })
  boolean quick;

  @Option(
      names = "--baseline",
      paramLabel = "FILE",
      description = {
        "an earlier run (its ci.json or jmh.json, or its directory): print each benchmark's change"
            + " with a 99%% confidence interval, flagging those outside the noise"
      })
  Path baseline;

  @Option(
      names = "--floors",
      paramLabel = "FILE",
      description = {
        "the floors (default: the built-in benchmarks/src/main/resources/.../ci-floors.txt;"
            + " 'none' runs without: every figure passes)"
      })
  String floors;

  @Option(
      names = "--guard",
      paramLabel = "REGEX",
      description = {
        "only the guards whose name this Java regex finds (e.g. 'dsnt|stack'); with --quick,"
            + " among the quick set"
      })
  String guard;

  @Option(
      names = "--verbose",
      description = "print JMH's own output (default: to jmh.log in --out)")
  boolean verbose;

  @Override
  public Integer call() throws IOException {
    RuntimeOptions runtime = RuntimeOptions.of(spec);
    if (spec.root().commandLine().getParseResult().hasMatchedOption("--threads")
        || spec.commandLine().getParseResult().hasMatchedOption("--threads")
        || !runtime.givenBesidesThreads().isEmpty()) {
      throw new IllegalArgumentException(
          "bench ci: the guards run on one thread (their floors were measured so); the forks take"
              + " the other settings from the environment: for other thread counts run"
              + " 'spinekit bench kernels --threads N'");
    }
    int threads = THREADS;
    List<Guards.Guard> guards = Guards.of(quick, threads);
    if (guard != null) {
      Pattern p;
      try {
        p = Pattern.compile(guard);
      } catch (java.util.regex.PatternSyntaxException e) {
        throw new IllegalArgumentException(
            "--guard: not a Java regex: " + e.getDescription() + " in '" + guard + "'");
      }
      guards = guards.stream().filter(g -> p.matcher(g.name()).find()).toList();
      if (guards.isEmpty()) {
        throw new IllegalArgumentException(
            "--guard: '"
                + guard
                + "' selects none of "
                + String.join(", ", names(Guards.of(quick, threads))));
      }
    }
    Set<String> names = names(Guards.all(threads));
    Map<String, CiFloors.Floor> floorMap =
        floors == null
            ? CiFloors.builtIn(names)
            : floors.equals("none") ? Map.of() : CiFloors.read(Path.of(floors), names);
    List<JmhResults.Row> before = baseline == null ? null : readRun(baseline);
    Files.createDirectories(out);

    Inputs.setThreads(threads); // loads libtorch and libspinekit here, as in every fork
    Map<String, Object> machine = machine(threads);
    System.out.printf(
        "spinekit bench ci%s: %d guards, %s, %d cores, threads %d%n",
        quick ? " --quick" : "",
        guards.size(),
        machine.get("cpu"),
        Runtime.getRuntime().availableProcessors(),
        threads);

    Map<String, String> notRun = new LinkedHashMap<>();
    List<Guards.Guard> runnable = new ArrayList<>();
    for (Guards.Guard g : guards) {
      String missing = missing(g.needs());
      if (missing == null) {
        runnable.add(g);
      } else {
        notRun.put(g.name(), missing);
      }
    }
    Collection<RunResult> results;
    Map<String, Double> external;
    // JMH's machine-wide lock, for the whole run: a second benchmark run on this machine (another
    // CI job, someone's bench) waits for this one, or this one for it, instead of failing.
    try (JmhLock lock = JmhLock.acquire(LOCK_WAIT, System.out)) {
      results = run(runnable, threads, "jmh.log");
      external = external(runnable, notRun);
    }
    List<JmhResults.Row> rows = writeJmh(results, "jmh.json");
    Map<String, JmhResults.Row> byKey = JmhResults.byKey(rows);
    JmhResults.Row copy = null;
    for (JmhResults.Row r : rows) if (r.benchmark().startsWith("CopyBandwidth")) copy = r;
    if (copy != null) {
      machine.put(
          "copy_bandwidth_gb_s",
          Floors.copyBytes(Integer.parseInt(copy.params().get("mib")))
              / Guards.seconds(copy)
              / 1e9);
    }
    machine.put("others_share", others);
    machine.put("steal_share", steal);

    Verdict v = Verdict.of(guards, byKey, external, notRun, floorMap);
    List<Guards.Guard> again = v.belowFloor(Guards.Kind.EXTERNAL);
    if (!again.isEmpty()) {
      // A neighbour can hold a core through one side of a ratio and not the other: a figure below
      // its floor is measured once more before it fails the run. A slowed kernel is below twice.
      System.out.println(
          "spinekit bench ci: below the floor: "
              + String.join(", ", names(again))
              + "; measuring again to confirm");
      double othersFirst = others;
      double stealFirst = steal;
      Collection<RunResult> second;
      try (JmhLock lock = JmhLock.acquire(LOCK_WAIT, System.out)) {
        second = run(again, threads, "jmh-confirm.log");
      }
      v = v.confirmed(again, JmhResults.byKey(writeJmh(second, "jmh-confirm.json")));
      machine.put("confirmation_others_share", others);
      others = othersFirst;
      steal = stealFirst;
    }
    StringBuilder md = new StringBuilder();
    md.append("# spinekit bench ci").append(quick ? " --quick" : "").append("\n\n");
    md.append(machineLine(machine)).append("\n\n");
    md.append(v.markdown()).append('\n');
    md.append(benchmarksTable(rows)).append('\n');
    if (before != null) md.append(Compare.markdown(before, rows, baseline.toString())).append('\n');
    Map<String, Object> ci = new LinkedHashMap<>();
    ci.put("quick", quick);
    ci.put("machine", machine);
    ci.put("guards", v.json());
    ci.put("passed", v.passed());
    ci.put("jmh", "jmh.json");
    if (!again.isEmpty()) ci.put("jmh_confirm", "jmh-confirm.json");
    AtomicFiles.write(out.resolve("machine.json"), bytes(Json.write(machine) + "\n"));
    AtomicFiles.write(out.resolve("ci.json"), bytes(Json.write(ci) + "\n"));
    AtomicFiles.write(out.resolve("summary.md"), bytes(md.toString()));
    System.out.println();
    System.out.print(md);
    System.out.println(
        "written: " + out.resolve("summary.md") + ", ci.json, jmh.json, machine.json");
    if (!v.passed()) {
      System.err.println("spinekit bench ci: FAILED: " + String.join(", ", v.failed()));
      return 1;
    }
    return 0;
  }

  private double others = Double.NaN;

  /**
   * Writes {@code results} as JMH's JSON to {@code name} in {@code --out} and reads the rows back
   * from that text, so a live run, {@code --baseline} and {@code plot} go through one parser.
   */
  private List<JmhResults.Row> writeJmh(Collection<RunResult> results, String name)
      throws IOException {
    ByteArrayOutputStream json = new ByteArrayOutputStream();
    try (PrintStream ps = new PrintStream(json, true, StandardCharsets.UTF_8)) {
      ResultFormatFactory.getInstance(ResultFormatType.JSON, ps).writeOut(results);
    }
    AtomicFiles.write(out.resolve(name), json.toByteArray());
    return JmhResults.parse(json.toString(StandardCharsets.UTF_8));
  }

  private double steal = Double.NaN;

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Set<String> names(List<Guards.Guard> guards) {
    Set<String> n = new LinkedHashSet<>();
    for (Guards.Guard g : guards) n.add(g.name());
    return n;
  }

  /** The rows of an earlier run: a ci.json (its jmh.json beside it), a jmh.json, or a directory. */
  static List<JmhResults.Row> readRun(Path p) throws IOException {
    if (Files.isDirectory(p)) p = p.resolve("jmh.json");
    if (!Files.isRegularFile(p)) throw new IllegalArgumentException(p + ": no such file");
    if (p.getFileName().toString().equals("ci.json")) p = p.resolveSibling("jmh.json");
    return JmhResults.read(p);
  }

  private Collection<RunResult> run(List<Guards.Guard> guards, int threads, String log)
      throws IOException {
    int warmup = quick ? 2 : 3;
    int measure = quick ? 6 : 5;
    TimeValue time = quick ? TimeValue.milliseconds(500) : TimeValue.seconds(1);
    int forks = quick ? 1 : 2;
    OutputStream sink =
        verbose
            ? new java.io.FilterOutputStream(System.out) {
              @Override
              public void close() throws IOException {
                flush();
              }
            }
            : Files.newOutputStream(out.resolve(log));
    List<RunResult> all = new ArrayList<>();
    BenchMain.Forks forkLoad = new BenchMain.Forks(verbose);
    Interference.Snapshot start = Interference.now();
    try (BenchMain.Progress progress = new BenchMain.Progress(sink, !verbose, forkLoad)) {
      PrintStream ps = new PrintStream(progress, true, StandardCharsets.UTF_8);
      for (Map.Entry<String, Map<String, List<String>>> e :
          Guards.runs(guards, threads).entrySet()) {
        ChainedOptionsBuilder b =
            new OptionsBuilder()
                .include("^" + Pattern.quote(getClass().getPackageName() + "." + e.getKey()) + "$")
                .forks(forks)
                .warmupIterations(warmup)
                .warmupTime(time)
                .measurementIterations(measure)
                .measurementTime(time)
                .shouldFailOnError(true);
        for (Map.Entry<String, List<String>> p : e.getValue().entrySet()) {
          b.param(p.getKey(), p.getValue().toArray(String[]::new));
        }
        try {
          all.addAll(
              new Runner(
                      b.build(), OutputFormatFactory.createFormatInstance(ps, VerboseMode.NORMAL))
                  .run());
        } catch (RunnerException ex) {
          // Its guards get no figure and fail; the other benchmarks still run.
          System.err.println(
              "spinekit bench ci: "
                  + e.getKey()
                  + " failed: "
                  + ex.getMessage()
                  + " (see "
                  + out.resolve(log)
                  + ")");
        }
      }
      forkLoad.end();
      ps.flush();
    }
    Interference.Snapshot end = Interference.now();
    others = Interference.others(start, end);
    steal = Interference.steal(start, end);
    return all;
  }

  /** Why what {@code needs} is missing here, or null when it is not. */
  static String missing(Guards.Needs needs) {
    switch (needs) {
      case NOTHING:
        return null;
      case GDCM:
        return IoBench.GdcmDirect.available()
            ? null
            : "not run: GDCM's Java binding (libgdcm-java) is not installed";
      case PYTHON:
        return pythonTorch();
      default:
        throw new AssertionError(needs);
    }
  }

  private static String pythonMissing;
  private static boolean pythonChecked;

  /** Null when /usr/bin/python3 imports torch and the side-by-side scripts are here. */
  private static synchronized String pythonTorch() {
    if (pythonChecked) return pythonMissing;
    pythonChecked = true;
    if (!Files.isRegularFile(Path.of(ForwardBench.SCRIPT))) {
      pythonMissing =
          "not run: " + ForwardBench.SCRIPT + " not found (run from the repository root)";
      return pythonMissing;
    }
    try {
      Process p =
          new ProcessBuilder(ForwardBench.PYTHON, "-c", "import torch")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        pythonMissing = "not run: " + ForwardBench.PYTHON + " -c 'import torch' hung";
      } else if (p.exitValue() != 0) {
        pythonMissing = "not run: Python torch is not installed (" + ForwardBench.PYTHON + ")";
      }
    } catch (IOException e) {
      pythonMissing = "not run: " + ForwardBench.PYTHON + ": " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      pythonMissing = "not run: interrupted";
    }
    return pythonMissing;
  }

  /**
   * The external figures of {@code guards}: {@code bench forward} and {@code bench train} in child
   * JVMs of this jar on one thread, beside Python torch, their JSON and logs in {@code --out}. A
   * command that fails leaves its figures out (their guards fail) and is named in {@code notRun}'s
   * place in the log.
   */
  Map<String, Double> external(List<Guards.Guard> guards, Map<String, String> notRun)
      throws IOException {
    Map<String, Double> figures = new LinkedHashMap<>();
    boolean forward = false;
    boolean train = false;
    for (Guards.Guard g : guards) {
      if (g.kind() != Guards.Kind.EXTERNAL) continue;
      forward |= g.name().startsWith("forward.");
      train |= g.name().startsWith("train.");
    }
    if (forward) {
      Path json = out.resolve("forward.json");
      if (child(
          "forward",
          json,
          "forward",
          "--no-onnx",
          "--iterations",
          "50",
          "--json",
          json.toString())) {
        Map<?, ?> top = (Map<?, ?>) readJson(json);
        for (Object o : (List<?>) top.get("nets")) {
          Map<?, ?> n = (Map<?, ?>) o;
          if (n.get("python") instanceof Map<?, ?> py
              && py.get("java_over_this") instanceof Number r) {
            figures.put("forward.vs-python[" + n.get("net") + "]", 1 / r.doubleValue());
          }
        }
      }
    }
    if (train) {
      Path json = out.resolve("train.json");
      List<String> args =
          new ArrayList<>(List.of("train", "--steps", "10", "--json", json.toString()));
      for (String c : Guards.TRAIN_CASES) {
        args.add("--case");
        args.add(c);
      }
      if (child("train", json, args.toArray(String[]::new))) {
        Map<?, ?> top = (Map<?, ?>) readJson(json);
        for (Object o : (List<?>) top.get("cases")) {
          Map<?, ?> c = (Map<?, ?>) o;
          if (c.get("python_p50_ms") instanceof Number py
              && c.get("java_p50_ms") instanceof Number j) {
            figures.put(
                "train.vs-python[" + c.get("case") + "]", py.doubleValue() / j.doubleValue());
          }
        }
      }
    }
    return figures;
  }

  private static Object readJson(Path p) throws IOException {
    try {
      return Json.parse(Files.readString(p, StandardCharsets.UTF_8));
    } catch (Json.SyntaxException e) {
      throw new IOException(p + ": not JSON: " + e.getMessage(), e);
    }
  }

  /**
   * {@code spinekit bench --threads 1 ARGS} in a child JVM, output to NAME.log; true on success.
   */
  private boolean child(String name, Path json, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx2g");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BenchMain.class.getName());
    cmd.add("--threads");
    cmd.add(Integer.toString(THREADS));
    cmd.addAll(List.of(args));
    Path log = out.resolve(name + ".log");
    System.err.println("[bench " + name + "] " + String.join(" ", args) + " (log: " + log + ")");
    Files.deleteIfExists(json);
    Process p =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      if (!p.waitFor(1800, java.util.concurrent.TimeUnit.SECONDS)) {
        p.destroyForcibly();
        System.err.println("spinekit bench ci: bench " + name + " ran past 30 minutes; see " + log);
        return false;
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    if (p.exitValue() != 0 || !Files.isRegularFile(json)) {
      System.err.println(
          "spinekit bench ci: bench " + name + " failed (exit " + p.exitValue() + "); see " + log);
      return false;
    }
    return true;
  }

  /** The machine record. */
  static Map<String, Object> machine(int threads) {
    NativeRuntime.State state = NativeRuntime.state();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("date", ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
    m.put("cpu", BenchMain.cpuModel());
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put(
        "memory_gib",
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize()
            / (double) (1L << 30));
    m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
    m.put("versions", List.of(new Cli.Version().getVersion()));
    m.put(
        "jdk",
        System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("threads", threads);
    m.put("libtorch_threads", state.threads());
    m.put("kernel_threads", state.kernelThreads());
    for (String env : new String[] {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "GLIBC_TUNABLES"}) {
      String v = System.getenv(env);
      m.put(env, v == null ? "(unset)" : v);
    }
    String commit = System.getenv("GITHUB_SHA");
    if (commit == null) commit = System.getenv("CI_COMMIT_SHA");
    if (commit != null) m.put("commit", commit);
    return m;
  }

  static String machineLine(Map<String, Object> m) {
    StringBuilder b = new StringBuilder();
    b.append(m.get("date")).append(": ").append(m.get("cpu"));
    b.append(", ").append(m.get("cores")).append(" cores");
    if (m.get("memory_gib") instanceof Number gib) {
      b.append(String.format(Locale.ROOT, ", %.0f GiB", gib.doubleValue()));
    }
    b.append("; ").append(m.get("jdk"));
    b.append("; threads ").append(m.get("threads"));
    if (m.get("copy_bandwidth_gb_s") instanceof Double bw) {
      b.append(String.format(Locale.ROOT, "; copy bandwidth %.2f GB/s", bw));
    }
    if (m.get("others_share") instanceof Double o && !o.isNaN()) {
      b.append(String.format(Locale.ROOT, "; other processes %.0f%% of the machine", 100 * o));
    }
    if (m.get("steal_share") instanceof Double st && !st.isNaN() && st > 0) {
      b.append(String.format(Locale.ROOT, "; hypervisor steal %.0f%%", 100 * st));
    }
    return b.toString();
  }

  /** Every benchmark row: median, mean and half the iterations' range. */
  static String benchmarksTable(List<JmhResults.Row> rows) {
    StringBuilder b = new StringBuilder();
    b.append("| benchmark | params | median | mean | spread | unit |\n");
    b.append("|---|---|---:|---:|---:|---|\n");
    for (JmhResults.Row r : rows) {
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (double x : r.iterations()) {
        min = Math.min(min, x);
        max = Math.max(max, x);
      }
      b.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %.4g | %.4g | ±%.1f%% | %s |%n",
              r.benchmark(),
              r.params().toString().replaceAll("[{}]", ""),
              r.median(),
              r.mean(),
              50 * (max - min) / r.mean(),
              r.unit()));
    }
    return b.toString();
  }

  /** The guards' figures against their floors. */
  record Verdict(List<Line> lines) {
    static final String BELOW = "FAIL (below the floor)";

    /** One guard: its figure, floor (null when the floors have none) and status. */
    record Line(Guards.Guard guard, double value, CiFloors.Floor floor, String status) {}

    static Verdict of(
        List<Guards.Guard> guards,
        Map<String, JmhResults.Row> rows,
        Map<String, Double> external,
        Map<String, String> notRun,
        Map<String, CiFloors.Floor> floors) {
      List<Line> lines = new ArrayList<>();
      for (Guards.Guard g : guards) {
        double v = g.value(rows, external);
        CiFloors.Floor f = floors.get(g.name());
        String status;
        if (notRun.containsKey(g.name())) {
          status = notRun.get(g.name());
        } else if (Double.isNaN(v)) {
          status = "FAIL (no figure: a benchmark gave no result)";
        } else if (f == null) {
          status = "pass (no floor)";
        } else if (v < f.floor()) {
          status = BELOW;
        } else if (v < f.low()) {
          status = "pass (below the band seen)";
        } else {
          status = "pass";
        }
        lines.add(new Line(g, v, f, status));
      }
      return new Verdict(lines);
    }

    boolean passed() {
      return failed().isEmpty();
    }

    /** The guards whose figure is below its floor, except those of kind {@code except}. */
    List<Guards.Guard> belowFloor(Guards.Kind except) {
      List<Guards.Guard> out = new ArrayList<>();
      for (Line l : lines) {
        if (l.guard().kind() != except && l.status().equals(BELOW)) out.add(l.guard());
      }
      return out;
    }

    /**
     * This verdict after a confirmation run of {@code again} ({@code rows} its results): a guard
     * fails only when the confirmation's figure is below its floor too; its figure is then the
     * higher of the two, else the confirmation's. Either way the status gives the first figure.
     */
    Verdict confirmed(List<Guards.Guard> again, Map<String, JmhResults.Row> rows) {
      List<Line> out = new ArrayList<>();
      for (Line l : lines) {
        if (!again.contains(l.guard())) {
          out.add(l);
          continue;
        }
        double second = l.guard().value(rows);
        String first = String.format(Locale.ROOT, "%.3g", l.value());
        if (Double.isNaN(second)) {
          out.add(
              new Line(
                  l.guard(),
                  l.value(),
                  l.floor(),
                  "FAIL (below the floor: " + first + "; the confirmation gave no figure)"));
        } else if (second < l.floor().floor()) {
          out.add(
              new Line(
                  l.guard(),
                  Math.max(l.value(), second),
                  l.floor(),
                  String.format(
                      Locale.ROOT, "FAIL (below the floor twice: %s, then %.3g)", first, second)));
        } else {
          out.add(
              new Line(
                  l.guard(),
                  second,
                  l.floor(),
                  "pass (confirmed: the first run's " + first + " was below the floor)"));
        }
      }
      return new Verdict(out);
    }

    List<String> failed() {
      List<String> f = new ArrayList<>();
      for (Line l : lines) {
        if (l.status().startsWith("FAIL")) {
          f.add(
              l.guard().name()
                  + (Double.isNaN(l.value())
                      ? " (no figure)"
                      : String.format(
                          Locale.ROOT, " %.3g < floor %.3g", l.value(), l.floor().floor())));
        }
      }
      return f;
    }

    String markdown() {
      StringBuilder b = new StringBuilder();
      b.append("| guard | figure | floor | band seen | verdict | what |\n");
      b.append("|---|---:|---:|---|---|---|\n");
      for (Line l : lines) {
        CiFloors.Floor f = l.floor();
        b.append(
            String.format(
                Locale.ROOT,
                "| %s | %.3g | %s | %s | %s | %s |%n",
                l.guard().name(),
                l.value(),
                f == null ? "-" : String.format(Locale.ROOT, "%.3g", f.floor()),
                f == null
                    ? "-"
                    : String.format(
                        Locale.ROOT, "%.3g-%.3g (%d runs)", f.low(), f.high(), f.runs()),
                l.status(),
                l.guard().what()));
      }
      return b.toString();
    }

    List<Object> json() {
      List<Object> out = new ArrayList<>();
      for (Line l : lines) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", l.guard().name());
        m.put("value", Double.isNaN(l.value()) ? null : l.value());
        if (l.floor() != null) {
          m.put("floor", l.floor().floor());
          m.put("low", l.floor().low());
          m.put("high", l.floor().high());
        }
        m.put("status", l.status());
        m.put("what", l.guard().what());
        out.add(m);
      }
      return out;
    }
  }
}
