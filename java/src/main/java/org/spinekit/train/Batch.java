package org.spinekit.train;

import org.bytedeco.pytorch.Tensor;

/**
 * One batch of a {@link DataLoader} epoch: the inputs stacked into one contiguous float32 tensor
 * {@code [B, ...]} (in pinned memory when the loader was asked for a CUDA device and one is
 * available), the targets {@code [B, T]} float32, and the data set index of every row.
 *
 * <p>The batch owns its two tensors (they are in no {@link org.bytedeco.javacpp.PointerScope});
 * {@link #close()} frees them. Copies or views made from them in a scope belong to that scope.
 */
public final class Batch implements AutoCloseable {
  private final int epoch;
  private final int number;
  private final int[] indices;
  private Tensor inputs;
  private Tensor targets;

  Batch(int epoch, int number, int[] indices, Tensor inputs, Tensor targets) {
    this.epoch = epoch;
    this.number = number;
    this.indices = indices;
    this.inputs = inputs;
    this.targets = targets;
  }

  public int epoch() {
    return epoch;
  }

  /** Position of the batch in its epoch, from 0. */
  public int number() {
    return number;
  }

  /** Rows in the batch. */
  public int size() {
    return indices.length;
  }

  /** Data set index of every row. */
  public int[] indices() {
    return indices.clone();
  }

  /** {@code [B, ...]} float32, contiguous. */
  public Tensor inputs() {
    check();
    return inputs;
  }

  /** {@code [B, T]} float32, contiguous. */
  public Tensor targets() {
    check();
    return targets;
  }

  private void check() {
    if (inputs == null) throw new IllegalStateException("batch " + number + " is closed");
  }

  /** Frees the tensors; idempotent. */
  @Override
  public synchronized void close() {
    if (inputs == null) return;
    inputs.releaseReference();
    targets.releaseReference();
    inputs = null;
    targets = null;
  }
}
