package org.spinekit.internal.jni;

import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The facade of the native kernels: takes libtorch tensors whose shape, dtype, device and
 * contiguity the caller ({@code org.spinekit.ops}) has already checked, hands their data pointers
 * to the CPU or CUDA kernel by the tensors' device, and reports the kernel's status. CUDA kernels
 * run on the tensors' device, on libtorch's current stream there, so they are ordered with the
 * libtorch work queued on that stream before and after them; a status check waits for that stream
 * only.
 */
public final class Kernels {
  /** Status codes of native/include/spinekit/common.h. */
  public static final int OK = 0;

  public static final int NONFINITE_HEAT = 1;
  public static final int NONFINITE_GRADE = 2;
  public static final int BAD_TARGET = 3;
  public static final int CUDA_ERROR = 4;
  public static final int NO_CUDA = 5;

  /** A kernel's status code and its detail (a row or element index, or a CUDA error). */
  public record Status(int code, long info) {
    public static final Status SUCCESS = new Status(OK, 0);

    public boolean ok() {
      return code == OK;
    }
  }

  private Kernels() {}

  /** Threads of the CPU kernels; n <= 0 restores the default (OpenMP's). */
  public static void setNumThreads(int n) {
    NativeKernels.spinekit_set_num_threads(n);
  }

  public static int numThreads() {
    return NativeKernels.spinekit_get_num_threads();
  }

  /**
   * Keeps memory that libtorch and the kernels free inside the process (glibc malloc), so that the
   * next call finds it again instead of page-faulting it in: {@code true} sets glibc's mmap and
   * trim thresholds to 2^31 - 1 (the mmap threshold to 32 MiB on a glibc that refuses more; 2.36
   * takes it) and its top pad to 64 MiB, the size of a thread arena's heap, so that an emptied heap
   * is not unmapped either; {@code false} sets glibc's documented defaults again (128 KiB each; the
   * dynamic adjustment glibc makes of the thresholds stays off) and returns free memory to the
   * system. While warm, the process's resident memory stays near its peak. Blocks above 64 MiB
   * allocated outside the process's first thread are mmap'ed whatever the setting.
   *
   * <p>Process-wide. Loading the library applies {@code true} unless {@code
   * SPINEKIT_MALLOC_TUNING=0} is in the environment, {@code -Dspinekit.mallocTuning=false} is set,
   * or GLIBC_TUNABLES / MALLOC_*_THRESHOLD_ already set these thresholds; a runtime that owns
   * allocator settings calls this to change it afterwards.
   *
   * @return whether glibc took the settings (false on another C library)
   */
  public static boolean keepAllocatorWarm(boolean on) {
    return NativeKernels.spinekit_malloc_keep_warm(on ? 1 : 0) == 1;
  }

  /**
   * The mmap threshold in bytes that libspinekit last set ({@link #keepAllocatorWarm}, also at
   * load), or 0 when it set none (glibc's defaults or the environment's tunables apply).
   */
  public static long allocatorMmapThreshold() {
    return NativeKernels.spinekit_malloc_mmap_threshold();
  }

  /**
   * Sets the nice value of every thread of this process whose name starts with {@code prefix}.
   *
   * @return the threads set; -1 where threads cannot be listed (not Linux)
   * @throws IllegalArgumentException for an empty prefix or a nice value outside -20..19
   */
  public static int reniceThreads(String prefix, int nice) {
    if (prefix == null || prefix.isEmpty()) {
      throw new IllegalArgumentException(
          "prefix: expected a thread name's start, got '" + prefix + "'");
    }
    if (nice < -20 || nice > 19) {
      throw new IllegalArgumentException("nice: expected -20 to 19, got " + nice);
    }
    return NativeKernels.spinekit_renice_threads(prefix, nice);
  }

  /**
   * Whether loading the library keeps the allocator warm: the system property {@code
   * spinekit.mallocTuning} (true/false, 1/0) when set, else off with {@code
   * SPINEKIT_MALLOC_TUNING=0} or when glibc's thresholds were set through the environment.
   */
  public static boolean mallocTuningByDefault(Map<String, String> env, Properties props) {
    String prop = props.getProperty("spinekit.mallocTuning");
    if (prop != null) {
      String p = prop.trim().toLowerCase(Locale.ROOT);
      if (p.equals("false") || p.equals("0")) return false;
      if (p.equals("true") || p.equals("1")) return true;
      throw new IllegalArgumentException(
          "spinekit.mallocTuning: expected true or false, got \"" + prop + "\"");
    }
    if ("0".equals(env.getOrDefault("SPINEKIT_MALLOC_TUNING", "").trim())) return false;
    String tunables = env.getOrDefault("GLIBC_TUNABLES", "");
    return !(tunables.contains("glibc.malloc.mmap_threshold")
        || tunables.contains("glibc.malloc.trim_threshold")
        || env.containsKey("MALLOC_MMAP_THRESHOLD_")
        || env.containsKey("MALLOC_TRIM_THRESHOLD_"));
  }

  /** Whether this build of the native library contains the CUDA kernels. */
  public static boolean cudaCompiled() {
    return NativeKernels.spinekit_cuda_compiled() != 0;
  }

  /** CUDA devices the native library can use (0 without a driver). */
  public static int cudaDeviceCount() {
    return NativeKernels.spinekit_cuda_device_count();
  }

  private static FloatPointer f(Tensor t) {
    return t == null ? null : t.data_ptr_float();
  }

  private static LongPointer l(Tensor t) {
    return t == null ? null : t.data_ptr_long();
  }

  private static Status launched(int rc) {
    if (rc == OK) return Status.SUCCESS;
    if (rc == CUDA_ERROR || rc == NO_CUDA) {
      throw new IllegalStateException(cudaMessage(rc, rc));
    }
    return new Status(rc, 0);
  }

  private static String cudaMessage(int rc, long info) {
    if (rc == NO_CUDA) {
      return "this build of libspinekit has no CUDA kernels (rebuild with nvcc present,"
          + " cppbuild/cppbuild.sh --cuda ON)";
    }
    return "CUDA kernel launch failed: " + NativeKernels.spinekit_cuda_error_string((int) info);
  }

  /** DSNT forward; on CUDA with {@code check} it waits for the kernel to read the status. */
  public static Status dsntForward(
      Tensor logits,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      Tensor probs,
      Tensor px,
      Tensor norm,
      boolean check) {
    if (!logits.is_cuda()) {
      long[] info = {0};
      int rc =
          NativeKernels.spinekit_dsnt_forward_cpu(
              f(logits), rows, d, h, w, ndim, f(probs), f(px), f(norm), info);
      return new Status(rc, info[0]);
    }
    try (PointerScope scope = new PointerScope()) {
      Tensor bad = logits.new_empty(new long[] {1}, new TensorOptions(ScalarType.Long));
      launched(
          NativeKernels.spinekit_dsnt_forward_cuda(
              f(logits),
              rows,
              d,
              h,
              w,
              ndim,
              f(probs),
              f(px),
              f(norm),
              l(bad),
              CudaStreams.current(logits)));
      if (!check) return Status.SUCCESS;
      long row = bad.item_long();
      return row == Long.MAX_VALUE ? Status.SUCCESS : new Status(NONFINITE_HEAT, row);
    }
  }

  public static void dsntBackward(
      Tensor probs,
      Tensor px,
      Tensor gradPx,
      Tensor gradNorm,
      Tensor gradProbs,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      Tensor gradLogits) {
    if (!probs.is_cuda()) {
      NativeKernels.spinekit_dsnt_backward_cpu(
          f(probs),
          f(px),
          f(gradPx),
          f(gradNorm),
          f(gradProbs),
          rows,
          d,
          h,
          w,
          ndim,
          f(gradLogits));
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      launched(
          NativeKernels.spinekit_dsnt_backward_cuda(
              f(probs),
              f(px),
              f(gradPx),
              f(gradNorm),
              f(gradProbs),
              rows,
              d,
              h,
              w,
              ndim,
              f(gradLogits),
              CudaStreams.current(probs)));
    }
  }

  public static void heatmapPoolForward(
      Tensor heat, Tensor grade, long n, long k, long c, long s, Tensor pooled) {
    if (!heat.is_cuda()) {
      NativeKernels.spinekit_heatmap_pool_forward_cpu(f(heat), f(grade), n, k, c, s, f(pooled));
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      launched(
          NativeKernels.spinekit_heatmap_pool_forward_cuda(
              f(heat), f(grade), n, k, c, s, f(pooled), CudaStreams.current(heat)));
    }
  }

  public static void heatmapPoolBackward(
      Tensor heat,
      Tensor grade,
      Tensor gradPooled,
      long n,
      long k,
      long c,
      long s,
      Tensor gradHeat,
      Tensor gradGrade) {
    if (!heat.is_cuda()) {
      NativeKernels.spinekit_heatmap_pool_backward_cpu(
          f(heat), f(grade), f(gradPooled), n, k, c, s, f(gradHeat), f(gradGrade));
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      launched(
          NativeKernels.spinekit_heatmap_pool_backward_cuda(
              f(heat),
              f(grade),
              f(gradPooled),
              n,
              k,
              c,
              s,
              f(gradHeat),
              f(gradGrade),
              CudaStreams.current(heat)));
    }
  }

  public static void gaussianRender(
      Tensor points,
      long rows,
      long d,
      long h,
      long w,
      int ndim,
      float sigma,
      boolean normalize,
      Tensor out) {
    if (!points.is_cuda()) {
      NativeKernels.spinekit_gaussian_render_cpu(
          f(points), rows, d, h, w, ndim, sigma, normalize ? 1 : 0, f(out));
      return;
    }
    try (PointerScope scope = new PointerScope()) {
      launched(
          NativeKernels.spinekit_gaussian_render_cuda(
              f(points),
              rows,
              d,
              h,
              w,
              ndim,
              sigma,
              normalize ? 1 : 0,
              f(out),
              CudaStreams.current(out)));
    }
  }

  /** Fused head loss; see native/include/spinekit/head_loss.h. {@code losses} holds 3 floats. */
  public static Status headLoss(
      Tensor heat,
      Tensor grade,
      Tensor points,
      Tensor target,
      Tensor classWeight,
      long n,
      long k,
      long c,
      long d,
      long h,
      long w,
      int ndim,
      float sigma,
      float jsWeight,
      float nllWeight,
      float gradScale,
      Tensor losses,
      Tensor coords,
      Tensor pooled,
      Tensor probs,
      Tensor gradHeat,
      Tensor gradGrade,
      boolean check) {
    if (!heat.is_cuda()) {
      long[] info = {0};
      int rc =
          NativeKernels.spinekit_head_loss_cpu(
              f(heat),
              f(grade),
              f(points),
              l(target),
              f(classWeight),
              n,
              k,
              c,
              d,
              h,
              w,
              ndim,
              sigma,
              jsWeight,
              nllWeight,
              gradScale,
              f(losses),
              f(coords),
              f(pooled),
              f(probs),
              f(gradHeat),
              f(gradGrade),
              info);
      return new Status(rc, info[0]);
    }
    try (PointerScope scope = new PointerScope()) {
      long bytes = NativeKernels.spinekit_head_loss_cuda_workspace_bytes(n, k, c, d, h, w, ndim);
      Tensor workspace =
          heat.new_empty(new long[] {Math.max(1, bytes)}, new TensorOptions(ScalarType.Byte));
      Tensor status = heat.new_empty(new long[] {2}, new TensorOptions(ScalarType.Long));
      launched(
          NativeKernels.spinekit_head_loss_cuda(
              f(heat),
              f(grade),
              f(points),
              l(target),
              f(classWeight),
              n,
              k,
              c,
              d,
              h,
              w,
              ndim,
              sigma,
              jsWeight,
              nllWeight,
              gradScale,
              f(losses),
              f(coords),
              f(pooled),
              f(probs),
              f(gradHeat),
              f(gradGrade),
              workspace.data_ptr(),
              l(status),
              CudaStreams.current(heat)));
      if (!check) return Status.SUCCESS;
      Tensor host = status.cpu();
      LongPointer s = host.data_ptr_long();
      return s.get(0) == OK ? Status.SUCCESS : new Status((int) s.get(0), s.get(1));
    }
  }
}
