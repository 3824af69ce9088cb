package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.io.safetensors.SafeTensors;
import org.spinekit.testing.Subprocess;

/**
 * Runs {@code nn_oracle.py} (Debian's python3-torch and python3-torchvision) to get a PyTorch
 * network's weights, input and eval output, and compares a SpineKit network against them.
 */
public final class Oracle {
  public static final Path PYTHON = Path.of("/usr/bin/python3");

  private Oracle() {}

  /** The result of one oracle run. */
  public record Run(Path weights, Path io, long params, double noise) {}

  /** Differences of a SpineKit forward from PyTorch's: float32 and float64 runs. */
  public record Diff(double f32, double f64, double noise) {
    /**
     * float32 within 1e-4, or within three times PyTorch's own float32 rounding where that is
     * larger (two float32 computations that sum in different orders each carry about that error, in
     * either direction); float64 within 1e-9, which only the same computation meets.
     */
    public void check() {
      double tol = Math.max(1e-4, 3 * noise);
      assertTrue(
          f32 <= tol,
          "float32 max abs difference "
              + f32
              + " > "
              + tol
              + " (PyTorch's "
              + "own float32-vs-float64 difference "
              + noise
              + ")");
      assertTrue(f64 <= 1e-9, "float64 max abs difference " + f64 + " > 1e-9");
    }
  }

  public static Run run(Path dir, String arch, String... options) {
    Path script;
    try {
      var url = Oracle.class.getResource("/python/nn_oracle.py");
      assertNotNull(url, "test resource python/nn_oracle.py");
      script = Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    if (!Files.isExecutable(PYTHON)) {
      fail(PYTHON + " is missing: install python3-torch and python3-torchvision");
    }
    List<String> cmd =
        new ArrayList<>(List.of(PYTHON.toString(), script.toString(), arch, dir.toString()));
    cmd.addAll(Arrays.asList(options));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd);
      pb.environment().put("OMP_NUM_THREADS", "2");
      String text = Subprocess.run(pb, Duration.ofSeconds(300)).succeeded().stdout();
      return new Run(
          dir.resolve("weights.safetensors"),
          dir.resolve("io.safetensors"),
          Long.parseLong(field(text, "params")),
          Double.parseDouble(field(text, "noise")));
    } catch (IOException e) {
      fail("could not run " + PYTHON + ": " + e.getMessage());
      return null;
    }
  }

  private static String field(String text, String name) {
    return text.lines()
        .filter(l -> l.startsWith(name + " "))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " line in:\n" + text))
        .substring(name.length() + 1)
        .trim();
  }

  /**
   * Loads the oracle's weights into {@code net} (strictly, through {@code names}), runs it in eval
   * mode on the oracle's input and returns the max abs difference from PyTorch's output.
   */
  public static Diff compare(Net net, Run run, NameMap names) throws IOException {
    StateDict.Report r = StateDict.load(net, run.weights(), names, true);
    assertTrue(r.complete(), r.toString());
    net.eval();
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> io = SafeTensors.read(run.io());
      Tensor want = io.get("output");
      Tensor got = net.forward(io.get("input"));
      assertEquals(
          Arrays.toString(want.sizes().vec().get()),
          Arrays.toString(got.sizes().vec().get()),
          "output shape");
      double f32 = got.sub(want).abs().max().item_double();
      net.to(ScalarType.Double, false);
      try {
        Tensor got64 = net.forward(io.get("input").to(ScalarType.Double));
        double f64 = got64.sub(io.get("output64")).abs().max().item_double();
        return new Diff(f32, f64, run.noise());
      } finally {
        net.to(ScalarType.Float, false);
      }
    }
  }

  /** The maximal abs difference of each feature map the oracle wrote ("feature.i"). */
  public static double[] compareFeatures(Encoder enc, Run run) throws IOException {
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> io = SafeTensors.read(run.io());
      List<Tensor> got = enc.features(io.get("input"));
      double[] d = new double[got.size()];
      for (int i = 0; i < got.size(); i++) {
        Tensor want = io.get("feature." + i);
        assertNotNull(want, "oracle wrote no feature." + i);
        assertEquals(
            Arrays.toString(want.sizes().vec().get()),
            Arrays.toString(got.get(i).sizes().vec().get()),
            "feature " + i + " shape");
        d[i] = got.get(i).sub(want).abs().max().item_double();
      }
      return d;
    }
  }
}
