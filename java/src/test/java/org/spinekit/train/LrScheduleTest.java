package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.spinekit.train.LrSchedule.Interval;

/** Schedules against torch.optim.lr_scheduler (PyTorch 1.13), two groups of base 0.1, 0.01. */
class LrScheduleTest {
  static final double[] BASE = {0.1, 0.01};

  /** PyTorch's rates [T + 1][2]. */
  static double[][] oracle(String name) throws IOException {
    try (PointerScope s = new PointerScope()) {
      Tensor t = TrainOracle.read().get("sched." + name).contiguous();
      int rows = (int) t.size(0);
      double[] flat = new double[rows * 2];
      new org.bytedeco.javacpp.DoublePointer(t.data_ptr_double()).get(flat);
      double[][] out = new double[rows][2];
      for (int r = 0; r < rows; r++) out[r] = new double[] {flat[2 * r], flat[2 * r + 1]};
      return out;
    }
  }

  static double[] metric(String name) throws IOException {
    try (PointerScope s = new PointerScope()) {
      Tensor t = TrainOracle.read().get("metric." + name).contiguous();
      double[] out = new double[(int) t.numel()];
      new org.bytedeco.javacpp.DoublePointer(t.data_ptr_double()).get(out);
      return out;
    }
  }

  /** Closed forms vs PyTorch's recursive ones: relative 1e-12. */
  static void assertClose(double[][] want, LrSchedule s, String what) {
    double worst = 0;
    for (int t = 0; t < want.length; t++) {
      double[] got = s.lrs(BASE, t);
      for (int g = 0; g < 2; g++) {
        double d = Math.abs(got[g] - want[t][g]) / Math.abs(want[t][g]);
        worst = Math.max(worst, d);
        assertTrue(
            d <= 1e-12, what + " at t=" + t + " group " + g + ": " + got[g] + " vs " + want[t][g]);
      }
    }
    System.out.printf(
        "%s: %d steps, max relative difference from PyTorch %.2g%n", what, want.length - 1, worst);
  }

  @Test
  void cosineAnnealingAsCosineAnnealingLR() throws IOException {
    // No warm-up: startFactor 1 and warmup 0; 25 steps run past T_max = 10 (PyTorch cycles).
    assertClose(
        oracle("cosine"),
        new WarmupCosine(Interval.STEP, 0, 1, 10, 1e-4),
        "CosineAnnealingLR(T_max=10, eta_min=1e-4)");
  }

  @Test
  void warmupThenCosineAsLinearAndSequentialLR() throws IOException {
    WarmupCosine s = new WarmupCosine(Interval.STEP, 5, 0.1, 15, 1e-5);
    assertClose(
        oracle("warmup_cosine"), s, "SequentialLR(LinearLR(0.1, 5), CosineAnnealingLR(15))");
    WarmupCosine g = WarmupCosine.gradualWarmup(Interval.EPOCH, 10, 5, 20, 1e-5);
    assertEquals(s.startFactor(), g.startFactor(), 1e-15);
    assertEquals(15, g.length());
    assertEquals(0.01, g.lr(0.1, 0), 1e-15);
    assertEquals(0.1, g.lr(0.1, 5), 1e-15);
    assertEquals(1e-5, g.lr(0.1, 20), 1e-15);
  }

  @Test
  void stepDecayAsStepLR() throws IOException {
    assertClose(oracle("step"), new StepDecay(Interval.EPOCH, 3, 0.5), "StepLR(3, 0.5)");
  }

  static void assertPlateau(String name, Plateau p) throws IOException {
    double[][] want = oracle(name);
    double[] m = metric(name);
    assertArrayEquals(want[0], p.lrs(BASE, 0), 0, name + " before any epoch");
    for (int e = 0; e < m.length; e++) {
      p.observe(m[e]);
      assertArrayEquals(want[e + 1], p.lrs(BASE, e + 1), 0, name + " after epoch " + e);
    }
    System.out.printf("%s: %d epochs bitwise equal to ReduceLROnPlateau%n", name, m.length);
  }

  @Test
  void plateauAsReduceLROnPlateau() throws IOException {
    assertPlateau(
        "plateau_min",
        new Plateau(
            Plateau.Options.of(Mode.MIN, 0.5, 2)
                .withThreshold(0.01, Plateau.Threshold.REL)
                .withCooldown(1)
                .withMinLr(0.004)));
    assertPlateau(
        "plateau_max",
        new Plateau(
            Plateau.Options.of(Mode.MAX, 0.3, 1).withThreshold(0.1, Plateau.Threshold.ABS)));
  }

  @Test
  void plateauStateRoundTrip() throws IOException {
    double[] m = metric("plateau_min");
    Plateau.Options o =
        Plateau.Options.of(Mode.MIN, 0.5, 2)
            .withThreshold(0.01, Plateau.Threshold.REL)
            .withCooldown(1)
            .withMinLr(0.004);
    Plateau a = new Plateau(o);
    a.lrs(BASE, 0);
    for (int e = 0; e < 7; e++) a.observe(m[e]);
    Map<String, String> state = a.state();
    Plateau b = new Plateau(o);
    b.load(state);
    for (int e = 7; e < m.length; e++) {
      a.observe(m[e]);
      b.observe(m[e]);
      assertArrayEquals(a.lrs(BASE, e + 1), b.lrs(BASE, e + 1), 0, "epoch " + e);
    }
    assertEquals(a.state(), b.state());
  }

  @Test
  void badArgumentsNameTheArgument() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> new WarmupCosine(Interval.STEP, 2, 0, 10, 0));
    assertTrue(e.getMessage().startsWith("startFactor:"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> WarmupCosine.gradualWarmup(Interval.EPOCH, 10, 5, 5, 0));
    assertTrue(e.getMessage().startsWith("total:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new StepDecay(Interval.EPOCH, 0, 1));
    assertTrue(e.getMessage().startsWith("stepSize:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Plateau.Options.of(Mode.MIN, 1.0, 1));
    assertTrue(e.getMessage().startsWith("factor:"), e.getMessage());
  }
}
