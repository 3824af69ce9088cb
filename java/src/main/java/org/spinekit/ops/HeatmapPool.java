package org.spinekit.ops;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.internal.jni.Kernels;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * Heatmap pooling: pooled[n, k, c] = sum_s heat[n, k, s] * grade[n, c, s], the level grade of the
 * lumbar one-stage model (level heatmaps times per-pixel grade probabilities). heat is [N, K,
 * ...spatial], grade [N, C, ...spatial] with the same spatial extent (any rank >= 3; the spatial
 * axes are flattened).
 */
public final class HeatmapPool {
  private HeatmapPool() {}

  /** Gradients of {@link #backward}; the tensors belong to the caller. */
  public record Grads(Tensor heat, Tensor grade) implements AutoCloseable {
    @Override
    public void close() {
      if (heat != null) heat.close();
      if (grade != null) grade.close();
    }
  }

  private record Dims(long n, long k, long c, long s) {}

  private static Dims check(Tensor heat, Tensor grade) {
    Checks.tensor(heat, "heat", ScalarType.Float, null);
    Checks.tensor(grade, "grade", ScalarType.Float, heat);
    if (heat.dim() < 3) {
      throw new IllegalArgumentException(
          "heat: expected rank >= 3 [N, K, ...spatial], got " + Checks.shapeString(heat));
    }
    if (grade.dim() != heat.dim()) {
      throw new IllegalArgumentException(
          "grade: expected rank " + heat.dim() + " (as heat), got " + Checks.shapeString(grade));
    }
    long s = 1;
    for (int i = 2; i < heat.dim(); i++) {
      if (grade.size(i) != heat.size(i)) {
        throw new IllegalArgumentException(
            "grade: expected spatial size "
                + Checks.shapeString(heat)
                + " after [N, C], got "
                + Checks.shapeString(grade));
      }
      s *= heat.size(i);
    }
    if (grade.size(0) != heat.size(0)) {
      throw new IllegalArgumentException(
          "grade: expected batch size " + heat.size(0) + " (as heat), got " + grade.size(0));
    }
    return new Dims(heat.size(0), heat.size(1), grade.size(1), s);
  }

  /** pooled [N, K, C]. */
  public static Tensor forward(Tensor heat, Tensor grade) {
    Dims d = check(heat, grade);
    try (PointerScope scope = new PointerScope()) {
      Tensor pooled = heat.new_empty(d.n, d.k, d.c);
      Kernels.heatmapPoolForward(heat, grade, d.n, d.k, d.c, d.s, pooled);
      return Outputs.handOut(scope, pooled);
    }
  }

  /** Gradients w.r.t. heat and grade from gradPooled [N, K, C]. */
  public static Grads backward(Tensor heat, Tensor grade, Tensor gradPooled) {
    Dims d = check(heat, grade);
    Checks.tensor(gradPooled, "gradPooled", ScalarType.Float, heat);
    Checks.shapeEquals(gradPooled, "gradPooled", d.n, d.k, d.c);
    try (PointerScope scope = new PointerScope()) {
      Tensor gh = heat.new_empty(Checks.shape(heat));
      Tensor gg = grade.new_empty(Checks.shape(grade));
      Kernels.heatmapPoolBackward(heat, grade, gradPooled, d.n, d.k, d.c, d.s, gh, gg);
      return new Grads(Outputs.handOut(scope, gh), Outputs.handOut(scope, gg));
    }
  }
}
