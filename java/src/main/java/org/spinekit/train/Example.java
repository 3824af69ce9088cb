package org.spinekit.train;

import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One sample of a {@link Dataset}: a contiguous float32 CPU input (any shape, the same for every
 * sample of a data set) and its target values (the same count for every sample).
 */
public record Example(Tensor input, float[] target) {
  public Example {
    if (input == null || input.isNull() || !input.defined()) {
      throw new IllegalArgumentException("input: expected a tensor, got none");
    }
    if (!input.is_cpu()) {
      throw new IllegalArgumentException(
          "input: expected a CPU tensor, got device " + input.device().str().getString());
    }
    if (input.scalar_type().value != ScalarType.Float.value) {
      throw new IllegalArgumentException("input: expected dtype Float, got " + input.scalar_type());
    }
    if (!input.is_contiguous()) {
      throw new IllegalArgumentException(
          "input: expected a contiguous tensor, got a view of"
              + " shape "
              + Arrays.toString(shape(input)));
    }
    if (target == null) {
      throw new IllegalArgumentException("target: expected an array, got null");
    }
    target = target.clone();
  }

  @Override
  public float[] target() {
    return target.clone();
  }

  static long[] shape(Tensor t) {
    long[] s = new long[(int) t.dim()];
    for (int i = 0; i < s.length; i++) s[i] = t.size(i);
    return s;
  }
}
