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
 * A self-check of libtorch's float32 CPU convolutions, and the detour around them where they are
 * wrong.
 *
 * <p>The oneDNN (v3.7.1) inside the libtorch of the PyTorch preset computes some dense (ungrouped)
 * float32 convolutions wrongly when a channel count is not a multiple of its SIMD block, forward
 * and input gradient ({@link ConvDetour} lists what was measured): on an AVX-512 machine a 3x3
 * convolution of 24 input channels was off by 20-40 % of the output's scale, NaN in places.
 * EfficientNetV2's fused blocks, the UNet decoder and the lumbar heads all have such convolutions.
 *
 * <p>The check runs small convolutions once per process (forward and both gradients, stride 1 and
 * 2, 2D and 3D) in float32 and on the same values in float64, which libtorch computes without
 * oneDNN. Where float32 is wrong, SpineKit's convolution layers take {@link ConvDetour}; the probes
 * are then run through the detour, and if that is still wrong oneDNN is switched off for the
 * process; if that is wrong too, configuring the runtime fails. The probes are deterministic and
 * leave the random generators alone.
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
    /** {@link ConvDetour} for the kinds found wrong. */
    DETOUR,
    /** oneDNN switched off for the process: the detour did not make the results right. */
    ONEDNN_OFF
  }

  /** Relative error (of the output's largest magnitude) above which a probe is wrong. */
  static final double WRONG = 1e-3;

  /**
   * The check's outcome.
   *
   * @param conv2d whether dense 2D convolutions were wrong (and are detoured)
   * @param conv3d the same for 3D
   * @param worst the largest relative error seen before any detour
   * @param after the largest relative error with the detour in place
   */
  public record Report(
      Mode mode, boolean conv2d, boolean conv3d, Action action, double worst, double after) {
    public String describe() {
      if (mode == Mode.OFF) return "off";
      if (mode == Mode.ON) return "on (dense convolutions detoured without a check)";
      if (action == Action.NONE) {
        return String.format(
            Locale.ROOT,
            "checked, float32 convolutions right (worst relative" + " error %.1e)",
            worst);
      }
      String kinds = (conv2d ? "2D " : "") + (conv3d ? "3D " : "");
      String how =
          Double.isFinite(worst)
              ? String.format(Locale.ROOT, "up to %.0f %% of the output", 100 * worst)
              : "non-finite outputs";
      return String.format(
          Locale.ROOT,
          "libtorch's oneDNN float32 convolutions are WRONG on this"
              + " CPU (%s%s), %s (relative error now %.1e)",
          kinds,
          how,
          action == Action.DETOUR
              ? "detoured (channels padded, strided input gradients off oneDNN)"
              : "oneDNN switched off",
          after);
    }
  }

  private record Pads(boolean conv2d, boolean conv3d) {}

  private static volatile Pads active = new Pads(false, false);
  private static Report report;
  private static final System.Logger LOG = System.getLogger(ConvGuard.class.getName());

  /** Whether dense float32 CPU convolutions of {@code spatialDims} (2 or 3) take the detour. */
  public static boolean active(int spatialDims) {
    Pads p = active;
    return spatialDims == 2 ? p.conv2d : spatialDims == 3 && p.conv3d;
  }

  /** The last report (null before the runtime is configured). */
  static synchronized Report report() {
    return report;
  }

  static synchronized Report apply(Mode mode) {
    Report r;
    switch (mode) {
      case OFF -> {
        active = new Pads(false, false);
        r = new Report(mode, false, false, Action.NONE, 0, 0);
      }
      case ON -> {
        active = new Pads(true, true);
        r = new Report(mode, true, true, Action.DETOUR, 0, 0);
      }
      default -> r = check();
    }
    report = r;
    // Applications see what was found through their logging (System.Logger: java.util.logging
    // unless they route it elsewhere); the library never prints.
    if (r.action() == Action.ONEDNN_OFF) {
      LOG.log(System.Logger.Level.WARNING, "convolution guard: {0}", r.describe());
    } else if (r.action() == Action.DETOUR && r.mode() == Mode.AUTO) {
      LOG.log(System.Logger.Level.INFO, "convolution guard: {0}", r.describe());
    } else {
      LOG.log(System.Logger.Level.DEBUG, "convolution guard: {0}", r.describe());
    }
    return r;
  }

  /** The AUTO path: probe, detour, probe again. */
  private static Report check() {
    Pads none = new Pads(false, false);
    active = none;
    double e2 = probe(2, false), e3 = probe(3, false);
    double worst = Math.max(e2, e3);
    Pads found = new Pads(e2 > WRONG, e3 > WRONG);
    if (found.equals(none)) return new Report(Mode.AUTO, false, false, Action.NONE, worst, worst);
    double after = Math.max(probe(2, found.conv2d), probe(3, found.conv3d));
    if (after <= WRONG) {
      active = found;
      return new Report(Mode.AUTO, found.conv2d, found.conv3d, Action.DETOUR, worst, after);
    }
    torch.globalContext().setUserEnabledMkldnn(false);
    after = Math.max(probe(2, false), probe(3, false));
    if (after > WRONG) {
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "libtorch's float32 CPU"
                  + " convolutions are wrong on this machine (relative error %.2g) with oneDNN and"
                  + " without it; refusing to compute wrong results",
              after));
    }
    return new Report(Mode.AUTO, found.conv2d, found.conv3d, Action.ONEDNN_OFF, worst, after);
  }

  /**
   * The largest relative error (of the largest magnitude of each result) of float32 against float64
   * over the probes: dense 3x3 (3x3x3) convolutions whose channel counts are not multiples of the
   * SIMD blocks (12 -> 8 for AVX2's 8, 24 -> 24 for AVX-512's 16) at stride 1, and 48 -> 24 at
   * stride 2 (the strided input gradient), forward and both gradients, on values from a fixed
   * formula; with {@code detour} the float32 side takes {@link ConvDetour}.
   */
  static double probe(int dims, boolean detour) {
    double worst = 0;
    try (PointerScope scope = new PointerScope();
        AutoGradMode grad = new AutoGradMode(true)) {
      for (long[] cos : new long[][] {{12, 8, 1}, {24, 24, 1}, {48, 24, 2}}) {
        long c = cos[0], o = cos[1], s = cos[2];
        // Batch 2: oneDNN took a right path for 1 x 24 x 20 x 21 and a wrong one for
        // 2 x 24 x 4 x 5 (and for 1 x 24 x 32 x 33).
        long[] xs = dims == 2 ? new long[] {2, c, 8, 9} : new long[] {2, c, 3, 6, 7};
        long[] ws = dims == 2 ? new long[] {o, c, 3, 3} : new long[] {o, c, 3, 3, 3};
        Tensor x = values(xs, 0.37), w = values(ws, 0.11);
        Tensor[] f32 = forwardBackward(x, w, dims, s, detour);
        Tensor[] f64 =
            forwardBackward(x.to(ScalarType.Double), w.to(ScalarType.Double), dims, s, false);
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
  private static Tensor[] forwardBackward(
      Tensor x0, Tensor w0, int dims, long stride, boolean detour) {
    Tensor x = x0.detach().requires_grad_(true), w = w0.detach().requires_grad_(true);
    Tensor y;
    if (detour) {
      y =
          dims == 2
              ? ConvDetour.conv2d(
                  x,
                  w,
                  null,
                  new long[] {stride, stride},
                  new long[] {1, 1},
                  new long[] {1, 1},
                  null)
              : ConvDetour.conv3d(x, w, null, stride, 1);
    } else {
      y =
          dims == 2
              ? torch.conv2d(
                  x,
                  w,
                  new TensorOptional(),
                  new long[] {stride, stride},
                  new long[] {1, 1},
                  new long[] {1, 1},
                  1)
              : torch.conv3d(
                  x,
                  w,
                  new TensorOptional(),
                  new long[] {stride, stride, stride},
                  new long[] {1, 1, 1},
                  new long[] {1, 1, 1},
                  1);
    }
    Tensor g = values(y.sizes().vec().get(), 0.23).to(y.scalar_type());
    y.mul(g).sum().backward();
    return new Tensor[] {y.detach(), x.grad(), w.grad()};
  }

  private static Tensor values(long[] shape, double step) {
    long n = 1;
    for (long s : shape) n *= s;
    return torch
        .arange(new Scalar(n), new TensorOptions(ScalarType.Float))
        .mul(new Scalar(step))
        .sin()
        .reshape(shape);
  }
}
