package org.spinekit.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Keeps dense float32 CPU convolutions right on the libtorch this project runs on (2.10, with
 * oneDNN 3.7.1), whose oneDNN convolutions give wrong values, at times NaN, on an AMD EPYC
 * with AVX-512 (PyTorch 1.13's oneDNN 2.6 computes the same convolutions right there):
 * <ul>
 * <li>the forward of a dense convolution (one group) with a kernel larger than 1 whose input
 *     channels exceed oneDNN's channel block (16 lanes with AVX-512, 8 with AVX2) without
 *     being a multiple of it, e.g. 24 or 40 input channels (16, 32, 48 are right);
 * <li>its input gradient at stride 1 when the output channels are not a multiple of 16 (e.g.
 *     8, 12, 24, 40), and at stride 2 when the input channels are 16 times an odd number from
 *     3 up (48, 80, 112; 40 and 72 as well, which oneDNN pads to those), whatever the output
 *     channels.
 * </ul>
 * 1x1, depthwise and grouped convolutions, weight gradients and float64 (which oneDNN does
 * not run) are right. This made timm's tf_efficientnetv2_s (24-channel 3x3 convolutions in
 * its first two stages) and a UNet decoder on EfficientNet-B0 (296 and 152 input channels)
 * differ from PyTorch by the order of their outputs.
 *
 * <p>So a dense float32 CPU convolution with a kernel larger than 1 runs on oneDNN with zero
 * input channels appended to input and weight up to a multiple of 16 where the forward needs
 * it ({@link #extraChannels}), and, when its input needs a gradient, zero filters appended to
 * weight and bias up to a multiple of 16 ({@link #extraFilters}; their outputs are dropped).
 * Zeros leave the value and the gradients unchanged; the cost is a copy of the input and, in
 * training, the dropped outputs. When its input needs a gradient and it has a stride or
 * dilation above 1, a 2D convolution runs on libtorch's native im2col and BLAS convolution
 * instead ({@code thnn_conv2d}, {@code slow_conv_dilated2d}), whose forward and backward do not
 * touch oneDNN; {@link Conv3d} runs such a convolution at stride 1 and keeps every
 * stride-th output (libtorch's {@code slow_conv3d} takes its gradient from oneDNN).
 */
final class CpuConv {
  private CpuConv() {}

  /** Channels are padded up to a multiple of this (AVX-512's block; a multiple of AVX2's 8). */
  static final long BLOCK = 16;

  private static final Scalar ZERO = zero();

  private static Scalar zero() {
    try (PointerScope s = new PointerScope()) {
      Scalar z = new Scalar(0.0);
      z.retainReference();
      return z;
    }
  }

  /**
   * Whether a convolution with {@code groups} groups and these kernel sizes on {@code x} is
   * one this class routes: dense, a kernel larger than 1, a CPU float32 input.
   */
  static boolean routed(Tensor x, long groups, long... kernel) {
    if (groups != 1) return false;
    boolean spatial = false;
    for (long k : kernel) spatial |= k > 1;
    // The preset's scalar_type() gives a ScalarType instance of its own: compare the values.
    return spatial && x.is_cpu() && x.scalar_type().value == torch.ScalarType.Float.value;
  }

  /** Zero channels to append to {@code channels} input channels for oneDNN's forward. */
  static long extraChannels(long channels) {
    if (channels <= 8 || channels % BLOCK == 0) return 0;
    return (channels + BLOCK - 1) / BLOCK * BLOCK - channels;
  }

  /** Zero filters to append to {@code filters} output channels for oneDNN's input gradient. */
  static long extraFilters(long filters) {
    return (BLOCK - filters % BLOCK) % BLOCK;
  }

  /**
   * {@code t} zero-padded in one copy: {@code channels} entries at the end of dim 1, and
   * {@code spatial} on the dimensions after it (torch's order: last dimension first, low side
   * then high side).
   */
  static Tensor pad(Tensor t, long channels, long... spatial) {
    int dims = (int) t.dim();
    long[] pads = new long[2 * (dims - 1)];
    System.arraycopy(spatial, 0, pads, 0, spatial.length);
    pads[pads.length - 1] = channels;
    return torch.constant_pad_nd(t, pads, ZERO);
  }

  /**
   * A weight [out, in, k...] with {@code filters} zero filters and {@code channels} zero input
   * channels appended, in one copy.
   */
  static Tensor padWeight(Tensor w, long filters, long channels) {
    long[] pads = new long[2 * (int) w.dim()];
    pads[pads.length - 3] = channels;
    pads[pads.length - 1] = filters;
    return torch.constant_pad_nd(w, pads, ZERO);
  }

  /** {@code bias} with {@code extra} zeros appended, or null for null. */
  static Tensor padBias(Tensor bias, long extra) {
    return bias == null || extra == 0 ? bias
        : torch.constant_pad_nd(bias, new long[] {0, extra}, ZERO);
  }
}
