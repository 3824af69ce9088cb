package org.spinekit.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.spinekit.dist.DataParallel;
import org.spinekit.dist.DistGroup;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;

/**
 * How the systems train one network of a stage and fold: loaders over the two data sets (sharded by
 * rank in a data-parallel run), a cosine schedule with optional warm-up, gradient clipping,
 * checkpoints with resume and logs under a work directory, then the weights written by rank 0.
 */
public final class Recipe {
  private Recipe() {}

  /**
   * Where and how a run trains.
   *
   * @param device where the networks run (null: CPU)
   * @param maxSteps at most this many optimiser steps, in one epoch (0: the plan's epochs); for
   *     smoke tests
   * @param workers loader threads
   * @param checkpointEvery also checkpoint every this many steps (0: at epoch ends only)
   * @param progress progress bars (null: none)
   * @param dist the process group of a data-parallel run (null: this process alone)
   * @param seed seed of the loaders' order and augmentation
   */
  public record Run(
      Device device,
      int maxSteps,
      int workers,
      int checkpointEvery,
      ProgressBar progress,
      DistGroup dist,
      long seed) {
    public Run {
      if (maxSteps < 0) {
        throw new IllegalArgumentException("maxSteps: expected >= 0, got " + maxSteps);
      }
      if (workers < 1) throw new IllegalArgumentException("workers: expected >= 1, got " + workers);
      if (checkpointEvery < 0) {
        throw new IllegalArgumentException(
            "checkpointEvery: expected >= 0, got " + checkpointEvery);
      }
    }

    /** Whether this process writes: rank 0 of a data-parallel run, or the only one. */
    public boolean writer() {
      return dist == null || dist.rank() == 0;
    }

    /** Waits for every rank (nothing when alone). */
    public void barrier() {
      if (dist != null) dist.barrier();
    }

    /** Whether the i-th item of a shared-out list is this rank's. */
    public boolean mine(int i) {
      return dist == null || i % dist.size() == dist.rank();
    }

    /** How a system opens (creates or checks) its bundle. */
    @FunctionalInterface
    public interface Opener<B extends RunBundle> {
      B open() throws IOException;
    }

    /**
     * The run's bundle: rank 0 creates or checks it first; the other ranks then open it read-only
     * in memory (they never write bundle.json).
     */
    public <B extends RunBundle> B openBundle(Opener<B> opener) throws IOException {
      B b = writer() ? opener.open() : null;
      barrier();
      if (b == null) {
        b = opener.open();
        b.writer(false);
      }
      return b;
    }

    /** {@code t} on the run's device (itself on CPU). */
    public Tensor on(Tensor t) {
      return device == null ? t : t.to(device, t.scalar_type());
    }
  }

  /**
   * What one network's training does.
   *
   * @param batch samples per step and process
   * @param epochs epochs
   * @param optimizer Adam or AdamW and its learning rate (the schedule's peak)
   * @param finalLrRatio the cosine schedule ends at this fraction of the peak
   * @param warmupEpochs linear warm-up epochs (0: none)
   * @param ema weight averaging (null: off); the averages are what is returned and saved
   * @param clipNorm gradient norm clip
   * @param syncBatchNorm synchronise batch norm statistics across ranks
   */
  public record Plan(
      int batch,
      int epochs,
      Adam.Options optimizer,
      double finalLrRatio,
      int warmupEpochs,
      Ema.Options ema,
      double clipNorm,
      boolean syncBatchNorm) {
    public Plan {
      if (batch < 1) throw new IllegalArgumentException("batch: expected >= 1, got " + batch);
      if (epochs < 1) throw new IllegalArgumentException("epochs: expected >= 1, got " + epochs);
      if (warmupEpochs < 0 || warmupEpochs >= epochs) {
        throw new IllegalArgumentException(
            "warmupEpochs: expected 0.." + (epochs - 1) + ", got " + warmupEpochs);
      }
      if (!(finalLrRatio > 0 && finalLrRatio <= 1)) {
        throw new IllegalArgumentException(
            "finalLrRatio: expected a fraction in (0, 1], got " + finalLrRatio);
      }
    }
  }

  /**
   * Trains {@code net} (moved to the run's device) and returns its history; with EMA on, the
   * averaged weights are swapped in before returning.
   */
  public static <M extends Net> History fit(
      Run run,
      Path work,
      M net,
      Step<M> step,
      Dataset trainSet,
      Dataset validSet,
      Plan plan,
      Validation<M> validation,
      String monitor,
      Mode mode)
      throws IOException {
    int epochs = plan.epochs(), warmup = plan.warmupEpochs(), batch = plan.batch();
    if (run.maxSteps() > 0) {
      trainSet = head(trainSet, run.maxSteps() * batch, run.seed());
      validSet = head(validSet, run.maxSteps() * batch, run.seed() + 1);
      epochs = 1;
      warmup = 0;
    }
    if (run.device() != null) net.to(run.device(), false);
    // Data-parallel: batch is per process (the step's batch is batch x ranks, as with DDP).
    int shard = run.dist() == null ? 0 : run.dist().rank();
    int shards = run.dist() == null ? 1 : run.dist().size();
    double lr = plan.optimizer().lr();
    try (DataLoader train =
            new DataLoader(
                trainSet,
                DataLoader.Options.of(batch, run.workers(), run.seed())
                    .withCuda(run.device() != null)
                    .withShard(shard, shards));
        DataLoader valid =
            new DataLoader(
                validSet,
                DataLoader.Options.of(batch, run.workers(), run.seed())
                    .withShuffle(false)
                    .withCuda(run.device() != null)
                    .withShard(shard, shards))) {
      long steps = (long) epochs * train.batches();
      long warm = (long) warmup * train.batches();
      double last = lr * plan.finalLrRatio();
      LrSchedule schedule =
          warm > 0
              ? WarmupCosine.gradualWarmup(
                  LrSchedule.Interval.STEP, 10, warm, Math.max(warm + 1, steps), last)
              : new WarmupCosine(LrSchedule.Interval.STEP, 0, 1, Math.max(1, steps), last);
      Trainer.Config tc =
          Trainer.builder(epochs)
              .optimizer(plan.optimizer())
              .schedule(schedule)
              .clipNorm(plan.clipNorm())
              .monitor(monitor, mode)
              .checkpoints(work.resolve("checkpoints"), run.checkpointEvery(), true)
              .logs(work.resolve("logs"), true)
              .progress(run.progress())
              .seed(run.seed())
              .ema(plan.ema())
              .distributed(
                  run.dist(),
                  DataParallel.Options.defaults().withSyncBatchNorm(plan.syncBatchNorm()))
              .build();
      try (Trainer<M> t = new Trainer<>(net, tc)) {
        History h =
            t.fit(step, train, valid, validation != null ? validation : Validation.mean(step));
        // The averages are what was validated: they become the weights that are saved.
        if (t.ema() != null) t.ema().swap();
        return h;
      }
    }
  }

  /** The first n samples of a seeded permutation of {@code data} (all when n >= its size). */
  public static Dataset head(Dataset data, int n, long seed) {
    if (n >= data.size()) return data;
    int[] idx =
        new SplittableRandom(seed).ints(0, data.size()).distinct().limit(n).sorted().toArray();
    return Folds.subset(data, idx);
  }

  /** Rank 0 writes the weights with {@code meta}; every rank returns once they are in place. */
  public static void saveWeights(Run run, Net net, Path file, Map<String, String> meta)
      throws IOException {
    if (run.writer()) {
      Files.createDirectories(file.getParent());
      StateDict.save(net, file, meta);
    }
    run.barrier();
  }
}
