package org.spinekit.train;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.nn.Linear;
import org.spinekit.nn.Net;

/** A linear model of the flattened input (no batch statistics, no randomness). */
final class LinearNet extends Net {
  final Linear fc;

  LinearNet(int in, int out) {
    fc = add("fc", new Linear(in, out));
  }

  @Override
  public Tensor forward(Tensor x) {
    return fc.forward(torch.flatten(x, 1, -1));
  }
}
