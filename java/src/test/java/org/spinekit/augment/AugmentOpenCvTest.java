package org.spinekit.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.junit.jupiter.api.Test;

/**
 * The geometric transforms against OpenCV (JavaCPP preset) on the same float32 planes, maps and
 * matrices.
 *
 * <p>Tolerances. warpAffine and remap: OpenCV quantises the sub-pixel position to 1/32 px
 * (INTER_TAB_SIZE) even for float32 images and maps, so its bilinear value may be off by up to 1/64
 * px per axis times the spread of the 2x2 footprint; each pixel is checked against |ours - opencv|
 * <= spread / 32 + 1e-5, where spread = max - min of the footprint's source values (0 outside).
 * (The kernels themselves are checked exactly, to 2e-6, against a double reference in
 * native/test/test_warp.cpp.) resize: float weights on both sides, 1e-5. flip: exact. Masks: exact,
 * except at ties: where the source coordinate is within 1/256 px of a half-way point for warpAffine
 * (OpenCV rounds on a 1/1024 grid) and exactly half-way for remap (OpenCV rounds half to even, we
 * round half up). Keypoints: to 1e-4 px against the transform's matrix applied by hand.
 */
class AugmentOpenCvTest {
  static final int C = 3, H = 61, W = 80;

  static {
    Fixtures.init();
  }

  /** Source coordinate of output (u, v) under the inverse matrix. */
  static double[] at(double[] inv, int u, int v) {
    return new double[] {inv[0] * u + inv[1] * v + inv[2], inv[3] * u + inv[4] * v + inv[5]};
  }

  static double px(float[] img, int k, int h, int w, long x, long y) {
    return x < 0 || y < 0 || x >= w || y >= h ? 0 : img[(int) ((k * h + y) * w + x)];
  }

  /** Checks image planes against OpenCV with the footprint-spread bound. */
  static void assertBilinear(
      float[] src,
      float[] ours,
      float[] cv,
      int h,
      int w,
      int ho,
      int wo,
      java.util.function.BiFunction<Integer, Integer, double[]> coord,
      String what) {
    int c = src.length / (h * w);
    double worst = 0;
    for (int k = 0; k < c; k++) {
      for (int v = 0; v < ho; v++) {
        for (int u = 0; u < wo; u++) {
          double[] xy = coord.apply(u, v);
          long x0 = (long) Math.floor(xy[0]), y0 = (long) Math.floor(xy[1]);
          double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
          for (int dy = 0; dy < 2; dy++) {
            for (int dx = 0; dx < 2; dx++) {
              double p = px(src, k, h, w, x0 + dx, y0 + dy);
              lo = Math.min(lo, p);
              hi = Math.max(hi, p);
            }
          }
          int i = (k * ho + v) * wo + u;
          double d = Math.abs(ours[i] - cv[i]);
          double bound = (hi - lo) / 32 + 1e-5;
          if (!(d <= bound)) {
            fail(
                what
                    + ": channel "
                    + k
                    + " pixel ("
                    + u
                    + ", "
                    + v
                    + ") is "
                    + ours[i]
                    + ", OpenCV "
                    + cv[i]
                    + ", bound "
                    + bound);
          }
          worst = Math.max(worst, d);
        }
      }
    }
    assertTrue(worst < 0.02, what + ": largest difference " + worst);
  }

  static boolean tie(double x, double tol) {
    double f = x - Math.floor(x);
    return Math.abs(f - 0.5) <= tol;
  }

  static void assertMask(
      int[] ours,
      int[] cv,
      int wo,
      java.util.function.BiFunction<Integer, Integer, double[]> coord,
      double tieTol,
      String what) {
    int ties = 0;
    for (int i = 0; i < ours.length; i++) {
      if (ours[i] == cv[i]) continue;
      double[] xy = coord.apply(i % wo, i / wo);
      if (!tie(xy[0], tieTol) && !tie(xy[1], tieTol)) {
        fail(
            what
                + ": pixel ("
                + (i % wo)
                + ", "
                + (i / wo)
                + ") is "
                + ours[i]
                + ", OpenCV "
                + cv[i]
                + " at source ("
                + xy[0]
                + ", "
                + xy[1]
                + "), not a tie");
      }
      ties++;
    }
    assertTrue(ties <= ours.length / 100, what + ": " + ties + " tie pixels differ");
  }

  static Sample sample(float[] img, int[] maskOut, double[] kp) {
    long[] lab = Fixtures.labels(H, W);
    for (int i = 0; i < lab.length; i++) maskOut[i] = (int) lab[i];
    Keypoints k = kp == null ? null : Keypoints.of(kp, new int[kp.length / 2], Keypoints.UNPAIRED);
    return new Sample(Fixtures.image(img, C, H, W), Fixtures.mask(lab, H, W), k);
  }

  static final double[] POINTS = {0, 0, 79, 60, 40.25, 30.5, 12.3, 47.9, 70.1, 3.3};

  @Test
  void shiftScaleRotateMatchesWarpAffine() {
    float[] img = Fixtures.smooth(C, H, W);
    int[] mask = new int[H * W];
    RandShiftScaleRotate t = new RandShiftScaleRotate(0.0625, 0.05, 10, 1.0);
    for (long seed = 1; seed <= 6; seed++) {
      try (PointerScope scope = new PointerScope()) {
        Sample s = sample(img, mask, POINTS);
        double[] m = t.draw(new SplittableRandom(seed), H, W);
        Sample out = t.force(s, new SplittableRandom(seed));
        double[] inv = Warps.invert(m);
        float[] cv =
            Fixtures.cvWarpAffine(
                img, C, H, W, inv, H, W, opencv_imgproc.INTER_LINEAR, opencv_core.BORDER_CONSTANT);
        assertBilinear(
            img,
            Fixtures.floats(out.image()),
            cv,
            H,
            W,
            H,
            W,
            (u, v) -> at(inv, u, v),
            "shift-scale-rotate seed " + seed);
        int[] cvMask =
            Fixtures.cvWarpAffineMask(mask, H, W, inv, H, W, opencv_core.BORDER_CONSTANT);
        assertMask(
            Fixtures.ints(out.mask()),
            cvMask,
            W,
            (u, v) -> at(inv, u, v),
            1.0 / 256,
            "shift-scale-rotate mask seed " + seed);
        Keypoints k = out.keypoints();
        for (int i = 0; i < k.size(); i++) {
          double x = POINTS[2 * i], y = POINTS[2 * i + 1];
          assertEquals(m[0] * x + m[1] * y + m[2], k.x(i), 1e-4, "keypoint x " + i);
          assertEquals(m[3] * x + m[4] * y + m[5], k.y(i), 1e-4, "keypoint y " + i);
        }
      }
    }
  }

  @Test
  void affineWithLargeAnglesAndScalesMatchesWarpAffine() {
    float[] img = Fixtures.smooth(C, H, W);
    int[] mask = new int[H * W];
    double[][] params = {{37, 0.6, 0.1, -0.2}, {-170, 1.7, -0.3, 0.05}, {90, 1.0, 0, 0}};
    for (double[] p : params) {
      try (PointerScope scope = new PointerScope()) {
        Sample s = sample(img, mask, null);
        double[] m = RandShiftScaleRotate.matrix(p[0], p[1], p[2], p[3], H, W);
        Sample out = Warps.affine(s, m, H, W, org.spinekit.internal.jni.Warp.BORDER_CONSTANT);
        double[] inv = Warps.invert(m);
        float[] cv =
            Fixtures.cvWarpAffine(
                img, C, H, W, inv, H, W, opencv_imgproc.INTER_LINEAR, opencv_core.BORDER_CONSTANT);
        String what = "affine angle " + p[0] + " scale " + p[1];
        assertBilinear(
            img, Fixtures.floats(out.image()), cv, H, W, H, W, (u, v) -> at(inv, u, v), what);
        assertMask(
            Fixtures.ints(out.mask()),
            Fixtures.cvWarpAffineMask(mask, H, W, inv, H, W, opencv_core.BORDER_CONSTANT),
            W,
            (u, v) -> at(inv, u, v),
            1.0 / 256,
            what + " mask");
      }
    }
  }

  @Test
  void gridDistortionMatchesRemap() {
    float[] img = Fixtures.smooth(C, H, W);
    int[] mask = new int[H * W];
    RandGridDistortion t = new RandGridDistortion(5, 0.3, 1.0); // large, to see it
    for (long seed = 1; seed <= 4; seed++) {
      try (PointerScope scope = new PointerScope()) {
        Sample s = sample(img, mask, POINTS);
        RandGridDistortion.Axis[] axes = t.draw(new SplittableRandom(seed), H, W);
        float[][] maps = RandGridDistortion.maps(axes, H, W);
        Sample out = t.force(s, new SplittableRandom(seed));
        float[] cv = Fixtures.cvRemap(img, C, H, W, maps[0], maps[1]);
        java.util.function.BiFunction<Integer, Integer, double[]> coord =
            (u, v) -> new double[] {maps[0][v * W + u], maps[1][v * W + u]};
        assertBilinear(
            img,
            Fixtures.floats(out.image()),
            cv,
            H,
            W,
            H,
            W,
            coord,
            "grid distortion seed " + seed);
        assertMask(
            Fixtures.ints(out.mask()),
            Fixtures.cvRemapMask(mask, H, W, maps[0], maps[1]),
            W,
            coord,
            1e-6,
            "grid distortion mask seed " + seed);
        Keypoints k = out.keypoints();
        for (int i = 0; i < k.size(); i++) {
          // The output point reads back the source point through the map, exactly.
          assertEquals(POINTS[2 * i], axes[0].at(k.x(i)), 1e-4, "keypoint x " + i);
          assertEquals(POINTS[2 * i + 1], axes[1].at(k.y(i)), 1e-4, "keypoint y " + i);
        }
      }
    }
  }

  @Test
  void elasticMatchesRemap() {
    float[] img = Fixtures.smooth(C, H, W);
    int[] mask = new int[H * W];
    RandElastic t = new RandElastic(40, 6, 5, 1.0); // a visible field, gradient < 1
    for (long seed = 1; seed <= 3; seed++) {
      try (PointerScope scope = new PointerScope()) {
        Sample s = sample(img, mask, POINTS);
        RandElastic.Draw d = t.draw(new SplittableRandom(seed), H, W);
        float[][] maps = RandElastic.maps(d, H, W);
        Sample out = t.force(s, new SplittableRandom(seed));
        float[] cv = Fixtures.cvRemap(img, C, H, W, maps[0], maps[1]);
        java.util.function.BiFunction<Integer, Integer, double[]> coord =
            (u, v) -> new double[] {maps[0][v * W + u], maps[1][v * W + u]};
        assertBilinear(
            img, Fixtures.floats(out.image()), cv, H, W, H, W, coord, "elastic seed " + seed);
        assertMask(
            Fixtures.ints(out.mask()),
            Fixtures.cvRemapMask(mask, H, W, maps[0], maps[1]),
            W,
            coord,
            1e-6,
            "elastic mask seed " + seed);
        Keypoints k = out.keypoints();
        double[] inv = Warps.invert(d.affine);
        for (int i = 0; i < k.size(); i++) {
          // q + d(q) pulled back through the affine part gives the source point.
          double qx = k.x(i) + RandElastic.sample(d.dx, H, W, k.x(i), k.y(i));
          double qy = k.y(i) + RandElastic.sample(d.dy, H, W, k.x(i), k.y(i));
          assertEquals(POINTS[2 * i], inv[0] * qx + inv[1] * qy + inv[2], 1e-4, "keypoint x " + i);
          assertEquals(
              POINTS[2 * i + 1], inv[3] * qx + inv[4] * qy + inv[5], 1e-4, "keypoint y " + i);
        }
      }
    }
  }

  @Test
  void flipsMatchFlip() {
    float[] img = Fixtures.smooth(C, H, W);
    int[] mask = new int[H * W];
    for (RandFlip.Axis axis : RandFlip.Axis.values()) {
      try (PointerScope scope = new PointerScope()) {
        Sample out = new RandFlip(axis, 1.0).apply(sample(img, mask, POINTS), 1L);
        int code = axis == RandFlip.Axis.HORIZONTAL ? 1 : 0;
        assertArrayEquals(
            Fixtures.cvFlip(img, C, H, W, code), Fixtures.floats(out.image()), axis + " image");
        assertArrayEquals(
            Fixtures.cvFlipMask(mask, H, W, code), Fixtures.ints(out.mask()), axis + " mask");
        Keypoints k = out.keypoints();
        for (int i = 0; i < k.size(); i++) {
          double x = POINTS[2 * i], y = POINTS[2 * i + 1];
          assertEquals(code == 1 ? W - 1 - x : x, k.x(i), 1e-12);
          assertEquals(code == 1 ? y : H - 1 - y, k.y(i), 1e-12);
        }
      }
    }
  }

  @Test
  void resizeMatchesResize() {
    float[] img = Fixtures.smooth(C, H, W);
    int[] mask = new int[H * W];
    int[][] sizes = {{128, 96}, {32, 40}, {61, 80}, {100, 33}};
    for (int[] hw : sizes) {
      try (PointerScope scope = new PointerScope()) {
        Resize r = new Resize(hw[0], hw[1]);
        Sample out = r.apply(sample(img, mask, POINTS), 0L);
        float[] cv = Fixtures.cvResize(img, C, H, W, hw[0], hw[1]);
        float[] ours = Fixtures.floats(out.image());
        for (int i = 0; i < cv.length; i++) {
          if (!(Math.abs(cv[i] - ours[i]) <= 1e-5)) {
            fail(
                "resize to "
                    + hw[0]
                    + "x"
                    + hw[1]
                    + ": element "
                    + i
                    + " is "
                    + ours[i]
                    + ", OpenCV "
                    + cv[i]);
          }
        }
        double[] inv = Warps.invert(r.matrix(H, W));
        assertMask(
            Fixtures.ints(out.mask()),
            Fixtures.cvResizeMask(mask, H, W, hw[0], hw[1]),
            hw[1],
            (u, v) -> at(inv, u, v),
            1.0 / 256,
            "resize mask " + hw[0] + "x" + hw[1]);
        Keypoints k = out.keypoints();
        for (int i = 0; i < k.size(); i++) {
          assertEquals((POINTS[2 * i] + 0.5) * hw[1] / W - 0.5, k.x(i), 1e-4);
          assertEquals((POINTS[2 * i + 1] + 0.5) * hw[0] / H - 0.5, k.y(i), 1e-4);
        }
      }
    }
  }
}
