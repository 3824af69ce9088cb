package org.spinekit.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.runtime.ConvDetour;

/**
 * {@code nn.Conv2d}: keys {@code weight} [out, in/groups, kh, kw] and {@code bias}. Padding is
 * symmetric; TensorFlow-style "same" padding (tf_ models) pads first with {@link #samePadding}.
 * Dense float32 CPU convolutions go through {@link ConvDetour} where the runtime's convolution
 * guard found libtorch's oneDNN wrong.
 */
public final class Conv2d extends Net {
  public final long in;
  public final long out;
  public final long[] kernel;
  public final long[] stride;
  public final long[] padding;
  public final long[] dilation;
  public final long groups;
  public final Tensor weight;
  public final Tensor bias;
  private final boolean tfSame;

  /** Padding fixed at construction (left, right, top, bottom), or null. */
  private final long[] fixedPads;

  private final org.bytedeco.pytorch.TensorOptional biasOpt;

  private Conv2d(
      long in,
      long out,
      long kh,
      long kw,
      long stride,
      long padding,
      long dilation,
      long groups,
      boolean bias,
      boolean tfSame,
      long[] fixedPads) {
    if (in <= 0 || out <= 0 || in % groups != 0 || out % groups != 0) {
      throw new IllegalArgumentException(
          "Conv2d: channels in="
              + in
              + " out="
              + out
              + " must be positive multiples of groups="
              + groups);
    }
    this.in = in;
    this.out = out;
    this.kernel = new long[] {kh, kw};
    this.stride = new long[] {stride, stride};
    this.padding = tfSame || fixedPads != null ? new long[] {0, 0} : new long[] {padding, padding};
    this.dilation = new long[] {dilation, dilation};
    this.groups = groups;
    this.tfSame = tfSame;
    this.fixedPads = fixedPads;
    this.weight = param("weight", out, in / groups, kh, kw);
    Init.defaultWeight(weight);
    if (bias) {
      this.bias = param("bias", out);
      Init.defaultBias(this.bias, weight);
    } else {
      this.bias = null;
    }
    this.biasOpt = Params.held(this.bias);
  }

  /** A k x k convolution with symmetric padding. */
  public static Conv2d of(
      long in, long out, long k, long stride, long padding, long groups, boolean bias) {
    return new Conv2d(in, out, k, k, stride, padding, 1, groups, bias, false, null);
  }

  /** Full form: k x k, dilation. */
  public static Conv2d of(
      long in,
      long out,
      long k,
      long stride,
      long padding,
      long dilation,
      long groups,
      boolean bias) {
    return new Conv2d(in, out, k, k, stride, padding, dilation, groups, bias, false, null);
  }

  /** TensorFlow "SAME" padding computed from the input size (timm's tf_ variants). */
  public static Conv2d samePadding(
      long in, long out, long k, long stride, long groups, boolean bias) {
    return new Conv2d(in, out, k, k, stride, 0, 1, groups, bias, true, null);
  }

  /**
   * TensorFlow "SAME" padding computed once for inputs of {@code imageSize} x {@code imageSize} and
   * then used for every input, as EfficientNet-PyTorch's {@code Conv2dStaticSamePadding}: the same
   * as {@link #samePadding} at that size (and at any size of the same parity for stride 2), a fixed
   * padding at others.
   */
  public static Conv2d staticSamePadding(
      long in, long out, long k, long stride, long groups, boolean bias, long imageSize) {
    if (imageSize < 1) {
      throw new IllegalArgumentException(
          "Conv2d.staticSamePadding: imageSize must be >= 1, got " + imageSize);
    }
    long outSize = (imageSize + stride - 1) / stride;
    long total = Math.max((outSize - 1) * stride + k - imageSize, 0);
    long[] pads = {total / 2, total - total / 2, total / 2, total - total / 2};
    return new Conv2d(in, out, k, k, stride, 0, 1, groups, bias, false, pads);
  }

  @Override
  public Tensor forward(Tensor x) {
    if (x.dim() != 4 || x.size(1) != in) {
      throw new IllegalArgumentException(
          "Conv2d: input must be [N, "
              + in
              + ", H, W], got "
              + java.util.Arrays.toString(x.sizes().vec().get()));
    }
    long[] same = tfSame ? samePads(x) : fixedPads;
    if (ConvDetour.routed(x, groups, kernel)) {
      // See ConvDetour: libtorch's oneDNN gets some of these convolutions wrong.
      return ConvDetour.conv2d(x, weight, bias, stride, padding, dilation, same);
    }
    if (same != null && (same[0] | same[1] | same[2] | same[3]) != 0) {
      x = ConvDetour.pad(x, 0, same);
    }
    return torch.conv2d(x, weight, biasOpt, stride, padding, dilation, groups);
  }

  /** TensorFlow "SAME" padding of {@code x}: left, right, top, bottom (torch's pad order). */
  private long[] samePads(Tensor x) {
    long[] pads = new long[4];
    for (int d = 0; d < 2; d++) {
      long size = x.size(2 + d);
      long outSize = (size + stride[d] - 1) / stride[d];
      long total =
          Math.max((outSize - 1) * stride[d] + (kernel[d] - 1) * dilation[d] + 1 - size, 0);
      // torch pad order: last dim first (left, right, top, bottom).
      pads[(1 - d) * 2] = total / 2;
      pads[(1 - d) * 2 + 1] = total - total / 2;
    }
    return pads;
  }
}
