package org.spinekit.synth;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.io.kaggle.Grade;
import org.spinekit.io.kaggle.Level;

/**
 * The 25 grades of one synthetic lumbar study: one {@link Grade} per (condition, level). Immutable.
 *
 * <p>{@link #random} draws them with the skew of the RSNA 2024 training set: mostly Normal/Mild,
 * degeneration concentrated at L4/L5 and L5/S1, neighbouring conditions of one level correlated
 * through a shared per-level degeneration score, and about one study in three markedly degenerate
 * so that Moderate and Severe grades turn up even in small sets.
 */
public final class LumbarGrades {
  private static final int N = Level.values().length;

  /** Per-level offsets of the degeneration score, L1/L2 .. L5/S1. */
  private static final double[] LEVEL_BIAS = {-1.3, -0.9, -0.35, 0.55, 0.35};

  private final Grade[] grades; // [condition][level] flattened
  private final double[] degeneration; // per level, 0 (healthy disc) .. 1

  private LumbarGrades(Grade[] grades, double[] degeneration) {
    this.grades = grades;
    this.degeneration = degeneration;
  }

  /** Every (condition, level) at grade {@code g}; disc degeneration follows the grade. */
  public static LumbarGrades all(Grade g) {
    Objects.requireNonNull(g, "grade");
    Grade[] a = new Grade[Condition.values().length * N];
    Arrays.fill(a, g);
    double[] d = new double[N];
    Arrays.fill(d, discDegeneration(g));
    return new LumbarGrades(a, d);
  }

  /**
   * Grades drawn from {@code rnd} (which it advances by a fixed number of draws, whatever the
   * outcome).
   */
  public static LumbarGrades random(SplittableRandom rnd) {
    double study = gaussian(rnd) * 0.7 + (rnd.nextDouble() < 0.35 ? 1.1 : 0.0);
    Grade[] a = new Grade[Condition.values().length * N];
    double[] deg = new double[N];
    for (Level l : Level.values()) {
      int li = l.ordinal();
      double level = study + LEVEL_BIAS[li] + 0.45 * gaussian(rnd);
      deg[li] = clamp((level + 0.6) / 2.4, 0, 1);
      for (Condition c : Condition.values()) {
        double offset =
            switch (c) {
              case SPINAL_CANAL_STENOSIS -> -0.55;
              case LEFT_NEURAL_FORAMINAL_NARROWING, RIGHT_NEURAL_FORAMINAL_NARROWING ->
                  li == 4 ? 0.05 : -0.35;
              case LEFT_SUBARTICULAR_STENOSIS, RIGHT_SUBARTICULAR_STENOSIS -> -0.15;
            };
        double score = level + offset + 0.55 * gaussian(rnd);
        a[c.ordinal() * N + li] =
            score < 0.85 ? Grade.NORMAL_MILD : score < 1.65 ? Grade.MODERATE : Grade.SEVERE;
      }
    }
    return new LumbarGrades(a, deg);
  }

  public Grade get(Condition c, Level l) {
    return grades[c.ordinal() * N + l.ordinal()];
  }

  /** A copy with one grade changed (the disc degeneration of that level is kept). */
  public LumbarGrades with(Condition c, Level l, Grade g) {
    Objects.requireNonNull(g, "grade");
    Grade[] a = grades.clone();
    a[c.ordinal() * N + l.ordinal()] = g;
    return new LumbarGrades(a, degeneration.clone());
  }

  /**
   * How degenerate the disc of level {@code l} is, 0 (healthy: tall, bright nucleus on T2) to 1
   * (flattened, dark).
   */
  public double discDegeneration(Level l) {
    return degeneration[l.ordinal()];
  }

  private static double discDegeneration(Grade g) {
    return switch (g) {
      case NORMAL_MILD -> 0.1;
      case MODERATE -> 0.5;
      case SEVERE -> 0.85;
    };
  }

  /**
   * An approximately standard normal draw made of four uniforms: pure arithmetic, so the same on
   * every JVM.
   */
  static double gaussian(SplittableRandom rnd) {
    long b = rnd.nextLong();
    double sum = 0;
    for (int i = 0; i < 4; i++) {
      sum += ((b >>> (16 * i)) & 0xffff) + 0.5;
    }
    return (sum / 65536.0 - 2.0) * 1.7320508075688772;
  }

  static double clamp(double x, double lo, double hi) {
    return x < lo ? lo : x > hi ? hi : x;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LumbarGrades g
        && Arrays.equals(grades, g.grades)
        && Arrays.equals(degeneration, g.degeneration);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(grades) * 31 + Arrays.hashCode(degeneration);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("LumbarGrades[");
    for (Condition c : Condition.values()) {
      for (Level l : Level.values()) {
        Grade g = get(c, l);
        if (g != Grade.NORMAL_MILD) {
          sb.append(c.key).append('_').append(l.key).append('=').append(g.key).append(' ');
        }
      }
    }
    return sb.append(']').toString();
  }
}
