package org.spinekit.nn;

import org.bytedeco.pytorch.Tensor;

/** One step of a forward pass: a module's forward, or a parameter-free function. */
@FunctionalInterface
public interface Layer {
  Tensor forward(Tensor x);
}
