package org.spinekit.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.cervical.CervicalClassifier;
import org.spinekit.cli.Cli;
import org.spinekit.cli.Converters;
import org.spinekit.cli.RuntimeOptions;
import org.spinekit.io.AtomicFiles;
import org.spinekit.io.json.Json;
import org.spinekit.nn.Net;
import org.spinekit.nn.Unet;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.train.Adam;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code spinekit bench train}: the time of one training step (forward, loss, backward, AdamW step)
 * and of one eval forward at batch 1, for the 2.5D UNet on EfficientNet-B0 and the cervical stage-2
 * classifier, beside the same model, batch, loss and optimiser in Python torch ({@code
 * benchmarks/python/train_step_side_by_side.py}) on the same thread count. Each case runs Java then
 * Python back to back, so both see the same machine. One {@link PointerScope} per step, as the
 * trainer runs it.
 */
@Command(
    name = "train",
    description = {
      "the time of one training step (forward, loss,"
          + " backward, AdamW step) and of one eval forward, beside the same model, batch, loss and"
          + " optimiser in Python torch (benchmarks/python/train_step_side_by_side.py, run from the"
          + " repository root) on the same thread count: --threads, default all cores. Times in ms"
          + " per step: median, p99 (nearest rank) and the Java/Python ratio of medians."
    })
final class TrainBench implements Callable<Integer> {
  static final List<String> DEFAULT_CASES =
      List.of(
          "unet_b0:train:2x3x128x128",
          "unet_b0:train:2x3x320x320",
          "cervical:train:2x24x128x128",
          "unet_b0:infer:1x3x128x128",
          "unet_b0:infer:1x3x320x320",
          "cervical:infer:1x24x128x128");

  @Spec CommandSpec spec;

  @Option(
      names = "--case",
      paramLabel = "NAME:train|infer:SHAPE",
      converter = CaseText.class,
      description = {
        "a case, repeatable (default: unet_b0:train:2x3x128x128,"
            + " unet_b0:train:2x3x320x320, cervical:train:2x24x128x128,"
            + " unet_b0:infer:1x3x128x128, unet_b0:infer:1x3x320x320,"
            + " cervical:infer:1x24x128x128). unet_b0: UNet (256,128,64,32,16) on"
            + " EfficientNet-B0, 9 classes, cross entropy; SHAPE NxCxHxW. cervical: stage-2"
            + " classifier, ResNet-18 per slice, BiGRU 2x256, attention, 1 logit, BCE; SHAPE"
            + " BxSxHxW (S slices of one channel)"
      })
  List<String> cases;

  @Option(
      names = "--warmup",
      paramLabel = "W",
      defaultValue = "3",
      converter = Converters.Count.class,
      description = "steps not measured (default ${DEFAULT-VALUE})")
  int warmup;

  @Option(
      names = "--steps",
      paramLabel = "S",
      defaultValue = "10",
      converter = Converters.Positive.class,
      description = "measured steps (default ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--no-python", description = "Java only")
  boolean noPython;

  @Option(
      names = "--json",
      paramLabel = "FILE",
      description = "also write each case's step times (ms) as JSON to FILE")
  Path json;

  /** A --case, checked by {@link #parse}. */
  static final class CaseText extends Cli.Converter<String> {
    @Override
    protected String parse(String text) {
      TrainBench.parse(text);
      return text;
    }
  }

  record Result(String label, long params, double[] ms) {
    double median() {
      return percentile(50);
    }

    double percentile(double p) {
      double[] s = ms.clone();
      Arrays.sort(s);
      int rank = (int) Math.ceil(p / 100.0 * s.length);
      return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }
  }

  @Override
  public Integer call() throws IOException {
    List<String> cases = this.cases == null ? DEFAULT_CASES : this.cases;
    boolean python = !noPython;
    // Both sides on the same, explicit thread count: --threads, else all cores.
    RuntimeOptions runtime = RuntimeOptions.of(spec);
    int threads = runtime.workers();
    NativeRuntime.Settings settings = runtime.settings();
    NativeRuntime.configure(
        settings
            .withThreads(threads)
            .withKernelThreads(settings.kernelThreads() > 0 ? settings.kernelThreads() : threads));
    System.out.printf(
        Locale.ROOT, "threads %d, warm-up %d, measured steps %d%n", threads, warmup, steps);
    List<String> rows = new ArrayList<>();
    List<Object> results = new ArrayList<>();
    for (String c : cases) {
      Result j = java(c, warmup, steps);
      Result p = python ? python(c, warmup, steps, threads) : null;
      rows.add(row(c, j, p));
      System.out.println(rows.get(rows.size() - 1));
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("case", c);
      m.put("java_p50_ms", j.median());
      m.put("java_ms", Arrays.stream(j.ms()).boxed().toList());
      if (p != null) {
        m.put("python_p50_ms", p.median());
        m.put("python_ms", Arrays.stream(p.ms()).boxed().toList());
      }
      results.add(m);
    }
    if (json != null) {
      Map<String, Object> top = new LinkedHashMap<>();
      top.put("threads", threads);
      top.put("warmup", warmup);
      top.put("steps", steps);
      top.put("cases", results);
      AtomicFiles.write(json, (Json.write(top) + "\n").getBytes(StandardCharsets.UTF_8));
    }
    System.out.println();
    System.out.println(header());
    rows.forEach(System.out::println);
    return 0;
  }

  static String header() {
    return String.format(
        Locale.ROOT,
        "%-30s %10s %9s %10s %9s %9s %9s %6s %10s",
        "case",
        "params",
        "Java p50",
        "Java p99",
        "p99/p50",
        "Py p50",
        "Py p99",
        "J/Py",
        "Py params");
  }

  static String row(String c, Result j, Result p) {
    String base =
        String.format(
            Locale.ROOT,
            "%-30s %10d %9.1f %10.1f %9.2f",
            c,
            j.params(),
            j.median(),
            j.percentile(99),
            j.percentile(99) / j.median());
    if (p == null) return base;
    return base
        + String.format(
            Locale.ROOT,
            " %9.1f %9.1f %6.2f %10d%s",
            p.median(),
            p.percentile(99),
            j.median() / p.median(),
            p.params(),
            p.params() == j.params() ? "" : "  (parameter counts differ!)");
  }

  record Case(String model, boolean train, long[] shape) {}

  static Case parse(String c) {
    String[] f = c.split(":");
    if (f.length != 3 || !(f[1].equals("train") || f[1].equals("infer"))) {
      throw new IllegalArgumentException("expected NAME:train|infer:SHAPE, got '" + c + "'");
    }
    long[] shape;
    try {
      shape = Arrays.stream(f[2].split("x")).mapToLong(Long::parseLong).toArray();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("shape '" + f[2] + "' is not like 2x3x128x128");
    }
    if (shape.length != 4 || Arrays.stream(shape).anyMatch(v -> v < 1)) {
      throw new IllegalArgumentException("shape: expected 4 positive sizes, got '" + f[2] + "'");
    }
    if (!f[0].equals("unet_b0") && !f[0].equals("cervical")) {
      throw new IllegalArgumentException("unknown model '" + f[0] + "' (unet_b0, cervical)");
    }
    return new Case(f[0], f[1].equals("train"), shape);
  }

  static Net build(Case c) {
    if (c.model().equals("unet_b0")) {
      return Unet.create("efficientnet_b0", (int) c.shape()[1], 9);
    }
    return CervicalClassifier.create("resnet18", (int) c.shape()[1]);
  }

  static Result java(String label, int warmup, int steps) {
    Case c = parse(label);
    NativeRuntime.seed(0);
    double[] ms = new double[steps];
    try (Net model = build(c)) {
      long params = model.parameterCount();
      Tensor x;
      Tensor y;
      try (PointerScope keep = new PointerScope()) {
        x = torch.randn(c.shape());
        long[] s = c.shape();
        y =
            c.model().equals("unet_b0")
                ? torch.randint(
                    0, 9, new long[] {s[0], s[2], s[3]}, new TensorOptions(torch.ScalarType.Long))
                : torch
                    .rand(s[0], 1)
                    .gt(new org.bytedeco.pytorch.Scalar(0.5))
                    .to(torch.ScalarType.Float);
        x.retainReference();
        y.retainReference();
      }
      if (c.train()) {
        model.train(true);
        try (Adam opt = new Adam(model, Adam.Options.adamW(1e-4).withWeightDecay(1e-2))) {
          for (int i = 0; i < warmup + steps; i++) {
            long t0 = System.nanoTime();
            try (PointerScope scope = new PointerScope()) {
              opt.zeroGrad();
              Tensor out = model.forward(x);
              Tensor loss =
                  c.model().equals("unet_b0")
                      ? torch.cross_entropy_loss(out, y)
                      : torch.binary_cross_entropy_with_logits(out, y);
              loss.backward();
              opt.step();
              loss.item_double();
            }
            if (i >= warmup) ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
          }
        }
      } else {
        model.eval();
        for (int i = 0; i < warmup + steps; i++) {
          long t0 = System.nanoTime();
          try (PointerScope scope = new PointerScope();
              NoGradGuard g = new NoGradGuard()) {
            model.forward(x).sum().item_double();
          }
          if (i >= warmup) ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
        }
      }
      x.releaseReference();
      y.releaseReference();
      return new Result(label, params, ms);
    }
  }

  static Result python(String label, int warmup, int steps, int threads) throws IOException {
    Path script = Path.of("benchmarks/python/train_step_side_by_side.py");
    if (!Files.isRegularFile(script)) {
      throw new IOException(
          script.toAbsolutePath()
              + " is missing (run from the repository "
              + "root, or pass --no-python)");
    }
    List<String> cmd =
        List.of(
            "/usr/bin/python3",
            script.toString(),
            "--threads",
            Integer.toString(threads),
            "--case",
            label,
            "--warmup",
            Integer.toString(warmup),
            "--steps",
            Integer.toString(steps));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("OMP_NUM_THREADS", Integer.toString(threads));
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!p.waitFor(3600, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " failed:\n" + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
    String line =
        out.lines()
            .filter(l -> l.startsWith("{"))
            .findFirst()
            .orElseThrow(() -> new IOException("no result from " + script + ":\n" + out));
    java.util.Map<?, ?> m;
    try {
      m = (java.util.Map<?, ?>) Json.parse(line);
    } catch (Json.SyntaxException | ClassCastException e) {
      throw new IOException(script + " printed a bad result line: " + line);
    }
    List<?> times = (List<?>) m.get("times_ms");
    double[] ms = new double[times.size()];
    for (int i = 0; i < ms.length; i++) ms[i] = ((Number) times.get(i)).doubleValue();
    return new Result(label, ((Number) m.get("params")).longValue(), ms);
  }
}
