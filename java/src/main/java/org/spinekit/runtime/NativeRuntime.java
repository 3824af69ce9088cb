package org.spinekit.runtime;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.internal.jni.Kernels;

/**
 * The one object through which SpineKit's process-wide native settings are made: libtorch's intra-
 * and inter-op threads, OpenBLAS's threads, the threads of SpineKit's own kernels, the random seed,
 * and the convolution guard ({@link ConvGuard}).
 *
 * <p>An application calls {@link #configure} once, before it builds a network or runs a kernel. One
 * that does not gets {@link Settings#fromEnvironment()} the first time a SpineKit network is built
 * ({@link #ensureConfigured}), which is also what the command line does. Nothing else in SpineKit
 * changes these settings; a layering test holds the library to that.
 *
 * <p>Why OpenBLAS defaults to one thread: the preset's OpenBLAS brings its own OpenMP pool, and
 * with libtorch's pool on the same cores each spins while the other works; an eval forward of an
 * EfficientNet-B0 UNet at 1x3x128x128 on 2 cores took 250 ms against 22 ms with OpenBLAS at one
 * thread. libtorch already parallelises around its BLAS calls.
 */
public final class NativeRuntime {
  private NativeRuntime() {}

  /**
   * The settings. A thread count of 0 leaves that pool as it is (libtorch's and OpenMP's own
   * defaults follow {@code OMP_NUM_THREADS}).
   *
   * @param threads libtorch's intra-op threads (0: leave)
   * @param interOpThreads libtorch's inter-op threads (0: leave); libtorch accepts this once per
   *     process, before any inter-op work
   * @param blasThreads OpenBLAS's threads (0: leave)
   * @param kernelThreads the threads of SpineKit's CPU kernels (0: OpenMP's default)
   * @param convGuard whether to check libtorch's CPU convolutions and route around wrong ones
   * @param nnpack whether libtorch may try NNPACK for CPU convolutions (off by default: oneDNN
   *     takes float32 convolutions before it, and on CPUs NNPACK does not recognise libtorch prints
   *     "Could not initialize NNPACK" at every try)
   * @param warmAllocator whether glibc keeps freed memory in the process (mmap and trim thresholds,
   *     top pad: {@link Kernels#keepAllocatorWarm}), so calls do not page-fault in again the large
   *     tensors the previous call freed; libspinekit already does this when it loads unless told
   *     not to, and resident memory then stays near its peak
   */
  public record Settings(
      int threads,
      int interOpThreads,
      int blasThreads,
      int kernelThreads,
      ConvGuard.Mode convGuard,
      boolean nnpack,
      boolean warmAllocator) {
    public Settings {
      nonNegative(threads, "threads");
      nonNegative(interOpThreads, "interOpThreads");
      nonNegative(blasThreads, "blasThreads");
      nonNegative(kernelThreads, "kernelThreads");
      if (convGuard == null) {
        throw new IllegalArgumentException("convGuard: expected AUTO, ON or OFF, got null");
      }
    }

    /** libtorch and the kernels as they come, OpenBLAS at one thread, the guard on AUTO. */
    public static Settings defaults() {
      return new Settings(0, 0, 1, 0, ConvGuard.Mode.AUTO, false, true);
    }

    /**
     * {@link #defaults()} with what the environment sets: {@code SPINEKIT_THREADS}, {@code
     * SPINEKIT_INTEROP_THREADS}, {@code SPINEKIT_BLAS_THREADS}, {@code SPINEKIT_KERNEL_THREADS}
     * (integers >= 0), {@code SPINEKIT_CONV_GUARD} ({@code auto}, {@code on}, {@code off}) and
     * {@code SPINEKIT_NNPACK} ({@code 0} or {@code 1}); the allocator as libspinekit decides when
     * it loads ({@code SPINEKIT_MALLOC_TUNING=0}, {@code -Dspinekit.mallocTuning=false} or glibc
     * thresholds in {@code GLIBC_TUNABLES} leave glibc alone). A malformed value is an error naming
     * the variable.
     */
    public static Settings fromEnvironment() {
      return fromEnvironment(System.getenv());
    }

    static Settings fromEnvironment(Map<String, String> env) {
      Settings d = defaults();
      return new Settings(
          count(env, "SPINEKIT_THREADS", d.threads),
          count(env, "SPINEKIT_INTEROP_THREADS", d.interOpThreads),
          count(env, "SPINEKIT_BLAS_THREADS", d.blasThreads),
          count(env, "SPINEKIT_KERNEL_THREADS", d.kernelThreads),
          mode(env, "SPINEKIT_CONV_GUARD", d.convGuard),
          flag(env, "SPINEKIT_NNPACK", d.nnpack),
          Kernels.mallocTuningByDefault(env, System.getProperties()));
    }

    public Settings withThreads(int n) {
      return new Settings(
          n, interOpThreads, blasThreads, kernelThreads, convGuard, nnpack, warmAllocator);
    }

    public Settings withInterOpThreads(int n) {
      return new Settings(threads, n, blasThreads, kernelThreads, convGuard, nnpack, warmAllocator);
    }

    public Settings withBlasThreads(int n) {
      return new Settings(
          threads, interOpThreads, n, kernelThreads, convGuard, nnpack, warmAllocator);
    }

    public Settings withKernelThreads(int n) {
      return new Settings(
          threads, interOpThreads, blasThreads, n, convGuard, nnpack, warmAllocator);
    }

    public Settings withConvGuard(ConvGuard.Mode mode) {
      return new Settings(
          threads, interOpThreads, blasThreads, kernelThreads, mode, nnpack, warmAllocator);
    }

    public Settings withNnpack(boolean on) {
      return new Settings(
          threads, interOpThreads, blasThreads, kernelThreads, convGuard, on, warmAllocator);
    }

    public Settings withWarmAllocator(boolean on) {
      return new Settings(
          threads, interOpThreads, blasThreads, kernelThreads, convGuard, nnpack, on);
    }

    private static void nonNegative(int v, String name) {
      if (v < 0) throw new IllegalArgumentException(name + ": expected >= 0, got " + v);
    }

    private static int count(Map<String, String> env, String name, int def) {
      String v = env.get(name);
      if (v == null || v.isBlank()) return def;
      try {
        int n = Integer.parseInt(v.strip());
        if (n >= 0) return n;
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new IllegalArgumentException(name + ": expected an integer >= 0, got '" + v + "'");
    }

    private static boolean flag(Map<String, String> env, String name, boolean def) {
      String v = env.get(name);
      if (v == null || v.isBlank()) return def;
      return switch (v.strip()) {
        case "1" -> true;
        case "0" -> false;
        default -> throw new IllegalArgumentException(name + ": expected 0 or 1, got '" + v + "'");
      };
    }

    private static ConvGuard.Mode mode(Map<String, String> env, String name, ConvGuard.Mode def) {
      String v = env.get(name);
      if (v == null || v.isBlank()) return def;
      try {
        return ConvGuard.Mode.valueOf(v.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(name + ": expected auto, on or off, got '" + v + "'");
      }
    }
  }

  /**
   * What is in effect: the settings last applied, the thread counts libtorch and the kernels
   * report, what the convolution guard found, and the CUDA build of the kernels.
   */
  public record State(
      Settings settings,
      int threads,
      int interOpThreads,
      int kernelThreads,
      ConvGuard.Report conv,
      long allocatorThreshold,
      boolean cudaKernels,
      int cudaDevices) {
    /** One line per item, for {@code spinekit info} and logs. */
    public String describe() {
      return String.join(
          "\n",
          "libtorch threads: " + threads + " intra-op, " + interOpThreads + " inter-op",
          "OpenBLAS threads: "
              + (settings.blasThreads() == 0
                  ? "as loaded"
                  : Integer.toString(settings.blasThreads())),
          "kernel threads: " + kernelThreads,
          "convolution guard: " + conv.describe(),
          "NNPACK: " + (settings.nnpack() ? "allowed" : "off"),
          "allocator: "
              + (allocatorThreshold > GLIBC_DEFAULT_THRESHOLD
                  ? "freed memory kept in the process (glibc mmap threshold "
                      + allocatorThreshold
                      + ")"
                  : "glibc's settings"),
          "CUDA kernels compiled: " + cudaKernels + ", CUDA devices: " + cudaDevices);
    }
  }

  /** glibc's default mmap and trim thresholds (128 KiB). */
  private static final long GLIBC_DEFAULT_THRESHOLD = 128 * 1024;

  private static volatile State state;
  private static boolean interOpSet;

  /**
   * Applies {@code settings} and returns what is then in effect. May be called again (a later call
   * changes thread counts); the inter-op thread count can be set only once per process, so a
   * second, different value is refused.
   *
   * @throws IllegalStateException when libtorch refuses the inter-op thread count
   */
  public static synchronized State configure(Settings settings) {
    if (settings == null) {
      throw new IllegalArgumentException("settings: expected settings, got null");
    }
    if (settings.blasThreads() > 0) {
      org.bytedeco.openblas.global.openblas_full.openblas_set_num_threads(settings.blasThreads());
    }
    if (settings.threads() > 0) torch.set_num_threads(settings.threads());
    if (settings.interOpThreads() > 0) {
      int now = (int) torch.get_num_interop_threads();
      if (now != settings.interOpThreads()) {
        if (interOpSet) {
          throw new IllegalStateException(
              "interOpThreads: already set to "
                  + now
                  + " in this process; libtorch accepts one value (asked for "
                  + settings.interOpThreads()
                  + ")");
        }
        try {
          torch.set_num_interop_threads(settings.interOpThreads());
        } catch (RuntimeException e) {
          throw new IllegalStateException(
              "interOpThreads: libtorch refused "
                  + settings.interOpThreads()
                  + " (it must be set before any inter-op work): "
                  + firstLine(e.getMessage()),
              e);
        }
      }
      interOpSet = true;
    }
    Kernels.setNumThreads(settings.kernelThreads());
    boolean warm = Kernels.allocatorMmapThreshold() > GLIBC_DEFAULT_THRESHOLD;
    if (settings.warmAllocator() != warm && !Kernels.keepAllocatorWarm(settings.warmAllocator())) {
      throw new IllegalStateException(
          "warmAllocator: the C library refused the malloc settings"
              + " (not glibc?); configure with warmAllocator false");
    }
    torch.globalContext().setUserEnabledNNPACK(settings.nnpack());
    ConvGuard.Report conv = ConvGuard.apply(settings.convGuard());
    State s =
        new State(
            settings,
            torch.get_num_threads(),
            (int) torch.get_num_interop_threads(),
            Kernels.numThreads(),
            conv,
            Kernels.allocatorMmapThreshold(),
            Kernels.cudaCompiled(),
            Kernels.cudaDeviceCount());
    state = s;
    return s;
  }

  /** The names (prefixes) the JVM gives its JIT compiler threads: HotSpot's C1 and C2, JVMCI. */
  static final List<String> JIT_THREADS = List.of("C1 Compiler", "C2 Compiler", "JVMCI");

  /**
   * Runs the JVM's JIT compiler threads at nice {@code nice} (19: the lowest priority), so that a
   * compile never takes a core from a request: on a machine whose cores all run requests, a method
   * compiled late (many run only once per request and reach C2 after thousands) otherwise slows the
   * request that shares its core by up to half for the compile's tens of milliseconds. Threads the
   * JVM starts later keep their priority; call again after a warm-up. Lowering needs no privilege.
   *
   * @return the threads set (0 when none matched); -1 where threads cannot be listed (not Linux)
   */
  public static int lowerJitPriority(int nice) {
    int n = 0;
    for (String prefix : JIT_THREADS) {
      int r = Kernels.reniceThreads(prefix, nice);
      if (r < 0) return -1;
      n += r;
    }
    return n;
  }

  /** Configures from the environment unless {@link #configure} ran already; cheap after. */
  public static State ensureConfigured() {
    State s = state;
    if (s != null) return s;
    synchronized (NativeRuntime.class) {
      return state != null ? state : configure(Settings.fromEnvironment());
    }
  }

  /** What is in effect (configuring from the environment first if nothing has). */
  public static State state() {
    return ensureConfigured();
  }

  /** Seeds libtorch's default generators (CPU, and CUDA where there is one). */
  public static void seed(long seed) {
    torch.manual_seed(seed);
  }

  /**
   * Runs {@code body} with libtorch at {@code threads} intra-op threads and restores the count it
   * found (0 runs it unchanged): for work such as a training run that owns the process for a while.
   * Not for concurrent use by several threads, whose counts would interleave.
   */
  public static <T, E extends Exception> T withThreads(int threads, Work<T, E> body) throws E {
    if (threads < 0) throw new IllegalArgumentException("threads: expected >= 0, got " + threads);
    ensureConfigured();
    if (threads == 0) return body.run();
    int before = torch.get_num_threads();
    torch.set_num_threads(threads);
    try {
      return body.run();
    } finally {
      torch.set_num_threads(before);
    }
  }

  /** A body for {@link #withThreads}. */
  @FunctionalInterface
  public interface Work<T, E extends Exception> {
    T run() throws E;
  }

  private static String firstLine(String s) {
    if (s == null) return "";
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
