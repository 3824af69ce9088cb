package org.spinekit.tensor;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Small conversions between Java arrays and CPU tensors. */
public final class Tensors {
  private Tensors() {}

  private static long count(long[] shape) {
    long n = 1;
    for (long s : shape) n *= s;
    return n;
  }

  private static long[] contiguousStrides(long[] shape) {
    long[] st = new long[shape.length];
    long acc = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      st[i] = acc;
      acc *= shape[i];
    }
    return st;
  }

  /** A new float32 CPU tensor holding a copy of {@code data}. */
  public static Tensor of(float[] data, long... shape) {
    if (count(shape) != data.length) {
      throw new IllegalArgumentException(
          "shape: "
              + java.util.Arrays.toString(shape)
              + " holds "
              + count(shape)
              + " values, got "
              + data.length);
    }
    try (PointerScope scope = new PointerScope()) {
      FloatPointer p = new FloatPointer(data);
      Tensor t =
          torch
              .from_blob(p, shape, contiguousStrides(shape), new TensorOptions(ScalarType.Float))
              .clone();
      return Outputs.handOut(scope, t);
    }
  }

  /** A new int64 CPU tensor holding a copy of {@code data}. */
  public static Tensor of(long[] data, long... shape) {
    if (count(shape) != data.length) {
      throw new IllegalArgumentException(
          "shape: "
              + java.util.Arrays.toString(shape)
              + " holds "
              + count(shape)
              + " values, got "
              + data.length);
    }
    try (PointerScope scope = new PointerScope()) {
      LongPointer p = new LongPointer(data);
      Tensor t =
          torch
              .from_blob(p, shape, contiguousStrides(shape), new TensorOptions(ScalarType.Long))
              .clone();
      return Outputs.handOut(scope, t);
    }
  }

  /** The values of a float32 or float64 tensor (any device) in row-major order. */
  public static float[] floats(Tensor t) {
    try (PointerScope scope = new PointerScope()) {
      Tensor c = t.detach().cpu().to(ScalarType.Float).contiguous();
      float[] out = new float[(int) c.numel()];
      c.data_ptr_float().get(out);
      return out;
    }
  }
}
