package org.spinekit.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.nn.Net;
import org.spinekit.tensor.Outputs;

/**
 * An exponential moving average of a network's whole state dict (parameters and buffers, as timm's
 * {@code ModelEmaV2}/{@code V3}), updated after each optimiser step: {@code ema = ema + (1 - d) *
 * (model - ema)} ({@code lerp_}) for floating-point entries, a copy for integer ones (batch
 * counters).
 *
 * <p>Decay: {@code d = decay}, or with warm-up (timm V3's formula) for the n-th update (n = 1, 2,
 * ...): {@code d = 0} for n = 1 (the average starts as the weights), else {@code d = clamp(1 - (1 +
 * (n - 1) / gamma)^-power, minDecay, decay)}.
 *
 * <p>The parameters are averaged group by group on the optimiser's flat buffers (one call per
 * group), the buffers one by one. {@link #swap()} exchanges the model's values with the averages,
 * e.g. around a validation; the trainer saves {@link #state()} in checkpoints.
 */
public final class Ema implements AutoCloseable {
  /**
   * @param decay the decay (in [0, 1))
   * @param warmup use the warm-up formula
   * @param gamma warm-up gamma (> 0; timm 1)
   * @param power warm-up power (> 0; timm 2/3 for long runs, 3/4 for shorter ones)
   * @param minDecay the least decay during warm-up
   */
  public record Options(double decay, boolean warmup, double gamma, double power, double minDecay) {
    public Options {
      if (!(decay >= 0 && decay < 1)) {
        throw new IllegalArgumentException("decay: expected 0 <= decay < 1, got " + decay);
      }
      if (!(gamma > 0) || Double.isInfinite(gamma)) {
        throw new IllegalArgumentException("gamma: expected a finite value > 0, got " + gamma);
      }
      if (!(power > 0) || Double.isInfinite(power)) {
        throw new IllegalArgumentException("power: expected a finite value > 0, got " + power);
      }
      if (!(minDecay >= 0 && minDecay <= decay)) {
        throw new IllegalArgumentException(
            "minDecay: expected 0 <= minDecay <= decay (" + decay + "), got " + minDecay);
      }
    }

    /** A fixed decay. */
    public static Options of(double decay) {
      return new Options(decay, false, 1, 0.75, 0);
    }

    /** With warm-up, gamma 1, power 3/4, no least decay. */
    public static Options warmup(double decay) {
      return new Options(decay, true, 1, 0.75, 0);
    }
  }

  private final Options options;
  private final List<Tensor> flatEma = new ArrayList<>();
  private final List<Tensor> flatModel = new ArrayList<>();
  private final Map<String, Tensor> entries = new LinkedHashMap<>();
  private final List<Tensor> otherModel = new ArrayList<>();
  private final List<Tensor> otherEma = new ArrayList<>();
  private final List<Boolean> otherFloat = new ArrayList<>();
  private final List<Tensor> owned = new ArrayList<>();
  private long updates;
  private boolean closed;

  /**
   * Averages of {@code model}'s state dict, starting as a copy of it; {@code optimizer} must be the
   * one training {@code model} (its flat buffers hold the parameters).
   */
  public Ema(Net model, Adam optimizer, Options options) {
    if (model == null) throw new IllegalArgumentException("model: expected a network, got null");
    if (optimizer == null) {
      throw new IllegalArgumentException("optimizer: expected the model's optimiser, got null");
    }
    if (options == null) throw new IllegalArgumentException("options: expected EMA options");
    this.options = options;
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Map<String, Tensor> byKey = new LinkedHashMap<>();
      for (Adam.Flat f : optimizer.flats()) {
        Tensor e = keep(f.values.clone());
        flatEma.add(e);
        flatModel.add(keep(f.values));
        for (int i = 0; i < f.keys.length; i++) byKey.put(f.keys[i], keep(f.view(e, i)));
      }
      for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
        Tensor own = byKey.get(e.getKey());
        if (own == null) {
          Tensor m = e.getValue();
          own = keep(m.clone());
          otherModel.add(keep(m));
          otherEma.add(own);
          otherFloat.add(m.is_floating_point());
        }
        entries.put(e.getKey(), own);
      }
      if (entries.size() != model.stateDict().size()
          || !entries.keySet().containsAll(byKey.keySet())) {
        throw new IllegalArgumentException(
            "optimizer: its parameters are not all in the" + " model's state dict");
      }
    }
  }

  private Tensor keep(Tensor t) {
    t.retainReference();
    owned.add(t);
    return t;
  }

  public Options options() {
    return options;
  }

  /** Updates so far. */
  public long updates() {
    return updates;
  }

  /** The decay of the n-th update (n >= 1). */
  public double decay(long n) {
    if (n < 1) throw new IllegalArgumentException("n: expected >= 1, got " + n);
    if (!options.warmup()) return options.decay();
    long k = n - 1;
    if (k == 0) return 0;
    double d = 1 - Math.pow(1 + k / options.gamma(), -options.power());
    return Math.max(Math.min(d, options.decay()), options.minDecay());
  }

  /** Folds the model's current values into the averages. */
  public void update() {
    checkOpen();
    updates++;
    double d = decay(updates);
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      Scalar w = new Scalar(1 - d);
      for (int i = 0; i < flatEma.size(); i++) flatEma.get(i).lerp_(flatModel.get(i), w);
      for (int i = 0; i < otherEma.size(); i++) {
        if (otherFloat.get(i)) {
          otherEma.get(i).lerp_(otherModel.get(i), w);
        } else {
          otherEma.get(i).copy_(otherModel.get(i));
        }
      }
    }
  }

  /** Exchanges the model's values with the averages (call again to exchange them back). */
  public void swap() {
    checkOpen();
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      for (int i = 0; i < flatEma.size(); i++) swap(flatEma.get(i), flatModel.get(i));
      for (int i = 0; i < otherEma.size(); i++) swap(otherEma.get(i), otherModel.get(i));
    }
  }

  private static void swap(Tensor a, Tensor b) {
    Tensor t = a.clone();
    a.copy_(b);
    b.copy_(t);
  }

  /** The averages by state-dict key: views of the EMA's buffers, in the caller's scope. */
  public Map<String, Tensor> state() {
    checkOpen();
    Map<String, Tensor> out = new LinkedHashMap<>();
    try (PointerScope scope = new PointerScope()) {
      for (Map.Entry<String, Tensor> e : entries.entrySet()) {
        out.put(e.getKey(), Outputs.handOut(scope, new Tensor(e.getValue())));
      }
    }
    return out;
  }

  /** Restores the averages and the update count (every key with its shape, else nothing). */
  public void loadState(Map<String, Tensor> state, long updates) {
    checkOpen();
    if (state == null) throw new IllegalArgumentException("state: expected a map, got null");
    if (updates < 0) throw new IllegalArgumentException("updates: expected >= 0, got " + updates);
    try (PointerScope scope = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> e : entries.entrySet()) {
        Tensor src = state.get(e.getKey());
        if (src == null) {
          throw new IllegalArgumentException("state: expected \"" + e.getKey() + "\", missing");
        }
        long[] want = e.getValue().sizes().vec().get();
        long[] got = src.sizes().vec().get();
        if (!java.util.Arrays.equals(want, got)) {
          throw new IllegalArgumentException(
              "state: \""
                  + e.getKey()
                  + "\" has shape "
                  + java.util.Arrays.toString(got)
                  + ", expected "
                  + java.util.Arrays.toString(want));
        }
      }
      for (Map.Entry<String, Tensor> e : entries.entrySet()) {
        e.getValue().copy_(state.get(e.getKey()));
      }
    }
    this.updates = updates;
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("the EMA is closed");
  }

  /** Frees the averages; idempotent. */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    for (Tensor t : owned) t.releaseReference();
    owned.clear();
  }
}
