package org.spinekit.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.io.safetensors.SafeTensors;
import org.spinekit.ops.HeadLoss;
import org.spinekit.testing.Subprocess;

/**
 * Every loss's value and gradient against Python torch 1.13 (/usr/bin/python3, loss_oracle.py):
 * same inputs (read from the oracle's safetensors file), float64 and float32. float64 must agree to
 * 1e-12 relative (the same computation), float32 to 1e-6 relative to the largest expected magnitude
 * of each tensor (the float32-only fused head loss: against a float64 reference of its float32
 * inputs, also to 1e-6).
 */
class LossTorchTest {
  static final Path PYTHON = Path.of("/usr/bin/python3");
  static final double F64_TOL = 1e-12;
  static final double F32_TOL = 1e-6;

  @TempDir static Path dir;
  static Map<String, Tensor> oracle;

  /** A loss as the test applies it: prediction, target, optional weights. */
  @FunctionalInterface
  interface Fn {
    Tensor apply(Tensor x, Tensor y, Tensor w);
  }

  @BeforeAll
  static void runOracle() throws Exception {
    torch.set_num_threads(2);
    Path out = dir.resolve("losses.safetensors");
    String text = python("loss_oracle.py", out.toString());
    assertTrue(text.startsWith("cases "), text);
    oracle = SafeTensors.read(out);
  }

  static String python(String script, String... args) throws IOException {
    if (!Files.isExecutable(PYTHON)) fail(PYTHON + " is missing: install python3-torch");
    Path file;
    try {
      var url = LossTorchTest.class.getResource("/python/" + script);
      assertNotNull(url, "test resource python/" + script);
      file = Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    List<String> cmd = new java.util.ArrayList<>(List.of(PYTHON.toString(), file.toString()));
    cmd.addAll(Arrays.asList(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("OMP_NUM_THREADS", "1");
    return Subprocess.run(pb, Duration.ofSeconds(120)).succeeded().stdout();
  }

  static double[] doubles(Tensor t) {
    try (PointerScope scope = new PointerScope()) {
      Tensor c = t.detach().cpu().to(ScalarType.Double).contiguous();
      double[] out = new double[(int) c.numel()];
      c.data_ptr_double().get(out);
      return out;
    }
  }

  static double[] constant(String name) {
    Tensor t = oracle.get(name);
    assertNotNull(t, "oracle tensor " + name);
    return doubles(t);
  }

  /** max |got - want| / max |want| (0 when both are all zero); NaN layouts must agree. */
  static double relative(Tensor got, Tensor want, String what) {
    double[] g = doubles(got);
    double[] w = doubles(want);
    assertEquals(w.length, g.length, what + ": element count");
    double scale = 0;
    double worst = 0;
    for (int i = 0; i < w.length; i++) {
      if (Double.isNaN(w[i]) || Double.isNaN(g[i])) {
        assertEquals(Double.isNaN(w[i]), Double.isNaN(g[i]), what + ": NaN at " + i);
        continue;
      }
      scale = Math.max(scale, Math.abs(w[i]));
      worst = Math.max(worst, Math.abs(g[i] - w[i]));
    }
    return worst == 0 ? 0 : worst / Math.max(scale, Double.MIN_NORMAL);
  }

  /** Runs one oracle case in each dtype it has and checks value and gradient. */
  static void check(String name, Fn fn) {
    for (String tag : new String[] {"f64", "f32", "f64x32"}) {
      Tensor wantOut = oracle.get(name + "." + tag + ".out");
      if (wantOut == null) continue;
      ScalarType dt = tag.equals("f64") ? ScalarType.Double : ScalarType.Float;
      // f64x32: a float32-only loss (the fused kernel) against a float64 reference of the
      // same float32 inputs: float32 tolerance.
      double tol = tag.equals("f64") ? F64_TOL : F32_TOL;
      // float32 against torch's float32: both round, in different orders where a kernel
      // computes a term (the Gaussian targets); allow three times torch's own float32 error
      // (its float32 result against its float64 one) where that is above the fixed bound.
      double tolValue = tol, tolGrad = tol;
      if (tag.equals("f32") && oracle.get(name + ".f64.out") != null) {
        tolValue =
            Math.max(
                tol,
                3
                    * relative(
                        wantOut, oracle.get(name + ".f64.out"), name + " torch f32 vs f64 value"));
        tolGrad =
            Math.max(
                tol,
                3
                    * relative(
                        oracle.get(name + ".f32.grad"),
                        oracle.get(name + ".f64.grad"),
                        name + " torch f32 vs f64 gradient"));
      }
      try (PointerScope scope = new PointerScope()) {
        Tensor x = oracle.get(name + ".x").to(dt).detach().clone();
        x.requires_grad_(true);
        Tensor y = oracle.get(name + ".y");
        assertNotNull(y, name + ".y");
        if (y.is_floating_point()) y = y.to(dt);
        Tensor w = oracle.get(name + ".w");
        if (w != null) w = w.to(dt);
        Tensor out = fn.apply(x, y, w);
        assertEquals(dt.value, out.scalar_type().value, name + " " + tag + ": output dtype");
        assertEquals(
            Arrays.toString(wantOut.sizes().vec().get()),
            Arrays.toString(out.sizes().vec().get()),
            name + " " + tag + ": output shape");
        double rv = relative(out, wantOut, name + " " + tag + " value");
        out.mul(oracle.get(name + ".go").to(dt)).sum().backward();
        // grad() is never null: an undefined tensor stands for "no gradient".
        assertTrue(x.grad().defined(), name + ": no gradient reached the prediction");
        double rg =
            relative(
                x.grad(), oracle.get(name + "." + tag + ".grad"), name + " " + tag + " gradient");
        System.out.printf(
            Locale.ROOT, "%-22s %-6s value %.2e  gradient %.2e  (relative)%n", name, tag, rv, rg);
        assertTrue(
            rv <= tolValue,
            name
                + " "
                + tag
                + ": value differs by "
                + rv
                + " relative > "
                + tolValue
                + " (got "
                + Arrays.toString(doubles(out))
                    .substring(0, Math.min(80, Arrays.toString(doubles(out)).length()))
                + ")");
        assertTrue(
            rg <= tolGrad,
            name + " " + tag + ": gradient differs by " + rg + " relative > " + tolGrad);
      }
    }
  }

  @Test
  void diceMatchesTorch() {
    check("dice_mc", (x, y, w) -> DiceLoss.multiclass().apply(x, y));
    check(
        "dice_mc_nobg_smooth",
        (x, y, w) -> DiceLoss.multiclass().withSmooth(1.0).withoutBackground().apply(x, y));
    check(
        "dice_mc_ignore_log",
        (x, y, w) ->
            DiceLoss.multiclass()
                .withClasses(0, 2, 3)
                .withIgnoreIndex(255)
                .withLogLoss(true)
                .apply(x, y));
    check("dice_mc_allbg_nobg", (x, y, w) -> DiceLoss.multiclass().withoutBackground().apply(x, y));
    check("dice_mc_allbg", (x, y, w) -> DiceLoss.multiclass().apply(x, y));
    check("dice_ml", (x, y, w) -> DiceLoss.multilabel().withSmooth(0.5).apply(x, y));
    check("dice_ml_ignore", (x, y, w) -> DiceLoss.multilabel().withIgnoreIndex(-1).apply(x, y));
    check("dice_mc_3d", (x, y, w) -> DiceLoss.multiclass().apply(x, y));
  }

  @Test
  void allBackgroundDiceWithoutBackgroundIsZeroWithZeroGradient() {
    try (PointerScope scope = new PointerScope()) {
      Tensor x = oracle.get("dice_mc_allbg_nobg.x").detach().clone();
      x.requires_grad_(true);
      Tensor v =
          DiceLoss.multiclass().withoutBackground().apply(x, oracle.get("dice_mc_allbg_nobg.y"));
      assertEquals(0.0, v.item_double());
      v.backward();
      assertEquals(0.0, x.grad().abs().max().item_double());
    }
  }

  @Test
  void crossEntropyMatchesTorch() {
    check("ce_plain", (x, y, w) -> new CrossEntropy().apply(x, y));
    check(
        "ce_spatial",
        (x, y, w) ->
            new CrossEntropy()
                .withClassWeights(constant("ce_spatial.cw"))
                .withLabelSmoothing(0.1)
                .apply(x, y));
    check(
        "ce_ignore0_sum",
        (x, y, w) ->
            new CrossEntropy()
                .withClassWeights(constant("ce_ignore0_sum.cw"))
                .withIgnoreIndex(0)
                .withReduction(Reduction.SUM)
                .apply(x, y));
    check(
        "ce_sample_w",
        (x, y, w) ->
            new CrossEntropy()
                .withClassWeights(constant("ce_sample_w.cw"))
                .withLabelSmoothing(0.05)
                .apply(x, y, w));
    check(
        "ce_element_w_none",
        (x, y, w) -> new CrossEntropy().withReduction(Reduction.NONE).apply(x, y, w));
    // Every target ignored: PyTorch's mean is NaN; SpineKit's is 0 with zero gradient.
    check("ce_all_ignored", (x, y, w) -> new CrossEntropy().apply(x, y));
  }

  @Test
  void binaryCrossEntropyMatchesTorch() {
    check("bce_plain", (x, y, w) -> new BinaryCrossEntropy().apply(x, y));
    check(
        "bce_soft_posw_elem",
        (x, y, w) ->
            new BinaryCrossEntropy()
                .withPosWeight(constant("bce_soft_posw_elem.pw"))
                .apply(x, y, w));
    check(
        "bce_cervical",
        (x, y, w) ->
            new BinaryCrossEntropy()
                .withTargetWeights(constant("bce_cervical.neg"), constant("bce_cervical.pos"))
                .withNormalisation(BinaryCrossEntropy.Normalisation.ROW_WEIGHTS)
                .apply(x, y));
    check(
        "bce_weights_norm",
        (x, y, w) ->
            new BinaryCrossEntropy()
                .withPosWeight(constant("bce_weights_norm.pw"))
                .withNormalisation(BinaryCrossEntropy.Normalisation.WEIGHTS)
                .apply(x, y, w));
    check(
        "bce_sum", (x, y, w) -> new BinaryCrossEntropy().withReduction(Reduction.SUM).apply(x, y));
    check(
        "bce_none",
        (x, y, w) -> new BinaryCrossEntropy().withReduction(Reduction.NONE).apply(x, y, w));
  }

  @Test
  void focalLossMatchesTorch() {
    check("focal_bin", (x, y, w) -> FocalLoss.binary().apply(x, y));
    check(
        "focal_bin_noalpha_sum",
        (x, y, w) ->
            FocalLoss.binary()
                .withAlpha(-1)
                .withGamma(1.5)
                .withReduction(Reduction.SUM)
                .apply(x, y));
    check(
        "focal_mc",
        (x, y, w) -> FocalLoss.multiclass().withClassAlpha(constant("focal_mc.alpha")).apply(x, y));
    check("focal_mc_gamma0", (x, y, w) -> FocalLoss.multiclass().withGamma(0).apply(x, y));
  }

  @Test
  void jsDivergenceMatchesTorch() {
    check("js_2d_map", (x, y, w) -> new JsDivergence(1.5).apply(x, y));
    check("js_2d_points", (x, y, w) -> new JsDivergence(1.5).apply(x, y));
    check("js_3d_points", (x, y, w) -> new JsDivergence(1.2).apply(x, y));
    check("js_peaked", (x, y, w) -> new JsDivergence(0.7).apply(x, y));
    check("js_none", (x, y, w) -> new JsDivergence(1.5).apply(x, y));
  }

  @Test
  void fusedHeadLossMatchesTorch() {
    HeadLoss fused = new HeadLoss(1.5, 1.0, 1.0, toFloats(constant("head_2d.cw")));
    check("head_2d", (x, y, w) -> new FusedHeadLoss(fused).apply(x, y));
  }

  static float[] toFloats(double[] d) {
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
    return f;
  }
}
