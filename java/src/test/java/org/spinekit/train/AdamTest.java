package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.tensor.Tensors;

/** Adam and AdamW against torch.optim (PyTorch 1.13) on the same parameters and gradients. */
class AdamTest {
  static final long[][] SHAPES = {{37, 29}, {17}, {6, 3, 5, 5}};
  static final int STEPS = 8;

  @BeforeAll
  static void setUp() {
    torch.set_num_threads(2);
  }

  record Case(Adam.Options options, Adam.Grouping grouping, double clipNorm, double clipValue) {}

  static Map<String, Case> cases() {
    Map<String, Case> c = new LinkedHashMap<>();
    Adam.Grouping single = Adam.Grouping.single();
    c.put("adam", new Case(Adam.Options.adam(1e-2), single, 0, 0));
    c.put(
        "adam_wd_ams",
        new Case(
            Adam.Options.adam(1e-2)
                .withBetas(0.8, 0.99)
                .withEps(1e-6)
                .withWeightDecay(0.1)
                .withAmsgrad(true),
            single,
            0,
            0));
    c.put("adamw", new Case(Adam.Options.adamW(1e-2).withWeightDecay(0.05), single, 0, 0));
    c.put(
        "adamw_ams_max",
        new Case(
            Adam.Options.adamW(3e-3).withWeightDecay(0.02).withAmsgrad(true).withMaximize(true),
            single,
            0,
            0));
    c.put(
        "adamw_groups",
        new Case(
            Adam.Options.adamW(1e-2),
            (params, o) ->
                List.of(
                    new Adam.Group("a", List.of("p0", "p2"), 1e-2, 0.1),
                    new Adam.Group("b", List.of("p1"), 3e-3, 0.0)),
            0,
            0));
    c.put("adam_clip_norm", new Case(Adam.Options.adam(1e-2), single, 0.5, 0));
    c.put("adamw_clip_value", new Case(Adam.Options.adamW(1e-2), single, 0, 0.3));
    return c;
  }

  static void setGrads(ParamNet net, Map<String, Tensor> o, int k) {
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      for (int i = 0; i < SHAPES.length; i++) {
        net.params[i].grad().copy_(o.get("grad." + k + "." + i));
      }
    }
  }

  static ParamNet init(Map<String, Tensor> o) {
    ParamNet net = new ParamNet(SHAPES);
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      for (int i = 0; i < SHAPES.length; i++) net.params[i].copy_(o.get("init." + i));
    }
    return net;
  }

  static void run(Adam adam, ParamNet net, Map<String, Tensor> o, Case c, int from, int to) {
    for (int k = from; k < to; k++) {
      setGrads(net, o, k);
      if (c.clipNorm() > 0) adam.clipGradNorm(c.clipNorm());
      if (c.clipValue() > 0) adam.clipGradValue(c.clipValue());
      adam.step();
    }
  }

  static double maxDiff(Tensor a, Tensor b) {
    try (PointerScope s = new PointerScope()) {
      return a.sub(b).abs().max().item_double();
    }
  }

  static long unequal(Tensor a, Tensor b) {
    try (PointerScope s = new PointerScope()) {
      return a.ne(b).sum().item_long();
    }
  }

  @Test
  void sameParametersAndStateAsPyTorchAfterEightSteps() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> o = TrainOracle.read();
      StringBuilder report = new StringBuilder();
      for (Map.Entry<String, Case> e : cases().entrySet()) {
        String name = e.getKey();
        Case c = e.getValue();
        ParamNet net = init(o);
        try (Adam adam = new Adam(net, c.options(), c.grouping())) {
          run(adam, net, o, c, 0, STEPS);
          Map<String, Tensor> state = adam.state();
          double worst = 0;
          long differing = 0;
          long total = 0;
          for (int i = 0; i < SHAPES.length; i++) {
            Tensor want = o.get(name + ".final." + i);
            double d = maxDiff(net.params[i], want);
            worst = Math.max(worst, d);
            differing += unequal(net.params[i], want);
            total += want.numel();
            assertTrue(d <= 1e-6, name + ": p" + i + " differs from PyTorch's by " + d);
            double ds = maxDiff(state.get("p" + i + ".exp_avg"), o.get(name + ".exp_avg." + i));
            double dq =
                maxDiff(state.get("p" + i + ".exp_avg_sq"), o.get(name + ".exp_avg_sq." + i));
            assertTrue(
                ds <= 1e-6 && dq <= 1e-6,
                name + ": state of p" + i + " differs by " + ds + " / " + dq);
            assertEquals((double) STEPS, state.get("p" + i + ".step").item_double(), "step");
          }
          report.append(
              String.format(
                  "  %-17s max |diff| %.3g, %d of %d values not bitwise" + " equal%n",
                  name, worst, differing, total));
        } finally {
          net.close();
        }
      }
      System.out.print("Adam/AdamW vs torch 1.13 after " + STEPS + " steps:\n" + report);
    }
  }

  @Test
  void stateRoundTripContinuesBitwise() throws IOException {
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> o = TrainOracle.read();
      Case c = cases().get("adam_wd_ams");
      ParamNet straight = init(o);
      ParamNet resumed = init(o);
      try (Adam a = new Adam(straight, c.options())) {
        run(a, straight, o, c, 0, STEPS);
      }
      Map<String, Tensor> saved = new LinkedHashMap<>();
      List<Tensor> weights = new ArrayList<>();
      try (Adam a = new Adam(resumed, c.options())) {
        run(a, resumed, o, c, 0, 3);
        for (Map.Entry<String, Tensor> e : a.state().entrySet()) {
          saved.put(e.getKey(), e.getValue().clone());
        }
        for (Tensor p : resumed.params) weights.add(p.detach().clone());
      }
      ParamNet fresh = init(o);
      try (NoGradGuard g = new NoGradGuard()) {
        for (int i = 0; i < SHAPES.length; i++) fresh.params[i].copy_(weights.get(i));
      }
      try (Adam b = new Adam(fresh, c.options())) {
        b.loadState(saved);
        assertEquals(3, b.steps(0), "steps after loading");
        run(b, fresh, o, c, 3, STEPS);
      }
      for (int i = 0; i < SHAPES.length; i++) {
        assertEquals(
            0, unequal(fresh.params[i], straight.params[i]), "p" + i + " after 3 + 5 steps vs 8");
      }
      straight.close();
      resumed.close();
      fresh.close();
    }
  }

  @Test
  void zeroGradAndDetachedGradients() {
    try (PointerScope scope = new PointerScope()) {
      ParamNet net = new ParamNet(new long[] {3}, new long[] {2, 2});
      try (Adam a = new Adam(net, Adam.Options.adam(0.1))) {
        try (NoGradGuard g = new NoGradGuard()) {
          net.params[0].grad().fill_(new org.bytedeco.pytorch.Scalar(2.0));
        }
        a.zeroGrad();
        assertEquals(
            0.0, net.params[0].grad().abs().sum().item_double(), "gradient after" + " zeroGrad");
        // Gradients accumulate into the optimiser's buffer through autograd.
        Tensor loss = net.params[0].sum().add(net.params[1].mul(net.params[1]).sum());
        loss.backward();
        assertEquals(3.0, Tensors.floats(net.params[0].grad())[0] * 3, 1e-6);
        a.step();
        net.zero_grad(true);
        IllegalStateException e = assertThrows(IllegalStateException.class, a::step);
        assertTrue(e.getMessage().contains("zeroGrad"), e.getMessage());
      }
      net.close();
    }
  }

  @Test
  void badArgumentsNameTheArgument() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Adam.Options.adam(-1));
    assertTrue(e.getMessage().startsWith("lr:"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> Adam.Options.adam(1e-3).withBetas(0.9, 1.0));
    assertTrue(e.getMessage().startsWith("beta2:"), e.getMessage());
    try (PointerScope scope = new PointerScope()) {
      ParamNet net = new ParamNet(new long[] {3}, new long[] {2});
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  new Adam(
                      net,
                      Adam.Options.adam(1e-3),
                      (p, o) -> List.of(new Adam.Group("a", List.of("p0"), 1, 0))));
      assertTrue(e.getMessage().contains("\"p1\" is in no group"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  new Adam(
                      net,
                      Adam.Options.adam(1e-3),
                      (p, o) ->
                          List.of(
                              new Adam.Group("a", List.of("p0", "p1"), 1, 0),
                              new Adam.Group("b", List.of("p1"), 1, 0))));
      assertTrue(e.getMessage().contains("groups a and b"), e.getMessage());
      e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  new Adam(
                      net,
                      Adam.Options.adam(1e-3),
                      (p, o) -> List.of(new Adam.Group("a", List.of("p0", "p1", "nope"), 1, 0))));
      assertTrue(e.getMessage().contains("\"nope\""), e.getMessage());
      try (Adam a = new Adam(net, Adam.Options.adam(1e-3))) {
        e = assertThrows(IllegalArgumentException.class, () -> a.loadState(Map.of()));
        assertTrue(e.getMessage().contains("p0.exp_avg"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> a.clipGradNorm(Double.NaN));
        assertTrue(e.getMessage().startsWith("maxNorm:"), e.getMessage());
      }
      net.close();
    }
  }

  @Test
  void noDecayGroupingSplitsNormsAndBiases() {
    try (PointerScope scope = new PointerScope()) {
      ParamNet net = new ParamNet(new long[] {4, 3}, new long[] {5}, new long[] {2, 3, 2});
      try (Adam a =
          new Adam(
              net,
              Adam.Options.adamW(1e-3).withWeightDecay(0.05),
              Adam.Grouping.noDecayForNormsAndBiases())) {
        assertEquals(2, a.groupCount());
        assertEquals(List.of("p0", "p2"), a.group(0).keys());
        assertEquals(0.05, a.group(0).weightDecay());
        assertEquals(List.of("p1"), a.group(1).keys());
        assertEquals(0.0, a.group(1).weightDecay());
      }
      net.close();
    }
  }
}
