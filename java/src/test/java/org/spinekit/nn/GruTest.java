package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GruTest {
  @TempDir Path dir;

  @BeforeAll
  static void init() {
    torch.set_num_threads(2);
  }

  @Test
  void bidirectionalTwoLayersMatchesNnGru() throws Exception {
    Oracle.Run run =
        Oracle.run(
            dir, "gru_bi2", "--in-ch", "7", "--size", "12", "--batch", "3", "--classes", "0");
    try (Gru gru = new Gru(Gru.Config.of(12, 16, 2, true))) {
      assertEquals(run.params(), gru.parameterCount());
      assertEquals(
          List.of(
              "weight_ih_l0",
              "weight_hh_l0",
              "bias_ih_l0",
              "bias_hh_l0",
              "weight_ih_l0_reverse",
              "weight_hh_l0_reverse",
              "bias_ih_l0_reverse",
              "bias_hh_l0_reverse",
              "weight_ih_l1",
              "weight_hh_l1",
              "bias_ih_l1",
              "bias_hh_l1",
              "weight_ih_l1_reverse",
              "weight_hh_l1_reverse",
              "bias_ih_l1_reverse",
              "bias_hh_l1_reverse"),
          List.copyOf(gru.stateDict().keySet()));
      Oracle.Diff d = Oracle.compare(gru, run, NameMap.identity());
      System.out.printf(
          "gru_bi2: params %d, float32 %.3g, float64 %.3g, PyTorch noise %.3g%n",
          gru.parameterCount(), d.f32(), d.f64(), d.noise());
      d.check();
    }
  }

  @Test
  void unidirectionalOneLayerMatchesNnGru() throws Exception {
    Oracle.Run run =
        Oracle.run(
            dir, "gru_uni1", "--in-ch", "5", "--size", "12", "--batch", "2", "--classes", "0");
    try (Gru gru = new Gru(Gru.Config.of(12, 16, 1, false))) {
      assertEquals(run.params(), gru.parameterCount());
      Oracle.Diff d = Oracle.compare(gru, run, NameMap.identity());
      System.out.printf(
          "gru_uni1: params %d, float32 %.3g, float64 %.3g, PyTorch noise %.3g%n",
          gru.parameterCount(), d.f32(), d.f64(), d.noise());
      d.check();
    }
  }

  @Test
  void hiddenStateIsTheLastStepOfEachDirection() {
    try (Gru gru = new Gru(Gru.Config.of(6, 5, 2, true));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Tensor x = torch.randn(3, 4, 6);
      Gru.Output o = gru.run(x, null);
      assertEquals("[3, 4, 10]", GradChecks.shape(o.output()));
      assertEquals("[4, 3, 5]", GradChecks.shape(o.hidden()));
      // Last layer: forward direction ends at step T-1, backward at step 0.
      Tensor fwd = o.output().select(1, 3).narrow(1, 0, 5);
      Tensor bwd = o.output().select(1, 0).narrow(1, 5, 5);
      assertEquals(0, o.hidden().select(0, 2).sub(fwd).abs().max().item_double(), 1e-7);
      assertEquals(0, o.hidden().select(0, 3).sub(bwd).abs().max().item_double(), 1e-7);
      // A given initial state changes the result; zeros reproduce the default.
      Tensor zeros = torch.zeros(4, 3, 5);
      assertEquals(0, gru.run(x, zeros).output().sub(o.output()).abs().max().item_double());
      assertTrue(
          gru.run(x, torch.ones(4, 3, 5)).output().sub(o.output()).abs().max().item_double()
              > 1e-3);
      // Time-major layout gives the same numbers, transposed.
      try (Gru tm = new Gru(new Gru.Config(6, 5, 2, true, false, 0))) {
        for (Map.Entry<String, Tensor> e : gru.stateDict().entrySet()) {
          tm.stateDict().get(e.getKey()).copy_(e.getValue());
        }
        Tensor y = tm.forward(x.transpose(0, 1).contiguous()).transpose(0, 1);
        assertEquals(0, y.sub(o.output()).abs().max().item_double(), 1e-6);
      }
    }
  }

  @Test
  void initialisationIsOrthogonalXavierAndZero() {
    long h = 24;
    long in = 40;
    try (Gru gru = new Gru(Gru.Config.of(in, h, 2, true));
        PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      int hh = 0;
      int ih = 0;
      int biases = 0;
      for (Map.Entry<String, Tensor> e : gru.stateDict().entrySet()) {
        String k = e.getKey();
        Tensor w = e.getValue();
        if (k.startsWith("weight_hh")) {
          for (long gate = 0; gate < 3; gate++) {
            Tensor b = w.narrow(0, gate * h, h);
            double err = b.mm(b.t()).sub(torch.eye(h)).abs().max().item_double();
            assertTrue(err < 1e-5, k + " gate " + gate + ": |W W^T - I| = " + err);
          }
          // Blocks are drawn independently: not the same matrix.
          assertTrue(w.narrow(0, 0, h).sub(w.narrow(0, h, h)).abs().max().item_double() > 0.1);
          hh++;
        } else if (k.startsWith("weight_ih")) {
          long fanIn = w.size(1);
          double bound = Math.sqrt(6.0 / (fanIn + 3 * h));
          double max = w.abs().max().item_double();
          assertTrue(max <= bound, k + ": max |w| " + max + " > xavier bound " + bound);
          assertTrue(max > 0.9 * bound, k + ": max |w| " + max + " far below bound " + bound);
          // Uniform on [-a, a]: variance a^2 / 3.
          double var = w.pow(new org.bytedeco.pytorch.Scalar(2.0)).mean().item_double();
          assertEquals(bound * bound / 3, var, 0.1 * bound * bound / 3, k + " variance");
          ih++;
        } else {
          assertEquals(0, w.abs().max().item_double(), k + " must start at zero");
          biases++;
        }
      }
      assertEquals(4, hh);
      assertEquals(4, ih);
      assertEquals(8, biases);
      // Layer 1 reads both directions of layer 0.
      assertEquals("[72, 48]", GradChecks.shape(gru.stateDict().get("weight_ih_l1")));
    }
  }

  @Test
  void seededBuildsAreRepeatable() {
    torch.manual_seed(11);
    try (Gru a = new Gru(Gru.Config.of(8, 6, 1, true))) {
      torch.manual_seed(11);
      try (Gru b = new Gru(Gru.Config.of(8, 6, 1, true));
          PointerScope scope = new PointerScope()) {
        for (String k : a.stateDict().keySet()) {
          assertTrue(a.stateDict().get(k).equal(b.stateDict().get(k)), k);
        }
      }
    }
  }

  @Test
  void gradientsReachEveryWeight() {
    try (Gru gru = new Gru(new Gru.Config(6, 5, 2, true, true, 0.3));
        PointerScope scope = new PointerScope()) {
      gru.train(true);
      Tensor x = torch.randn(2, 7, 6);
      Tensor y = gru.forward(x);
      y.mul(y).sum().backward();
      assertEquals(16, GradChecks.assertFiniteGrads(gru, "weight", "bias"));
    }
  }

  @Test
  void badInputIsRefused() {
    try (Gru gru = new Gru(Gru.Config.of(12, 16, 2, true));
        PointerScope scope = new PointerScope()) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> gru.forward(torch.randn(3, 12)));
      assertTrue(
          e.getMessage().contains("[B, T, 12]") && e.getMessage().contains("[3, 12]"),
          e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> gru.forward(torch.randn(2, 3, 11)));
      assertTrue(e.getMessage().contains("[2, 3, 11]"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () -> gru.run(torch.randn(2, 3, 12), torch.zeros(2, 2, 16)));
      assertTrue(
          e.getMessage().contains("h0") && e.getMessage().contains("[4, 2, 16]"), e.getMessage());
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Gru.Config.of(12, 0, 1, false));
    assertTrue(e.getMessage().contains("hiddenSize"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> new Gru.Config(12, 4, 2, false, true, 1.0));
    assertTrue(e.getMessage().contains("dropout"), e.getMessage());
  }
}
