package org.spinekit.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.Linear}: keys {@code weight} [out, in] and {@code bias}. */
public final class Linear extends Net {
  public final long in;
  public final long out;
  public final Tensor weight;
  public final Tensor bias;
  private final org.bytedeco.pytorch.TensorOptional biasOpt;

  public Linear(long in, long out) {
    this(in, out, true);
  }

  public Linear(long in, long out, boolean bias) {
    this.in = in;
    this.out = out;
    weight = param("weight", out, in);
    Init.defaultWeight(weight);
    if (bias) {
      this.bias = param("bias", out);
      Init.defaultBias(this.bias, weight);
    } else {
      this.bias = null;
    }
    biasOpt = Params.held(this.bias);
  }

  @Override
  public Tensor forward(Tensor x) {
    if (x.dim() < 1 || x.size(-1) != in) {
      throw new IllegalArgumentException(
          "Linear: last input dim must be "
              + in
              + ", got "
              + java.util.Arrays.toString(x.sizes().vec().get()));
    }
    return torch.linear(x, weight, biasOpt);
  }
}
