package org.spinekit.nn;

import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.runtime.ConvGuard;

/**
 * {@code nn.Conv3d} with a cubic kernel, symmetric padding and no groups: keys {@code weight}
 * [out, in, k, k, k] and {@code bias}. PyTorch's default initialisation.
 */
public final class Conv3d extends Net {
  public final long in;
  public final long out;
  public final long kernel;
  public final long stride;
  public final long padding;
  public final Tensor weight;
  public final Tensor bias;
  private final org.bytedeco.pytorch.TensorOptional biasOpt;

  public Conv3d(long in, long out, long kernel, long stride, long padding, boolean bias) {
    if (in < 1 || out < 1 || kernel < 1 || stride < 1 || padding < 0) {
      throw new IllegalArgumentException("Conv3d: expected positive channels, kernel and stride"
          + " and padding >= 0, got in=" + in + " out=" + out + " kernel=" + kernel + " stride="
          + stride + " padding=" + padding);
    }
    this.in = in;
    this.out = out;
    this.kernel = kernel;
    this.stride = stride;
    this.padding = padding;
    weight = param("weight", out, in, kernel, kernel, kernel);
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
    if (x.dim() != 5 || x.size(1) != in) {
      throw new IllegalArgumentException("Conv3d: input must be [N, " + in + ", D, H, W], got "
          + Arrays.toString(x.sizes().vec().get()));
    }
    long[] s = {stride, stride, stride}, p = {padding, padding, padding}, d = {1, 1, 1};
    if (ConvGuard.pads(x, in, out, 1, 3)) {
      ConvGuard.Padded q = ConvGuard.pad(x, weight, bias);
      return q.trim(torch.conv3d(q.x(), q.weight(), q.bias(), s, p, d, 1));
    }
    return torch.conv3d(x, weight, biasOpt, s, p, d, 1);
  }
}
