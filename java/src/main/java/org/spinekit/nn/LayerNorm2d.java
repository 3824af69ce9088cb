package org.spinekit.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * LayerNorm over the channels of an NCHW tensor (torchvision's and timm's {@code LayerNorm2d}):
 * permuted to NHWC, normalised over C, permuted back. Keys {@code weight}, {@code bias}.
 */
public final class LayerNorm2d extends Net {
  public final long channels;
  public final double eps;
  public final Tensor weight;
  public final Tensor bias;
  private final org.bytedeco.pytorch.TensorOptional weightOpt;
  private final org.bytedeco.pytorch.TensorOptional biasOpt;

  /** Weight 1 and bias 0 over {@code channels}, with the given epsilon. */
  public LayerNorm2d(long channels, double eps) {
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
    if (x.dim() != 4 || x.size(1) != channels) {
      throw new IllegalArgumentException(
          "LayerNorm2d: input must be [N, "
              + channels
              + ", H, W], got "
              + java.util.Arrays.toString(x.sizes().vec().get()));
    }
    Tensor y =
        torch.layer_norm(
            x.permute(0, 2, 3, 1), new long[] {channels}, weightOpt, biasOpt, eps, true);
    return y.permute(0, 3, 1, 2);
  }
}
