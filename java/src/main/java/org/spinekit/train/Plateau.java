package org.spinekit.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PyTorch's {@code ReduceLROnPlateau}, observed once per epoch with the monitored metric: when the
 * metric has not improved for more than {@code patience} epochs, every group's rate becomes {@code
 * max(lr * factor, minLr)} (unless that changes it by eps or less), then {@code cooldown} epochs
 * pass before bad epochs count again. Improvement with threshold mode REL: {@code a < best * (1 -
 * threshold)} (MIN) or {@code a > best * (1 + threshold)} (MAX); ABS: {@code a < best - threshold}
 * or {@code a > best + threshold}.
 */
public final class Plateau implements LrSchedule {
  /** How {@link Options#threshold()} is applied. */
  public enum Threshold {
    REL,
    ABS
  }

  /** PyTorch's arguments (defaults: min, 0.1, 10, 1e-4 rel, 0, 0, 1e-8). */
  public record Options(
      Mode mode,
      double factor,
      int patience,
      double threshold,
      Threshold thresholdMode,
      int cooldown,
      double minLr,
      double eps) {
    public Options {
      if (mode == null) throw new IllegalArgumentException("mode: expected MIN or MAX, got null");
      if (!(factor >= 0 && factor < 1)) {
        throw new IllegalArgumentException("factor: expected 0 <= factor < 1, got " + factor);
      }
      if (patience < 0) {
        throw new IllegalArgumentException("patience: expected >= 0, got " + patience);
      }
      if (!(threshold >= 0) || Double.isInfinite(threshold)) {
        throw new IllegalArgumentException(
            "threshold: expected a finite value >= 0, got " + threshold);
      }
      if (thresholdMode == null) {
        throw new IllegalArgumentException("thresholdMode: expected REL or ABS, got null");
      }
      if (cooldown < 0) {
        throw new IllegalArgumentException("cooldown: expected >= 0, got " + cooldown);
      }
      if (!(minLr >= 0) || Double.isInfinite(minLr)) {
        throw new IllegalArgumentException("minLr: expected a finite rate >= 0, got " + minLr);
      }
      if (!(eps >= 0) || Double.isInfinite(eps)) {
        throw new IllegalArgumentException("eps: expected a finite value >= 0, got " + eps);
      }
    }

    /** PyTorch's defaults with the given mode, factor and patience. */
    public static Options of(Mode mode, double factor, int patience) {
      return new Options(mode, factor, patience, 1e-4, Threshold.REL, 0, 0, 1e-8);
    }

    public Options withThreshold(double v, Threshold m) {
      return new Options(mode, factor, patience, v, m, cooldown, minLr, eps);
    }

    public Options withCooldown(int v) {
      return new Options(mode, factor, patience, threshold, thresholdMode, v, minLr, eps);
    }

    public Options withMinLr(double v) {
      return new Options(mode, factor, patience, threshold, thresholdMode, cooldown, v, eps);
    }
  }

  private final Options options;
  private double[] current;
  private double best;
  private int badEpochs;
  private int cooldownCounter;
  private long lastEpoch;

  public Plateau(Options options) {
    if (options == null) {
      throw new IllegalArgumentException("options: expected plateau options, got null");
    }
    this.options = options;
    this.best = options.mode().worst();
  }

  public Options options() {
    return options;
  }

  @Override
  public Interval interval() {
    return Interval.EPOCH;
  }

  @Override
  public synchronized double[] lrs(double[] base, long t) {
    if (current == null || current.length != base.length) current = base.clone();
    return current.clone();
  }

  /** The best metric seen. */
  public synchronized double best() {
    return best;
  }

  @Override
  public synchronized void observe(double metric) {
    lastEpoch++;
    if (better(metric)) {
      best = metric;
      badEpochs = 0;
    } else {
      badEpochs++;
    }
    if (cooldownCounter > 0) {
      cooldownCounter--;
      badEpochs = 0;
    }
    if (badEpochs > options.patience()) {
      if (current != null) {
        for (int i = 0; i < current.length; i++) {
          double next = Math.max(current[i] * options.factor(), options.minLr());
          if (current[i] - next > options.eps()) current[i] = next;
        }
      }
      cooldownCounter = options.cooldown();
      badEpochs = 0;
    }
  }

  private boolean better(double a) {
    double th = options.threshold();
    boolean rel = options.thresholdMode() == Threshold.REL;
    if (options.mode() == Mode.MIN) return rel ? a < best * (1 - th) : a < best - th;
    return rel ? a > best * (th + 1) : a > best + th;
  }

  @Override
  public synchronized Map<String, String> state() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("best", Double.toString(best));
    s.put("bad_epochs", Integer.toString(badEpochs));
    s.put("cooldown_counter", Integer.toString(cooldownCounter));
    s.put("last_epoch", Long.toString(lastEpoch));
    if (current != null) {
      for (int i = 0; i < current.length; i++) s.put("lr." + i, Double.toString(current[i]));
    }
    return s;
  }

  @Override
  public synchronized void load(Map<String, String> s) {
    try {
      double b = Double.parseDouble(req(s, "best"));
      int bad = Integer.parseInt(req(s, "bad_epochs"));
      int cd = Integer.parseInt(req(s, "cooldown_counter"));
      long last = Long.parseLong(req(s, "last_epoch"));
      int n = 0;
      while (s.containsKey("lr." + n)) n++;
      double[] lrs = n == 0 ? null : new double[n];
      for (int i = 0; i < n; i++) lrs[i] = Double.parseDouble(s.get("lr." + i));
      best = b;
      badEpochs = bad;
      cooldownCounter = cd;
      lastEpoch = last;
      current = lrs;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("state: a plateau value is not a number: " + s, e);
    }
  }

  private static String req(Map<String, String> s, String k) {
    String v = s.get(k);
    if (v == null) {
      throw new IllegalArgumentException("state: expected \"" + k + "\", got " + s.keySet());
    }
    return v;
  }

  @Override
  public String toString() {
    return "Plateau" + options;
  }
}
