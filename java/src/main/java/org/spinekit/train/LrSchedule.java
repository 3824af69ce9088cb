package org.spinekit.train;

import java.util.Map;

/**
 * A learning-rate schedule: the rate of every parameter group as a function of the time, counted in
 * optimiser steps or in epochs ({@link #interval()}), and of the groups' base rates; a schedule
 * driven by a metric ({@link Plateau}) also sees the monitored metric after each epoch. The
 * equivalents in {@code torch.optim.lr_scheduler} are named on each implementation; their values
 * agree with PyTorch's (closed forms, so to float rounding of PyTorch's recursive ones).
 */
public interface LrSchedule {
  /** What the time of a schedule counts. */
  enum Interval {
    /** Optimiser steps (after gradient accumulation). */
    STEP,
    /** Epochs. */
    EPOCH
  }

  Interval interval();

  /**
   * The rate of each group after {@code t} steps or epochs ({@code t = 0} before the first).
   *
   * @param base the groups' base rates
   */
  double[] lrs(double[] base, long t);

  /** The monitored metric at the end of an epoch; most schedules ignore it. */
  default void observe(double metric) {}

  /** The schedule's own state for a checkpoint (empty for the stateless ones). */
  default Map<String, String> state() {
    return Map.of();
  }

  /** Restores {@link #state()}. */
  default void load(Map<String, String> state) {}

  /** The same rate all along. */
  static LrSchedule constant() {
    return new LrSchedule() {
      @Override
      public Interval interval() {
        return Interval.EPOCH;
      }

      @Override
      public double[] lrs(double[] base, long t) {
        return base.clone();
      }

      @Override
      public String toString() {
        return "constant";
      }
    };
  }
}
