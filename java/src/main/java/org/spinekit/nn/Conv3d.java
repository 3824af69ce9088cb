package org.spinekit.nn;

import java.util.Arrays;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code nn.Conv3d} with a cubic kernel, symmetric padding and no groups: keys {@code weight}
 * [out, in, k, k, k] and {@code bias}. PyTorch's default initialisation. Float32 CPU
 * convolutions run as {@link CpuConv} says (libtorch's oneDNN gets some of them wrong).
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
    long[] strides = {stride, stride, stride};
    long[] pads = {padding, padding, padding};
    long[] dilation = {1, 1, 1};
    if (CpuConv.routed(x, 1, kernel)) {
      // See CpuConv: libtorch's oneDNN gets some of these convolutions wrong.
      long extraIn = CpuConv.extraChannels(in);
      if (x.requires_grad()) {
        // Its input gradient is right at stride 1 once both channel counts are padded
        // (libtorch's slow_conv3d takes its backward from oneDNN too): pad both, run at
        // stride 1, keep the real filters and every stride-th position.
        long extraOut = CpuConv.extraFilters(out);
        Tensor y = torch.conv3d(CpuConv.pad(x, extraIn),
            CpuConv.padWeight(weight, extraOut, extraIn),
            Params.opt(CpuConv.padBias(bias, extraOut)), new long[] {1, 1, 1}, pads, dilation,
            1);
        if (extraOut > 0) y = y.narrow(1, 0, out);
        if (stride > 1) {
          for (int d = 2; d < 5; d++) {
            y = y.slice(d, new LongOptional(0), new LongOptional(y.size(d)), stride);
          }
        }
        return y;
      }
      if (extraIn > 0) {
        return torch.conv3d(CpuConv.pad(x, extraIn), CpuConv.padWeight(weight, 0, extraIn),
            biasOpt, strides, pads, dilation, 1);
      }
    }
    return torch.conv3d(x, weight, biasOpt, strides, pads, dilation, 1);
  }
}
