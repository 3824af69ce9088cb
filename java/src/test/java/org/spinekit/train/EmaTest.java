package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.tensor.Tensors;

/** EMA of the weights: the decay formula, the update, integer buffers, swap, state. */
class EmaTest {
  @BeforeAll
  static void setUp() {
    torch.set_num_threads(2);
  }

  /** One training step of {@code net} on random data. */
  static void trainStep(TinyNet net, Adam adam) {
    try (PointerScope s = new PointerScope()) {
      Tensor x = torch.randn(2, 1, 8, 8);
      net.forward(x).pow(new org.bytedeco.pytorch.Scalar(2.0)).mean().backward();
      adam.step();
      adam.zeroGrad();
    }
  }

  static Map<String, float[]> snapshot(Map<String, Tensor> sd) {
    Map<String, float[]> out = new LinkedHashMap<>();
    try (PointerScope s = new PointerScope()) {
      for (Map.Entry<String, Tensor> e : sd.entrySet()) {
        out.put(e.getKey(), Tensors.floats(e.getValue().to(torch.ScalarType.Float)));
      }
    }
    return out;
  }

  @Test
  void warmupDecayFollowsTheDocumentedFormula() {
    Ema.Options o = new Ema.Options(0.999, true, 1, 0.75, 0);
    try (PointerScope s = new PointerScope()) {
      TinyNet net = new TinyNet(1, 4, 2, 0);
      try (Adam adam = new Adam(net, Adam.Options.adam(1e-2));
          Ema ema = new Ema(net, adam, o)) {
        assertEquals(0.0, ema.decay(1));
        assertEquals(1 - Math.pow(2, -0.75), ema.decay(2), 1e-15);
        assertEquals(1 - Math.pow(11, -0.75), ema.decay(11), 1e-15);
        assertEquals(0.999, ema.decay(10_000_000), 0, "capped at the decay");
      }
      net.close();
    }
    Ema.Options fixed = Ema.Options.of(0.9);
    assertEquals(0.9, fixed.decay());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Ema.Options.of(1.0));
    assertTrue(e.getMessage().startsWith("decay:"), e.getMessage());
  }

  @Test
  void updateAveragesFloatsCopiesCountersAndSwapExchanges() {
    torch.manual_seed(5);
    try (PointerScope s = new PointerScope()) {
      TinyNet net = new TinyNet(1, 4, 2, 0);
      try (Adam adam = new Adam(net, Adam.Options.adam(5e-2));
          Ema ema = new Ema(net, adam, Ema.Options.of(0.9))) {
        Map<String, float[]> e0 = snapshot(net.stateDict());
        trainStep(net, adam);
        Map<String, float[]> w1 = snapshot(net.stateDict());
        ema.update();
        Map<String, float[]> e1 = snapshot(ema.state());
        for (String k : e0.keySet()) {
          float[] a = e0.get(k);
          float[] b = w1.get(k);
          float[] got = e1.get(k);
          for (int i = 0; i < a.length; i++) {
            double want = k.endsWith("num_batches_tracked") ? b[i] : a[i] + 0.1 * (b[i] - a[i]);
            assertEquals(want, got[i], 1e-6 * (1 + Math.abs(want)), k + "[" + i + "]");
          }
        }
        assertEquals(1.0f, e1.get("bn1.num_batches_tracked")[0], "counter copied");
        assertTrue(e1.get("fc.weight")[0] != w1.get("fc.weight")[0], "averaged, not copied");
        ema.swap();
        Map<String, float[]> swapped = snapshot(net.stateDict());
        for (String k : e1.keySet()) {
          assertEquals(
              java.util.Arrays.toString(e1.get(k)),
              java.util.Arrays.toString(swapped.get(k)),
              "model holds the EMA: " + k);
        }
        ema.swap();
        Map<String, float[]> back = snapshot(net.stateDict());
        for (String k : w1.keySet()) {
          assertEquals(
              java.util.Arrays.toString(w1.get(k)),
              java.util.Arrays.toString(back.get(k)),
              "model restored: " + k);
        }
        // The state round-trips, with its update count.
        Map<String, Tensor> saved = new LinkedHashMap<>();
        try (NoGradGuard g = new NoGradGuard()) {
          for (Map.Entry<String, Tensor> e : ema.state().entrySet()) {
            saved.put(e.getKey(), e.getValue().clone());
          }
        }
        trainStep(net, adam);
        ema.update();
        ema.loadState(saved, 1);
        assertEquals(1, ema.updates());
        Map<String, float[]> reloaded = snapshot(ema.state());
        for (String k : e1.keySet()) {
          assertEquals(
              java.util.Arrays.toString(e1.get(k)),
              java.util.Arrays.toString(reloaded.get(k)),
              "reloaded " + k);
        }
      }
      net.close();
    }
  }
}
