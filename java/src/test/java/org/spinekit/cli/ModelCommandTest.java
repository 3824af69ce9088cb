package org.spinekit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.npy.Npy;
import org.spinekit.io.safetensors.SafeTensors;
import org.spinekit.nn.Zoo;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.tensor.Tensors;
import org.spinekit.testing.Subprocess;

/**
 * {@code spinekit model} through the command-line entry point, in process: list, info, and run on a
 * torchvision resnet18 whose weights, input and output come from nn_oracle.py.
 */
class ModelCommandTest {
  @TempDir static Path dir;
  static Path weights;
  static Path input;
  static float[] want;
  static long[] wantShape;
  static double noise;

  static NativeRuntime.Settings before;

  static CliRun cli(String... args) {
    return CliRun.of(args);
  }

  /** resnet18 from torchvision through nn_oracle.py; its input written as .npy. */
  @BeforeAll
  static void oracle() throws Exception {
    before = NativeRuntime.state().settings();
    NativeRuntime.configure(before.withThreads(2));
    Path script;
    try {
      script = Path.of(ModelCommandTest.class.getResource("/python/nn_oracle.py").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    Path o = dir.resolve("oracle");
    ProcessBuilder pb =
        new ProcessBuilder(
            List.of(
                "/usr/bin/python3",
                script.toString(),
                "resnet18",
                o.toString(),
                "--size",
                "64",
                "48",
                "--batch",
                "2"));
    pb.environment().put("OMP_NUM_THREADS", "2");
    String text = Subprocess.run(pb, Duration.ofSeconds(300)).succeeded().stdout();
    noise =
        Double.parseDouble(
            text.lines()
                .filter(l -> l.startsWith("noise "))
                .findFirst()
                .orElseThrow()
                .substring(6)
                .trim());
    weights = o.resolve("weights.safetensors");
    input = dir.resolve("input.npy");
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> io = SafeTensors.read(o.resolve("io.safetensors"));
      Tensor x = io.get("input");
      Npy.write(input, Tensors.floats(x), x.sizes().vec().get());
      want = Tensors.floats(io.get("output"));
      wantShape = io.get("output").sizes().vec().get();
    }
  }

  @AfterAll
  static void restoreRuntime() {
    if (before != null) NativeRuntime.configure(before);
  }

  @Test
  void listPrintsTheZoo() {
    CliRun r = cli("model", "list");
    assertEquals(0, r.rc(), r.err());
    assertEquals(new ArrayList<>(Zoo.names()), r.out().lines().toList());
  }

  @Test
  void infoPrintsParametersStridesAndChannels() {
    CliRun r = cli("model", "info", "--arch", "resnet18");
    assertEquals(0, r.rc(), r.err());
    assertTrue(r.out().contains("parameters        11,689,512 (11.69 M)"), r.out());
    assertTrue(r.out().contains("feature strides   2, 4, 8, 16, 32"), r.out());
    assertTrue(r.out().contains("feature channels  64, 64, 128, 256, 512"), r.out());
    CliRun mr = cli("model", "info", "--arch", "resnet18", "--in-channels", "1", "--classes", "0");
    assertEquals(0, mr.rc(), mr.err());
    // 11,689,512 - fc (512 * 1000 + 1000) - conv1 on two fewer channels (2 * 64 * 7 * 7)
    assertTrue(mr.out().contains("parameters        11,170,240"), mr.out());
    assertTrue(mr.out().contains("classes           none"), mr.out());
  }

  private static void assertMatchesPyTorch(Path out) throws Exception {
    Npy.Array a = Npy.read(out);
    assertArrayEquals(wantShape, a.shape());
    float[] got = a.floats();
    double worst = 0;
    for (int i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
    double tol = Math.max(1e-4, 2 * noise);
    System.out.printf(
        "model run resnet18: max abs difference from PyTorch %.3e (tolerance %.3g,"
            + " PyTorch float32-vs-float64 %.3g)%n",
        worst, tol, noise);
    assertTrue(worst <= tol, "max abs difference " + worst + " > " + tol);
  }

  @Test
  void runReproducesPyTorchsOutput() throws Exception {
    Path out = dir.resolve("out.npy");
    CliRun r =
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            weights.toString(),
            "--input",
            input.toString(),
            "--output",
            out.toString());
    assertEquals(0, r.rc(), r.err());
    assertTrue(r.out().contains("[2, 1000] float32"), r.out());
    assertMatchesPyTorch(out);
  }

  @Test
  void runRenamesKeysWithANameMapFile() throws Exception {
    Path renamed = dir.resolve("renamed.safetensors");
    int keys;
    int counters = 0;
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> m = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : SafeTensors.read(weights).entrySet()) {
        m.put("model." + e.getKey(), e.getValue());
        if (e.getKey().endsWith(".num_batches_tracked")) counters++;
      }
      SafeTensors.write(renamed, m, null);
      keys = m.size();
    }
    Path rules = dir.resolve("rules.txt");
    Files.writeString(rules, "# strip the wrapper's prefix\nmodel\\.(.*) $1\n");
    Path out = dir.resolve("out-renamed.npy");
    CliRun plain =
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            renamed.toString(),
            "--input",
            input.toString(),
            "--output",
            out.toString());
    assertEquals(2, plain.rc());
    // Batch-norm counters may be absent: they are not listed as missing.
    assertTrue(
        plain.err().contains("missing (" + (keys - counters) + ")")
            && plain.err().contains("    conv1.weight")
            && plain.err().contains("unexpected (" + keys + ")")
            && plain.err().contains("    model.conv1.weight"),
        plain.err());
    assertTrue(!Files.exists(out), "no output after a failed load");
    CliRun mapped =
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            renamed.toString(),
            "--input",
            input.toString(),
            "--output",
            out.toString(),
            "--names",
            rules.toString());
    assertEquals(0, mapped.rc(), mapped.err());
    assertMatchesPyTorch(out);
  }

  @Test
  void badInputIsAClearErrorWithExitCode2() throws Exception {
    String w = weights.toString();
    String x = input.toString();
    String y = dir.resolve("bad-out.npy").toString();
    expectError(
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            w,
            "--input",
            dir.resolve("nope.npy").toString(),
            "--output",
            y),
        "--input: no such file");
    expectError(
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            dir.resolve("no").toString(),
            "--input",
            x,
            "--output",
            y),
        "--weights: no such file");
    expectError(
        cli("model", "run", "--arch", "no-such-net", "--weights", w, "--input", x, "--output", y),
        "unknown arch 'no-such-net'",
        "resnet18");
    expectError(cli("model", "info", "--arch", "no-such-net"), "unknown arch", "known:");
    expectError(
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            w,
            "--input",
            x,
            "--output",
            y,
            "--in-channels",
            "1"),
        "expected 1 channels",
        "[2, 3, 64, 48]");
    Path flat = dir.resolve("flat.npy");
    Npy.write(flat, new float[12], 3, 4);
    expectError(
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            w,
            "--input",
            flat.toString(),
            "--output",
            y),
        "[N, C, ...spatial]",
        "[3, 4]");
    Path notNpy = dir.resolve("text.npy");
    Files.writeString(notNpy, "hello");
    expectError(
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            w,
            "--input",
            notNpy.toString(),
            "--output",
            y),
        "--input",
        "text.npy");
    expectError(
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            w,
            "--input",
            x,
            "--output",
            y,
            "--classes",
            "10"),
        "fc.weight",
        "[1000, 512]",
        "[10, 512]");
    expectError(
        cli(
            "model",
            "run",
            "--arch",
            "resnet18",
            "--weights",
            w,
            "--input",
            x,
            "--output",
            y,
            "--names",
            "timm-nothing"),
        "--names",
        "timm-nothing");
    expectError(
        cli("model", "run", "--arch", "resnet18", "--input", x, "--output", y),
        "spinekit model run: Missing required option: '--weights=W.safetensors'");
    expectError(cli("model", "frobnicate"), "spinekit model: Unmatched argument", "'frobnicate'");
    expectError(
        cli("model", "info", "--arch", "resnet18", "--classes", "-1"),
        "Invalid value for option '--classes'",
        ">= 0",
        "-1");
    expectError(
        cli("model", "info", "--arch", "resnet18", "--in-channels", "three"),
        "Invalid value for option '--in-channels'",
        "three");
    assertTrue(!Files.exists(Path.of(y)), "nothing written");
  }

  private static void expectError(CliRun r, String... fragments) {
    assertEquals(2, r.rc(), "exit code; stderr: " + r.err());
    assertTrue(!r.err().contains("\tat org."), "no stack trace: " + r.err());
    for (String f : fragments) {
      assertTrue(r.err().contains(f), "'" + f + "' in: " + r.err());
    }
  }

  @Test
  void usageMentionsModel() {
    CliRun r = cli("--help");
    assertEquals(0, r.rc());
    assertTrue(
        java.util.regex.Pattern.compile("\n  model +the network architectures")
            .matcher(r.out())
            .find(),
        r.out());
    CliRun m = cli("model", "--help");
    assertEquals(0, m.rc());
    assertTrue(
        m.out().startsWith("Usage: spinekit model [-hV] [COMMON-OPTIONS] (list | info |" + " run)"),
        m.out());
    CliRun run = cli("model", "run", "--help");
    assertEquals(0, run.rc());
    assertTrue(
        run.out()
            .startsWith(
                "Usage: spinekit model run [-hV] --arch=NAME"
                    + " --weights=W.safetensors --input=X.npy\n"),
        run.out());
  }
}
