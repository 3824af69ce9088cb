package org.spinekit.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.LayerNorm} over the last dimension: keys {@code weight}, {@code bias}. */
public final class LayerNorm extends Net {
  public final long channels;
  public final double eps;
  public final Tensor weight;
  public final Tensor bias;
  private final org.bytedeco.pytorch.TensorOptional weightOpt;
  private final org.bytedeco.pytorch.TensorOptional biasOpt;

  public LayerNorm(long channels, double eps) {
    this.channels = channels;
    this.eps = eps;
    weight = param("weight", channels);
    bias = param("bias", channels);
    Init.constant(weight, 1);
    Init.constant(bias, 0);
    weightOpt = Params.held(weight);
    biasOpt = Params.held(this.bias);
  }

  @Override
  public Tensor forward(Tensor x) {
    if (x.dim() < 1 || x.size(-1) != channels) {
      throw new IllegalArgumentException(
          "LayerNorm: last input dim must be "
              + channels
              + ", got "
              + java.util.Arrays.toString(x.sizes().vec().get()));
    }
    return torch.layer_norm(x, new long[] {channels}, weightOpt, biasOpt, eps, true);
  }
}
