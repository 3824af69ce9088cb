package org.spinekit.nn;

/**
 * Shows an internal type in public API on purpose, for LayeringTest to catch. Test code only; never
 * called.
 */
public final class LeakyApi {
  private LeakyApi() {}

  /** A public method whose parameter is an internal type. */
  public static void leak(org.spinekit.internal.jni.Kernels kernels) {}

  /** Package-private: not API, so allowed. */
  static org.spinekit.internal.jni.Kernels hidden() {
    return null;
  }
}
