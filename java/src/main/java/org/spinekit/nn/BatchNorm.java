package org.spinekit.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code nn.BatchNorm1d/2d/3d} (the dimension follows the input): keys {@code weight}, {@code
 * bias}, {@code running_mean}, {@code running_var}, {@code num_batches_tracked}.
 */
public final class BatchNorm extends Net {
  public final long channels;
  public final double eps;
  public final double momentum;
  public final Tensor weight;
  public final Tensor bias;
  public final Tensor runningMean;
  public final Tensor runningVar;
  public final Tensor batchesTracked;
  private final org.bytedeco.pytorch.TensorOptional weightOpt;
  private final org.bytedeco.pytorch.TensorOptional biasOpt;
  private final org.bytedeco.pytorch.TensorOptional meanOpt;
  private final org.bytedeco.pytorch.TensorOptional varOpt;

  public BatchNorm(long channels) {
    this(channels, 1e-5, 0.1);
  }

  public BatchNorm(long channels, double eps, double momentum) {
    this.channels = channels;
    this.eps = eps;
    this.momentum = momentum;
    weight = param("weight", channels);
    bias = param("bias", channels);
    runningMean = buffer("running_mean", torch.empty(channels));
    runningVar = buffer("running_var", torch.empty(channels));
    batchesTracked =
        buffer(
            "num_batches_tracked",
            torch.zeros(
                new long[0], new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long)));
    Init.constant(weight, 1);
    Init.constant(bias, 0);
    Init.constant(runningMean, 0);
    Init.constant(runningVar, 1);
    weightOpt = Params.held(weight);
    biasOpt = Params.held(bias);
    meanOpt = Params.held(runningMean);
    varOpt = Params.held(runningVar);
  }

  @Override
  public Tensor forward(Tensor x) {
    if (x.dim() < 2 || x.size(1) != channels) {
      throw new IllegalArgumentException(
          "BatchNorm: input must have "
              + channels
              + " channels in dim 1, got "
              + java.util.Arrays.toString(x.sizes().vec().get()));
    }
    boolean training = is_training();
    if (training) {
      try (PointerScope s = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        batchesTracked.add_(new org.bytedeco.pytorch.Scalar(1L));
      }
    }
    return torch.batch_norm(x, weightOpt, biasOpt, meanOpt, varOpt, training, momentum, eps, true);
  }
}
