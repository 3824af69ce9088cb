package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.spinekit.io.Volume;
import org.spinekit.tensor.Checks;
import org.spinekit.tensor.Outputs;
import org.spinekit.tensor.Tensors;

/**
 * {@link Stack25d} against Java loops over the {@link Volume} (double precision) and against the
 * libtorch composite (upsample_bilinear2d + index_select). Tolerance: 1e-5 absolute for windowed
 * values (in [0, 1]); without a window 1e-5 relative to the largest |value| of the volume (the
 * float bilinear weights scale the error with the values blended).
 */
class Stack25dTest {
  @BeforeAll
  static void setUp() {
    TestSupport.init();
  }

  static Volume ctVolume(int s, int h, int w, long seed) {
    Random r = new Random(seed);
    short[] v = new short[s * h * w];
    for (int i = 0; i < v.length; i++) v[i] = (short) (r.nextInt(4000) - 1000);
    return Volume.builder(s, h, w).shorts(v, true, 1.0, -1024).build();
  }

  static Volume floatVolume(int s, int h, int w, long seed) {
    Random r = new Random(seed);
    float[] v = new float[s * h * w];
    for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextGaussian() * 300 + 40);
    return Volume.builder(s, h, w).floats(v).build();
  }

  /** The stored values of a Volume as a tensor [S, H, W] (int16 or float32). */
  static Tensor tensorOf(Volume v) {
    long[] shape = {v.slices(), v.rows(), v.columns()};
    if (v.kind() == Volume.Kind.FLOAT32) {
      return Tensors.of(v.floats(), shape);
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor t =
          torch
              .from_blob(new ShortPointer(v.shorts()), shape, new TensorOptions(ScalarType.Short))
              .clone();
      return Outputs.handOut(scope, t);
    }
  }

  static void assertMatches(Tensor actual, double[] expected, double tol, String what) {
    float[] a = Tensors.floats(actual);
    assertEquals(expected.length, a.length, what + ": element count");
    for (int i = 0; i < a.length; i++) {
      if (Double.isNaN(expected[i]) || Float.isNaN(a[i])) {
        if (Double.isNaN(expected[i]) != Float.isNaN(a[i])) {
          fail(what + ": NaN mismatch at " + i + ": got " + a[i] + ", expected " + expected[i]);
        }
        continue;
      }
      if (!(Math.abs(a[i] - expected[i]) <= tol)) {
        fail(
            what
                + ": element "
                + i
                + " is "
                + a[i]
                + ", expected "
                + expected[i]
                + " (tolerance "
                + tol
                + ")");
      }
    }
  }

  static double maxAbs(Volume v) {
    double m = 0;
    for (int z = 0; z < v.slices(); z++)
      for (int y = 0; y < v.rows(); y++)
        for (int x = 0; x < v.columns(); x++) m = Math.max(m, Math.abs(v.value(z, y, x)));
    return m;
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of(1, 1, 16, 20, Window.SOFT_TISSUE),
        Arguments.of(1, 1, 40, 47, Window.BONE),
        Arguments.of(2, 2, 9, 64, Window.SOFT_TISSUE),
        Arguments.of(0, 1, 23, 31, null),
        Arguments.of(1, 3, 12, 12, null));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void volumeAndTensorMatchJavaLoops(int k, int stride, int oh, int ow, Window w) {
    try (PointerScope scope = new PointerScope()) {
      for (Volume v : new Volume[] {ctVolume(7, 23, 31, 5), floatVolume(5, 23, 31, 6)}) {
        Stack25d.Options o =
            Stack25d.Options.defaults().withK(k).withStride(stride).withSize(oh, ow).withWindow(w);
        double tol = w != null ? 1e-5 : 1e-5 * maxAbs(v);
        double[] ref = StackReference.stack(v, k, stride, oh, ow, w);
        Tensor fromVolume = Stack25d.images(v, o);
        assertArrayEquals(new long[] {v.slices(), 2 * k + 1, oh, ow}, Checks.shape(fromVolume));
        assertMatches(fromVolume, ref, tol, "volume " + v.kind());
        Tensor fromTensor = Stack25d.images(tensorOf(v), v.slope(), v.intercept(), o);
        assertMatches(fromTensor, ref, tol, "tensor " + v.kind());
        Tensor into = torch.full(Checks.shape(fromTensor), new org.bytedeco.pytorch.Scalar(7777f));
        Stack25d.imagesInto(tensorOf(v), v.slope(), v.intercept(), o, into);
        assertTrue(into.equal(fromTensor), "imagesInto writes every element as images");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void matchesTheLibtorchComposite(int k, int stride, int oh, int ow, Window w) {
    try (PointerScope scope = new PointerScope()) {
      Volume v = ctVolume(6, 30, 26, 9);
      Stack25d.Options o =
          Stack25d.Options.defaults().withK(k).withStride(stride).withSize(oh, ow).withWindow(w);
      Tensor t = tensorOf(v);
      Tensor got = Stack25d.images(t, 1, -1024, o);
      Tensor ref = StackComposite.stack(t, 1, -1024, o);
      double atol = w != null ? 1e-5 : 1e-5 * maxAbs(v);
      TestSupport.assertClose(got, ref, atol, 0, "vs upsample_bilinear2d + index_select");
    }
  }

  @Test
  void defaultSizeIs320AndUint8AndUint16Sources() {
    try (PointerScope scope = new PointerScope()) {
      Tensor u8 = torch.randint(0, 256, new long[] {3, 40, 50}, new TensorOptions(ScalarType.Byte));
      Tensor out = Stack25d.images(u8, 2, 5, Stack25d.Options.defaults());
      assertArrayEquals(new long[] {3, 3, 320, 320}, Checks.shape(out));
      TestSupport.assertClose(
          out, StackComposite.stack(u8, 2, 5, Stack25d.Options.defaults()), 1e-5 * 515, 0, "uint8");
      Tensor u16 =
          torch
              .randint(0, 60000, new long[] {4, 17, 19}, new TensorOptions(ScalarType.Int))
              .to(ScalarType.UInt16);
      Stack25d.Options o =
          Stack25d.Options.defaults().withSize(9, 11).withWindow(Window.SOFT_TISSUE);
      TestSupport.assertClose(
          Stack25d.images(u16, 0.5, -100, o),
          StackComposite.stack(u16.to(ScalarType.Int), 0.5, -100, o),
          1e-5,
          0,
          "uint16");
    }
  }

  @Test
  void sameGridIsAnExactCopyAndNanStaysWhereItIsWeighed() {
    try (PointerScope scope = new PointerScope()) {
      Volume v = floatVolume(3, 12, 14, 3);
      float[] f = v.floats().clone();
      f[(1 * 12 + 5) * 14 + 6] = Float.NaN;
      Volume nan = v.toBuilder().floats(f).build();
      Stack25d.Options same = Stack25d.Options.defaults().withSize(12, 14);
      Tensor copy = Stack25d.images(nan, same);
      // Channel 1 of slice 1 is slice 1 itself: bit for bit, one NaN.
      float[] plane = Tensors.floats(copy.select(0, 1).select(0, 1));
      float[] src = new float[12 * 14];
      System.arraycopy(f, 12 * 14, src, 0, src.length);
      assertArrayEquals(src, plane);
      // 12 rows -> 4: source rows 1, 4, 7, 10 at weight 1, so the NaN in row 5 is weighed 0
      // everywhere and does not reach the output (torch's interpolate would spread it).
      for (int[] size : new int[][] {{7, 9}, {25, 30}, {5, 14}, {4, 14}}) {
        Stack25d.Options o = same.withSize(size[0], size[1]).withWindow(Window.SOFT_TISSUE);
        Tensor out = Stack25d.images(nan, o);
        double[] ref = StackReference.stack(nan, 1, 1, size[0], size[1], Window.SOFT_TISSUE);
        assertMatches(out, ref, 1e-5, "NaN " + size[0] + "x" + size[1]);
        assertEquals(
            size[0] != 4,
            out.isnan().any().item_bool(),
            "a weighed NaN voxel reaches the output, an unweighed one does not");
      }
    }
  }

  @Test
  void masksMatchNearestJavaLoops() {
    try (PointerScope scope = new PointerScope()) {
      Random r = new Random(2);
      short[] lab = new short[5 * 21 * 17];
      for (int i = 0; i < lab.length; i++) lab[i] = (short) r.nextInt(20);
      Volume v = Volume.builder(5, 21, 17).shorts(lab, true, 1, 0).build();
      for (int[] size : new int[][] {{10, 8}, {50, 33}, {21, 17}, {320, 320}}) {
        Stack25d.Options o = Stack25d.Options.defaults().withSize(size[0], size[1]);
        long[] ref = StackReference.nearest(v, size[0], size[1]);
        Tensor l = Stack25d.masks(v, o, ScalarType.Long);
        assertArrayEquals(new long[] {5, size[0], size[1]}, Checks.shape(l));
        long[] got = new long[ref.length];
        l.data_ptr_long().get(got);
        assertArrayEquals(ref, got, "int64 " + size[0] + "x" + size[1]);
        Tensor b = Stack25d.masks(tensorOf(v), o, ScalarType.Byte);
        byte[] gb = new byte[ref.length];
        b.data_ptr_byte().get(gb);
        for (int i = 0; i < ref.length; i++) assertEquals(ref[i], gb[i] & 0xff, "uint8 at " + i);
        // torch's nearest (floor(dst * in / out)) gives the same labels.
        Tensor tn =
            torch
                .upsample_nearest2d(
                    tensorOf(v).to(ScalarType.Float).unsqueeze(1),
                    new org.bytedeco.pytorch.LongArrayRef(
                        new org.bytedeco.javacpp.LongPointer(size[0], size[1]), 2))
                .squeeze(1)
                .to(ScalarType.Long);
        assertTrue(tn.equal(l), "same as upsample_nearest2d at " + size[0] + "x" + size[1]);
      }
    }
  }

  @Test
  void badInputIsRejectedNamingTheArgument() {
    try (PointerScope scope = new PointerScope()) {
      Stack25d.Options o = Stack25d.Options.defaults();
      assertMessage(() -> Stack25d.images(torch.zeros(3, 4), o), "volume: expected rank 3");
      assertMessage(
          () ->
              Stack25d.images(
                  torch.zeros(new long[] {2, 3, 4}, new TensorOptions(ScalarType.Double)), o),
          "volume: expected dtype");
      assertMessage(() -> Stack25d.images(torch.zeros(0, 4, 4), o), "volume: expected a non-empty");
      assertMessage(
          () -> Stack25d.images(torch.zeros(4, 4, 6).narrow(2, 0, 3), o),
          "volume: expected a contiguous");
      assertMessage(() -> Stack25d.images(torch.zeros(2, 4, 4), 0, 0, o), "slope:");
      assertMessage(() -> Stack25d.images((Tensor) null, o), "volume: expected a tensor");
      assertMessage(
          () -> Stack25d.imagesInto(torch.zeros(2, 4, 4), 1, 0, o, torch.zeros(2, 3, 320, 321)),
          "out: expected shape [2, 3, 320, 320]");
      assertMessage(() -> o.withK(-1), "k: expected >= 0");
      assertMessage(() -> o.withStride(0), "stride: expected >= 1");
      assertMessage(() -> o.withSize(0, 5), "size:");
      assertMessage(() -> new Window(40, 0), "width:");
      assertMessage(
          () -> Stack25d.masks(torch.zeros(2, 4, 4), o, ScalarType.Long), "labels: expected dtype");
      Tensor big =
          torch.full(
              new long[] {1, 2, 2},
              new org.bytedeco.pytorch.Scalar(300),
              new TensorOptions(ScalarType.Short));
      assertMessage(() -> Stack25d.masks(big, o, ScalarType.Byte), "labels: expected labels in");
      assertMessage(() -> Stack25d.masks(big, o, ScalarType.Float), "outDtype:");
    }
  }

  static void assertMessage(org.junit.jupiter.api.function.Executable e, String start) {
    IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
    assertTrue(
        x.getMessage().startsWith(start),
        () -> "message '" + x.getMessage() + "' should start with '" + start + "'");
  }
}
