package org.spinekit.loss;

/** How an element-wise loss is reduced, as PyTorch's {@code reduction} argument. */
public enum Reduction {
  /** The per-element losses, shaped as the target. */
  NONE,
  /** Their sum. */
  SUM,
  /** Their mean, as each loss documents it (PyTorch's definition where PyTorch has one). */
  MEAN
}
