package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA stacking, crop, mask and window kernels against the CPU ones through the Java API
 * (bilinear 1e-5 absolute on windowed values, labels exactly). GPU machines only.
 */
@Tag("gpu")
class StackCudaTest {
  @BeforeAll
  static void setUp() {
    TestSupport.requireCuda();
  }

  @Test
  void cudaMatchesCpu() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(8);
      Tensor v =
          torch.randint(0, 4000, new long[] {9, 70, 60}, new TensorOptions(ScalarType.Short));
      Tensor g = v.cuda();
      Stack25d.Options o =
          Stack25d.Options.defaults().withSize(48, 40).withWindow(Window.SOFT_TISSUE);
      Tensor gpu = Stack25d.images(g, 1, -1024, o);
      assertTrue(gpu.is_cuda(), "output on the volume's device");
      TestSupport.assertClose(gpu, Stack25d.images(v, 1, -1024, o), 1e-5, 0, "stack");
      CropSample.Box b = new CropSample.Box(-2, 6, 10, 75, -5, 30);
      CropSample.Options co =
          CropSample.Options.of(32, 32).withMargin(1, 2, 3).withWindow(Window.BONE).withPad(-1024);
      TestSupport.assertClose(
          CropSample.sample(g, 1, -1024, b, co),
          CropSample.sample(v, 1, -1024, b, co),
          1e-5,
          0,
          "crop");
      Tensor labels =
          torch.randint(0, 20, new long[] {5, 33, 31}, new TensorOptions(ScalarType.Short));
      Stack25d.Options mo = Stack25d.Options.defaults().withSize(50, 20);
      assertTrue(
          Stack25d.masks(labels.cuda(), mo, ScalarType.Long)
              .cpu()
              .equal(Stack25d.masks(labels, mo, ScalarType.Long)),
          "masks");
      List<Window> ws = List.of(Window.SOFT_TISSUE, Window.BONE);
      TestSupport.assertClose(
          Window.channels(g, 1, -1024, ws), Window.channels(v, 1, -1024, ws), 1e-6, 0, "windows");
    }
  }
}
