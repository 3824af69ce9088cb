package org.spinekit.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Stops training when a monitored metric has not improved by more than {@code minDelta} for {@code
 * patience} evaluations in a row (as Lightning's {@code EarlyStopping}). A value that is not a
 * number never improves.
 */
public final class EarlyStopping {
  private final Mode mode;
  private final int patience;
  private final double minDelta;
  private double best;
  private int bestEpoch = -1;
  private int wait;
  private boolean stopped;

  /**
   * @param patience evaluations without improvement that stop the run (at least 1)
   * @param minDelta the least change that counts as an improvement (>= 0)
   */
  public EarlyStopping(Mode mode, int patience, double minDelta) {
    if (mode == null) throw new IllegalArgumentException("mode: expected MIN or MAX, got null");
    if (patience < 1) {
      throw new IllegalArgumentException("patience: expected >= 1, got " + patience);
    }
    if (!(minDelta >= 0) || Double.isInfinite(minDelta)) {
      throw new IllegalArgumentException("minDelta: expected a finite value >= 0, got " + minDelta);
    }
    this.mode = mode;
    this.patience = patience;
    this.minDelta = minDelta;
    this.best = mode.worst();
  }

  /** Records the metric of {@code epoch}; returns whether to stop. */
  public boolean update(int epoch, double value) {
    if (mode.better(value, best, minDelta)) {
      best = value;
      bestEpoch = epoch;
      wait = 0;
    } else {
      wait++;
      if (wait >= patience) stopped = true;
    }
    return stopped;
  }

  public Mode mode() {
    return mode;
  }

  public int patience() {
    return patience;
  }

  public double minDelta() {
    return minDelta;
  }

  /** The best value so far (the mode's worst before any). */
  public double best() {
    return best;
  }

  /** The epoch of the best value, or -1. */
  public int bestEpoch() {
    return bestEpoch;
  }

  /** Evaluations since the last improvement. */
  public int waited() {
    return wait;
  }

  public boolean stopped() {
    return stopped;
  }

  /** State for a checkpoint. */
  public Map<String, String> state() {
    Map<String, String> s = new LinkedHashMap<>();
    s.put("best", Double.toString(best));
    s.put("best_epoch", Integer.toString(bestEpoch));
    s.put("wait", Integer.toString(wait));
    s.put("stopped", Boolean.toString(stopped));
    return s;
  }

  /** Restores {@link #state()}. */
  public void load(Map<String, String> s) {
    try {
      double b = Double.parseDouble(s.get("best"));
      int be = Integer.parseInt(s.get("best_epoch"));
      int w = Integer.parseInt(s.get("wait"));
      String st = s.get("stopped");
      if (st == null) throw new NumberFormatException("no \"stopped\"");
      best = b;
      bestEpoch = be;
      wait = w;
      stopped = Boolean.parseBoolean(st);
    } catch (NumberFormatException | NullPointerException e) {
      throw new IllegalArgumentException(
          "state: expected best, best_epoch, wait, stopped; got " + s, e);
    }
  }
}
