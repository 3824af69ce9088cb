package org.spinekit.tensor;

import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Preconditions checked in Java before any native call; each names the argument. */
public final class Checks {
  private Checks() {}

  public static long[] shape(Tensor t) {
    long[] s = new long[(int) t.dim()];
    for (int i = 0; i < s.length; i++) s[i] = t.size(i);
    return s;
  }

  public static String shapeString(Tensor t) {
    return Arrays.toString(shape(t));
  }

  public static void defined(Tensor t, String name) {
    if (t == null || t.isNull() || !t.defined()) {
      throw new IllegalArgumentException(name + ": expected a tensor, got none");
    }
  }

  /** Defined, of the given dtype, contiguous, and on the same device as {@code like}. */
  public static void tensor(Tensor t, String name, ScalarType dtype, Tensor like) {
    defined(t, name);
    ScalarType actual = t.scalar_type();
    if (actual.value != dtype.value) {
      throw new IllegalArgumentException(name + ": expected dtype " + dtype + ", got " + actual);
    }
    if (!t.is_cpu() && !t.is_cuda()) {
      throw new IllegalArgumentException(
          name + ": expected a CPU or CUDA tensor, got device " + t.device().str().getString());
    }
    if (like != null && !sameDevice(t, like)) {
      throw new IllegalArgumentException(
          name
              + ": expected device "
              + like.device().str().getString()
              + " (as the first"
              + " argument), got "
              + t.device().str().getString());
    }
    if (!t.is_contiguous()) {
      throw new IllegalArgumentException(
          name
              + ": expected a contiguous tensor (call contiguous()), got strides of a view"
              + " of shape "
              + shapeString(t));
    }
    if (t.numel() == 0) {
      throw new IllegalArgumentException(
          name + ": expected a non-empty tensor, got shape " + shapeString(t));
    }
  }

  public static boolean sameDevice(Tensor a, Tensor b) {
    if (a.is_cuda() != b.is_cuda()) return false;
    return !a.is_cuda() || a.device().index() == b.device().index();
  }

  public static void rank(Tensor t, String name, int... ranks) {
    long r = t.dim();
    for (int k : ranks) if (k == r) return;
    throw new IllegalArgumentException(
        name
            + ": expected rank "
            + (ranks.length == 1 ? ranks[0] : Arrays.toString(ranks))
            + ", got rank "
            + r
            + " (shape "
            + shapeString(t)
            + ")");
  }

  public static void shapeEquals(Tensor t, String name, long... expected) {
    if (!Arrays.equals(shape(t), expected)) {
      throw new IllegalArgumentException(
          name + ": expected shape " + Arrays.toString(expected) + ", got " + shapeString(t));
    }
  }

  public static void positive(double v, String name) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(name + ": expected a finite value > 0, got " + v);
    }
  }

  public static void finite(double v, String name) {
    if (!Double.isFinite(v)) {
      throw new IllegalArgumentException(name + ": expected a finite value, got " + v);
    }
  }
}
