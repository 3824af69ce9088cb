package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.spinekit.ops.Stack25dTest.assertMatches;
import static org.spinekit.ops.Stack25dTest.assertMessage;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.spinekit.io.Volume;
import org.spinekit.tensor.Checks;

/**
 * {@link CropSample} against Java loops over the {@link Volume} and, for boxes inside the volume,
 * the libtorch composite (index_select + narrow + upsample_bilinear2d). Windowed values: 1e-5
 * absolute; raw values 1e-5 relative to the largest |value|.
 */
class CropSampleTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  static double[] reference(Volume v, CropSample.Box b, CropSample.Options o) {
    long len = b.z1() - b.z0() + 2 * o.marginZ();
    long[] idx = CropSample.sliceIndices(len, o.n());
    int oh = (int) o.height(), ow = (int) o.width();
    double[] out = new double[o.n() * oh * ow];
    for (int i = 0; i < o.n(); i++) {
      double[] p =
          StackReference.plane(
              v,
              b.z0() - o.marginZ() + idx[i],
              b.y0() - o.marginY(),
              b.x0() - o.marginX(),
              b.y1() - b.y0() + 2 * o.marginY(),
              b.x1() - b.x0() + 2 * o.marginX(),
              o.pad(),
              o.window(),
              oh,
              ow);
      System.arraycopy(p, 0, out, i * oh * ow, p.length);
    }
    return out;
  }

  @Test
  void sliceIndicesAreNumpysLinspaceTruncated() {
    // numpy: np.linspace(0, n - 1, k).astype(int)
    assertArrayEquals(new long[] {0, 0, 1, 1, 2}, CropSample.sliceIndices(3, 5));
    assertArrayEquals(new long[] {0, 4, 9}, CropSample.sliceIndices(10, 3));
    assertArrayEquals(new long[] {0}, CropSample.sliceIndices(7, 1));
    assertArrayEquals(new long[] {0, 0, 0}, CropSample.sliceIndices(1, 3));
    long[] i24 = CropSample.sliceIndices(40, 24);
    assertArrayEquals(
        new long[] {
          0, 1, 3, 5, 6, 8, 10, 11, 13, 15, 16, 18, 20, 22, 23, 25, 27, 28, 30, 32, 33, 35, 37, 39
        },
        i24);
  }

  @Test
  void cropsMatchJavaLoopsInsideOverTheEdgesAndOutside() {
    try (PointerScope scope = new PointerScope()) {
      Volume v = Stack25dTest.ctVolume(12, 30, 26, 21);
      Tensor t = Stack25dTest.tensorOf(v);
      CropSample.Box[] boxes = {
        new CropSample.Box(2, 9, 5, 17, 4, 14), // inside
        new CropSample.Box(-3, 4, -4, 16, -6, 34), // over every low edge and the x high edge
        new CropSample.Box(8, 15, 25, 36, 20, 33), // over the high edges
        new CropSample.Box(20, 25, 40, 46, 50, 57), // wholly outside: padding only
        new CropSample.Box(0, 12, 0, 30, 0, 26), // the whole volume
      };
      CropSample.Options[] opts = {
        CropSample.Options.of(24, 24).withWindow(Window.BONE).withPad(-1024),
        CropSample.Options.of(5, 19).withSlices(3).withPad(7),
        CropSample.Options.of(16, 16)
            .withSlices(30)
            .withMargin(2, 3, 1)
            .withWindow(Window.SOFT_TISSUE),
      };
      for (CropSample.Box b : boxes) {
        for (CropSample.Options o : opts) {
          double tol = o.window() != null ? 1e-5 : 1e-5 * Stack25dTest.maxAbs(v);
          double[] ref = reference(v, b, o);
          Tensor a = CropSample.sample(v, b, o);
          assertArrayEquals(new long[] {o.n(), o.height(), o.width()}, Checks.shape(a));
          assertMatches(a, ref, tol, "volume " + b + " " + o);
          assertMatches(
              CropSample.sample(t, v.slope(), v.intercept(), b, o),
              ref,
              tol,
              "tensor " + b + " " + o);
        }
      }
      // Wholly outside: padding only, windowed.
      Tensor out = CropSample.sample(v, boxes[3], opts[0]);
      double padw = StackReference.window(-1024, Window.BONE);
      assertTrue(out.sub(new org.bytedeco.pytorch.Scalar(padw)).abs().max().item_double() < 1e-6);
    }
  }

  @Test
  void insideBoxesMatchTheLibtorchComposite() {
    try (PointerScope scope = new PointerScope()) {
      Volume v = Stack25dTest.ctVolume(40, 64, 60, 22);
      Tensor t = Stack25dTest.tensorOf(v);
      CropSample.Box b = new CropSample.Box(5, 37, 10, 50, 6, 41);
      for (CropSample.Options o :
          new CropSample.Options[] {
            CropSample.Options.of(32, 32).withWindow(Window.BONE),
            CropSample.Options.of(80, 70).withMargin(3, 4, 5).withWindow(Window.SOFT_TISSUE)
          }) {
        TestSupport.assertClose(
            CropSample.sample(t, 1, -1024, b, o),
            StackComposite.cropInside(t, 1, -1024, b, o),
            1e-5,
            0,
            "composite " + o);
      }
    }
  }

  @Test
  void maskCropsMatchNearestJavaLoops() {
    try (PointerScope scope = new PointerScope()) {
      java.util.Random r = new java.util.Random(4);
      short[] lab = new short[10 * 21 * 17];
      for (int i = 0; i < lab.length; i++) lab[i] = (short) r.nextInt(20);
      Volume v = Volume.builder(10, 21, 17).shorts(lab, true, 1, 0).build();
      Tensor t = Stack25dTest.tensorOf(v);
      for (CropSample.Box b :
          new CropSample.Box[] {
            new CropSample.Box(2, 8, 3, 15, 4, 12), new CropSample.Box(-2, 12, -3, 25, 10, 30)
          }) {
        CropSample.Options o =
            CropSample.Options.of(13, 29).withSlices(7).withMargin(1, 2, 0).withPad(99);
        long len = b.z1() - b.z0() + 2 * o.marginZ();
        long[] idx = CropSample.sliceIndices(len, o.n());
        long ys = b.y0() - o.marginY(), xs = b.x0() - o.marginX();
        long ch = b.y1() - b.y0() + 2 * o.marginY(), cw = b.x1() - b.x0() + 2 * o.marginX();
        long[] got = new long[(int) (o.n() * o.height() * o.width())];
        CropSample.sampleMasks(t, b, o, org.bytedeco.pytorch.global.torch.ScalarType.Long)
            .data_ptr_long()
            .get(got);
        for (int i = 0; i < o.n(); i++) {
          long z = b.z0() - o.marginZ() + idx[i];
          for (int oy = 0; oy < o.height(); oy++) {
            long y = ys + Math.min((long) Math.floor(oy * ((float) ch / o.height())), ch - 1);
            for (int ox = 0; ox < o.width(); ox++) {
              long x = xs + Math.min((long) Math.floor(ox * ((float) cw / o.width())), cw - 1);
              boolean in = z >= 0 && z < 10 && y >= 0 && y < 21 && x >= 0 && x < 17;
              long e = in ? (long) v.value((int) z, (int) y, (int) x) : 99;
              org.junit.jupiter.api.Assertions.assertEquals(
                  e,
                  got[(int) ((i * o.height() + oy) * o.width() + ox)],
                  "box " + b + " plane " + i + " (" + oy + ", " + ox + ")");
            }
          }
        }
      }
    }
  }

  @Test
  void badInputIsRejectedNamingTheArgument() {
    try (PointerScope scope = new PointerScope()) {
      CropSample.Options o = CropSample.Options.of(8, 8);
      CropSample.Box b = new CropSample.Box(0, 2, 0, 2, 0, 2);
      assertMessage(() -> new CropSample.Box(3, 3, 0, 2, 0, 2), "box: expected z0 < z1");
      assertMessage(() -> o.withSlices(0), "n: expected >= 1");
      assertMessage(() -> o.withMargin(0, -1, 0), "margin:");
      assertMessage(() -> CropSample.Options.of(0, 8), "size:");
      assertMessage(
          () -> CropSample.sample(torch.zeros(4, 4), 1, 0, b, o), "volume: expected rank 3");
      assertMessage(
          () -> CropSample.sample(torch.zeros(0, 4, 4), 1, 0, b, o),
          "volume: expected a non-empty");
      assertMessage(() -> CropSample.sample(torch.zeros(2, 4, 4), 1, 0, null, o), "box:");
      assertMessage(() -> CropSample.sample((Volume) null, b, o), "volume:");
      assertMessage(
          () ->
              CropSample.sampleMasks(
                  torch.zeros(2, 4, 4), b, o, org.bytedeco.pytorch.global.torch.ScalarType.Long),
          "labels: expected dtype");
      assertMessage(
          () ->
              CropSample.sampleMasks(
                  torch.zeros(
                      new long[] {2, 4, 4},
                      new org.bytedeco.pytorch.TensorOptions(
                          org.bytedeco.pytorch.global.torch.ScalarType.Short)),
                  b,
                  o.withPad(300),
                  org.bytedeco.pytorch.global.torch.ScalarType.Byte),
          "pad:");
    }
  }
}
