package org.spinekit.lumbar;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The percentile window of a series: order statistics equal to those of the sorted sample. */
class LumbarInputsTest {
  /** The percentiles as a sort of the same sample gives them. */
  private static float[] sorted(float[] v, double lo, double hi) {
    int step = Math.max(1, (v.length + 65535) >> 16);
    float[] s = new float[(v.length + step - 1) / step];
    for (int i = 0, j = 0; i < v.length; i += step) s[j++] = v[i];
    Arrays.sort(s);
    int n = s.length;
    int a = (int) Math.max(0, Math.min(n - 1, Math.round(lo / 100.0 * (n - 1))));
    int b = (int) Math.max(0, Math.min(n - 1, Math.round(hi / 100.0 * (n - 1))));
    return new float[] {s[a], s[b]};
  }

  private static void same(float[] v, double lo, double hi) {
    float[] want = sorted(v, lo, hi);
    float[] got = LumbarInputs.percentiles(v.clone(), lo, hi);
    // Bits, not values: -0.0 and 0.0 (and NaN) must come out as the sort has them.
    assertEquals(Float.floatToRawIntBits(want[0]), Float.floatToRawIntBits(got[0]), "low");
    assertEquals(Float.floatToRawIntBits(want[1]), Float.floatToRawIntBits(got[1]), "high");
  }

  @Test
  void percentilesAreTheSortedSamplesOrderStatistics() {
    SplittableRandom r = new SplittableRandom(7);
    double[][] windows = {{1, 99.5}, {0, 100}, {50, 50}, {2, 98}, {99, 1}};
    for (int n : new int[] {1, 2, 3, 17, 100, 4096, 65536, 65537, 200_000, 245_760}) {
      float[] noise = new float[n], background = new float[n], ramp = new float[n];
      float[] down = new float[n], constant = new float[n], signed = new float[n];
      for (int i = 0; i < n; i++) {
        noise[i] = (float) r.nextGaussian() * 300 + 500;
        // Mostly zeros with a few levels: an MR series' background and tissue.
        background[i] = r.nextInt(10) < 7 ? 0f : r.nextInt(40) * 25f;
        ramp[i] = i;
        down[i] = n - i;
        constant[i] = 3f;
        signed[i] = r.nextInt(3) == 0 ? -0f : r.nextInt(3) == 0 ? 0f : r.nextInt(5) - 2;
      }
      for (float[] v : new float[][] {noise, background, ramp, down, constant, signed}) {
        for (double[] w : windows) same(v, w[0], w[1]);
      }
    }
  }

  @Test
  void nanSortsLastAsInTheSort() {
    float[] v = new float[1000];
    for (int i = 0; i < v.length; i++) v[i] = i % 10 == 0 ? Float.NaN : i;
    same(v, 1, 99.5);
    same(v, 0, 95);
  }

  @Test
  void anyWindowOfAnySampleMatchesTheSort() {
    SplittableRandom r = new SplittableRandom(11);
    for (int round = 0; round < 300; round++) {
      int n = 1 + r.nextInt(r.nextBoolean() ? 3000 : 150_000);
      int levels = 1 + r.nextInt(r.nextBoolean() ? 5 : 100_000);
      float[] v = new float[n];
      for (int i = 0; i < n; i++) v[i] = (r.nextInt(levels) - levels / 3) * 0.37f;
      same(v, r.nextDouble() * 100, r.nextDouble() * 100);
    }
  }

  @Test
  void keysOrderFloatsAsFloatCompare() {
    float[] f = {
      Float.NEGATIVE_INFINITY,
      -Float.MAX_VALUE,
      -1f,
      -Float.MIN_VALUE,
      -0f,
      0f,
      Float.MIN_VALUE,
      1f,
      Float.MAX_VALUE,
      Float.POSITIVE_INFINITY,
      Float.NaN
    };
    for (int i = 0; i < f.length; i++) {
      assertEquals(
          Float.floatToRawIntBits(f[i]),
          Float.floatToRawIntBits(LumbarInputs.value(LumbarInputs.key(f[i]))),
          "round trip of " + f[i]);
      for (int j = 0; j < f.length; j++) {
        assertEquals(
            Integer.signum(Float.compare(f[i], f[j])),
            Integer.signum(Integer.compareUnsigned(LumbarInputs.key(f[i]), LumbarInputs.key(f[j]))),
            f[i] + " against " + f[j]);
      }
    }
    int[] keys = {5, 1, 4};
    assertThrows(IndexOutOfBoundsException.class, () -> LumbarInputs.keyAt(keys, 3, new int[3]));
    assertEquals(4, LumbarInputs.keyAt(keys, 1, new int[3]));
    assertArrayEquals(new int[] {5, 1, 4}, keys, "the keys are left as they were");
  }
}
