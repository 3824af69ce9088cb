package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.internal.jni.Kernels;
import org.spinekit.tensor.Tensors;

/** Shared helpers of the kernel tests. */
final class TestSupport {
  private TestSupport() {}

  static {
    torch.set_num_threads(2);
    Kernels.setNumThreads(2);
  }

  static void init() {}

  /** For the {@code @Tag("gpu")} tests: CUDA kernels compiled and a device present. */
  static void requireCuda() {
    init();
    org.junit.jupiter.api.Assertions.assertTrue(
        Kernels.cudaCompiled(), "libspinekit was built without CUDA kernels");
    org.junit.jupiter.api.Assertions.assertTrue(Kernels.cudaDeviceCount() > 0, "no CUDA device");
  }

  /**
   * max |a - b| / (atol + rtol |b|) <= 1, with the worst element named on failure. NaN and
   * infinities match only themselves (a NaN a NaN, +inf +inf, -inf -inf).
   */
  static void assertClose(Tensor actual, Tensor expected, double atol, double rtol, String what) {
    float[] a = Tensors.floats(actual);
    float[] e = Tensors.floats(expected);
    assertEquals(e.length, a.length, what + ": element count");
    double worst = 0;
    int at = -1;
    for (int i = 0; i < a.length; i++) {
      if (!Float.isFinite(e[i]) || !Float.isFinite(a[i])) {
        if (Float.compare(a[i], e[i]) != 0) {
          fail(what + ": element " + i + " is " + a[i] + ", expected " + e[i]);
        }
        continue;
      }
      double r = Math.abs(a[i] - e[i]) / (atol + rtol * Math.abs(e[i]));
      if (r > worst) {
        worst = r;
        at = i;
      }
    }
    if (worst > 1) {
      fail(
          String.format(
              "%s: element %d is %.9g, expected %.9g (atol %.1g, rtol %.1g)",
              what, at, a[at], e[at], atol, rtol));
    }
  }

  static long[] dims(long... d) {
    return d;
  }
}
