package org.spinekit.train;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.spinekit.nn.Net;

/**
 * The validation of a {@link Trainer} at the end of each epoch: metrics of {@code model} over the
 * validation loader. The trainer calls it with the model in eval mode, gradients off, and the EMA
 * weights swapped in when EMA is on; the names it returns are logged with the prefix {@code
 * valid_}.
 */
@FunctionalInterface
public interface Validation<M extends Net> {
  Map<String, Double> run(M model, DataLoader loader, int epoch);

  /**
   * The mean of {@code step}'s loss ("loss") and metrics over the batches of the loader's epoch,
   * weighted by batch size; one {@link PointerScope} per batch.
   */
  static <M extends Net> Validation<M> mean(Step<M> step) {
    if (step == null) throw new IllegalArgumentException("step: expected a step, got null");
    return (model, loader, epoch) -> {
      Map<String, Double> sums = new LinkedHashMap<>();
      long n = 0;
      for (var it = loader.epoch(epoch); it.hasNext(); ) {
        try (PointerScope scope = new PointerScope();
            Batch b = it.next()) {
          Step.Result r = step.run(model, b);
          int w = b.size();
          sums.merge("loss", r.loss().item_double() * w, Double::sum);
          for (Map.Entry<String, Double> e : r.metrics().entrySet()) {
            sums.merge(e.getKey(), e.getValue() * w, Double::sum);
          }
          n += w;
        }
      }
      Map<String, Double> out = new LinkedHashMap<>();
      for (Map.Entry<String, Double> e : sums.entrySet()) out.put(e.getKey(), e.getValue() / n);
      return out;
    };
  }
}
