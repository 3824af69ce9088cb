package org.spinekit.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.spinekit.tensor.Checks;

/**
 * CUDA kernels against the CPU ones on the same inputs. Runs with {@code mvn -Pgpu test} on a
 * machine with a GPU, libtorch's CUDA natives and a libspinekit built with nvcc.
 */
@Tag("gpu")
class CudaKernelsTest {
  @BeforeAll
  static void setUp() {
    TestSupport.requireCuda();
  }

  @Test
  void dsntPoolingAndGaussianMatchCpu() {
    try (PointerScope scope = new PointerScope()) {
      torch.manual_seed(2);
      for (long[] shape : new long[][] {{8, 5, 80, 80}, {1, 1, 7, 13}, {2, 10, 24, 80, 80}}) {
        Tensor logits = torch.randn(shape).mul(new Scalar(3.0));
        Dsnt.Result cpu = Dsnt.forward(logits);
        Dsnt.Result gpu = Dsnt.forward(logits.cuda());
        TestSupport.assertClose(gpu.probs, cpu.probs, 1e-7, 1e-4, "probs");
        TestSupport.assertClose(gpu.coords, cpu.coords, 1e-4, 1e-5, "coords");
        Tensor gc = torch.randn(Checks.shape(cpu.coords));
        TestSupport.assertClose(
            gpu.backward(gc.cuda(), null, null),
            cpu.backward(gc, null, null),
            1e-6,
            1e-4,
            "grad logits");
        long[] gshape = shape.clone();
        gshape[1] = 3;
        Tensor grade = torch.randn(gshape).softmax(1).contiguous();
        TestSupport.assertClose(
            HeatmapPool.forward(gpu.probs, grade.cuda()),
            HeatmapPool.forward(cpu.probs, grade),
            1e-6,
            1e-4,
            "pooled");
      }
      Tensor pts = torch.rand(2, 5, 3).mul(new Scalar(20.0));
      TestSupport.assertClose(
          GaussianTargets.render(pts.cuda(), new long[] {24, 32, 32}, 2.0, true),
          GaussianTargets.render(pts, new long[] {24, 32, 32}, 2.0, true),
          1e-8,
          1e-4,
          "Gaussian targets");
    }
  }

  @Test
  void headLossMatchesCpuAndReportsNonFiniteRows() {
    try (PointerScope scope = new PointerScope()) {
      Random rnd = new Random(4);
      torch.manual_seed(4);
      Tensor heat = torch.randn(8, 5, 80, 80);
      Tensor grade = torch.randn(8, 3, 80, 80);
      Tensor pts = HeadLossTest.points(8, 5, new long[] {80, 80}, rnd, true);
      Tensor tgt = HeadLossTest.targets(8, 5, 3, rnd, true);
      HeadLoss loss = new HeadLoss(2.0);
      HeadLoss.Result cpu = loss.compute(heat, grade, pts, tgt);
      HeadLoss.Result gpu = loss.compute(heat.cuda(), grade.cuda(), pts.cuda(), tgt.cuda());
      assertEquals(cpu.loss(), gpu.loss(), 1e-5 + 1e-4 * Math.abs(cpu.loss()), "loss");
      TestSupport.assertClose(gpu.gradHeat, cpu.gradHeat, 1e-8, 1e-3, "grad heat");
      TestSupport.assertClose(gpu.gradGrade, cpu.gradGrade, 1e-8, 1e-3, "grad grade");
      Tensor bad = heat.clone();
      bad.select(0, 2).select(0, 1).fill_(new Scalar(Float.NaN));
      NonFiniteInputException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              NonFiniteInputException.class,
              () -> loss.compute(bad.cuda(), grade.cuda(), pts.cuda(), tgt.cuda()));
      assertTrue(e.getMessage().contains("[n=2, k=1]"), e.getMessage());
    }
  }
}
