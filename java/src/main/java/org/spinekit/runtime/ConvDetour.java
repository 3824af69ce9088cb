package org.spinekit.runtime;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Dense float32 CPU convolutions computed around the oneDNN paths that {@link ConvGuard} found
 * wrong. What was measured on an AMD EPYC with AVX-512 (libtorch 2.10, oneDNN 3.7.1; PyTorch 1.13's
 * oneDNN 2.6 computes the same convolutions right there):
 *
 * <ul>
 *   <li>the forward of a dense convolution (one group) with a kernel larger than 1 whose input
 *       channels exceed oneDNN's channel block (16 lanes with AVX-512, 8 with AVX2) without being a
 *       multiple of it, e.g. 24 or 40 input channels, was wrong (16, 32, 48 right);
 *   <li>its input gradient at stride 1 when the output channels are not a multiple of 16 (8, 12,
 *       24, 40), and at stride 2 when the input channels are 16 times an odd number from 3 up (48,
 *       80, 112; 40 and 72 as well, which oneDNN pads to those), whatever the outputs.
 * </ul>
 *
 * 1x1, depthwise and grouped convolutions, weight gradients and float64 (which oneDNN does not run)
 * were right. So a routed convolution runs on oneDNN with zero input channels appended to input and
 * weight up to a multiple of 16 where the forward needs it, and, when its input needs a gradient,
 * zero filters appended to weight and bias (their outputs dropped). Zeros leave value and gradients
 * unchanged; the cost is a copy of the input and, in training, the dropped outputs. When its input
 * needs a gradient and it has a stride or dilation above 1, a 2D convolution runs on libtorch's
 * native im2col convolution instead ({@code thnn_conv2d}, {@code slow_conv_dilated2d}), which does
 * not touch oneDNN; a 3D one runs at stride 1 and keeps every stride-th output ({@code slow_conv3d}
 * takes its gradient from oneDNN).
 */
public final class ConvDetour {
  private ConvDetour() {}

  /** Channels are padded up to a multiple of this (AVX-512's block; a multiple of AVX2's 8). */
  public static final long BLOCK = 16;

  private static final Scalar ZERO = zero();

  private static Scalar zero() {
    try (PointerScope s = new PointerScope()) {
      Scalar z = new Scalar(0.0);
      z.retainReference();
      return z;
    }
  }

  /**
   * Whether a convolution with {@code groups} groups and these kernel sizes on {@code x} takes the
   * detour: the guard active for its dimensionality, dense, a kernel larger than 1, a CPU float32
   * input.
   */
  public static boolean routed(Tensor x, long groups, long... kernel) {
    return ConvGuard.active(kernel.length) && routable(x, groups, kernel);
  }

  /** {@link #routed} without the guard's state: the convolutions the detour is for. */
  static boolean routable(Tensor x, long groups, long... kernel) {
    if (groups != 1) return false;
    boolean spatial = false;
    for (long k : kernel) spatial |= k > 1;
    // The preset's scalar_type() gives a ScalarType instance of its own: compare the values.
    return spatial && x.is_cpu() && x.scalar_type().value == torch.ScalarType.Float.value;
  }

  /** Zero channels to append to {@code channels} input channels for oneDNN's forward. */
  public static long extraChannels(long channels) {
    if (channels <= 8 || channels % BLOCK == 0) return 0;
    return (channels + BLOCK - 1) / BLOCK * BLOCK - channels;
  }

  /** Zero filters to append to {@code filters} output channels for oneDNN's input gradient. */
  public static long extraFilters(long filters) {
    return (BLOCK - filters % BLOCK) % BLOCK;
  }

  /**
   * A dense 2D convolution, detoured. {@code spatialPads} (left, right, top, bottom, or null) is a
   * zero padding applied first, in the same copy as the channel padding (TF "SAME").
   */
  public static Tensor conv2d(
      Tensor x,
      Tensor weight,
      Tensor bias,
      long[] stride,
      long[] padding,
      long[] dilation,
      long[] spatialPads) {
    long in = weight.size(1), out = weight.size(0);
    long[] kernel = {weight.size(2), weight.size(3)};
    boolean padded =
        spatialPads != null
            && (spatialPads[0] | spatialPads[1] | spatialPads[2] | spatialPads[3]) != 0;
    boolean grad = x.requires_grad();
    if (grad && (stride[0] > 1 || stride[1] > 1 || dilation[0] > 1 || dilation[1] > 1)) {
      // The native convolution wants a contiguous input (its weight gradient is allocated in
      // the input's memory format, and it refuses a channels-last one).
      Tensor xc = (padded ? pad(x, 0, spatialPads) : x).contiguous();
      TensorOptional b = optional(bias);
      return dilation[0] == 1 && dilation[1] == 1
          ? torch.thnn_conv2d(xc, weight, kernel, b, stride, padding)
          : torch.slow_conv_dilated2d(xc, weight, kernel, b, stride, padding, dilation);
    }
    long extraIn = extraChannels(in);
    long extraOut = grad ? extraFilters(out) : 0;
    Tensor xp = extraIn > 0 || padded ? pad(x, extraIn, padded ? spatialPads : new long[4]) : x;
    Tensor y =
        torch.conv2d(
            xp,
            padWeight(weight, extraOut, extraIn),
            optional(padBias(bias, extraOut)),
            stride,
            padding,
            dilation,
            1);
    return extraOut > 0 ? y.narrow(1, 0, out).contiguous() : y;
  }

  /** A dense 3D convolution with a cubic stride and padding, detoured. */
  public static Tensor conv3d(Tensor x, Tensor weight, Tensor bias, long stride, long padding) {
    long in = weight.size(1), out = weight.size(0);
    long[] pads = {padding, padding, padding};
    long[] one = {1, 1, 1};
    long extraIn = extraChannels(in);
    if (x.requires_grad()) {
      // Its input gradient is right at stride 1 once both channel counts are padded
      // (libtorch's slow_conv3d takes its backward from oneDNN too): pad both, run at stride
      // 1, keep the real filters and every stride-th position.
      long extraOut = extraFilters(out);
      Tensor y =
          torch.conv3d(
              extraIn > 0 ? pad(x, extraIn) : x,
              padWeight(weight, extraOut, extraIn),
              optional(padBias(bias, extraOut)),
              one,
              pads,
              one,
              1);
      if (extraOut > 0) y = y.narrow(1, 0, out);
      if (stride > 1) {
        for (int d = 2; d < 5; d++) {
          y = y.slice(d, new LongOptional(0), new LongOptional(y.size(d)), stride);
        }
      }
      return extraOut > 0 || stride > 1 ? y.contiguous() : y;
    }
    return torch.conv3d(
        extraIn > 0 ? pad(x, extraIn) : x,
        padWeight(weight, 0, extraIn),
        optional(bias),
        new long[] {stride, stride, stride},
        pads,
        one,
        1);
  }

  /**
   * {@code t} zero-padded in one copy: {@code channels} entries at the end of dim 1, and {@code
   * spatial} on the dimensions after it (torch's order: last dimension first, low side then high
   * side).
   */
  public static Tensor pad(Tensor t, long channels, long... spatial) {
    int dims = (int) t.dim();
    long[] pads = new long[2 * (dims - 1)];
    System.arraycopy(spatial, 0, pads, 0, spatial.length);
    pads[pads.length - 1] = channels;
    return torch.constant_pad_nd(t, pads, ZERO);
  }

  /**
   * A weight [out, in, k...] with {@code filters} zero filters and {@code channels} zero input
   * channels appended, in one copy (the weight itself when both are 0).
   */
  public static Tensor padWeight(Tensor w, long filters, long channels) {
    if (filters == 0 && channels == 0) return w;
    long[] pads = new long[2 * (int) w.dim()];
    pads[pads.length - 3] = channels;
    pads[pads.length - 1] = filters;
    return torch.constant_pad_nd(w, pads, ZERO);
  }

  /** {@code bias} with {@code extra} zeros appended, or null for null. */
  public static Tensor padBias(Tensor bias, long extra) {
    return bias == null || extra == 0
        ? bias
        : torch.constant_pad_nd(bias, new long[] {0, extra}, ZERO);
  }

  private static TensorOptional optional(Tensor t) {
    return t == null ? new TensorOptional() : new TensorOptional(t);
  }
}
