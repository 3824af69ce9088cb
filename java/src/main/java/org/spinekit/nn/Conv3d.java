package org.spinekit.nn;

import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.runtime.ConvDetour;

/**
 * {@code nn.Conv3d} with a cubic kernel, symmetric padding and no groups: keys {@code weight} [out,
 * in, k, k, k] and {@code bias}. PyTorch's default initialisation. Float32 CPU convolutions go
 * through {@link ConvDetour} where the runtime's convolution guard found libtorch's oneDNN wrong.
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
      throw new IllegalArgumentException(
          "Conv3d: expected positive channels, kernel and stride"
              + " and padding >= 0, got in="
              + in
              + " out="
              + out
              + " kernel="
              + kernel
              + " stride="
              + stride
              + " padding="
              + padding);
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
      throw new IllegalArgumentException(
          "Conv3d: input must be [N, "
              + in
              + ", D, H, W], got "
              + Arrays.toString(x.sizes().vec().get()));
    }
    if (ConvDetour.routed(x, 1, kernel, kernel, kernel)) {
      // See ConvDetour: libtorch's oneDNN gets some of these convolutions wrong.
      return ConvDetour.conv3d(x, weight, bias, stride, padding);
    }
    long[] strides = {stride, stride, stride};
    long[] pads = {padding, padding, padding};
    long[] dilation = {1, 1, 1};
    return torch.conv3d(x, weight, biasOpt, strides, pads, dilation, 1);
  }
}
