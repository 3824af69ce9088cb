package org.spinekit.benchmarks;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import org.spinekit.augment.Compose;
import org.spinekit.augment.RandShiftScaleRotate;
import org.spinekit.augment.Sample;
import org.spinekit.cervical.CervicalAugment;
import org.spinekit.runtime.NativeRuntime;
import org.spinekit.tensor.Tensors;

/**
 * The cervical joint augmentation (SPEC.md: horizontal flip p 0.5, shift-scale-rotate p 0.5, one of
 * grid distortion / elastic p 0.25) of a 320x320x3 float32 image and its uint8 mask. One measured
 * operation is the same fixed batch of {@link #BATCH} = 256 samples, seeds 0 .. 255, on both sides
 * (scores are per sample: {@code @OperationsPerInvocation}), so every iteration does the same work.
 * Of the 256 samples, 128 flip, 135 take the shift-scale-rotate, 27 the grid distortion and 34 the
 * elastic (expected 128, 128, 32, 32; {@code main} prints the counts of any batch size): a smaller
 * batch strays further (seeds 0 .. 63: 32, 43, 8, 14, too many of the expensive elastic samples).
 *
 * <p>native: {@link CervicalAugment#pipeline()} (planar [3, H, W] tensors, one bilinear pass per
 * warp, the affine warp without a map, the elastic map composed with its affine part). opencv: the
 * same pipeline composed from OpenCV calls as albumentations does it, on an interleaved HxWx3
 * CV_32F Mat and a CV_8U mask: flip, warpAffine, remap with maps built in Java (the grid's as
 * albumentations, the elastic's from cv::GaussianBlur of the random fields with the same 4-sigma
 * kernel, after a warpAffine of its affine part: two interpolations). The random draws come from
 * the same seeds in the same order as the native side.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgs = {"-Xmx2g"})
@State(Scope.Thread)
public class AugmentBenchmark {
  static final int H = 320, W = 320, C = 3;

  /** Samples per measured operation: seeds 0 .. BATCH - 1, the same on both sides. */
  static final int BATCH = 256;

  @Param({"native", "opencv"})
  public String impl;

  @Param({"1"})
  public int threads;

  private boolean nat;
  private Compose pipeline;
  private Sample sample;
  private Mat image;
  private Mat mask;

  @Setup
  public void setUp() {
    if (!impl.equals("native") && !impl.equals("opencv")) {
      throw new IllegalArgumentException("impl: expected native or opencv, got " + impl);
    }
    nat = impl.equals("native");
    NativeRuntime.configure(
        NativeRuntime.Settings.fromEnvironment().withThreads(threads).withKernelThreads(threads));
    opencv_core.setNumThreads(threads);
    float[] planar = new float[C * H * W];
    float[] hwc = new float[C * H * W];
    byte[] m = new byte[H * W];
    SplittableRandom r = new SplittableRandom(1);
    for (int c = 0; c < C; c++) {
      for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) {
          float v =
              (float)
                  (0.5 + 0.3 * Math.sin(x / 17.0 + c) * Math.cos(y / 23.0) + 0.1 * r.nextDouble());
          planar[(c * H + y) * W + x] = v;
          hwc[(y * W + x) * C + c] = v;
        }
      }
    }
    long[] ml = new long[H * W];
    for (int i = 0; i < ml.length; i++) {
      ml[i] = ((i / W) / 40 + (i % W) / 40) % 8;
      m[i] = (byte) ml[i];
    }
    pipeline = CervicalAugment.pipeline();
    Tensor img = Tensors.of(planar, C, H, W);
    img.retainReference();
    Tensor msk = Tensors.of(ml, H, W).to(ScalarType.Byte);
    msk.retainReference();
    sample = new Sample(img, msk, null);
    image = new Mat(H, W, opencv_core.CV_32FC3);
    new FloatPointer(image.data()).put(hwc);
    mask = new Mat(H, W, opencv_core.CV_8UC1);
    mask.data().put(m);
  }

  @TearDown
  public void tearDown() {
    sample.image().releaseReference();
    sample.mask().releaseReference();
    image.close();
    mask.close();
  }

  /** One operation: the samples of seeds 0 .. BATCH - 1, each in its own scope. */
  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void cervicalPipeline(Blackhole bh) {
    for (long s = 0; s < BATCH; s++) {
      try (PointerScope scope = new PointerScope()) {
        if (nat) {
          Sample out = pipeline.apply(sample, s);
          bh.consume(out.image());
          bh.consume(out.mask());
        } else {
          Mat[] out = opencvPipeline(image, mask, new SplittableRandom(s));
          bh.consume(out);
        }
      }
    }
  }

  /**
   * The branches the samples of seeds 0 .. n - 1 take, as {flip, shift-scale-rotate, grid, elastic}
   * counts (the draws of {@link #opencvPipeline}, which are the native side's).
   */
  static int[] branches(int n) {
    int[] c = new int[4];
    for (long s = 0; s < n; s++) {
      SplittableRandom rng = new SplittableRandom(s);
      rng.nextDouble();
      SplittableRandom flip = rng.split(), ssr = rng.split(), one = rng.split();
      if (flip.nextDouble() < 0.5) c[0]++;
      if (ssr.nextDouble() < 0.5) c[1]++;
      if (one.nextDouble() < 0.25) c[one.nextDouble() < 0.5 ? 2 : 3]++;
    }
    return c;
  }

  /** Prints the branch counts of the batch. */
  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : BATCH;
    System.out.println(
        n + " samples: flip, ssr, grid, elastic = " + java.util.Arrays.toString(branches(n)));
  }

  static double uniform(SplittableRandom r, double lo, double hi) {
    return lo + (hi - lo) * r.nextDouble();
  }

  static Mat matrix(double[] m) {
    Mat t = new Mat(2, 3, opencv_core.CV_64FC1);
    new DoublePointer(t.data()).put(m, 0, 6);
    return t;
  }

  /** The pipeline from OpenCV calls; the same decisions as Compose / OneOf draw them. */
  static Mat[] opencvPipeline(Mat img, Mat msk, SplittableRandom rng) {
    rng.nextDouble(); // Compose, p = 1
    SplittableRandom flip = rng.split(), ssr = rng.split(), one = rng.split();
    Mat im = img, mk = msk;
    Scalar zero = new Scalar(0.0);
    if (flip.nextDouble() < 0.5) {
      Mat a = new Mat(), b = new Mat();
      opencv_core.flip(im, a, 1);
      opencv_core.flip(mk, b, 1);
      im = a;
      mk = b;
    }
    if (ssr.nextDouble() < 0.5) {
      double angle = uniform(ssr, -10, 10), scale = uniform(ssr, 0.95, 1.05);
      double dx = uniform(ssr, -0.0625, 0.0625), dy = uniform(ssr, -0.0625, 0.0625);
      Mat m = matrix(RandShiftScaleRotate.matrix(angle, scale, dx, dy, H, W));
      Mat a = new Mat(), b = new Mat();
      opencv_imgproc.warpAffine(
          im, a, m, new Size(W, H), opencv_imgproc.INTER_LINEAR, opencv_core.BORDER_CONSTANT, zero);
      opencv_imgproc.warpAffine(
          mk,
          b,
          m,
          new Size(W, H),
          opencv_imgproc.INTER_NEAREST,
          opencv_core.BORDER_CONSTANT,
          zero);
      im = a;
      mk = b;
    }
    if (one.nextDouble() < 0.25) {
      Mat mapx = new Mat(H, W, opencv_core.CV_32FC1), mapy = new Mat(H, W, opencv_core.CV_32FC1);
      if (one.nextDouble() < 0.5) {
        gridMaps(one, mapx, mapy);
      } else {
        Mat[] warped = elasticAffine(one, im, mk);
        im = warped[0];
        mk = warped[1];
        elasticMaps(one, mapx, mapy);
      }
      Mat a = new Mat(), b = new Mat();
      opencv_imgproc.remap(
          im, a, mapx, mapy, opencv_imgproc.INTER_LINEAR, opencv_core.BORDER_CONSTANT, zero);
      opencv_imgproc.remap(
          mk, b, mapx, mapy, opencv_imgproc.INTER_NEAREST, opencv_core.BORDER_CONSTANT, zero);
      im = a;
      mk = b;
    }
    return new Mat[] {im, mk};
  }

  /** albumentations' grid_distortion maps (5 steps, limit 0.05). */
  static void gridMaps(SplittableRandom r, Mat mapx, Mat mapy) {
    int steps = 5;
    double[] xs = new double[steps], ys = new double[steps];
    for (int i = 0; i < steps; i++) xs[i] = 1 + uniform(r, -0.05, 0.05);
    for (int i = 0; i < steps; i++) ys[i] = 1 + uniform(r, -0.05, 0.05);
    float[] xx = axis(W, steps, xs), yy = axis(H, steps, ys);
    float[] mx = new float[H * W], my = new float[H * W];
    for (int v = 0; v < H; v++) {
      System.arraycopy(xx, 0, mx, v * W, W);
      java.util.Arrays.fill(my, v * W, (v + 1) * W, yy[v]);
    }
    new FloatPointer(mapx.data()).put(mx);
    new FloatPointer(mapy.data()).put(my);
  }

  static float[] axis(int n, int steps, double[] f) {
    int step = n / steps;
    float[] out = new float[n];
    double prev = 0;
    for (int k = 0; k < steps; k++) {
      int start = k * step, end = k == steps - 1 ? n : start + step;
      double cur = prev + step * f[k];
      for (int i = start; i < end; i++) {
        out[i] = (float) (prev + (cur - prev) * (i - start) / Math.max(1, end - start - 1));
      }
      prev = cur;
    }
    return out;
  }

  /** albumentations' elastic: its affine part as a warpAffine of image and mask. */
  static Mat[] elasticAffine(SplittableRandom r, Mat im, Mat mk) {
    float cx = W / 2, cy = H / 2, s = Math.min(H, W) / 3;
    float[] src = {cx + s, cy + s, cx + s, cy - s, cx - s, cy - s};
    float[] dst = new float[6];
    for (int i = 0; i < 6; i++) dst[i] = (float) (src[i] + uniform(r, -50, 50));
    Mat ps = new Mat(3, 1, opencv_core.CV_32FC2), pd = new Mat(3, 1, opencv_core.CV_32FC2);
    new FloatPointer(ps.data()).put(src);
    new FloatPointer(pd.data()).put(dst);
    Mat m = opencv_imgproc.getAffineTransform(ps, pd);
    Mat a = new Mat(), b = new Mat();
    Scalar zero = new Scalar(0.0);
    opencv_imgproc.warpAffine(
        im, a, m, new Size(W, H), opencv_imgproc.INTER_LINEAR, opencv_core.BORDER_CONSTANT, zero);
    opencv_imgproc.warpAffine(
        mk, b, m, new Size(W, H), opencv_imgproc.INTER_NEAREST, opencv_core.BORDER_CONSTANT, zero);
    return new Mat[] {a, b};
  }

  /** x + alpha * G_sigma(U[-1, 1]) (alpha 1, sigma 50, 4-sigma kernel, mirrored border). */
  static void elasticMaps(SplittableRandom r, Mat mapx, Mat mapy) {
    double sigma = 50, alpha = 1;
    int k = 2 * (int) Math.floor(4 * sigma + 0.5) + 1;
    float[][] d = new float[2][H * W];
    for (float[] f : d) {
      for (int i = 0; i < f.length; i++) f[i] = (float) (r.nextDouble() * 2 - 1);
      Mat u = new Mat(H, W, opencv_core.CV_32FC1), g = new Mat();
      new FloatPointer(u.data()).put(f);
      opencv_imgproc.GaussianBlur(
          u,
          g,
          new Size(k, k),
          sigma,
          sigma,
          opencv_core.BORDER_REFLECT,
          opencv_core.ALGO_HINT_DEFAULT);
      new FloatPointer(g.data()).get(f);
    }
    float[] mx = new float[H * W], my = new float[H * W];
    for (int v = 0; v < H; v++) {
      for (int x = 0; x < W; x++) {
        int i = v * W + x;
        mx[i] = (float) (x + alpha * d[0][i]);
        my[i] = (float) (v + alpha * d[1][i]);
      }
    }
    new FloatPointer(mapx.data()).put(mx);
    new FloatPointer(mapy.data()).put(my);
  }
}
