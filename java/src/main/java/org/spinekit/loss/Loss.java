package org.spinekit.loss;

import org.bytedeco.pytorch.Tensor;

/**
 * A training loss: a differentiable function of a prediction and a target. Every loss of this
 * package builds its value from libtorch ops (or, for {@link FusedHeadLoss}, attaches the fused
 * kernel's gradients), so {@code apply(p, t).backward()} fills the gradients of whatever produced
 * {@code p}.
 *
 * <p>Conventions of the package: the prediction is floating point (float32 or float64, any device,
 * the target on the same device); a bad shape, dtype, device or target value is an {@link
 * IllegalArgumentException} naming the argument, the expected and the actual value. A NaN in a
 * prediction element the loss reads makes the value NaN: it propagates, it is not checked (a check
 * would cost a device synchronisation per call); elements a loss does not read (at {@code
 * ignore_index} for cross entropy and focal loss) leave the value finite. Temporaries live in the
 * call's own scope; the returned tensor belongs to the caller.
 */
@FunctionalInterface
public interface Loss {
  /** The loss of {@code prediction} against {@code target} (a scalar unless documented). */
  Tensor apply(Tensor prediction, Tensor target);
}
