package org.spinekit.nn;

import org.bytedeco.pytorch.global.torch;

/**
 * Thread settings for libtorch. The preset's libtorch calls OpenBLAS, which brings its own
 * OpenMP runtime and thread pool: with libtorch's pool on the same cores, each pool spins
 * while the other works, and an eval forward of a small network at 2 threads became 5-10x
 * slower than at 1 (EfficientNet-B0 UNet, 1x3x128x128: 250 ms against 22 ms). libtorch already
 * parallelises around its BLAS calls, so OpenBLAS is kept to one thread; every {@link Net}
 * does this once when its class loads.
 */
public final class Threads {
  private Threads() {}

  private static volatile boolean blasDone;

  /** Keeps OpenBLAS to one thread (idempotent). */
  public static void singleThreadedBlas() {
    if (blasDone) return;
    synchronized (Threads.class) {
      if (blasDone) return;
      String env = System.getenv("SPINEKIT_BLAS_THREADS");
      int n = env == null || env.isBlank() ? 1 : Integer.parseInt(env.strip());
      if (n > 0) org.bytedeco.openblas.global.openblas_full.openblas_set_num_threads(n);
      blasDone = true;
    }
  }

  /** libtorch's intra-op threads, with OpenBLAS kept to one thread. */
  public static void use(int threads) {
    if (threads < 1) throw new IllegalArgumentException("threads: expected >= 1, got " + threads);
    singleThreadedBlas();
    torch.set_num_threads(threads);
  }
}
