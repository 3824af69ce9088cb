package org.spinekit.train;

/**
 * Linear warm-up then cosine annealing to a floor: PyTorch's {@code SequentialLR} of {@code
 * LinearLR(start_factor, 1.0, total_iters=warmup)} and {@code CosineAnnealingLR(T_max=length,
 * eta_min=floor)} with the milestone at {@code warmup}:
 *
 * <pre>
 *   t &lt; warmup:  lr = base * (startFactor + (1 - startFactor) * t / warmup)
 *   t &gt;= warmup: lr = floor + (base - floor) * (1 + cos(pi * (t - warmup) / length)) / 2
 * </pre>
 *
 * (past {@code warmup + length} the cosine goes on, as PyTorch's does; size {@code length} to the
 * run). The cervical write-up's "CosineAnnealingLR + GradualWarmupSchedulerV3" is {@link
 * #gradualWarmup}: with multiplier m the rate climbs from base/m to base over the warm-up epochs,
 * then anneals.
 *
 * @param warmup warm-up length (0: none)
 * @param startFactor fraction of the base rate at t = 0 (in (0, 1])
 * @param length cosine half-period T_max (at least 1)
 * @param floor eta_min, the rate at the end of the cosine
 */
public record WarmupCosine(
    Interval interval, long warmup, double startFactor, long length, double floor)
    implements LrSchedule {
  public WarmupCosine {
    if (interval == null) {
      throw new IllegalArgumentException("interval: expected STEP or EPOCH, got null");
    }
    if (warmup < 0) throw new IllegalArgumentException("warmup: expected >= 0, got " + warmup);
    if (!(startFactor > 0 && startFactor <= 1)) {
      throw new IllegalArgumentException("startFactor: expected in (0, 1], got " + startFactor);
    }
    if (length < 1) throw new IllegalArgumentException("length: expected >= 1, got " + length);
    if (!(floor >= 0) || Double.isInfinite(floor)) {
      throw new IllegalArgumentException("floor: expected a finite rate >= 0, got " + floor);
    }
  }

  /**
   * GradualWarmupSchedulerV3(multiplier, total_epoch=warmup) + CosineAnnealingLR over the rest of
   * {@code total}: from base/multiplier up to base in {@code warmup}, then cosine down to {@code
   * floor} at {@code total}.
   */
  public static WarmupCosine gradualWarmup(
      Interval interval, double multiplier, long warmup, long total, double floor) {
    if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException(
          "multiplier: expected a finite value >= 1, got " + multiplier);
    }
    if (total <= warmup) {
      throw new IllegalArgumentException(
          "total: expected more than warmup (" + warmup + "), got " + total);
    }
    return new WarmupCosine(interval, warmup, 1 / multiplier, total - warmup, floor);
  }

  @Override
  public double[] lrs(double[] base, long t) {
    double[] out = new double[base.length];
    for (int i = 0; i < base.length; i++) out[i] = lr(base[i], t);
    return out;
  }

  /** The rate of a group with base rate {@code base} at time {@code t}. */
  public double lr(double base, long t) {
    if (t < 0) throw new IllegalArgumentException("t: expected >= 0, got " + t);
    if (t < warmup) {
      return base * (startFactor + (1 - startFactor) * Math.min(warmup, t) / warmup);
    }
    return floor + (base - floor) * (1 + Math.cos(Math.PI * (t - warmup) / length)) / 2;
  }
}
