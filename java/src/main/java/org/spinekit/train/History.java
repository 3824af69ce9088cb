package org.spinekit.train;

import java.util.List;
import java.util.Map;

/**
 * What a {@link Trainer} run did: a row per batch and per epoch (a resumed run with a log directory
 * includes the rows of the run it resumed, read back from its logs), whether early stopping ended
 * it, and the best monitored value and its epoch.
 */
public record History(
    List<StepRow> steps,
    List<EpochRow> epochs,
    boolean stoppedEarly,
    String monitor,
    int bestEpoch,
    double best) {
  public History {
    steps = List.copyOf(steps);
    epochs = List.copyOf(epochs);
  }

  /**
   * One batch.
   *
   * @param step optimiser steps done after this batch
   * @param lr the learning rate of the first parameter group for this batch
   * @param gradNorm the gradient norm before clipping (NaN unless clipping by norm and this batch
   *     ended an accumulation)
   */
  public record StepRow(
      int epoch,
      int batch,
      long step,
      double loss,
      double lr,
      double gradNorm,
      Map<String, Double> metrics) {
    public StepRow {
      metrics = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metrics));
    }
  }

  /**
   * One epoch: {@code train_loss}, {@code train_<metric>} (means over its batches) and {@code
   * valid_<metric>} values in {@code metrics}.
   *
   * @param lr the learning rate of the first group during the epoch's last batch
   */
  public record EpochRow(
      int epoch, long step, double lr, double seconds, Map<String, Double> metrics) {
    public EpochRow {
      metrics = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(metrics));
    }
  }

  /** The loss of every batch, in order. */
  public double[] losses() {
    return steps.stream().mapToDouble(StepRow::loss).toArray();
  }
}
