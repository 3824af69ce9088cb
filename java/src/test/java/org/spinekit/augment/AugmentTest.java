package org.spinekit.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;
import org.spinekit.cervical.CervicalAugment;
import org.spinekit.internal.jni.Kernels;
import org.spinekit.internal.jni.Warp;
import org.spinekit.io.kaggle.Condition;
import org.spinekit.tensor.Tensors;
import org.spinekit.testing.NativeMemory;

/**
 * Keypoints against the image content they mark, left/right labels under flips, seeds and thread
 * counts, probabilities, and bad input.
 */
class AugmentTest {
  static final int H = 61, W = 80;

  static {
    Fixtures.init();
  }

  /**
   * One channel, a Gaussian blob (sigma 1.5) at (x, y), 0 elsewhere. At (40, 30), under the default
   * grid distortion, its image lies inside one output cell (x 32..48, y 24..36 for 5 steps), where
   * the map is affine, so that its centroid moves as its centre does.
   */
  static Sample blob(double x, double y) {
    float[] a = new float[H * W];
    for (int v = 0; v < H; v++) {
      for (int u = 0; u < W; u++) {
        double r2 = (u - x) * (u - x) + (v - y) * (v - y);
        a[v * W + u] = (float) Math.exp(-r2 / (2 * 1.5 * 1.5));
      }
    }
    return new Sample(
        Tensors.of(a, 1, H, W),
        null,
        Keypoints.of(new double[] {x, y}, new int[] {0}, Keypoints.UNPAIRED));
  }

  static double[] centroid(Tensor img) {
    float[] a = Fixtures.floats(img);
    long h = img.size(1), w = img.size(2);
    double s = 0, sx = 0, sy = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i];
      sx += a[i] * (i % w);
      sy += a[i] * (i / w);
    }
    return new double[] {sx / s, sy / s};
  }

  /** The keypoint lands where the blob it marks went, to 0.05 px. */
  static void assertFollows(Transform t, long seed, String what) {
    try (PointerScope scope = new PointerScope()) {
      Sample out = t.apply(blob(40, 30), seed);
      double[] c = centroid(out.image());
      Keypoints k = out.keypoints();
      assertEquals(c[0], k.x(0), 0.05, what + ": x of keypoint vs the blob's centroid");
      assertEquals(c[1], k.y(0), 0.05, what + ": y of keypoint vs the blob's centroid");
      assertTrue(k.inFrame(0), what + ": in frame");
    }
  }

  /**
   * The elastic transform's maps from the native kernel equal the Java formula ({@link
   * RandElastic#maps}) bit for bit, and its output equals the remap through the Java maps.
   */
  @Test
  void elasticNativeMapsEqualJavaMaps() {
    try (PointerScope scope = new PointerScope()) {
      RandElastic el = new RandElastic(1, 50, 50, 1);
      long h = 320, w = 320;
      Sample s =
          new Sample(
              Fixtures.image(Fixtures.smooth(3, 320, 320), 3, h, w),
              Fixtures.mask(Fixtures.labels(320, 320), h, w).to(ScalarType.Byte),
              null);
      for (long seed = 0; seed < 4; seed++) {
        RandElastic.Draw d = el.draw(new SplittableRandom(seed), h, w, s.image());
        float[][] m = RandElastic.maps(d, h, w);
        Tensor mx = s.image().new_empty(h, w), my = s.image().new_empty(h, w);
        Warp.elasticMaps(
            Warps.floats(s.image(), d.dx, h, w),
            Warps.floats(s.image(), d.dy, h, w),
            h,
            w,
            Warps.invert(d.affine),
            mx,
            my);
        assertArrayEquals(m[0], Fixtures.floats(mx), 0f, "map_x, seed " + seed);
        assertArrayEquals(m[1], Fixtures.floats(my), 0f, "map_y, seed " + seed);
        Sample viaJava = Warps.remap(s, m[0], m[1], null);
        Sample forced = el.force(s, new SplittableRandom(seed));
        assertArrayEquals(Fixtures.floats(viaJava.image()), Fixtures.floats(forced.image()), 0f);
        assertArrayEquals(Fixtures.ints(viaJava.mask()), Fixtures.ints(forced.mask()));
      }
    }
  }

  @Test
  void keypointsFollowTheImageContent() {
    for (long seed = 1; seed <= 5; seed++) {
      assertFollows(new RandShiftScaleRotate(0.0625, 0.05, 10, 1), seed, "shift-scale-rotate");
      assertFollows(new RandGridDistortion(5, 0.05, 1), seed, "grid distortion");
      // alpha_affine 5: the default 50 moves the blob of this small image out of frame.
      assertFollows(new RandElastic(10, 8, 5, 1), seed, "elastic");
    }
    assertFollows(new RandFlip(RandFlip.Axis.HORIZONTAL, 1), 1, "horizontal flip");
    assertFollows(new RandFlip(RandFlip.Axis.VERTICAL, 1), 1, "vertical flip");
    assertFollows(new Resize(150, 97), 0, "resize up");
    assertFollows(new Resize(40, 57), 0, "resize down");
    // Large rotations about the centre: a centre off by half a pixel moves the point by
    // more than 0.3 px here.
    for (double angle : new double[] {60, 90, -135}) {
      double[] m = RandShiftScaleRotate.matrix(angle, 1.1, 0.02, -0.03, H, W);
      assertFollows(
          (s, rng) -> Warps.affine(s, m, H, W, Warp.BORDER_CONSTANT), 0, "rotation " + angle);
    }
  }

  /** RSNA 2024 lumbar: labels are condition ordinals, mirrored by Condition.mirrored(). */
  static final IntUnaryOperator RSNA = c -> Condition.values()[c].mirrored().ordinal();

  static Sample lumbar() {
    int[] labels = {
      Condition.LEFT_NEURAL_FORAMINAL_NARROWING.ordinal(),
      Condition.RIGHT_NEURAL_FORAMINAL_NARROWING.ordinal(),
      Condition.LEFT_SUBARTICULAR_STENOSIS.ordinal(),
      Condition.RIGHT_SUBARTICULAR_STENOSIS.ordinal(),
      Condition.SPINAL_CANAL_STENOSIS.ordinal()
    };
    double[] xy = {10.5, 20, 69.5, 20, 30, 40.25, 49, 40.25, 39.5, 30};
    return new Sample(
        Tensors.of(Fixtures.smooth(1, H, W), 1, H, W), null, Keypoints.of(xy, labels, RSNA));
  }

  @Test
  void horizontalFlipSwapsLeftAndRightLabels() {
    Sample s = lumbar();
    Keypoints k = new RandFlip(RandFlip.Axis.HORIZONTAL, 1).apply(s, 3L).keypoints();
    Keypoints k0 = s.keypoints();
    for (int i = 0; i < k.size(); i++) {
      assertEquals(W - 1 - k0.x(i), k.x(i), 0.0);
      assertEquals(Condition.values()[k0.label(i)].mirrored().ordinal(), k.label(i));
    }
    assertEquals(Condition.RIGHT_NEURAL_FORAMINAL_NARROWING.ordinal(), k.label(0));
    assertEquals(Condition.LEFT_NEURAL_FORAMINAL_NARROWING.ordinal(), k.label(1));
    assertEquals(Condition.RIGHT_SUBARTICULAR_STENOSIS.ordinal(), k.label(2));
    assertEquals(Condition.SPINAL_CANAL_STENOSIS.ordinal(), k.label(4));
    // The left foramen (label) stays on the image's left side after the flip: the point now
    // at x = 69.5 - ... is labelled by its new side.
    assertEquals(W - 1 - 10.5, k.x(0), 0.0);
    // A vertical flip keeps labels; two horizontal flips give back the original.
    Keypoints kv = new RandFlip(RandFlip.Axis.VERTICAL, 1).apply(s, 3L).keypoints();
    Keypoints kk =
        new RandFlip(RandFlip.Axis.HORIZONTAL, 1)
            .apply(new RandFlip(RandFlip.Axis.HORIZONTAL, 1).apply(s, 1L), 2L)
            .keypoints();
    for (int i = 0; i < k.size(); i++) {
      assertEquals(k0.label(i), kv.label(i));
      assertEquals(k0.label(i), kk.label(i));
      assertEquals(k0.x(i), kk.x(i), 0.0);
    }
  }

  @Test
  void labelsSwapExactlyWhenThePipelineFlips() {
    // Whatever else the pipeline does, a point's label is mirrored iff the image was flipped;
    // the left foramen point (x = 10.5) of a flipped sample sits on the right half.
    Transform t = new Compose(RandFlip.horizontal(), RandBrightnessContrast.defaults());
    int flipped = 0;
    for (long seed = 0; seed < 200; seed++) {
      try (PointerScope scope = new PointerScope()) {
        Keypoints k = t.apply(lumbar(), seed).keypoints();
        boolean f = k.x(0) > W / 2.0;
        assertEquals(
            f
                ? Condition.RIGHT_NEURAL_FORAMINAL_NARROWING.ordinal()
                : Condition.LEFT_NEURAL_FORAMINAL_NARROWING.ordinal(),
            k.label(0),
            "seed " + seed);
        if (f) flipped++;
      }
    }
    assertTrue(flipped > 70 && flipped < 130, "flipped " + flipped + " of 200 at p = 0.5");
  }

  @Test
  void pairsMirrorGivenLabels() {
    IntUnaryOperator m = Keypoints.pairs(new int[][] {{1, 2}, {5, 7}});
    assertEquals(2, m.applyAsInt(1));
    assertEquals(1, m.applyAsInt(2));
    assertEquals(5, m.applyAsInt(7));
    assertEquals(3, m.applyAsInt(3));
  }

  @Test
  void keypointsLeavingTheFrameAreReportedAndStayOut() {
    Sample s = lumbar();
    double[] shift = {1, 0, 20, 0, 1, 0}; // 20 px to the right
    Sample out = Warps.affine(s, shift, H, W, Warp.BORDER_CONSTANT);
    Keypoints k = out.keypoints();
    assertFalse(k.inFrame(1), "x = 69.5 + 20 is out");
    assertTrue(k.inFrame(0), "x = 30.5 is in");
    assertEquals(89.5, k.x(1), 1e-12, "coordinates go on being transformed");
    double[] back = {1, 0, -20, 0, 1, 0};
    Keypoints k2 = Warps.affine(out, back, H, W, Warp.BORDER_CONSTANT).keypoints();
    assertFalse(k2.inFrame(1), "once out, out");
    assertEquals(69.5, k2.x(1), 1e-12);
    // The edge of the frame: -0.5 is in, W - 0.5 is out.
    Keypoints e =
        Keypoints.of(new double[] {-0.5, 0, W - 0.5, 0, -0.51, 3}, new int[3], Keypoints.UNPAIRED)
            .affine(new double[] {1, 0, 0, 0, 1, 0}, H, W);
    assertTrue(e.inFrame(0));
    assertFalse(e.inFrame(1));
    assertFalse(e.inFrame(2));
  }

  static Sample big(long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    int h = 320, w = 320;
    float[] a = Fixtures.smooth(3, h, w);
    for (int i = 0; i < a.length; i += 97) a[i] += (float) r.nextDouble();
    long[] m = new long[h * w];
    for (int i = 0; i < m.length; i++) m[i] = (i / w / 40 + i % w / 40) % 4;
    double[] xy = {100, 120, 220, 120, 160, 300};
    return new Sample(
        Tensors.of(a, 3, h, w),
        Tensors.of(m, h, w).to(ScalarType.Byte),
        Keypoints.of(xy, new int[] {1, 2, 3}, Keypoints.pairs(new int[][] {{1, 2}})));
  }

  static Object[] snapshot(Sample s) {
    Keypoints k = s.keypoints();
    double[] kp = new double[3 * k.size()];
    for (int i = 0; i < k.size(); i++) {
      kp[3 * i] = k.x(i);
      kp[3 * i + 1] = k.y(i);
      kp[3 * i + 2] = k.label(i) + (k.inFrame(i) ? 0.5 : 0);
    }
    return new Object[] {Fixtures.floats(s.image()), Fixtures.ints(s.mask()), kp};
  }

  @Test
  void sameSeedSameOutputOnEveryThreadCount() {
    // Every transform forced on, so that each kernel runs.
    Transform all =
        new Compose(
            new RandFlip(RandFlip.Axis.HORIZONTAL, 1),
            new RandShiftScaleRotate(0.0625, 0.05, 10, 1),
            new RandGridDistortion(5, 0.05, 1),
            new RandElastic(1, 50, 50, 1),
            new RandBrightnessContrast(0.2, 0.2, 1));
    try (PointerScope scope = new PointerScope()) {
      Sample in = big(1);
      Object[] first = null;
      for (int threads : new int[] {1, 2, 3, 1}) {
        Kernels.setNumThreads(threads);
        Object[] o = snapshot(all.apply(in, 42L));
        if (first == null) {
          first = o;
        } else {
          assertArrayEquals((float[]) first[0], (float[]) o[0], "image, threads " + threads);
          assertArrayEquals((int[]) first[1], (int[]) o[1], "mask, threads " + threads);
          assertArrayEquals((double[]) first[2], (double[]) o[2], "keypoints, threads " + threads);
        }
      }
      Kernels.setNumThreads(2);
      Object[] other = snapshot(all.apply(in, 43L));
      assertFalse(Arrays.equals((float[]) first[0], (float[]) other[0]), "another seed differs");
      // The input is untouched.
      assertArrayEquals(Fixtures.floats(big(1).image()), Fixtures.floats(in.image()));
    }
  }

  @Test
  void cervicalPipelineIsDeterministicAndFiresAsOften() {
    Compose p = CervicalAugment.pipeline();
    int unchanged = 0;
    try (PointerScope scope = new PointerScope()) {
      Sample in = big(2);
      for (long i = 0; i < 40; i++) {
        long seed = Seeds.of(7, 3, i);
        Sample a = p.apply(in, seed);
        Sample b = p.apply(in, seed);
        Object[] sa = snapshot(a), sb = snapshot(b);
        assertArrayEquals((float[]) sa[0], (float[]) sb[0]);
        assertArrayEquals((int[]) sa[1], (int[]) sb[1]);
        assertArrayEquals((double[]) sa[2], (double[]) sb[2]);
        if (a.image() == in.image()) unchanged++;
      }
    }
    // Nothing fires with probability 0.5 * 0.5 * 0.75 = 0.1875: about 7.5 of 40.
    assertTrue(unchanged >= 1 && unchanged <= 18, unchanged + " of 40 unchanged");
    assertNotEquals(Seeds.of(7, 3, 1), Seeds.of(7, 4, 1));
    assertNotEquals(Seeds.of(7, 3, 1), Seeds.of(7, 3, 2));
  }

  @Test
  void oneOfChoosesByTheChildrensProbabilities() {
    Transform t =
        new OneOf(
            1.0,
            new RandFlip(RandFlip.Axis.HORIZONTAL, 0.3),
            new RandFlip(RandFlip.Axis.VERTICAL, 0.1));
    int horizontal = 0, n = 400;
    Sample s = lumbar();
    for (long seed = 0; seed < n; seed++) {
      try (PointerScope scope = new PointerScope()) {
        Keypoints k = t.apply(s, seed).keypoints();
        if (k.x(0) != s.keypoints().x(0)) horizontal++;
        else assertEquals(H - 1 - s.keypoints().y(0), k.y(0), 0.0, "else vertical");
      }
    }
    assertTrue(Math.abs(horizontal - 0.75 * n) < 45, horizontal + " of " + n + " horizontal");
    Transform never = new Compose(0.0, RandFlip.horizontal());
    assertSame(s, never.apply(s, 5L));
  }

  @Test
  void badInputIsRefusedNamingTheArgument() {
    Tensor img = Tensors.of(Fixtures.smooth(3, H, W), 3, H, W);
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Sample(img, Fixtures.mask(Fixtures.labels(H, W + 1), H, W + 1), null));
    assertTrue(e.getMessage().startsWith("mask: expected shape [61, 80]"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Sample(Tensors.of(Fixtures.smooth(1, H, W), H, W), null, null));
    assertTrue(e.getMessage().startsWith("image: expected rank 3"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Sample(img.to(ScalarType.Double), null, null));
    assertTrue(e.getMessage().startsWith("image: expected dtype Float"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Sample(img, Tensors.of(new float[H * W], H, W), null));
    assertTrue(e.getMessage().startsWith("mask: expected an integer dtype"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> new Sample(img.transpose(1, 2), null, null));
    assertTrue(e.getMessage().startsWith("image: expected a contiguous tensor"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Sample(null, null, null));
    assertTrue(e.getMessage().startsWith("image: expected a tensor"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Keypoints.of(new double[] {1, 2, 3}, new int[1], Keypoints.UNPAIRED));
    assertTrue(e.getMessage().startsWith("xy:"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Keypoints.of(new double[] {1, Double.NaN}, new int[1], Keypoints.UNPAIRED));
    assertTrue(e.getMessage().startsWith("xy: expected finite"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> new RandFlip(RandFlip.Axis.VERTICAL, 1.5));
    assertTrue(e.getMessage().startsWith("p:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new RandElastic(1, 0, 50, 0.5));
    assertTrue(e.getMessage().startsWith("sigma:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new RandGridDistortion(0, 0.05, 0.5));
    assertTrue(e.getMessage().startsWith("numSteps:"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Resize(0, 5));
    assertTrue(e.getMessage().startsWith("size:"), e.getMessage());
  }

  @Test
  void nanPixelsStayWhereTheyAreMapped() {
    float[] a = Fixtures.smooth(1, H, W);
    a[30 * W + 40] = Float.NaN;
    Sample s = new Sample(Tensors.of(a, 1, H, W), Fixtures.mask(Fixtures.labels(H, W), H, W), null);
    double[] m = RandShiftScaleRotate.matrix(7, 1.03, 0.02, 0.01, H, W);
    Sample out = Warps.affine(s, m, H, W, Warp.BORDER_CONSTANT);
    float[] o = Fixtures.floats(out.image());
    double qx = m[0] * 40 + m[1] * 30 + m[2], qy = m[3] * 40 + m[4] * 30 + m[5];
    int nans = 0;
    for (int i = 0; i < o.length; i++) {
      if (Float.isNaN(o[i])) {
        nans++;
        assertTrue(
            Math.abs(i % W - qx) < 1.6 && Math.abs(i / W - qy) < 1.6,
            "NaN at (" + i % W + ", " + i / W + ") far from (" + qx + ", " + qy + ")");
      }
    }
    assertTrue(nans >= 1 && nans <= 9, nans + " NaN outputs");
    for (int v : Fixtures.ints(out.mask())) assertTrue(v >= 0 && v < 6, "mask unaffected");
    Sample bc = new RandBrightnessContrast(0.2, 0.2, 1).apply(s, 1L);
    float[] b = Fixtures.floats(bc.image());
    assertTrue(Float.isNaN(b[30 * W + 40]));
    assertEquals(1, countNaN(b));
  }

  static int countNaN(float[] a) {
    int n = 0;
    for (float v : a) if (Float.isNaN(v)) n++;
    return n;
  }

  @Test
  void nativeMemoryStaysFlat() {
    Compose p = CervicalAugment.withBrightnessContrast();
    try (PointerScope outer = new PointerScope()) {
      Sample in =
          new Sample(
              Tensors.of(Fixtures.smooth(3, 64, 64), 3, 64, 64),
              Fixtures.mask(Fixtures.labels(64, 64), 64, 64),
              null);
      for (int i = 0; i < 300; i++) {
        try (PointerScope scope = new PointerScope()) {
          p.apply(in, (long) i);
        }
      }
      NativeMemory.Reading before = NativeMemory.settled();
      for (int i = 300; i < 1300; i++) {
        try (PointerScope scope = new PointerScope()) {
          p.apply(in, (long) i);
        }
      }
      NativeMemory.assertTrackedFlat(before, NativeMemory.settled(), "after 1,000 calls");
    }
  }
}
