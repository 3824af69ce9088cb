package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.io.npy.Npy;

/**
 * SpineKit's networks against the real libraries, from committed data (resources {@code
 * fidelity/}): the real network's state-dict keys, dtypes and shapes, and its float64 eval output
 * with {@link FormulaWeights} on the formula's input, computed with timm,
 * segmentation_models_pytorch and EfficientNet-PyTorch (see {@code fidelity/README.md}). Each case
 * loads the formula's weights under the real keys strictly through the shipped name map (every key
 * renamed onto the SpineKit network or dropped, every shape equal, the batch-norm counters absent)
 * and compares the output: float64 to 1e-10 relative (the same computation), float32 within 3x
 * PyTorch's own float32 rounding (or 1e-6 relative).
 */
class FidelityTest {
  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
  }

  /** Max abs difference of float64 and float32 SpineKit outputs from the real float64 one. */
  private static double[] check(String name, String arch, String map, int classes)
      throws Exception {
    FormulaWeights.Spec spec = FormulaWeights.spec("/fidelity/" + name + ".keys.txt");
    Path out = Path.of(FidelityTest.class.getResource("/fidelity/" + name + ".out.npy").toURI());
    NameMap names = map == null ? NameMap.identity() : NameMap.resource(map);
    try (Net net = Zoo.create(arch, 3, classes);
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> sd = new LinkedHashMap<>();
      int counters = 0;
      for (FormulaWeights.Entry e : spec.entries()) {
        if (e.key().endsWith("num_batches_tracked")) {
          counters++;
          continue;
        }
        assertEquals("F32", e.dtype(), e.key());
        sd.put(e.key(), FormulaWeights.tensor(e.key(), e.shape()));
      }
      assertTrue(counters > 0, name + ": the real network has batch-norm counters");
      StateDict.Report r = StateDict.load(net, sd, names, true, name);
      assertTrue(r.complete() && r.adapted().isEmpty(), name + ": " + r);
      List<String> own = new ArrayList<>();
      for (String k : net.stateDict().keySet()) if (k.endsWith(".num_batches_tracked")) own.add(k);
      assertEquals(own, r.absentCounters(), name);

      Npy.Array want = Npy.read(out);
      assertArrayEquals(spec.output(), want.shape(), name + " output shape");
      Tensor want64 =
          torch
              .from_blob(
                  new org.bytedeco.javacpp.DoublePointer(want.doubles()),
                  want.shape(),
                  new org.bytedeco.pytorch.TensorOptions(ScalarType.Double))
              .clone();
      double scale = Math.max(1, want64.abs().max().item_double());
      Tensor x = FormulaWeights.tensor("input", spec.input());
      net.eval();
      Tensor y32 = net.forward(x);
      assertArrayEquals(spec.output(), y32.sizes().vec().get(), name + " SpineKit output shape");
      double d32 = y32.to(ScalarType.Double).sub(want64).abs().max().item_double();
      net.to(ScalarType.Double, false);
      double d64 = net.forward(x.to(ScalarType.Double)).sub(want64).abs().max().item_double();
      System.out.printf(
          "%s as %s: max |y| %.4g, float64 differs by %.3g, float32 by %.3g "
              + "(PyTorch's own float32 rounding %.3g)%n",
          name, arch, want64.abs().max().item_double(), d64, d32, spec.noise());
      assertTrue(d64 <= 1e-10 * scale, name + ": float64 differs by " + d64);
      double tol = Math.max(3 * spec.noise(), 1e-6 * scale);
      assertTrue(d32 <= tol, name + ": float32 differs by " + d32 + " > " + tol);
      return new double[] {d64, d32};
    }
  }

  @Test
  void smpUnetOnEfficientNetPytorchB0() throws Exception {
    check("smp_unet_efficientnet-b0", "unet:efficientnet-b0", "smp-efficientnet-b0", 3);
  }

  @Test
  void smpUnetOnTimmEfficientNetB0() throws Exception {
    check("smp_unet_timm-efficientnet-b0", "unet:efficientnet_b0", "smp-timm-efficientnet", 3);
  }

  @Test
  void smpUnetOnResnet18() throws Exception {
    check("smp_unet_resnet18", "unet:resnet18", null, 3);
  }

  @Test
  void efficientNetPytorchB0AtAnInputSizeWhereItsStaticPaddingDiffers() throws Exception {
    // 65 x 70: odd maps before stride-2 convolutions, where EfficientNet-PyTorch's padding
    // (computed for 224) is not TensorFlow's "SAME" of the actual input.
    check("efficientnet_pytorch_b0", "efficientnet-b0", "efficientnet-pytorch-b0", 1000);
  }

  @Test
  void timmTfEfficientNetB0() throws Exception {
    check("timm_tf_efficientnet_b0", "tf_efficientnet_b0", "timm-efficientnet", 1000);
  }

  @Test
  void timmTfEfficientNetV2S() throws Exception {
    check("timm_tf_efficientnetv2_s", "tf_efficientnetv2_s", "timm-efficientnetv2", 1000);
  }

  @Test
  void theFormulaGivesNumpysBits() {
    // The first values of four tensors as numpy computes them (bits of the float32 values).
    Object[][] cases = {
      {
        "encoder._conv_stem.weight",
        new long[] {32, 3, 3, 3},
        162,
        new int[] {0x3dca11c0, 0xbe9fbe77, 0xbd5a740e}
      },
      {"input", new long[] {1, 3, 64, 32}, 203, new int[] {0x3f8a57a5, 0xbf86cb8d, 0x3e94fbed}},
      {
        "decoder.blocks.0.conv1.1.running_var",
        new long[] {256},
        103,
        new int[] {0x3f6978d5, 0x3fa66666, 0x3f2f1aa0}
      },
      {"encoder.bn1.weight", new long[] {64}, 132, new int[] {0x3f81cac1, 0x3f9a9fbe, 0x3f666666}},
    };
    for (Object[] c : cases) {
      String key = (String) c[0];
      assertEquals((int) c[2], FormulaWeights.seed(key), key);
      float[] v = FormulaWeights.values(key, (long[]) c[1]);
      int[] bits = (int[]) c[3];
      for (int i = 0; i < bits.length; i++) {
        assertEquals(bits[i], Float.floatToRawIntBits(v[i]), key + "[" + i + "]");
      }
    }
  }
}
