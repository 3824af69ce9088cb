package org.spinekit.ops;

/**
 * What a kernel does when its logits hold NaN or +inf, or a row is -inf everywhere (no softmax
 * exists).
 */
public enum NonFinitePolicy {
  /**
   * Throw {@link NonFiniteInputException} naming the tensor and the first bad index. On CUDA this
   * waits for the kernel (one 8- or 16-byte copy to the host).
   */
  THROW,
  /**
   * Return without checking: the bad rows' outputs are NaN (DSNT) or the whole result is
   * unspecified (head loss). No synchronisation on CUDA.
   */
  PROPAGATE
}
