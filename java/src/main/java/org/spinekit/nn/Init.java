package org.spinekit.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Weight initialisers, drawn from libtorch's default CPU generator (seed it with {@code
 * NativeRuntime.seed}) so a seeded build is repeatable. Formulas follow {@code torch.nn.init}.
 */
public final class Init {
  private Init() {}

  /** fan_in and fan_out of a weight shaped [out, in, k...] (or [out, in]). */
  static long[] fans(Tensor w) {
    long receptive = 1;
    for (int d = 2; d < w.dim(); d++) receptive *= w.size(d);
    long in = w.dim() > 1 ? w.size(1) * receptive : w.size(0);
    long out = w.size(0) * receptive;
    return new long[] {in, out};
  }

  /** PyTorch's default for conv and linear weights: kaiming_uniform_(a = sqrt(5)). */
  public static void defaultWeight(Tensor w) {
    double bound = 1.0 / Math.sqrt(fans(w)[0]);
    uniform(w, -bound, bound);
  }

  /** PyTorch's default for conv and linear biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
  public static void defaultBias(Tensor b, Tensor w) {
    double bound = 1.0 / Math.sqrt(fans(w)[0]);
    uniform(b, -bound, bound);
  }

  public static void uniform(Tensor t, double lo, double hi) {
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      torch.uniform_(t, lo, hi);
    }
  }

  public static void normal(Tensor t, double mean, double std) {
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      torch.normal_(t, mean, std);
    }
  }

  /** kaiming_normal_(mode = fan_out, nonlinearity = relu), torchvision's conv init. */
  public static void kaimingNormalFanOut(Tensor w) {
    normal(w, 0, Math.sqrt(2.0 / fans(w)[1]));
  }

  /** xavier_uniform_ (gain 1). */
  public static void xavierUniform(Tensor w) {
    long[] f = fans(w);
    double a = Math.sqrt(6.0 / (f[0] + f[1]));
    uniform(w, -a, a);
  }

  /** trunc_normal_(std) truncated at +-2 (absolute, as torch.nn.init and timm use it). */
  public static void truncNormal(Tensor t, double std) {
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      torch.normal_(t, 0, std);
      t.clamp_(
          new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(-2.0)),
          new org.bytedeco.pytorch.ScalarOptional(new org.bytedeco.pytorch.Scalar(2.0)));
    }
  }

  /** Orthogonal init (torch.nn.init.orthogonal_, gain 1) of a 2-D weight, via QR. */
  public static void orthogonal(Tensor w) {
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      long rows = w.size(0);
      long cols = w.numel() / rows;
      Tensor flat = torch.randn(rows, cols);
      if (rows < cols) flat = flat.t();
      var qr = torch.linalg_qr(flat);
      Tensor q = qr.get0();
      Tensor d = torch.diag(qr.get1(), 0).sign();
      q = q.mul(d);
      if (rows < cols) q = q.t();
      w.view(rows, cols).copy_(q);
    }
  }

  public static void constant(Tensor t, double v) {
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      t.fill_(new org.bytedeco.pytorch.Scalar(v));
    }
  }
}
