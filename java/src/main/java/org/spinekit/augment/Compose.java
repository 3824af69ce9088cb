package org.spinekit.augment;

import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.tensor.Outputs;

/**
 * Transforms in sequence, the whole applied with probability p (1 by default). Each child draws
 * from its own generator split from the sample's in a fixed order, so whether one child fires does
 * not change the draws of the next. Intermediate tensors are freed on return.
 */
public final class Compose implements Transform {
  private final double p;
  private final List<Transform> children;

  public Compose(double p, Transform... children) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("p: expected a probability in [0, 1], got " + p);
    }
    if (children == null || children.length == 0) {
      throw new IllegalArgumentException("children: expected at least one transform, got none");
    }
    for (int i = 0; i < children.length; i++) {
      if (children[i] == null) {
        throw new IllegalArgumentException("children: transform " + i + " is null");
      }
    }
    this.p = p;
    this.children = List.of(children);
  }

  public Compose(Transform... children) {
    this(1.0, children);
  }

  public List<Transform> children() {
    return children;
  }

  @Override
  public Sample apply(Sample sample, SplittableRandom rng) {
    if (sample == null) throw new IllegalArgumentException("sample: expected a sample, got null");
    boolean fire = rng.nextDouble() < p;
    SplittableRandom[] streams = new SplittableRandom[children.size()];
    for (int i = 0; i < streams.length; i++) streams[i] = rng.split();
    if (!fire) return sample;
    try (PointerScope scope = new PointerScope()) {
      Sample s = sample;
      for (int i = 0; i < streams.length; i++) s = children.get(i).apply(s, streams[i]);
      if (s == sample) return sample;
      return new Sample(
          handOut(scope, s.image(), sample.image()),
          handOut(scope, s.mask(), sample.mask()),
          s.keypoints());
    }
  }

  /** The caller's own tensors stay theirs; new ones leave this scope for the caller's. */
  @SuppressWarnings("ReferenceEquality") // the same native object, not an equal one
  static Tensor handOut(PointerScope scope, Tensor t, Tensor original) {
    return t == original ? t : Outputs.handOut(scope, t);
  }
}
