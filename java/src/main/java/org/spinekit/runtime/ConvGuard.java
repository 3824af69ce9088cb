package org.spinekit.runtime;

import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AutoGradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A self-check of libtorch's float32 CPU convolutions, and the detour around them where they
 * are wrong.
 *
 * <p>The oneDNN (v3.7.1) inside the libtorch of the PyTorch preset computes some dense
 * (ungrouped) float32 convolutions wrongly when a channel count is not a multiple of its SIMD
 * block: on an AVX-512 machine (block 16) the forward pass of a 3x3 convolution of 24 input
 * channels was off by 20-40 % of the output's scale, and so was the input gradient of
 * convolutions with 8 or 24 output channels; on AVX2 (block 8) a 3x3 convolution of 12 input
 * channels was wrong. Grouped convolutions were right. EfficientNetV2's fused blocks (24 and 48
 * channels), the UNet decoder and the lumbar heads all have such convolutions.
 *
 * <p>The check runs small convolutions once per process (forward and both gradients, 2D and 3D)
 * in float32 and on the same values in float64, which libtorch computes
 * without oneDNN. Where float32 is wrong, SpineKit's convolution layers pad input and output
 * channels with zeros to multiples of {@link #BLOCK} and cut the output back: the same
 * convolution, at the cost of the padded channels' work. If that is still wrong, oneDNN is
 * switched off for the process; if that is wrong too, configuring the runtime fails. The probes
 * are deterministic and leave the random generators alone.
 */
public final class ConvGuard {
  private ConvGuard() {}

  /** AUTO: check, and detour only where wrong; ON: pad always; OFF: neither check nor pad. */
  public enum Mode {
    AUTO,
    ON,
    OFF
  }

  /** What the guard does about the convolutions it found wrong. */
  public enum Action {
    /** Nothing was wrong (or the guard is off). */
    NONE,
    /** Channels padded to multiples of {@link #BLOCK} for the kinds found wrong. */
    PAD_CHANNELS,
    /** oneDNN switched off for the process: padding did not make the results right. */
    ONEDNN_OFF
  }

  /** Channel multiple the guard pads to: AVX-512's float32 block, a multiple of AVX2's. */
  public static final long BLOCK = 16;

  /** Relative error (of the output's largest magnitude) above which a probe is wrong. */
  static final double WRONG = 1e-3;

  /**
   * The check's outcome.
   *
   * @param conv2d whether dense 2D convolutions were wrong (and are padded)
   * @param conv3d the same for 3D
   * @param worst the largest relative error seen before any detour
   * @param after the largest relative error with the detour in place
   */
  public record Report(Mode mode, boolean conv2d, boolean conv3d, Action action, double worst,
      double after) {
    public String describe() {
      if (mode == Mode.OFF) return "off";
      if (mode == Mode.ON) return "on (channels padded to multiples of " + BLOCK + ")";
      if (action == Action.NONE) {
        return String.format(Locale.ROOT, "checked, float32 convolutions right (worst relative"
            + " error %.1e)", worst);
      }
      String kinds = (conv2d ? "2D " : "") + (conv3d ? "3D " : "");
      String how = Double.isFinite(worst)
          ? String.format(Locale.ROOT, "up to %.0f %% of the output", 100 * worst)
          : "non-finite outputs";
      return String.format(Locale.ROOT, "libtorch's oneDNN float32 convolutions are WRONG on this"
          + " CPU (%s%s), %s (relative error now %.1e)", kinds, how, action == Action.PAD_CHANNELS
              ? "detour: channels padded to multiples of " + BLOCK
              : "detour: oneDNN switched off", after);
    }
  }

  private record Pads(boolean conv2d, boolean conv3d) {}

  private static volatile Pads pads = new Pads(false, false);
  private static Report report;

  /**
   * Whether a dense convolution layer should take the padded detour ({@link #pad}): a float32
   * CPU input, one group, a channel count that is not a multiple of {@link #BLOCK}, and a kind
   * the check found wrong.
   *
   * @param spatialDims 2 or 3
   */
  public static boolean pads(Tensor x, long inChannels, long outChannels, long groups,
      int spatialDims) {
    Pads p = pads;
    boolean kind = spatialDims == 2 ? p.conv2d : p.conv3d;
    return kind && groups == 1 && (inChannels % BLOCK != 0 || outChannels % BLOCK != 0)
        && x.is_cpu() && x.scalar_type().value == ScalarType.Float.value;
  }

  /** A convolution's operands with channels padded by zeros; {@link #trim} its output. */
  public record Padded(Tensor x, Tensor weight, TensorOptional bias, long outChannels) {
    /**
     * The convolution's output cut back to the layer's output channels, contiguous as the
     * undetoured output would be (kernels downstream require it).
     */
    public Tensor trim(Tensor y) {
      return y.size(1) == outChannels ? y : y.narrow(1, 0, outChannels).contiguous();
    }
  }

  /**
   * {@code x} [N, C, ...], {@code weight} [O, C, ...] and {@code bias} [O] (or null) padded
   * with zeros to channel multiples of {@link #BLOCK}: the padded input channels meet zero
   * weights, and the padded output channels are cut off, so the convolution is unchanged and
   * autograd reaches the unpadded tensors.
   */
  public static Padded pad(Tensor x, Tensor weight, Tensor bias) {
    long c = padded(weight.size(1)), o = padded(weight.size(0));
    Tensor w = padDim(padDim(weight, 1, c), 0, o);
    TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(padDim(bias, 0, o));
    return new Padded(padDim(x, 1, c), w, b, weight.size(0));
  }

  /** {@code c} rounded up to a multiple of {@link #BLOCK}. */
  public static long padded(long c) {
    return (c + BLOCK - 1) / BLOCK * BLOCK;
  }

  /** {@code t} with zeros appended along {@code dim} up to {@code size}. */
  static Tensor padDim(Tensor t, int dim, long size) {
    long extra = size - t.size(dim);
    if (extra == 0) return t;
    if (extra < 0) {
      throw new IllegalArgumentException("size: expected >= " + t.size(dim) + ", got " + size);
    }
    long[] p = new long[2 * ((int) t.dim() - dim)]; // last dimension first, dim last
    p[p.length - 1] = extra;
    return torch.constant_pad_nd(t, p, new Scalar(0.0));
  }

  /** The last report (null before the runtime is configured). */
  static synchronized Report report() {
    return report;
  }

  static synchronized Report apply(Mode mode) {
    Report r;
    switch (mode) {
      case OFF -> {
        pads = new Pads(false, false);
        r = new Report(mode, false, false, Action.NONE, 0, 0);
      }
      case ON -> {
        pads = new Pads(true, true);
        r = new Report(mode, true, true, Action.PAD_CHANNELS, 0, 0);
      }
      default -> r = check();
    }
    report = r;
    return r;
  }

  /** The AUTO path: probe, detour, probe again. */
  private static Report check() {
    Pads none = new Pads(false, false);
    pads = none;
    double e2 = probe(2, false), e3 = probe(3, false);
    double worst = Math.max(e2, e3);
    Pads found = new Pads(e2 > WRONG, e3 > WRONG);
    if (found.equals(none)) return new Report(Mode.AUTO, false, false, Action.NONE, worst, worst);
    double after = Math.max(probe(2, found.conv2d), probe(3, found.conv3d));
    if (after <= WRONG) {
      pads = found;
      return new Report(Mode.AUTO, found.conv2d, found.conv3d, Action.PAD_CHANNELS, worst,
          after);
    }
    torch.globalContext().setUserEnabledMkldnn(false);
    after = Math.max(probe(2, false), probe(3, false));
    if (after > WRONG) {
      throw new IllegalStateException(String.format(Locale.ROOT, "libtorch's float32 CPU"
          + " convolutions are wrong on this machine (relative error %.2g) with oneDNN and"
          + " without it; refusing to compute wrong results", after));
    }
    return new Report(Mode.AUTO, found.conv2d, found.conv3d, Action.ONEDNN_OFF, worst, after);
  }

  /**
   * The largest relative error (of the largest magnitude of each result) of float32 against
   * float64 over the probes: dense 3x3 (3x3x3) convolutions with input and output channel counts
   * that are not multiples of the SIMD blocks (12 -> 8 for AVX2's 8, 24 -> 24 for AVX-512's 16),
   * forward and both gradients, on values from a fixed formula; with {@code pad} the float32
   * side takes the padded detour as a layer would.
   */
  static double probe(int dims, boolean pad) {
    double worst = 0;
    try (PointerScope scope = new PointerScope(); AutoGradMode grad = new AutoGradMode(true)) {
      for (long[] co : new long[][] {{12, 8}, {24, 24}}) {
        long c = co[0], o = co[1];
        // Batch 2: oneDNN took a right path for 1 x 24 x 20 x 21 and a wrong one for
        // 2 x 24 x 4 x 5 (and for 1 x 24 x 32 x 33).
        long[] xs = dims == 2 ? new long[] {2, c, 8, 9} : new long[] {2, c, 3, 6, 7};
        long[] ws = dims == 2 ? new long[] {o, c, 3, 3} : new long[] {o, c, 3, 3, 3};
        Tensor x = values(xs, 0.37), w = values(ws, 0.11);
        Tensor[] f32 = forwardBackward(x, w, dims, 1, pad);
        Tensor[] f64 = forwardBackward(x.to(ScalarType.Double), w.to(ScalarType.Double), dims, 1,
            false);
        for (int i = 0; i < 3; i++) worst = Math.max(worst, relative(f32[i], f64[i]));
      }
    }
    return worst;
  }

  private static double relative(Tensor got, Tensor want) {
    double scale = want.abs().max().item_double();
    double err = got.to(ScalarType.Double).sub(want).abs().max().item_double() / scale;
    return Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
  }

  /** {output, d input, d weight} of sum(conv(x, w) * g), g from a fixed formula. */
  private static Tensor[] forwardBackward(Tensor x0, Tensor w0, int dims, long pad,
      boolean detour) {
    Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
    Tensor y;
    if (detour) {
      Padded p = pad(x, w, null);
      y = p.trim(conv(p.x(), p.weight(), dims, pad));
    } else {
      y = conv(x, w, dims, pad);
    }
    Tensor g = values(y.sizes().vec().get(), 0.23).to(y.scalar_type());
    y.mul(g).sum().backward();
    return new Tensor[] {y.detach(), x.grad(), w.grad()};
  }

  private static Tensor values(long[] shape, double step) {
    long n = 1;
    for (long s : shape) n *= s;
    return torch.arange(new Scalar(n), new TensorOptions(ScalarType.Float))
        .mul(new Scalar(step)).sin().reshape(shape);
  }

  private static Tensor conv(Tensor x, Tensor w, int dims, long pad) {
    if (dims == 2) {
      return torch.conv2d(x, w, new TensorOptional(), new long[] {1, 1}, new long[] {pad, pad},
          new long[] {1, 1}, 1);
    }
    return torch.conv3d(x, w, new TensorOptional(), new long[] {1, 1, 1},
        new long[] {pad, pad, pad}, new long[] {1, 1, 1}, 1);
  }
}
