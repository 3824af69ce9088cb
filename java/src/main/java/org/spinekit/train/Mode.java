package org.spinekit.train;

/** Whether a monitored metric improves by going down ({@link #MIN}, a loss) or up. */
public enum Mode {
  MIN,
  MAX;

  /** Whether {@code value} beats {@code best} by more than {@code delta} (>= 0). */
  public boolean better(double value, double best, double delta) {
    return this == MIN ? value < best - delta : value > best + delta;
  }

  /** The worst value: the starting best. */
  public double worst() {
    return this == MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
  }
}
