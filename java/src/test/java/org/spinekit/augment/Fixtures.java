package org.spinekit.augment;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.internal.jni.Kernels;
import org.spinekit.tensor.Tensors;

/** Test inputs and the OpenCV reference, one channel plane at a time. */
final class Fixtures {
  static {
    torch.set_num_threads(2);
    Kernels.setNumThreads(2);
  }

  private Fixtures() {}

  /** Loads this class, which sets the thread counts of the tests of this package. */
  static void init() {}

  /** A smooth image in [0, 1]: neighbours differ by at most about 0.06. */
  static float[] smooth(int c, int h, int w) {
    float[] a = new float[c * h * w];
    for (int k = 0; k < c; k++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          a[(k * h + y) * w + x] =
              (float)
                  (0.5
                      + 0.25 * Math.sin(2 * Math.PI * x / 37.0 + k)
                      + 0.2 * Math.cos(2 * Math.PI * y / 29.0 - 0.5 * k)
                      + 0.04 * Math.sin(0.11 * x * y / 7.0));
        }
      }
    }
    return a;
  }

  /** A blocky label image 0..5. */
  static long[] labels(int h, int w) {
    long[] m = new long[h * w];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) m[y * w + x] = ((x / 7) + 2 * (y / 5)) % 6;
    }
    return m;
  }

  static Tensor image(float[] a, long c, long h, long w) {
    return Tensors.of(a, c, h, w);
  }

  static Tensor mask(long[] m, long h, long w) {
    return Tensors.of(m, h, w).to(ScalarType.Int);
  }

  static float[] floats(Tensor t) {
    return Tensors.floats(t);
  }

  static int[] ints(Tensor t) {
    try (PointerScope scope = new PointerScope()) {
      Tensor c = t.to(ScalarType.Int).contiguous();
      int[] out = new int[(int) c.numel()];
      c.data_ptr_int().get(out);
      return out;
    }
  }

  // OpenCV on single-channel planes.

  static Mat mat(float[] a, int off, int h, int w) {
    Mat m = new Mat(h, w, opencv_core.CV_32FC1);
    new FloatPointer(m.data()).put(a, off, h * w);
    return m;
  }

  static Mat mat(int[] a, int h, int w) {
    Mat m = new Mat(h, w, opencv_core.CV_32SC1);
    new IntPointer(m.data()).put(a, 0, h * w);
    return m;
  }

  static float[] getFloats(Mat m) {
    float[] a = new float[m.rows() * m.cols()];
    new FloatPointer(m.data()).get(a);
    return a;
  }

  static int[] getInts(Mat m) {
    int[] a = new int[m.rows() * m.cols()];
    new IntPointer(m.data()).get(a);
    return a;
  }

  static Mat matrix(double[] m) {
    Mat t = new Mat(2, 3, opencv_core.CV_64FC1);
    new DoublePointer(t.data()).put(m, 0, 6);
    return t;
  }

  /** cv::warpAffine of every plane with the inverse matrix (WARP_INVERSE_MAP). */
  static float[] cvWarpAffine(
      float[] img, int c, int h, int w, double[] inv, int ho, int wo, int interp, int border) {
    float[] out = new float[c * ho * wo];
    try (PointerScope scope = new PointerScope()) {
      for (int k = 0; k < c; k++) {
        Mat dst = new Mat();
        opencv_imgproc.warpAffine(
            mat(img, k * h * w, h, w),
            dst,
            matrix(inv),
            new Size(wo, ho),
            interp | opencv_imgproc.WARP_INVERSE_MAP,
            border,
            new Scalar(0.0));
        System.arraycopy(getFloats(dst), 0, out, k * ho * wo, ho * wo);
      }
    }
    return out;
  }

  static int[] cvWarpAffineMask(
      int[] mask, int h, int w, double[] inv, int ho, int wo, int border) {
    try (PointerScope scope = new PointerScope()) {
      Mat dst = new Mat();
      opencv_imgproc.warpAffine(
          mat(mask, h, w),
          dst,
          matrix(inv),
          new Size(wo, ho),
          opencv_imgproc.INTER_NEAREST | opencv_imgproc.WARP_INVERSE_MAP,
          border,
          new Scalar(0.0));
      return getInts(dst);
    }
  }

  static float[] cvRemap(float[] img, int c, int h, int w, float[] mx, float[] my) {
    float[] out = new float[c * h * w];
    try (PointerScope scope = new PointerScope()) {
      Mat mapx = mat(mx, 0, h, w);
      Mat mapy = mat(my, 0, h, w);
      for (int k = 0; k < c; k++) {
        Mat dst = new Mat();
        opencv_imgproc.remap(
            mat(img, k * h * w, h, w),
            dst,
            mapx,
            mapy,
            opencv_imgproc.INTER_LINEAR,
            opencv_core.BORDER_CONSTANT,
            new Scalar(0.0));
        System.arraycopy(getFloats(dst), 0, out, k * h * w, h * w);
      }
    }
    return out;
  }

  static int[] cvRemapMask(int[] mask, int h, int w, float[] mx, float[] my) {
    try (PointerScope scope = new PointerScope()) {
      Mat dst = new Mat();
      opencv_imgproc.remap(
          mat(mask, h, w),
          dst,
          mat(mx, 0, h, w),
          mat(my, 0, h, w),
          opencv_imgproc.INTER_NEAREST,
          opencv_core.BORDER_CONSTANT,
          new Scalar(0.0));
      return getInts(dst);
    }
  }

  static float[] cvFlip(float[] img, int c, int h, int w, int code) {
    float[] out = new float[c * h * w];
    try (PointerScope scope = new PointerScope()) {
      for (int k = 0; k < c; k++) {
        Mat dst = new Mat();
        opencv_core.flip(mat(img, k * h * w, h, w), dst, code);
        System.arraycopy(getFloats(dst), 0, out, k * h * w, h * w);
      }
    }
    return out;
  }

  static int[] cvFlipMask(int[] mask, int h, int w, int code) {
    try (PointerScope scope = new PointerScope()) {
      Mat dst = new Mat();
      opencv_core.flip(mat(mask, h, w), dst, code);
      return getInts(dst);
    }
  }

  static float[] cvResize(float[] img, int c, int h, int w, int ho, int wo) {
    float[] out = new float[c * ho * wo];
    try (PointerScope scope = new PointerScope()) {
      for (int k = 0; k < c; k++) {
        Mat dst = new Mat();
        opencv_imgproc.resize(
            mat(img, k * h * w, h, w), dst, new Size(wo, ho), 0, 0, opencv_imgproc.INTER_LINEAR);
        System.arraycopy(getFloats(dst), 0, out, k * ho * wo, ho * wo);
      }
    }
    return out;
  }

  static int[] cvResizeMask(int[] mask, int h, int w, int ho, int wo) {
    try (PointerScope scope = new PointerScope()) {
      Mat dst = new Mat();
      opencv_imgproc.resize(
          mat(mask, h, w), dst, new Size(wo, ho), 0, 0, opencv_imgproc.INTER_NEAREST_EXACT);
      return getInts(dst);
    }
  }
}
