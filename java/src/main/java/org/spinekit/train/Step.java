package org.spinekit.train;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.nn.Net;

/**
 * One training (or validation) step of a {@link Trainer}: the forward pass of {@code model} on
 * {@code batch} and its loss. Runs inside the step's {@link org.bytedeco.javacpp.PointerScope}, so
 * every tensor it makes is freed when the step ends; the trainer does the backward pass, clipping
 * and the optimiser step.
 */
@FunctionalInterface
public interface Step<M extends Net> {
  Result run(M model, Batch batch);

  /**
   * Computes the gradients of a loss that libtorch's autograd does not reach by itself (a fused
   * kernel's own backward, e.g. {@link org.spinekit.ops.HeadLoss.Result#backward}): it must
   * accumulate {@code scale} times the loss's gradients into the parameters' gradients.
   */
  @FunctionalInterface
  interface Backward {
    void run(double scale);
  }

  /**
   * What a step returns: a scalar loss tensor, named scalar metrics (logged and averaged per epoch)
   * and, for fused losses, how to back-propagate it (null: {@code loss.backward()}).
   */
  record Result(Tensor loss, Map<String, Double> metrics, Backward backward) {
    /** Metric names: letters, digits, '_', '.', '-'. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.\\-]+");

    public Result {
      if (loss == null) throw new IllegalArgumentException("loss: expected a tensor, got null");
      Map<String, Double> m = new LinkedHashMap<>();
      if (metrics != null) {
        for (Map.Entry<String, Double> e : metrics.entrySet()) {
          if (e.getKey() == null || !NAME.matcher(e.getKey()).matches()) {
            throw new IllegalArgumentException(
                "metrics: expected names of letters, digits,"
                    + " '_', '.', '-', got \""
                    + e.getKey()
                    + "\"");
          }
          if (e.getValue() == null) {
            throw new IllegalArgumentException("metrics: \"" + e.getKey() + "\" is null");
          }
          m.put(e.getKey(), e.getValue());
        }
      }
      metrics = Collections.unmodifiableMap(m);
    }

    public static Result of(Tensor loss) {
      return new Result(loss, null, null);
    }

    public static Result of(Tensor loss, Map<String, Double> metrics) {
      return new Result(loss, metrics, null);
    }
  }
}
