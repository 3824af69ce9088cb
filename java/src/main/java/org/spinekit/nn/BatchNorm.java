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
  /**
   * Sums tensors over the replicas of a data-parallel job, for synchronised batch norm: the
   * statistics are summed on the way forward and their gradients on the way back.
   */
  public interface CrossReplica {
    /** Sums {@code t} (contiguous, float) over the replicas, in place. */
    void sum(Tensor t);
  }

  private CrossReplica sync;
  private org.bytedeco.pytorch.TensorTensorHook hook;

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

  /**
   * Synchronised batch norm: in training, the mean and variance are those of the whole batch across
   * the replicas that {@code sync} spans, and the gradients are those of the whole batch (the sums
   * of the statistics' gradients are summed across the replicas too). Null: local statistics.
   */
  public void synchronise(CrossReplica sync) {
    this.sync = sync;
    // One hook object for the module's lifetime: the native hook calls back into it whenever a
    // backward runs, however many forwards registered it.
    this.hook =
        sync == null
            ? null
            : new org.bytedeco.pytorch.TensorTensorHook() {
              @Override
              public org.bytedeco.pytorch.TensorBase call(org.bytedeco.pytorch.TensorBase g) {
                Tensor all = new Tensor(g).contiguous().clone();
                sync.sum(all);
                return all;
              }
            };
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
    if (training && sync != null) return synchronised(x);
    return torch.batch_norm(x, weightOpt, biasOpt, meanOpt, varOpt, training, momentum, eps, true);
  }

  private Tensor synchronised(Tensor x) {
    long[] dims = new long[(int) x.dim() - 1];
    dims[0] = 0;
    for (int i = 2; i < x.dim(); i++) dims[i - 1] = i;
    double local = (double) x.numel() / channels;
    // Local sums of x and x² (with gradients), then the global ones. The global value enters the
    // graph as local + (global - local).detach(): its gradient reaches this replica's sums, and
    // the hook adds the other replicas' gradients of the same statistics, so that every replica's
    // inputs get the gradient of the whole batch's loss.
    Tensor xf = x.to(torch.ScalarType.Float);
    Tensor sums =
        torch.cat(
            new org.bytedeco.pytorch.TensorVector(
                xf.sum(dims),
                xf.mul(xf).sum(dims),
                torch.full(new long[] {1}, new org.bytedeco.pytorch.Scalar(local))));
    Tensor global = sums.detach().clone();
    sync.sum(global);
    Tensor tied = sums.add(global.sub(sums.detach()));
    if (tied.requires_grad()) tied.register_hook(hook);
    double n = global.get(2 * channels).item_double();
    Tensor mean = tied.narrow(0, 0, channels).div(new org.bytedeco.pytorch.Scalar(n));
    Tensor var =
        tied.narrow(0, channels, channels)
            .div(new org.bytedeco.pytorch.Scalar(n))
            .sub(mean.mul(mean));
    long[] shape = new long[(int) x.dim()];
    java.util.Arrays.fill(shape, 1);
    shape[1] = channels;
    Tensor y =
        xf.sub(mean.view(shape))
            .mul(var.add(new org.bytedeco.pytorch.Scalar(eps)).rsqrt().view(shape))
            .mul(weight.view(shape))
            .add(bias.view(shape));
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      runningMean
          .mul_(new org.bytedeco.pytorch.Scalar(1 - momentum))
          .add_(mean.detach().mul(new org.bytedeco.pytorch.Scalar(momentum)));
      runningVar
          .mul_(new org.bytedeco.pytorch.Scalar(1 - momentum))
          .add_(
              var.detach().mul(new org.bytedeco.pytorch.Scalar(momentum * n / Math.max(1, n - 1))));
    }
    return y.to(x.scalar_type());
  }
}
