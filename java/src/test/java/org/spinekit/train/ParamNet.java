package org.spinekit.train;

import org.bytedeco.pytorch.Tensor;
import org.spinekit.nn.Net;

/** A network that is only parameters "p0", "p1", ... of the given shapes (zeros). */
final class ParamNet extends Net {
  final Tensor[] params;

  ParamNet(long[]... shapes) {
    params = new Tensor[shapes.length];
    for (int i = 0; i < shapes.length; i++) {
      params[i] = param("p" + i, shapes[i]);
      params[i].detach().zero_();
    }
  }

  @Override
  public Tensor forward(Tensor x) {
    throw new UnsupportedOperationException("ParamNet has no forward pass");
  }
}
