package org.spinekit.train;

/**
 * PyTorch's {@code StepLR}: the rate times {@code gamma} every {@code stepSize} steps or epochs,
 * {@code lr = base * gamma^floor(t / stepSize)}.
 */
public record StepDecay(Interval interval, long stepSize, double gamma) implements LrSchedule {
  public StepDecay {
    if (interval == null) {
      throw new IllegalArgumentException("interval: expected STEP or EPOCH, got null");
    }
    if (stepSize < 1) {
      throw new IllegalArgumentException("stepSize: expected >= 1, got " + stepSize);
    }
    if (!(gamma > 0) || Double.isInfinite(gamma)) {
      throw new IllegalArgumentException("gamma: expected a finite factor > 0, got " + gamma);
    }
  }

  @Override
  public double[] lrs(double[] base, long t) {
    if (t < 0) throw new IllegalArgumentException("t: expected >= 0, got " + t);
    double f = Math.pow(gamma, Math.floorDiv(t, stepSize)); // torch: gamma ** (t // step)
    double[] out = new double[base.length];
    for (int i = 0; i < base.length; i++) out[i] = base[i] * f;
    return out;
  }
}
