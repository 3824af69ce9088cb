package org.spinekit.augment;

import java.util.List;
import java.util.SplittableRandom;

/**
 * With probability p, one of the children, chosen with probability proportional to the children's
 * own p (as albumentations' OneOf), applied unconditionally.
 */
public final class OneOf implements Transform {
  private final double p;
  private final List<RandTransform> children;

  public OneOf(double p, RandTransform... children) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("p: expected a probability in [0, 1], got " + p);
    }
    if (children == null || children.length == 0) {
      throw new IllegalArgumentException("children: expected at least one transform, got none");
    }
    double total = 0;
    for (int i = 0; i < children.length; i++) {
      if (children[i] == null) {
        throw new IllegalArgumentException("children: transform " + i + " is null");
      }
      total += children[i].p();
    }
    if (!(total > 0)) {
      throw new IllegalArgumentException("children: expected at least one child with p > 0");
    }
    this.p = p;
    this.children = List.of(children);
  }

  public List<RandTransform> children() {
    return children;
  }

  @Override
  public Sample apply(Sample sample, SplittableRandom rng) {
    if (sample == null) throw new IllegalArgumentException("sample: expected a sample, got null");
    if (!(rng.nextDouble() < p)) return sample;
    double total = 0;
    for (RandTransform t : children) total += t.p();
    double u = rng.nextDouble() * total;
    RandTransform chosen = children.get(children.size() - 1);
    double acc = 0;
    for (RandTransform t : children) {
      acc += t.p();
      if (u < acc && t.p() > 0) {
        chosen = t;
        break;
      }
    }
    return chosen.force(sample, rng);
  }
}
