package org.spinekit.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;

/** Helpers shared by the layer classes. */
final class Params {
  private Params() {}

  /**
   * An optional holding {@code t} (or empty for null) that lives as long as the module that keeps
   * it: made once, not per forward call. It shares {@code t}'s storage, so loads and dtype changes
   * of the module's tensors show through.
   */
  static TensorOptional held(Tensor t) {
    try (org.bytedeco.javacpp.PointerScope s = new org.bytedeco.javacpp.PointerScope()) {
      TensorOptional o = opt(t);
      o.retainReference();
      return o;
    }
  }

  /** An optional holding {@code t}, or an empty one for null (no bias). */
  static TensorOptional opt(Tensor t) {
    return t == null ? new TensorOptional() : new TensorOptional(t);
  }
}
