package org.spinekit.internal.jni;

import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.cuda.CUDAGuard;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * libtorch's current CUDA stream of a tensor's device, for the kernels to launch on: they are then
 * ordered with the libtorch work queued on that stream before and after them, whichever stream the
 * caller made current. Only the CUDA paths of the facades load this class: the classes it uses have
 * natives in libtorch's GPU build only.
 */
final class CudaStreams {
  private CudaStreams() {}

  /**
   * Makes {@code t}'s device the current CUDA device until the innermost {@code PointerScope}
   * closes (the kernels query and launch on the current device) and returns the {@code
   * cudaStream_t} of libtorch's current stream on it. Call inside a scope opened for the launch.
   */
  static Pointer current(Tensor t) {
    byte device = t.device().index();
    new CUDAGuard(device); // restores the previous device when the scope deallocates it
    return torch_cuda.getCurrentCUDAStream(device).stream();
  }
}
