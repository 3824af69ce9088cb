package org.spinekit.loss;

import java.util.Arrays;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.tensor.Checks;

/** Preconditions of the losses, checked before any computation; each names the argument. */
final class LossChecks {
  private LossChecks() {}

  /** A defined, non-empty floating-point tensor of rank >= {@code minRank}. */
  static void prediction(Tensor t, String name, int minRank, String layout) {
    Checks.defined(t, name);
    if (!t.is_floating_point()) {
      throw new IllegalArgumentException(
          name
              + ": expected a floating-point tensor (float32 or"
              + " float64), got "
              + t.scalar_type());
    }
    if (t.dim() < minRank) {
      throw new IllegalArgumentException(
          name
              + ": expected "
              + layout
              + " (rank >= "
              + minRank
              + "), got shape "
              + Checks.shapeString(t));
    }
    if (t.numel() == 0) {
      throw new IllegalArgumentException(
          name + ": expected a non-empty tensor, got shape " + Checks.shapeString(t));
    }
  }

  static void sameDevice(Tensor t, String name, Tensor like) {
    boolean same =
        t.is_cuda() == like.is_cuda()
            && (!t.is_cuda() || t.device().index() == like.device().index());
    if (!same) {
      try (PointerScope scope = new PointerScope()) {
        throw new IllegalArgumentException(
            name
                + ": expected device "
                + like.device().str().getString()
                + " (as the prediction), got "
                + t.device().str().getString());
      }
    }
  }

  static boolean integral(Tensor t) {
    int v = t.scalar_type().value;
    return v == ScalarType.Byte.value
        || v == ScalarType.Char.value
        || v == ScalarType.Short.value
        || v == ScalarType.Int.value
        || v == ScalarType.Long.value;
  }

  /** Class indices: an integer tensor, on the prediction's device, as int64. */
  static Tensor classIndices(Tensor t, String name, Tensor prediction, long[] expectedShape) {
    Checks.defined(t, name);
    if (!integral(t)) {
      throw new IllegalArgumentException(
          name
              + ": expected integer class indices (int64 or"
              + " another integer type), got "
              + t.scalar_type());
    }
    sameDevice(t, name, prediction);
    if (!Arrays.equals(Checks.shape(t), expectedShape)) {
      throw new IllegalArgumentException(
          name
              + ": expected shape "
              + Arrays.toString(expectedShape)
              + " (the prediction's without the class axis), got "
              + Checks.shapeString(t));
    }
    return t.scalar_type().value == ScalarType.Long.value ? t : t.to(ScalarType.Long);
  }

  /** A numeric target of the prediction's shape, converted to the prediction's dtype. */
  static Tensor dense(Tensor t, String name, Tensor prediction) {
    Checks.defined(t, name);
    if (!t.is_floating_point() && !integral(t) && t.scalar_type().value != ScalarType.Bool.value) {
      throw new IllegalArgumentException(
          name + ": expected a real-valued tensor, got " + t.scalar_type());
    }
    sameDevice(t, name, prediction);
    if (!Arrays.equals(Checks.shape(t), Checks.shape(prediction))) {
      throw new IllegalArgumentException(
          name
              + ": expected shape "
              + Checks.shapeString(prediction)
              + " (as the prediction), got "
              + Checks.shapeString(t));
    }
    return t.scalar_type().value == prediction.scalar_type().value
        ? t
        : t.to(prediction.scalar_type());
  }

  /**
   * Element weights: null, [N] (one per sample, broadcast over the rest) or exactly {@code shape};
   * returned in the prediction's dtype, shaped to broadcast against {@code shape}.
   */
  static Tensor weights(Tensor w, String name, Tensor prediction, long[] shape) {
    if (w == null) return null;
    Checks.defined(w, name);
    if (!w.is_floating_point() && !integral(w)) {
      throw new IllegalArgumentException(name + ": expected real weights, got " + w.scalar_type());
    }
    sameDevice(w, name, prediction);
    long[] ws = Checks.shape(w);
    Tensor out;
    if (Arrays.equals(ws, shape)) {
      out = w;
    } else if (ws.length == 1 && shape.length >= 1 && ws[0] == shape[0]) {
      long[] view = new long[shape.length];
      Arrays.fill(view, 1);
      view[0] = shape[0];
      out = w.view(view);
    } else {
      throw new IllegalArgumentException(
          name
              + ": expected shape ["
              + (shape.length > 0 ? shape[0] : 1)
              + "] (one weight per sample) or "
              + Arrays.toString(shape)
              + " (one per element), got "
              + Checks.shapeString(w));
    }
    return out.scalar_type().value == prediction.scalar_type().value
        ? out
        : out.to(prediction.scalar_type());
  }

  /** A per-class array of finite values >= 0 of length {@code classes} (null passes). */
  static void classArray(double[] a, String name, long classes, String axis) {
    if (a == null) return;
    if (a.length != classes) {
      throw new IllegalArgumentException(
          name + ": expected " + classes + " values (one per " + axis + "), got " + a.length);
    }
  }

  static double[] nonNegative(double[] a, String name) {
    if (a == null) return null;
    if (a.length == 0) {
      throw new IllegalArgumentException(name + ": expected at least one value, got none");
    }
    for (double x : a) {
      if (!(x >= 0) || Double.isInfinite(x)) {
        throw new IllegalArgumentException(
            name + ": expected finite values >= 0, got " + Arrays.toString(a));
      }
    }
    return a.clone();
  }

  /** {@code values} as a new 1-D tensor of the prediction's dtype and device. */
  static Tensor vector(double[] values, Tensor prediction) {
    DoublePointer p = new DoublePointer(values);
    // clone: the tensor must own its memory (autograd may keep it beyond this call).
    Tensor t =
        torch
            .from_blob(
                p, new long[] {values.length}, new long[] {1}, new TensorOptions(ScalarType.Double))
            .clone();
    return t.to(prediction.device(), prediction.scalar_type());
  }

  /**
   * Every value of {@code target} is in [0, classes) or equals {@code ignore} (when not null). One
   * reduction and a host read (a synchronisation on CUDA).
   */
  static void classRange(Tensor target, String name, long classes, Long ignore) {
    Tensor ok = target.ge(new Scalar(0L)).logical_and(target.lt(new Scalar(classes)));
    if (ignore != null) ok = ok.logical_or(target.eq(new Scalar(ignore.longValue())));
    if (ok.all().item_bool()) return;
    Tensor bad = ok.logical_not().nonzero().select(0, 0).cpu();
    long[] at = new long[(int) bad.size(0)];
    for (int i = 0; i < at.length; i++) at[i] = bad.select(0, i).item_long();
    Tensor v = target;
    for (long i : at) v = v.select(0, i);
    throw new IllegalArgumentException(
        name
            + ": expected class indices in [0, "
            + classes
            + ")"
            + (ignore != null ? " or the ignore index " + ignore : "")
            + ", got "
            + v.item_long()
            + " at "
            + Arrays.toString(at));
  }
}
