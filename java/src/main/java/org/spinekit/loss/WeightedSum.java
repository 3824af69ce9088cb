package org.spinekit.loss;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;

/**
 * A weighted sum of losses of the same prediction and target: {@code sum_i w_i L_i(p, t)}, e.g.
 * Dice + cross entropy for the 2.5D segmentation. Each term must give a scalar. Immutable: {@link
 * #plus} returns a longer copy.
 *
 * <pre>{@code
 * Loss seg = WeightedSum.of("dice", 1.0, DiceLoss.multiclass())
 *     .plus("ce", 1.0, new CrossEntropy());
 * }</pre>
 */
public final class WeightedSum implements Loss {
  /** One named, weighted term. */
  public record Term(String name, double weight, Loss loss) {}

  /** The total and each term's unweighted value, for logging. */
  public record Values(Tensor total, Map<String, Tensor> terms) {}

  private final List<Term> terms;

  private WeightedSum(List<Term> terms) {
    this.terms = List.copyOf(terms);
  }

  /** A sum of one term. */
  public static WeightedSum of(String name, double weight, Loss loss) {
    return new WeightedSum(List.of()).plus(name, weight, loss);
  }

  /** This sum with one more term; names are unique, weights finite. */
  public WeightedSum plus(String name, double weight, Loss loss) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("name: expected a term name, got none");
    }
    Checks.finite(weight, "weight of " + name);
    if (loss == null)
      throw new IllegalArgumentException("loss: expected a Loss for " + name + ", got null");
    for (Term t : terms) {
      if (t.name().equals(name)) {
        throw new IllegalArgumentException("name: '" + name + "' is already a term");
      }
    }
    List<Term> more = new ArrayList<>(terms);
    more.add(new Term(name, weight, loss));
    return new WeightedSum(more);
  }

  public List<Term> terms() {
    return terms;
  }

  @Override
  public Tensor apply(Tensor prediction, Tensor target) {
    return values(prediction, target).total();
  }

  /** The total and the unweighted value of each term (tensors belong to the caller). */
  public Values values(Tensor prediction, Tensor target) {
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> each = new LinkedHashMap<>();
      Tensor total = null;
      for (Term t : terms) {
        Tensor v = t.loss().apply(prediction, target);
        if (v == null || v.dim() != 0) {
          throw new IllegalArgumentException(
              "loss '"
                  + t.name()
                  + "': expected a scalar, got "
                  + (v == null ? "null" : "shape " + Checks.shapeString(v)));
        }
        each.put(t.name(), v);
        Tensor wv = v.mul(new Scalar(t.weight()));
        total = total == null ? wv : total.add(wv);
      }
      Map<String, Tensor> out = new LinkedHashMap<>();
      for (Map.Entry<String, Tensor> e : each.entrySet()) {
        out.put(e.getKey(), Outputs.handOut(scope, e.getValue()));
      }
      return new Values(Outputs.handOut(scope, total), Collections.unmodifiableMap(out));
    }
  }
}
