package org.spinekit.dist;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolVector;
import org.bytedeco.pytorch.LoggerOptional;
import org.bytedeco.pytorch.LongVector;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Reducer;
import org.bytedeco.pytorch.SizeTStringMap;
import org.bytedeco.pytorch.SizeTVector;
import org.bytedeco.pytorch.SizeTVectorVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.nn.BatchNorm;
import org.spinekit.nn.Net;

/**
 * Data parallelism for one network, as PyTorch's DistributedDataParallel does it, on c10d's own
 * {@link Reducer} (DDP's C++ core): the parameters and buffers are broadcast from rank 0 when it is
 * built; during each backward, autograd hooks all-reduce the gradients in buckets of about {@link
 * Options#bucketBytes} (parameters in reverse order, the first bucket small) while the rest of the
 * backward runs, and divide them by the world size, so that every rank steps with the mean
 * gradient. Batch norm either keeps local statistics (rank 0's buffers are broadcast before each
 * forward, as DDP's {@code broadcast_buffers}) or is {@link Options#syncBatchNorm synchronised}.
 *
 * <p>Per step: {@link #beforeForward()}, the forward, {@link #beforeBackward(boolean)} with {@code
 * true} on the step that updates the weights (false on the inner steps of gradient accumulation: no
 * communication, the gradients add up locally and are all-reduced with the last one), then the
 * backward.
 */
public final class DataParallel implements AutoCloseable {
  /**
   * @param bucketBytes size cap of a gradient bucket (DDP: 25 MiB)
   * @param syncBatchNorm batch-norm statistics of the whole batch across the ranks (else local)
   */
  public record Options(long bucketBytes, boolean syncBatchNorm) {
    public Options {
      if (bucketBytes < 1) {
        throw new IllegalArgumentException("bucketBytes: expected >= 1, got " + bucketBytes);
      }
    }

    /** 25 MiB buckets, local batch norm (DDP's defaults). */
    public static Options defaults() {
      return new Options(25L << 20, false);
    }

    public Options withSyncBatchNorm(boolean v) {
      return new Options(bucketBytes, v);
    }

    public Options withBucketBytes(long v) {
      return new Options(v, syncBatchNorm);
    }
  }

  /** DDP's first bucket: small, so that communication starts early in the backward. */
  static final long FIRST_BUCKET_BYTES = 1L << 20;

  private final Net model;
  private final DistGroup group;
  private final Options options;
  private final Reducer reducer;
  private final List<Tensor> params = new ArrayList<>();
  private final List<Tensor> buffers = new ArrayList<>();
  private final List<Net> synced = new ArrayList<>();
  private final int buckets;
  private boolean closed;

  public DataParallel(Net model, DistGroup group, Options options) {
    if (model == null) throw new IllegalArgumentException("model: expected a network, got null");
    if (group == null) throw new IllegalArgumentException("group: expected a group, got null");
    if (options == null) throw new IllegalArgumentException("options: expected options, got null");
    this.model = model;
    this.group = group;
    this.options = options;
    for (Tensor p : model.namedParameters().values()) {
      if (p.requires_grad()) {
        p.retainReference();
        params.add(p);
      }
    }
    if (params.isEmpty()) {
      throw new IllegalArgumentException("model: no parameter requires gradients");
    }
    for (Tensor b : model.namedBuffers().values()) {
      b.retainReference();
      buffers.add(b);
    }
    try (PointerScope s = new PointerScope();
        NoGradGuard g = new NoGradGuard()) {
      for (Tensor p : params) broadcast(p);
      for (Tensor b : buffers) broadcast(b);
    }
    if (options.syncBatchNorm()) {
      BatchNorm.CrossReplica sum = group::allreduceSum;
      for (Net n : model.descendants()) {
        if (n instanceof BatchNorm bn) {
          bn.synchronise(sum);
          synced.add(bn);
        }
      }
    }
    TensorVector pv = new TensorVector(params.toArray(new Tensor[0]));
    boolean[] dense = new boolean[params.size()];
    BoolVector sparse = new BoolVector(dense);
    long first = Math.min(options.bucketBytes(), FIRST_BUCKET_BYTES);
    SizeTVector[] assigned =
        torch
            .compute_bucket_assignment_by_size(
                pv,
                new SizeTVector(first, options.bucketBytes()),
                sparse,
                new LongVector(),
                new LoggerOptional())
            .get0()
            .get();
    // As DDP: the buckets in reverse, so that the last layers' gradients (ready first) go first.
    SizeTVectorVector order = new SizeTVectorVector();
    for (int i = assigned.length - 1; i >= 0; i--) order.push_back(assigned[i]);
    this.buckets = assigned.length;
    try {
      this.reducer =
          new Reducer(
              pv,
              order,
              group.group(),
              sparse,
              options.bucketBytes(),
              false,
              false,
              new SizeTStringMap(),
              first,
              false,
              false);
    } catch (RuntimeException e) {
      throw group.failure("building the gradient reducer", e);
    }
  }

  private void broadcast(Tensor t) {
    if (t.is_contiguous()) {
      group.broadcast(t, 0);
    } else {
      Tensor c = t.contiguous();
      group.broadcast(c, 0);
      t.copy_(c);
    }
  }

  public Net model() {
    return model;
  }

  public DistGroup group() {
    return group;
  }

  public Options options() {
    return options;
  }

  /** The number of gradient buckets. */
  public int buckets() {
    return buckets;
  }

  /** Before each forward: rank 0's buffers to every rank (local batch norm), the reducer reset. */
  public void beforeForward() {
    checkOpen();
    try {
      reducer.prepare_for_forward();
      reducer.rebuild_buckets();
    } catch (RuntimeException e) {
      throw group.failure("preparing the forward", e);
    }
    if (!options.syncBatchNorm() && !buffers.isEmpty()) {
      try (PointerScope s = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        for (Tensor b : buffers) broadcast(b);
      }
    }
  }

  /**
   * After the forward, before the backward: {@code sync} true arms the reducer, so the backward
   * leaves the mean gradient over the ranks in every parameter's grad; false leaves the local
   * gradient (accumulated until a synchronised step).
   */
  public void beforeBackward(boolean sync) {
    checkOpen();
    if (!sync) return;
    try (PointerScope s = new PointerScope()) {
      reducer.prepare_for_backward(new TensorVector());
    } catch (RuntimeException e) {
      throw group.failure("preparing the backward", e);
    }
  }

  /** The number of parameters this reducer averages, by state-dict key (for reports). */
  public Map<String, Long> parameterSizes() {
    Map<String, Long> out = new LinkedHashMap<>();
    try (PointerScope s = new PointerScope()) {
      for (var e : model.namedParameters().entrySet()) {
        if (e.getValue().requires_grad()) out.put(e.getKey(), e.getValue().numel());
      }
    }
    return out;
  }

  private void checkOpen() {
    if (closed) throw new IllegalStateException("the data-parallel wrapper is closed");
  }

  /** Removes the reducer's hooks and the batch-norm synchronisation; the group stays open. */
  @Override
  public void close() {
    if (closed) return;
    closed = true;
    for (Net n : synced) ((BatchNorm) n).synchronise(null);
    reducer.remove_autograd_hooks();
    reducer.close();
    for (Tensor t : params) t.releaseReference();
    for (Tensor t : buffers) t.releaseReference();
  }
}
