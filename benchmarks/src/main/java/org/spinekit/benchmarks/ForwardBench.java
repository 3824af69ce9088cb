package org.spinekit.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.cervical.CervicalConfig;
import org.spinekit.cervical.CervicalModels;
import org.spinekit.cli.Cli;
import org.spinekit.cli.Converters;
import org.spinekit.cli.RuntimeOptions;
import org.spinekit.io.json.Json;
import org.spinekit.io.npy.Npy;
import org.spinekit.lumbar.LumbarBundle;
import org.spinekit.lumbar.LumbarConfig;
import org.spinekit.lumbar.LumbarModels;
import org.spinekit.nn.Init;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.tensor.Tensors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spinekit bench forward}: the in-process eval forward latency of the networks the {@code
 * cpu-small} pipelines train, beside Python torch eager ({@code
 * benchmarks/python/forward_side_by_side.py}) and ONNX Runtime's Java API on the same weights, the
 * same input and the same thread count, back to back per network.
 *
 * <p>Per network: built by the pipeline's own factory ({@link CervicalModels}, {@link
 * LumbarModels}) from a fixed seed, batch-norm affine parameters and running statistics then drawn
 * at random (so eval batch norm is no identity and the check covers the buffers), eval mode; the
 * state dict ({@link StateDict#save}), the input and the Java output go to the work directory
 * ({@link Npy}). Then Java times its forwards (one {@link PointerScope} and {@link NoGradGuard} per
 * call); the Python script loads the weights into a replica with {@code strict=True}, checks its
 * output against Java's, exports ONNX and times its own forwards, then again with the model and a
 * 4D input in channels-last order ({@code model.to(memory_format=torch.channels_last)}, the layout
 * {@link Net#channelsLast} gives Java's predictors); ONNX Runtime loads that export, checks its
 * output against Java's and times its runs.
 */
@Command(
    name = "forward",
    description = {
      "the eval forward latency of the cpu-small networks (batch 1) in Java, beside Python torch"
          + " eager (benchmarks/python/forward_side_by_side.py, /usr/bin/python3; as loaded, then"
          + " in channels-last order, 'Py NHWC', as Java's predictors keep it) and ONNX Runtime"
          + " (the model Python exports) on the same weights, input and --threads (default: all"
          + " cores), measured back to back per network. Each side's output is checked against"
          + " Java's (max abs difference; a relative difference above 1e-3 fails the run). Times"
          + " in ms per forward: median, p90, p99 (nearest rank) and the ratio of Java's median to"
          + " each other side's."
    })
final class ForwardBench implements Callable<Integer> {
  /** The networks, in table order. */
  static final List<String> NETS = List.of("cervical_seg", "cervical_cls", "lumbar_scs");

  /** Largest output difference allowed, relative to the largest |Java output|. */
  static final double TOLERANCE = 1e-3;

  /** Seed of the weights and the input. */
  static final long SEED = 0;

  static final String PYTHON = "/usr/bin/python3";

  static final String SCRIPT = "benchmarks/python/forward_side_by_side.py";

  @Spec CommandSpec spec;

  @Option(
      names = "--net",
      paramLabel = "NAME",
      split = ",",
      converter = NetName.class,
      description = {
        "networks, repeatable or comma-separated (default: all). cervical_seg: the stage-1"
            + " Unet on resnet10_w32, decoder 64,32,16,16,8, 9 classes, input 1x3x128x128;"
            + " cervical_cls: the stage-2 classifier (resnet10_w32 per slice, BiGRU 64, attention"
            + " 32), input 1x24x64x64; lumbar_scs: the spinal canal LumbarNet (resnet10_w32,"
            + " decoder 64,32,32, 5 points, 3 grades) slice by slice, input 1x1x12x96x96"
      })
  List<String> nets;

  @Option(
      names = "--warmup",
      paramLabel = "W",
      defaultValue = "10",
      converter = Converters.Count.class,
      description = "forwards not measured, per side (default ${DEFAULT-VALUE})")
  int warmup;

  @Option(
      names = "--iterations",
      paramLabel = "I",
      defaultValue = "100",
      converter = Converters.Positive.class,
      description = "measured forwards per side (default ${DEFAULT-VALUE})")
  int iterations;

  @Option(
      names = "--no-python",
      description = "no Python side (and so no ONNX model: ONNX Runtime is skipped as well)")
  boolean noPython;

  @Option(
      names = "--nchw",
      description =
          "Java side: keep the convolution weights in NCHW order (the predictors store them"
              + " channels-last, Net.channelsLast)")
  boolean contiguousWeights;

  @Option(names = "--no-onnx", description = "no ONNX export and no ONNX Runtime side")
  boolean noOnnx;

  @Option(
      names = "--dir",
      paramLabel = "DIR",
      description = {
        "keep the weights, inputs, outputs and ONNX models in DIR (default: a temporary"
            + " directory, deleted at the end)"
      })
  Path dir;

  @Option(
      names = "--json",
      paramLabel = "FILE",
      description = "also write the times and differences as JSON to FILE")
  Path json;

  /** A --net, checked against {@link #NETS}. */
  static final class NetName extends Cli.Converter<String> {
    @Override
    protected String parse(String text) {
      if (!NETS.contains(text)) {
        throw new IllegalArgumentException(
            "expected one of " + String.join(", ", NETS) + ", got '" + text + "'");
      }
      return text;
    }
  }

  /** A network as a pipeline builds it, and its input shape (batch 1). */
  record Network(String name, Supplier<Net> build, long[] input) {}

  static Network network(String name) {
    CervicalConfig c = CervicalConfig.preset("cpu-small");
    LumbarConfig l = LumbarConfig.preset("cpu-small");
    return switch (name) {
      case "cervical_seg" ->
          new Network(
              name, () -> CervicalModels.unet(c), new long[] {1, 3, c.segSize(), c.segSize()});
      case "cervical_cls" ->
          new Network(
              name,
              () -> CervicalModels.classifier(c),
              new long[] {1, c.clsSlices(), c.clsSize(), c.clsSize()});
      case "lumbar_scs" ->
          new Network(
              name,
              () -> LumbarModels.create(l, LumbarBundle.SCS),
              new long[] {1, 1, l.t2Slices(), l.size(), l.size()});
      default ->
          throw new IllegalArgumentException(
              "net: expected one of " + String.join(", ", NETS) + ", got " + name);
    };
  }

  /**
   * One side's measurement: its times (null when it did not run, {@code note} says why), the
   * largest |its output - Java's| (NaN for Java itself) and other processes' share of the machine
   * while it ran.
   */
  record Side(double[] ms, double maxAbsDiff, double others, String note) {
    static Side skipped(String why) {
      return new Side(null, Double.NaN, Double.NaN, why);
    }

    boolean ran() {
      return ms != null;
    }

    /** This side with other processes' share of the machine from {@code start} until now. */
    Side during(Interference.Snapshot start) {
      return new Side(ms, maxAbsDiff, Interference.others(start, Interference.now()), note);
    }

    double p(double percent) {
      return new TrainBench.Result("", 0, ms).percentile(percent);
    }
  }

  /** A network's sides; {@code maxAbsJava} is the scale of the output differences. */
  record Row(
      String net,
      long params,
      long[] input,
      double maxAbsJava,
      Side java,
      Side py,
      Side pyNhwc,
      Side ort) {
    boolean mismatch() {
      return bad(py) || bad(pyNhwc) || bad(ort);
    }

    private boolean bad(Side s) {
      return s.ran() && !(s.maxAbsDiff() <= TOLERANCE * maxAbsJava);
    }
  }

  @Override
  public Integer call() throws IOException {
    List<String> nets = this.nets == null ? NETS : this.nets.stream().distinct().toList();
    RuntimeOptions runtime = RuntimeOptions.of(spec);
    int threads = runtime.workers();
    NativeRuntime.Settings settings = runtime.settings();
    NativeRuntime.configure(
        settings
            .withThreads(threads)
            .withKernelThreads(settings.kernelThreads() > 0 ? settings.kernelThreads() : threads));
    Path script = noPython ? null : script();
    boolean keep = dir != null;
    Path work = keep ? Files.createDirectories(dir) : Files.createTempDirectory("spinekit-fwd-");
    String ort = noPython || noOnnx ? null : ortVersion();
    printHeader(threads, work, keep, script, ort);
    List<Row> rows = new ArrayList<>();
    try {
      for (String name : nets) {
        Row r = measure(network(name), work, threads, script, !noOnnx);
        rows.add(r);
        System.out.println(String.join("\n", table(List.of(r), false)));
      }
    } finally {
      if (!keep) deleteTree(work);
    }
    System.out.println();
    System.out.println(String.join("\n", table(rows, true)));
    System.out.println(
        "ms per forward at batch 1: p50 = median, p90 and p99 nearest rank of "
            + iterations
            + "; Java/side = Java's median over that side's; max|d| = max |side output - Java"
            + " output| (|y| = max |Java output|); others = other processes' share of the machine"
            + " during that side");
    System.out.println("load average now: " + loadAverage());
    System.out.println(
        "DJL (ai.djl.pytorch 0.36.0, libtorch 2.7.1 from Maven Central): not measured, its"
            + " libtorch does not load beside the PyTorch preset's 2.10 in one process"
            + " (benchmarks/README.md)");
    if (json != null) writeJson(json, rows, threads);
    boolean bad = rows.stream().anyMatch(Row::mismatch);
    if (bad) {
      System.out.println(
          "MISMATCH: a side's output differs from Java's by more than "
              + TOLERANCE
              + " x max |Java output| (rows marked !)");
    }
    return bad ? Cli.FAILED : Cli.OK;
  }

  private void printHeader(int threads, Path work, boolean keep, Path script, String ort) {
    NativeRuntime.State state = NativeRuntime.state();
    System.out.println(
        "spinekit bench forward, "
            + ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm z")));
    int blas = state.settings().blasThreads();
    System.out.printf(
        Locale.ROOT,
        "threads %d (libtorch %d intra-op, Python torch.set_num_threads, ONNX Runtime intra-op);"
            + " OpenBLAS threads %s (Java and Python); warm-up %d, measured %d per side;"
            + " load average %s%n",
        threads,
        state.threads(),
        blas > 0 ? Integer.toString(blas) : "as loaded",
        warmup,
        iterations,
        loadAverage());
    System.out.println("convolution guard: " + state.conv().describe());
    System.out.println(
        "Python: "
            + (script == null ? "skipped (--no-python)" : PYTHON + " " + script)
            + "; ONNX Runtime: "
            + (ort != null
                ? ort
                : noPython ? "skipped (its model is Python's export)" : "skipped (--no-onnx)"));
    System.out.println("files: " + work + (keep ? "" : " (deleted at the end)"));
  }

  /** One network: Java, then Python (NCHW, then channels-last), then ONNX Runtime. */
  Row measure(Network n, Path work, int threads, Path script, boolean onnx) throws IOException {
    Path base = work.resolve(n.name());
    NativeRuntime.seed(SEED);
    try (Net model = n.build().get()) {
      long params = model.parameterCount();
      randomBatchNorm(model);
      model.eval();
      if (!contiguousWeights) model.channelsLast();
      StateDict.save(model, Path.of(base + ".safetensors"), Map.of("net", n.name()));
      Tensor x;
      float[] xs;
      float[] want;
      long[] outShape;
      try (PointerScope keep = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        x = torch.randn(n.input());
        Tensor y = model.forward(x).contiguous();
        xs = Tensors.floats(x);
        want = Tensors.floats(y);
        outShape = y.sizes().vec().get();
        x.retainReference();
      }
      Npy.write(Path.of(base + ".input.npy"), xs, n.input());
      Npy.write(Path.of(base + ".java.npy"), want, outShape);
      double scale = 0;
      for (float v : want) scale = Math.max(scale, Math.abs(v));

      Side java;
      try {
        Interference.Snapshot t0 = Interference.now();
        double[] ms = new double[iterations];
        for (int i = 0; i < warmup + iterations; i++) {
          long start = System.nanoTime();
          try (PointerScope scope = new PointerScope();
              NoGradGuard g = new NoGradGuard()) {
            model.forward(x);
          }
          if (i >= warmup) ms[i - warmup] = (System.nanoTime() - start) / 1e6;
        }
        java = new Side(ms, Double.NaN, Interference.others(t0, Interference.now()), "");
      } finally {
        x.releaseReference();
      }

      Side py = Side.skipped("--no-python");
      Side pyNhwc = Side.skipped("--no-python");
      Side rt = Side.skipped(onnx ? "no ONNX model: --no-python" : "--no-onnx");
      if (script != null) {
        Interference.Snapshot p0 = Interference.now();
        py = python(script, n.name(), work, threads, onnx, false);
        py = py.during(p0);
        Interference.Snapshot p1 = Interference.now();
        pyNhwc = python(script, n.name(), work, threads, false, true).during(p1);
        if (onnx) {
          Interference.Snapshot o0 = Interference.now();
          rt = ort(Path.of(base + ".onnx"), xs, n.input(), want, threads).during(o0);
        }
      }
      return new Row(n.name(), params, n.input(), scale, java, py, pyNhwc, rt);
    }
  }

  /**
   * Batch norm's weight, bias, running mean and variance drawn from the current generator: U(0.5,
   * 1.5), U(-0.2, 0.2), U(-0.2, 0.2), U(0.5, 1.5).
   */
  static void randomBatchNorm(Net model) {
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> sd = model.stateDict();
      for (Map.Entry<String, Tensor> e : sd.entrySet()) {
        String k = e.getKey();
        if (!sd.containsKey(k.replaceAll("[^.]+$", "running_var"))) continue; // not batch norm
        if (k.endsWith(".weight") || k.endsWith(".running_var")) {
          Init.uniform(e.getValue(), 0.5, 1.5);
        } else if (k.endsWith(".bias") || k.endsWith(".running_mean")) {
          Init.uniform(e.getValue(), -0.2, 0.2);
        }
      }
    }
  }

  /** The Python script: from the working directory (the repository root), else beside the jar. */
  static Path script() throws IOException {
    Path here = Path.of(SCRIPT);
    if (!Files.isRegularFile(here)) {
      try {
        Path jar =
            Path.of(ForwardBench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        // benchmarks/target/benchmarks.jar -> the repository root
        Path root = jar.getParent() == null ? null : jar.getParent().getParent();
        if (root != null && root.getParent() != null) {
          Path beside = root.getParent().resolve(SCRIPT);
          if (Files.isRegularFile(beside)) here = beside;
        }
      } catch (java.net.URISyntaxException | RuntimeException e) {
        // not from a jar on the file system: keep the relative path
      }
    }
    if (!Files.isRegularFile(here)) {
      throw new IOException(
          here.toAbsolutePath()
              + " is missing (run from the repository root, or pass --no-python)");
    }
    if (!Files.isExecutable(Path.of(PYTHON))) {
      throw new IOException(
          PYTHON + " is missing (Debian's python3 with torch; or pass --no-python)");
    }
    return here;
  }

  private Side python(
      Path script, String net, Path work, int threads, boolean onnx, boolean channelsLast)
      throws IOException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                PYTHON,
                script.toString(),
                "--dir",
                work.toString(),
                "--net",
                net,
                "--threads",
                Integer.toString(threads),
                "--warmup",
                Integer.toString(warmup),
                "--iterations",
                Integer.toString(iterations),
                "--tolerance",
                Double.toString(TOLERANCE)));
    if (!onnx) cmd.add("--no-onnx");
    if (channelsLast) cmd.add("--channels-last");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    // OpenBLAS (torch's GEMM for small batch-1 convolutions, the GRU, the linears) on the
    // threads Java's OpenBLAS has: left to itself, Debian's starts a pool of all cores that
    // fights torch's OpenMP threads (seen: p90 4x the median on the cervical Unet).
    int blas = NativeRuntime.state().settings().blasThreads();
    if (blas > 0) pb.environment().put("OPENBLAS_NUM_THREADS", Integer.toString(blas));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int rc;
    try {
      if (!p.waitFor(3600, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not finish in an hour");
      }
      rc = p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    // 3: the output differs from Java's; the result line is still there and the row says so.
    String line = out.lines().filter(l -> l.startsWith("{")).findFirst().orElse(null);
    if ((rc != 0 && rc != 3) || line == null) {
      throw new IOException(String.join(" ", cmd) + " failed (exit " + rc + "):\n" + out);
    }
    Map<?, ?> m;
    try {
      m = (Map<?, ?>) Json.parse(line);
    } catch (Json.SyntaxException | ClassCastException e) {
      throw new IOException(script + " printed a bad result line: " + line);
    }
    List<?> times = (List<?>) m.get("times_ms");
    double[] ms = new double[times.size()];
    for (int i = 0; i < ms.length; i++) ms[i] = ((Number) times.get(i)).doubleValue();
    return new Side(ms, ((Number) m.get("max_abs_diff")).doubleValue(), Double.NaN, "");
  }

  /** ONNX Runtime's version, loading its native library (null and a note when it cannot). */
  static String ortVersion() {
    try {
      return "onnxruntime " + OrtEnvironment.getEnvironment().getVersion();
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      System.out.println("ONNX Runtime does not load: " + e);
      return null;
    }
  }

  /** ONNX Runtime on {@code model}: its output against Java's, then the timed runs. */
  private Side ort(Path model, float[] xs, long[] shape, float[] want, int threads)
      throws IOException {
    if (!Files.isRegularFile(model)) return Side.skipped("no ONNX model");
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
      o.setIntraOpNumThreads(threads);
      o.setInterOpNumThreads(1);
      o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      try (OrtSession s = env.createSession(model.toString(), o);
          OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(xs), shape)) {
        String in = s.getInputNames().iterator().next();
        Map<String, OnnxTensor> feed = Map.of(in, x);
        double diff;
        try (OrtSession.Result r = s.run(feed)) {
          OnnxValue v = r.get(0);
          FloatBuffer got = ((OnnxTensor) v).getFloatBuffer();
          if (got.remaining() != want.length) {
            throw new IOException(
                model + ": ONNX Runtime gave " + got.remaining() + " values, Java " + want.length);
          }
          diff = 0;
          for (int i = 0; i < want.length; i++) {
            diff = Math.max(diff, Math.abs(got.get(i) - want[i]));
          }
        }
        double[] ms = new double[iterations];
        for (int i = 0; i < warmup + iterations; i++) {
          long start = System.nanoTime();
          try (OrtSession.Result r = s.run(feed)) {
            r.size();
          }
          if (i >= warmup) ms[i - warmup] = (System.nanoTime() - start) / 1e6;
        }
        return new Side(ms, diff, Double.NaN, "");
      }
    } catch (OrtException e) {
      throw new IOException(model + ": ONNX Runtime: " + e.getMessage(), e);
    }
  }

  /** The table; {@code header}: with its column heads. */
  static List<String> table(List<Row> rows, boolean header) {
    List<String> out = new ArrayList<>();
    String fmt = "%-13s %-7s %9s %9s %9s %8s %10s %8s  %s";
    if (header) {
      out.add(
          String.format(
              Locale.ROOT,
              fmt,
              "net",
              "side",
              "p50 ms",
              "p90 ms",
              "p99 ms",
              "Java/side",
              "max|d|",
              "others",
              ""));
    }
    for (Row r : rows) {
      String[] names = {"Java", "Python", "Py NHWC", "ORT"};
      Side[] sides = {r.java(), r.py(), r.pyNhwc(), r.ort()};
      for (int i = 0; i < sides.length; i++) {
        Side s = sides[i];
        String net = i == 0 ? r.net() : "";
        if (!s.ran()) {
          out.add(
              String.format(
                  Locale.ROOT,
                  fmt,
                  net,
                  names[i],
                  "-",
                  "-",
                  "-",
                  "",
                  "",
                  "",
                  "(" + s.note() + ")"));
          continue;
        }
        boolean bad = i > 0 && !(s.maxAbsDiff() <= TOLERANCE * r.maxAbsJava());
        String note =
            i == 0
                ? String.format(
                    Locale.ROOT,
                    "%d params, input %s, |y| %.3g",
                    r.params(),
                    shape(r.input()),
                    r.maxAbsJava())
                : bad ? "! output differs from Java's" : "";
        out.add(
            String.format(
                Locale.ROOT,
                fmt,
                net,
                names[i],
                f(s.p(50)),
                f(s.p(90)),
                f(s.p(99)),
                i == 0 ? "" : String.format(Locale.ROOT, "%.2f", r.java().p(50) / s.p(50)),
                i == 0 ? "" : String.format(Locale.ROOT, "%.1e", s.maxAbsDiff()),
                Double.isNaN(s.others())
                    ? "?"
                    : String.format(Locale.ROOT, "%.0f%%", 100 * s.others()),
                note));
      }
    }
    return out;
  }

  private static String f(double ms) {
    return String.format(Locale.ROOT, ms < 10 ? "%.3f" : "%.2f", ms);
  }

  private static String shape(long[] s) {
    return String.join("x", Arrays.stream(s).mapToObj(Long::toString).toArray(String[]::new));
  }

  private void writeJson(Path file, List<Row> rows, int threads) throws IOException {
    Map<String, Object> top = new LinkedHashMap<>();
    top.put("threads", threads);
    top.put("warmup", warmup);
    top.put("iterations", iterations);
    top.put("tolerance", TOLERANCE);
    List<Object> list = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("net", r.net());
      m.put("params", r.params());
      m.put("input", Arrays.stream(r.input()).boxed().toList());
      m.put("max_abs_java", r.maxAbsJava());
      m.put("java", side(r.java(), r.java()));
      m.put("python", side(r.py(), r.java()));
      m.put("python_channels_last", side(r.pyNhwc(), r.java()));
      m.put("ort", side(r.ort(), r.java()));
      list.add(m);
    }
    top.put("nets", list);
    top.put("djl", "not measured: its libtorch 2.7.1 does not load beside the preset's 2.10");
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) Files.createDirectories(parent);
    Files.writeString(file, Json.write(top) + "\n");
  }

  private static Map<String, Object> side(Side s, Side java) {
    Map<String, Object> m = new LinkedHashMap<>();
    if (!s.ran()) {
      m.put("skipped", s.note());
      return m;
    }
    m.put("p50_ms", s.p(50));
    m.put("p90_ms", s.p(90));
    m.put("p99_ms", s.p(99));
    if (s != java) {
      m.put("java_over_this", java.p(50) / s.p(50));
      m.put("max_abs_diff", s.maxAbsDiff());
    }
    m.put("others", s.others());
    m.put("times_ms", Arrays.stream(s.ms()).boxed().toList());
    return m;
  }

  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
