package org.spinekit.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;

/** Helpers shared by the layer classes. */
final class Params {
  private Params() {}

  /** An optional holding {@code t}, or an empty one for null (no bias). */
  static TensorOptional opt(Tensor t) {
    return t == null ? new TensorOptional() : new TensorOptional(t);
  }
}
