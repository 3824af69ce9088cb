package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.cuda.CUDAStreamGuard;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch_cuda;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.spinekit.internal.jni.Kernels;

/**
 * The CUDA kernels run on libtorch's current stream of their tensors' device. Made current here: a
 * stream from libtorch's pool, which does not synchronise with the legacy default stream. On it,
 * slow matmuls are queued whose end writes the kernels' input, then the kernels, then libtorch work
 * that reads their output: a kernel launched on any other stream reads the input before it is
 * written (zeros) and the reads after it miss its output. GPU machines only.
 */
@Tag("gpu")
class CudaStreamTest {
  @BeforeAll
  static void setUp() {
    TestSupport.requireCuda();
  }

  /** Tens of milliseconds of matmuls on the current stream; a zero that depends on them. */
  private static Tensor slowZero(Tensor a) {
    Tensor x = a;
    for (int i = 0; i < 30; i++) x = x.matmul(a).tanh();
    return x.select(0, 0).select(0, 0).mul(new Scalar(0.0));
  }

  @Test
  void kernelsAreOrderedWithLibtorchWorkOnTheCurrentStream() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(5);
      byte dev = 0;
      Tensor heat =
          torch
              .rand(2, 10, 24, 80, 80)
              .flatten(2, -1)
              .softmax(2)
              .reshape(2, 10, 24, 80, 80)
              .contiguous();
      Tensor grade = torch.rand(2, 3, 24, 80, 80).softmax(1).contiguous();
      Tensor pooledCpu = HeatmapPool.forward(heat, grade);
      Tensor logits = torch.randn(2, 10, 24, 80, 80);
      logits
          .select(0, 0)
          .select(0, 7)
          .select(0, 3)
          .select(0, 4)
          .select(0, 5)
          .fill_(new Scalar(Float.NaN));
      Tensor volume =
          torch.randint(0, 4000, new long[] {9, 70, 60}, new TensorOptions(ScalarType.Short));
      Stack25d.Options o =
          Stack25d.Options.defaults().withSize(48, 40).withWindow(Window.SOFT_TISSUE);
      Tensor stackCpu = Stack25d.images(volume, 1, -1024, o);

      Tensor heatFinal = heat.cuda();
      Tensor gradeDev = grade.cuda();
      Tensor logitsFinal = logits.cuda();
      Tensor volumeFinal = volume.cuda();
      Tensor heatDev = torch.zeros_like(heatFinal);
      Tensor logitsDev = torch.zeros_like(logitsFinal);
      Tensor volumeDev = torch.zeros_like(volumeFinal);
      Tensor a = torch.randn(4096, 4096).cuda().div(new Scalar(64.0));
      torch_cuda.device_synchronize();

      CUDAStream side = torch_cuda.getStreamFromPool(false, dev);
      assertFalse(side.equals(torch_cuda.getDefaultCUDAStream(dev)), "a non-default stream");
      try (PointerScope onSide = new PointerScope()) {
        new CUDAStreamGuard(side.unwrap()); // current until onSide closes
        assertTrue(torch_cuda.getCurrentCUDAStream(dev).equals(side), "side stream current");

        heatDev.copy_(heatFinal.add(slowZero(a)));
        Tensor pooled = HeatmapPool.forward(heatDev, gradeDev).clone();
        boolean queued = !side.query();

        logitsDev.copy_(logitsFinal.add(slowZero(a)));
        NonFiniteInputException e =
            assertThrows(
                NonFiniteInputException.class,
                () -> Dsnt.forward(logitsDev),
                "the NaN written behind the matmuls");
        assertTrue(e.getMessage().contains("[n=0, k=7]"), e.getMessage());

        volumeDev.copy_(volumeFinal.add(slowZero(a)));
        Tensor stack = Stack25d.images(volumeDev, 1, -1024, o).clone();

        side.synchronize();
        TestSupport.assertClose(
            pooled,
            pooledCpu,
            1e-6,
            1e-4,
            "pooled on the side stream (kernels queued behind the matmuls: " + queued + ")");
        TestSupport.assertClose(stack, stackCpu, 1e-5, 0, "stack on the side stream");
        assertEquals(0, torch_cuda.current_device(), "current device after the kernels");
      }
      assertTrue(
          torch_cuda.getCurrentCUDAStream(dev).equals(torch_cuda.getDefaultCUDAStream(dev)),
          "default stream current again");
    }
  }

  @Test
  void kernelsRunOnTheTensorsDeviceWhateverDeviceIsCurrent() {
    Assumptions.assumeTrue(
        Kernels.cudaDeviceCount() >= 2,
        "needs two CUDA devices; this machine has " + Kernels.cudaDeviceCount());
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(6);
      Tensor heat =
          torch.rand(8, 5, 80, 80).flatten(2, -1).softmax(2).reshape(8, 5, 80, 80).contiguous();
      Tensor grade = torch.rand(8, 3, 80, 80).softmax(1).contiguous();
      torch_cuda.set_device((byte) 0);
      Tensor h1 = heat.to(new org.bytedeco.pytorch.Device("cuda:1"), ScalarType.Float);
      Tensor g1 = grade.to(new org.bytedeco.pytorch.Device("cuda:1"), ScalarType.Float);
      Tensor pooled = HeatmapPool.forward(h1, g1);
      assertEquals(1, pooled.device().index(), "output on the inputs' device");
      assertEquals(0, torch_cuda.current_device(), "current device restored");
      TestSupport.assertClose(
          pooled, HeatmapPool.forward(heat, grade), 1e-6, 1e-4, "pooled on cuda:1");
      Dsnt.Result r =
          Dsnt.forward(
              torch
                  .randn(8, 5, 80, 80)
                  .to(new org.bytedeco.pytorch.Device("cuda:1"), ScalarType.Float));
      assertEquals(1, r.probs.device().index());
    }
  }
}
