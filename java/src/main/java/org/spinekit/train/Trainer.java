package org.spinekit.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.spinekit.dist.DataParallel;
import org.spinekit.dist.DistGroup;
import org.spinekit.io.MalformedFileException;
import org.spinekit.io.safetensors.SafeTensors;
import org.spinekit.nn.NameMap;
import org.spinekit.nn.Net;
import org.spinekit.nn.StateDict;
import org.spinekit.runtime.NativeRuntime;

/**
 * Trains a network: epochs over a training {@link DataLoader}, a user {@link Step} per batch
 * (forward and loss), backward, gradient accumulation, clipping, an {@link Adam}/AdamW step, EMA of
 * the weights, a learning-rate schedule, validation at each epoch's end, early stopping, logs, a
 * progress bar, checkpoints, and resumption.
 *
 * <p>One step: a {@link PointerScope} opens, the batch's step runs, its loss (scaled by 1 / the
 * accumulation group's size) is back-propagated, and after the group's last batch the gradients are
 * clipped, the optimiser steps, gradients are zeroed and the EMA and step-wise schedule advance;
 * the scope then closes, so native memory does not grow with the number of steps. Accumulation
 * groups are counted from each epoch's first batch; the last group of an epoch may be shorter (its
 * losses are then scaled by 1 / its size).
 *
 * <p>Determinism: on a fresh run libtorch's CPU generator is seeded with {@link Config#seed()};
 * batch order and augmentation come from the loaders' (seed, epoch, index) seeds. With the same
 * seeds and thread count a run repeats its losses bit for bit, and so does a run resumed from any
 * of its checkpoints: a checkpoint holds the model, optimiser state, EMA, the generator's state,
 * the schedule, early stopping and the position (epoch, batch, step), and resuming cuts the logs
 * back to what they held when it was written. (CUDA generators are not saved.)
 *
 * <p>Files: in the log directory {@code steps.csv}/{@code steps.jsonl} (a row per batch), {@code
 * epochs.csv}/{@code epochs.jsonl} (a row per epoch) and {@code curves.png}; in the checkpoint
 * directory see {@link Checkpoints}: {@code last.json}, {@code best.json} and the tensors files
 * they name.
 */
public final class Trainer<M extends Net> implements AutoCloseable {
  /**
   * What a run does. Build with {@link #builder(int)}.
   *
   * @param epochs epochs to run in all (a resumed run counts the ones done)
   * @param optimizer Adam or AdamW hyper-parameters
   * @param grouping how the parameters are split into groups (e.g. no weight decay for norms and
   *     biases)
   * @param schedule the learning-rate schedule
   * @param clipNorm clip the gradients' global norm to this (0: off)
   * @param clipValue clamp gradient elements to +-this (0: off)
   * @param accumulation batches per optimiser step
   * @param ema EMA of the weights, used for validation and saved in checkpoints (null: off)
   * @param monitor the epoch metric that early stopping, the plateau schedule and the best
   *     checkpoint follow (null: {@code valid_loss} when there is validation, else {@code
   *     train_loss})
   * @param mode whether the monitored metric improves downwards or upwards
   * @param patience early stopping after this many epochs without improvement (0: off)
   * @param minDelta the least change early stopping counts as improvement
   * @param checkpointDir where checkpoints go (null: none)
   * @param checkpointEvery also save every this many optimiser steps within epochs (0: at epoch
   *     ends only)
   * @param resume continue from the last checkpoint in {@code checkpointDir} when there is one
   * @param logDir where the CSV/JSON logs and the PNG plot go (null: none)
   * @param plot write {@code curves.png} at the end
   * @param progress the progress bar (null: none)
   * @param seed seed of libtorch's CPU generator on a fresh run
   * @param threads libtorch's intra-op threads during {@link #fit} (0: leave as they are)
   * @param onStep called after every batch (may be null)
   * @param onEpoch called after every epoch (may be null)
   * @param dist the process group of a data-parallel run (null: this process alone); the loaders
   *     must then be {@link DataLoader.Options#withShard sharded} by rank
   * @param parallel how the gradients are reduced across {@code dist}
   */
  public record Config(
      int epochs,
      Adam.Options optimizer,
      Adam.Grouping grouping,
      LrSchedule schedule,
      double clipNorm,
      double clipValue,
      int accumulation,
      Ema.Options ema,
      String monitor,
      Mode mode,
      int patience,
      double minDelta,
      Path checkpointDir,
      int checkpointEvery,
      boolean resume,
      Path logDir,
      boolean plot,
      ProgressBar progress,
      long seed,
      int threads,
      Consumer<History.StepRow> onStep,
      Consumer<History.EpochRow> onEpoch,
      DistGroup dist,
      DataParallel.Options parallel) {
    public Config {
      if (epochs < 1) throw new IllegalArgumentException("epochs: expected >= 1, got " + epochs);
      if (optimizer == null) {
        throw new IllegalArgumentException("optimizer: expected Adam options, got null");
      }
      if (grouping == null) {
        throw new IllegalArgumentException("grouping: expected a grouping, got null");
      }
      if (schedule == null) {
        throw new IllegalArgumentException("schedule: expected a schedule, got null");
      }
      Adam.check("clipNorm", clipNorm, 0, Double.MAX_VALUE);
      Adam.check("clipValue", clipValue, 0, Double.MAX_VALUE);
      if (accumulation < 1) {
        throw new IllegalArgumentException("accumulation: expected >= 1, got " + accumulation);
      }
      if (monitor != null && monitor.isEmpty()) {
        throw new IllegalArgumentException("monitor: expected a metric name, got \"\"");
      }
      if (mode == null) throw new IllegalArgumentException("mode: expected MIN or MAX, got null");
      if (patience < 0) {
        throw new IllegalArgumentException("patience: expected >= 0, got " + patience);
      }
      Adam.check("minDelta", minDelta, 0, Double.MAX_VALUE);
      if (checkpointEvery < 0) {
        throw new IllegalArgumentException(
            "checkpointEvery: expected >= 0, got " + checkpointEvery);
      }
      if (threads < 0) throw new IllegalArgumentException("threads: expected >= 0, got " + threads);
      if (parallel == null) {
        throw new IllegalArgumentException("parallel: expected data-parallel options, got null");
      }
    }

    /** Whether this process writes the logs, plots and checkpoints (rank 0, or the only one). */
    public boolean writer() {
      return dist == null || dist.rank() == 0;
    }
  }

  /** A builder of {@link Config}: AdamW(1e-3), constant rate, no clipping, no accumulation. */
  public static Builder builder(int epochs) {
    return new Builder(epochs);
  }

  /** Builds a {@link Config}; every setter returns this builder. */
  public static final class Builder {
    private int epochs;
    private Adam.Options optimizer = Adam.Options.adamW(1e-3);
    private Adam.Grouping grouping = Adam.Grouping.single();
    private LrSchedule schedule = LrSchedule.constant();
    private double clipNorm;
    private double clipValue;
    private int accumulation = 1;
    private Ema.Options ema;
    private String monitor;
    private Mode mode = Mode.MIN;
    private int patience;
    private double minDelta;
    private Path checkpointDir;
    private int checkpointEvery;
    private boolean resume;
    private Path logDir;
    private boolean plot = true;
    private ProgressBar progress;
    private long seed;
    private int threads;
    private Consumer<History.StepRow> onStep;
    private Consumer<History.EpochRow> onEpoch;
    private DistGroup dist;
    private DataParallel.Options parallel = DataParallel.Options.defaults();

    private Builder(int epochs) {
      this.epochs = epochs;
    }

    public Builder epochs(int v) {
      epochs = v;
      return this;
    }

    public Builder optimizer(Adam.Options v) {
      optimizer = v;
      return this;
    }

    public Builder grouping(Adam.Grouping v) {
      grouping = v;
      return this;
    }

    public Builder schedule(LrSchedule v) {
      schedule = v;
      return this;
    }

    public Builder clipNorm(double v) {
      clipNorm = v;
      return this;
    }

    public Builder clipValue(double v) {
      clipValue = v;
      return this;
    }

    public Builder accumulation(int v) {
      accumulation = v;
      return this;
    }

    public Builder ema(Ema.Options v) {
      ema = v;
      return this;
    }

    public Builder monitor(String metric, Mode m) {
      monitor = metric;
      mode = m;
      return this;
    }

    public Builder earlyStopping(int patienceEpochs, double delta) {
      patience = patienceEpochs;
      minDelta = delta;
      return this;
    }

    public Builder checkpoints(Path dir, int everySteps, boolean resumeFromLast) {
      checkpointDir = dir;
      checkpointEvery = everySteps;
      resume = resumeFromLast;
      return this;
    }

    public Builder logs(Path dir, boolean writePlot) {
      logDir = dir;
      plot = writePlot;
      return this;
    }

    /**
     * The progress bar: none by default (a library does not write to the console unasked); {@link
     * ProgressBar#console()} for a terminal, or a bar on any stream.
     */
    public Builder progress(ProgressBar v) {
      progress = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder threads(int v) {
      threads = v;
      return this;
    }

    public Builder onStep(Consumer<History.StepRow> v) {
      onStep = v;
      return this;
    }

    public Builder onEpoch(Consumer<History.EpochRow> v) {
      onEpoch = v;
      return this;
    }

    public Config build() {
      return new Config(
          epochs,
          optimizer,
          grouping,
          schedule,
          clipNorm,
          clipValue,
          accumulation,
          ema,
          monitor,
          mode,
          patience,
          minDelta,
          checkpointDir,
          checkpointEvery,
          resume,
          logDir,
          plot,
          progress,
          seed,
          threads,
          onStep,
          onEpoch,
          dist,
          parallel);
    }

    /**
     * Data-parallel training over {@code group} (null: off): rank 0's weights to every rank, the
     * mean gradient on every rank at each step, metrics averaged over the ranks, and rank 0 alone
     * writing logs, plots and checkpoints (every rank resumes from them).
     */
    public Builder distributed(DistGroup group, DataParallel.Options options) {
      dist = group;
      parallel = options;
      return this;
    }
  }

  private static final java.util.Set<String> RESERVED =
      java.util.Set.of("epoch", "batch", "step", "loss", "lr", "grad_norm", "seconds");

  private final M model;
  private final Config config;
  private final Adam optimizer;
  private final Ema ema;
  private final DataParallel parallel;

  /** Where a run is, and what the current epoch has summed so far. */
  private static final class Position {
    int epoch;
    int batch;
    long step;
    double lossSum;
    int count;
    Map<String, Double> metricSums = new LinkedHashMap<>();
    double seconds;
    boolean stopped;
    double best;
    int bestEpoch = -1;
  }

  /**
   * A trainer of {@code model}, which it puts into its optimiser's flat buffers (see {@link Adam}):
   * build the model, move it to its device and load its starting weights first.
   */
  public Trainer(M model, Config config) {
    if (model == null) throw new IllegalArgumentException("model: expected a network, got null");
    if (config == null) throw new IllegalArgumentException("config: expected a config, got null");
    this.model = model;
    this.config = config;
    this.optimizer = new Adam(model, config.optimizer(), config.grouping());
    Ema e = null;
    try {
      if (config.ema() != null) e = new Ema(model, optimizer, config.ema());
    } catch (RuntimeException ex) {
      optimizer.close();
      throw ex;
    }
    this.ema = e;
    DataParallel dp = null;
    try {
      // After the optimiser has put the parameters into its flat buffers: the reducer hooks their
      // gradient accumulators and copies the mean gradients into the optimiser's views.
      if (config.dist() != null) dp = new DataParallel(model, config.dist(), config.parallel());
    } catch (RuntimeException ex) {
      if (ema != null) ema.close();
      optimizer.close();
      throw ex;
    }
    this.parallel = dp;
  }

  public M model() {
    return model;
  }

  public Config config() {
    return config;
  }

  public Adam optimizer() {
    return optimizer;
  }

  /** The EMA of the weights, or null when off. */
  public Ema ema() {
    return ema;
  }

  /** Trains on {@code train} without validation. */
  public History fit(Step<M> step, DataLoader train) throws IOException {
    return fit(step, train, null, null);
  }

  /**
   * Trains on {@code train}, validating on {@code valid} after each epoch with {@code validation}
   * (null: the mean of {@code step}'s loss and metrics, see {@link Validation#mean}). Resumes from
   * the last checkpoint when configured to.
   *
   * @throws IllegalStateException when a checkpoint to resume from was made with another number of
   *     batches per epoch or another accumulation, or the monitored metric is missing
   */
  public History fit(Step<M> step, DataLoader train, DataLoader valid, Validation<M> validation)
      throws IOException {
    if (step == null) throw new IllegalArgumentException("step: expected a step, got null");
    if (train == null) {
      throw new IllegalArgumentException("train: expected a loader, got null");
    }
    Validation<M> check =
        valid == null ? null : validation != null ? validation : Validation.mean(step);
    String monitor =
        config.monitor() != null ? config.monitor() : valid != null ? "valid_loss" : "train_loss";
    if (config.dist() != null) {
      for (DataLoader l : new DataLoader[] {train, valid}) {
        if (l != null && l.options().shards() != config.dist().size()) {
          throw new IllegalArgumentException(
              (l == train ? "train" : "valid")
                  + ": a data-parallel run needs loaders sharded by rank"
                  + " (DataLoader.Options.withShard(rank, "
                  + config.dist().size()
                  + ")), got "
                  + l.options().shards()
                  + " shard(s)");
        }
      }
    }
    Run run = new Run(step, train, valid, check, monitor);
    return NativeRuntime.withThreads(
        config.threads(),
        () -> {
          try {
            return run.go();
          } finally {
            run.closeLogs();
          }
        });
  }

  /** One call of {@link #fit}. */
  private final class Run {
    final Step<M> step;
    final DataLoader train;
    final DataLoader valid;
    final Validation<M> validation;
    final String monitor;
    final int batches;
    final EarlyStopping stopping;
    final Position pos = new Position();
    final List<History.StepRow> steps = new ArrayList<>();
    final List<History.EpochRow> epochs = new ArrayList<>();
    MetricsLog stepLog;
    MetricsLog epochLog;
    Checkpoints checkpoints;

    Run(
        Step<M> step,
        DataLoader train,
        DataLoader valid,
        Validation<M> validation,
        String monitor) {
      this.step = step;
      this.train = train;
      this.valid = valid;
      this.validation = validation;
      this.monitor = monitor;
      this.batches = train.batches();
      if (batches < 1) {
        throw new IllegalArgumentException(
            "train: expected at least one batch per epoch, got " + batches);
      }
      this.stopping =
          config.patience() > 0
              ? new EarlyStopping(config.mode(), config.patience(), config.minDelta())
              : null;
      pos.best = config.mode().worst();
    }

    History go() throws IOException {
      if (config.logDir() != null && config.writer()) {
        stepLog =
            new MetricsLog(
                config.logDir().resolve("steps.csv"), config.logDir().resolve("steps.jsonl"));
        epochLog =
            new MetricsLog(
                config.logDir().resolve("epochs.csv"), config.logDir().resolve("epochs.jsonl"));
      }
      boolean resumed = false;
      if (config.checkpointDir() != null) {
        checkpoints = new Checkpoints(config.checkpointDir());
        if (config.resume()) {
          var last = checkpoints.read(Checkpoints.LAST);
          if (last.isPresent()) {
            restore(last.get());
            resumed = true;
          }
        }
      }
      if (!resumed) {
        NativeRuntime.seed(config.seed());
        if (stepLog != null) {
          stepLog.open(0, 0);
          epochLog.open(0, 0);
        }
      }
      applyLr();
      model.train(true);
      for (int e = pos.epoch; e < config.epochs() && !pos.stopped; e++) {
        epoch(e);
      }
      History h = new History(steps, epochs, pos.stopped, monitor, pos.bestEpoch, pos.best);
      if (config.logDir() != null && config.plot() && config.writer()) {
        Plot.write(config.logDir().resolve("curves.png"), h);
      }
      return h;
    }

    void closeLogs() throws IOException {
      try {
        if (stepLog != null) stepLog.close();
      } finally {
        if (epochLog != null) epochLog.close();
      }
    }

    /** Sets every group's rate from the schedule at the current time. */
    void applyLr() {
      LrSchedule s = config.schedule();
      long t = s.interval() == LrSchedule.Interval.STEP ? pos.step : pos.epoch;
      double[] lrs = s.lrs(optimizer.baseLrs(), t);
      for (int i = 0; i < lrs.length; i++) optimizer.setLr(i, lrs[i]);
    }

    void epoch(int e) throws IOException {
      int first = pos.batch;
      long start = System.nanoTime();
      ProgressBar bar = config.writer() ? config.progress() : null;
      if (bar != null) bar.start(e, config.epochs(), batches, first);
      model.train(true);
      double lastLr = optimizer.lr(0);
      int acc = config.accumulation();
      Iterator<Batch> it = train.epoch(e, first);
      while (it.hasNext()) {
        boolean save;
        History.StepRow row;
        try (PointerScope scope = new PointerScope();
            Batch b = it.next()) {
          int bi = b.number();
          int g0 = bi / acc * acc;
          int size = Math.min(acc, batches - g0);
          boolean last = bi == g0 + size - 1;
          lastLr = optimizer.lr(0);
          if (parallel != null) parallel.beforeForward();
          Step.Result r = step.run(model, b);
          if (r == null) {
            throw new IllegalStateException(
                "the step returned null for batch " + bi + " of epoch " + e);
          }
          for (String k : r.metrics().keySet()) {
            if (RESERVED.contains(k)) {
              throw new IllegalArgumentException(
                  "metrics: \"" + k + "\" is a column of the" + " log; name the metric otherwise");
            }
          }
          Tensor loss = r.loss();
          if (loss.isNull() || !loss.defined() || loss.numel() != 1 || !loss.is_floating_point()) {
            throw new IllegalArgumentException(
                "loss: expected a floating-point tensor of one"
                    + " element, got "
                    + (loss.isNull() || !loss.defined()
                        ? "an undefined tensor"
                        : loss.scalar_type()
                            + " of shape "
                            + java.util.Arrays.toString(loss.sizes().vec().get())));
          }
          double scale = 1.0 / size;
          if (parallel != null) parallel.beforeBackward(last);
          if (r.backward() != null) {
            r.backward().run(scale);
          } else {
            if (!loss.requires_grad()) {
              throw new IllegalArgumentException(
                  "loss: expected a tensor that requires grad"
                      + " (it was computed without gradients or detached)");
            }
            (size == 1 ? loss : loss.mul(new Scalar(scale))).backward();
          }
          double value = loss.item_double();
          double norm = Double.NaN;
          if (last) {
            if (config.clipNorm() > 0) norm = optimizer.clipGradNorm(config.clipNorm());
            if (config.clipValue() > 0) optimizer.clipGradValue(config.clipValue());
            optimizer.step();
            optimizer.zeroGrad();
            if (ema != null) ema.update();
            pos.step++;
            if (config.schedule().interval() == LrSchedule.Interval.STEP) applyLr();
          }
          pos.batch = bi + 1;
          pos.lossSum += value;
          pos.count++;
          for (Map.Entry<String, Double> m : r.metrics().entrySet()) {
            pos.metricSums.merge(m.getKey(), m.getValue(), Double::sum);
          }
          row = new History.StepRow(e, bi, pos.step, value, lastLr, norm, r.metrics());
          log(row);
          save =
              last
                  && config.checkpointEvery() > 0
                  && pos.step % config.checkpointEvery() == 0
                  && bi + 1 < batches;
        }
        steps.add(row);
        if (bar != null) bar.update(pos.batch, row.loss());
        if (config.onStep() != null) config.onStep().accept(row);
        if (save && checkpoints != null && config.writer()) {
          pos.seconds += (System.nanoTime() - start) / 1e9;
          start = System.nanoTime();
          save(false);
        }
      }
      pos.seconds += (System.nanoTime() - start) / 1e9;
      endEpoch(e, lastLr, bar);
    }

    void log(History.StepRow row) throws IOException {
      if (stepLog == null) return;
      Map<String, Number> m = new LinkedHashMap<>();
      m.put("epoch", row.epoch());
      m.put("batch", row.batch());
      m.put("step", row.step());
      m.put("loss", row.loss());
      m.put("lr", row.lr());
      if (config.clipNorm() > 0) m.put("grad_norm", row.gradNorm());
      m.putAll(row.metrics());
      stepLog.append(m);
    }

    void endEpoch(int e, double lr, ProgressBar bar) throws IOException {
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("train_loss", pos.lossSum / pos.count);
      for (Map.Entry<String, Double> m : pos.metricSums.entrySet()) {
        metrics.put("train_" + m.getKey(), m.getValue() / pos.count);
      }
      if (valid != null) {
        for (Map.Entry<String, Double> m : validate(e).entrySet()) {
          metrics.put("valid_" + m.getKey(), m.getValue());
        }
      }
      if (config.dist() != null) averageOverRanks(metrics);
      Double monitored = metrics.get(monitor);
      if (monitored == null) {
        throw new IllegalStateException(
            "monitor: the epoch has no metric \"" + monitor + "\"; it has " + metrics.keySet());
      }
      config.schedule().observe(monitored);
      boolean best = config.mode().better(monitored, pos.best, 0);
      if (best) {
        pos.best = monitored;
        pos.bestEpoch = e;
      }
      if (stopping != null) pos.stopped = stopping.update(e, monitored);
      History.EpochRow row = new History.EpochRow(e, pos.step, lr, pos.seconds, metrics);
      if (epochLog != null) {
        Map<String, Number> m = new LinkedHashMap<>();
        m.put("epoch", e);
        m.put("step", pos.step);
        m.put("lr", lr);
        m.put("seconds", pos.seconds);
        m.putAll(metrics);
        epochLog.append(m);
        stepLog.flush();
        epochLog.flush();
      }
      epochs.add(row);
      pos.epoch = e + 1;
      pos.batch = 0;
      pos.lossSum = 0;
      pos.count = 0;
      pos.metricSums = new LinkedHashMap<>();
      pos.seconds = 0;
      if (config.schedule().interval() == LrSchedule.Interval.EPOCH
          || config.schedule() instanceof Plateau) {
        applyLr();
      }
      if (checkpoints != null && config.writer()) save(best);
      if (config.onEpoch() != null) config.onEpoch().accept(row);
      if (bar != null) {
        StringBuilder s = new StringBuilder("epoch " + (e + 1) + "/" + config.epochs());
        for (Map.Entry<String, Double> m : metrics.entrySet()) {
          s.append(String.format(" %s %.4g", m.getKey(), m.getValue()));
        }
        s.append(String.format(" lr %.3g %.1fs", lr, row.seconds()));
        if (pos.stopped) s.append(" (early stop)");
        bar.end(s.toString());
      }
    }

    /**
     * The epoch's metrics as means over the ranks (each rank's shard is equally long), names in
     * sorted order so that every rank sums the same ones.
     */
    void averageOverRanks(Map<String, Double> metrics) {
      List<String> names = new ArrayList<>(new java.util.TreeSet<>(metrics.keySet()));
      double[] v = new double[names.size() + 1];
      for (int i = 0; i < names.size(); i++) v[i] = metrics.get(names.get(i));
      v[names.size()] = names.hashCode();
      DistGroup g = config.dist();
      double[] sum = g.sum(v);
      if (sum[names.size()] != (double) g.size() * names.hashCode()) {
        throw new IllegalStateException(
            "rank " + g.rank() + ": the ranks' epoch metrics differ in name (here " + names + ")");
      }
      for (int i = 0; i < names.size(); i++) metrics.put(names.get(i), sum[i] / g.size());
    }

    Map<String, Double> validate(int e) {
      model.eval();
      if (ema != null) ema.swap();
      try (NoGradGuard g = new NoGradGuard()) {
        Map<String, Double> m = validation.run(model, valid, e);
        if (m == null) {
          throw new IllegalStateException("the validation returned null at epoch " + e);
        }
        for (String k : m.keySet()) {
          if (k == null || !Step.Result.NAME.matcher(k).matches()) {
            throw new IllegalArgumentException(
                "validation: expected metric names of letters,"
                    + " digits, '_', '.', '-', got \""
                    + k
                    + "\"");
          }
        }
        return m;
      } finally {
        if (ema != null) ema.swap();
        model.train(true);
      }
    }

    /** Writes a checkpoint of the current position. */
    void save(boolean best) throws IOException {
      try (PointerScope scope = new PointerScope()) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
          t.put("model." + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Tensor> e : optimizer.state().entrySet()) {
          t.put("optim." + e.getKey(), e.getValue());
        }
        if (ema != null) {
          for (Map.Entry<String, Tensor> e : ema.state().entrySet()) {
            t.put("ema." + e.getKey(), e.getValue());
          }
        }
        t.put("rng.cpu", torch.getDefaultCPUGenerator().get_state());
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("epoch", pos.epoch);
        meta.put("batch", pos.batch);
        meta.put("step", pos.step);
        meta.put("batches", batches);
        meta.put("accumulation", config.accumulation());
        meta.put("epoch_loss_sum", Double.toString(pos.lossSum));
        meta.put("epoch_count", pos.count);
        Map<String, Object> sums = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : pos.metricSums.entrySet()) {
          sums.put(e.getKey(), Double.toString(e.getValue()));
        }
        meta.put("epoch_metric_sums", sums);
        meta.put("epoch_seconds", Double.toString(pos.seconds));
        meta.put("stopped", pos.stopped);
        meta.put("best", Double.toString(pos.best));
        meta.put("best_epoch", pos.bestEpoch);
        meta.put("schedule", new LinkedHashMap<String, Object>(config.schedule().state()));
        if (stopping != null) {
          meta.put("early_stopping", new LinkedHashMap<String, Object>(stopping.state()));
        }
        if (ema != null) meta.put("ema_updates", ema.updates());
        List<Object> lrs = new ArrayList<>();
        for (int i = 0; i < optimizer.groupCount(); i++) lrs.add(optimizer.lr(i));
        meta.put("lrs", lrs);
        Map<String, Object> logs = new LinkedHashMap<>();
        if (stepLog != null) {
          stepLog.flush();
          epochLog.flush();
          logs.put("steps_csv", stepLog.csvBytes());
          logs.put("steps_jsonl", stepLog.jsonBytes());
          logs.put("epochs_csv", epochLog.csvBytes());
          logs.put("epochs_jsonl", epochLog.jsonBytes());
        }
        meta.put("logs", logs);
        checkpoints.save(t, meta, best);
      }
    }

    /** Restores the run from checkpoint {@code r}. */
    void restore(Checkpoints.Saved r) throws IOException {
      Map<String, Object> m = r.meta();
      long savedBatches = num(r, "batches");
      long savedAcc = num(r, "accumulation");
      if (savedBatches != batches) {
        throw new IllegalStateException(
            r.json()
                + " was made with "
                + savedBatches
                + " batches per epoch, the training loader has "
                + batches);
      }
      if (savedAcc != config.accumulation()) {
        throw new IllegalStateException(
            r.json()
                + " was made with accumulation "
                + savedAcc
                + ", this run has "
                + config.accumulation());
      }
      try (PointerScope scope = new PointerScope();
          NoGradGuard g = new NoGradGuard()) {
        Map<String, Tensor> all = SafeTensors.read(r.tensors());
        Map<String, Tensor> modelT = prefixed(all, "model.");
        StateDict.load(model, modelT, NameMap.identity(), true, r.tensors().toString());
        optimizer.loadState(prefixed(all, "optim."));
        if (ema != null) {
          Object u = m.get("ema_updates");
          if (!(u instanceof Long updates)) {
            throw new MalformedFileException(
                r.json(), "no \"ema_updates\" (the checkpoint" + " was made without EMA)");
          }
          ema.loadState(prefixed(all, "ema."), updates);
        }
        Tensor rng = all.get("rng.cpu");
        if (rng == null) throw new MalformedFileException(r.tensors(), "no \"rng.cpu\" tensor");
        torch.getDefaultCPUGenerator().set_state(rng);
      }
      pos.epoch = (int) num(r, "epoch");
      pos.batch = (int) num(r, "batch");
      pos.step = num(r, "step");
      pos.count = (int) num(r, "epoch_count");
      pos.lossSum = Double.parseDouble(str(r, "epoch_loss_sum"));
      pos.seconds = Double.parseDouble(str(r, "epoch_seconds"));
      pos.metricSums = new LinkedHashMap<>();
      for (Map.Entry<String, String> e : strings(r, "epoch_metric_sums").entrySet()) {
        pos.metricSums.put(e.getKey(), Double.parseDouble(e.getValue()));
      }
      pos.stopped = Boolean.TRUE.equals(m.get("stopped"));
      pos.best = Double.parseDouble(str(r, "best"));
      pos.bestEpoch = (int) num(r, "best_epoch");
      config.schedule().load(strings(r, "schedule"));
      if (stopping != null && m.containsKey("early_stopping")) {
        stopping.load(strings(r, "early_stopping"));
      }
      if (stepLog != null) {
        Object l = m.get("logs");
        long[] sizes = new long[4];
        if (l instanceof Map<?, ?> lm && lm.get("steps_csv") instanceof Long) {
          String[] keys = {"steps_csv", "steps_jsonl", "epochs_csv", "epochs_jsonl"};
          for (int i = 0; i < 4; i++) {
            if (!(lm.get(keys[i]) instanceof Long v)) {
              throw new MalformedFileException(r.json(), "\"logs\" lacks " + keys[i]);
            }
            sizes[i] = v;
          }
        }
        stepLog.open(sizes[0], sizes[1]);
        epochLog.open(sizes[2], sizes[3]);
        readHistory();
      }
    }

    /** Rows of the (cut) logs as the history of the run so far. */
    void readHistory() throws IOException {
      for (Map<String, Double> row : stepLog.rows()) {
        Map<String, Double> metrics = new LinkedHashMap<>(row);
        for (String k : RESERVED) metrics.remove(k);
        steps.add(
            new History.StepRow(
                row.get("epoch").intValue(),
                row.get("batch").intValue(),
                row.get("step").longValue(),
                row.get("loss"),
                row.get("lr"),
                row.getOrDefault("grad_norm", Double.NaN),
                metrics));
      }
      for (Map<String, Double> row : epochLog.rows()) {
        Map<String, Double> metrics = new LinkedHashMap<>(row);
        for (String k : List.of("epoch", "step", "lr", "seconds")) metrics.remove(k);
        epochs.add(
            new History.EpochRow(
                row.get("epoch").intValue(),
                row.get("step").longValue(),
                row.get("lr"),
                row.get("seconds"),
                metrics));
      }
    }
  }

  private static Map<String, Tensor> prefixed(Map<String, Tensor> all, String prefix) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    for (Map.Entry<String, Tensor> e : all.entrySet()) {
      if (e.getKey().startsWith(prefix))
        out.put(e.getKey().substring(prefix.length()), e.getValue());
    }
    return out;
  }

  private static long num(Checkpoints.Saved r, String key) throws MalformedFileException {
    if (!(r.meta().get(key) instanceof Long v)) {
      throw new MalformedFileException(
          r.json(), "\"" + key + "\" is " + r.meta().get(key) + ", expected an integer");
    }
    return v;
  }

  private static String str(Checkpoints.Saved r, String key) throws MalformedFileException {
    if (!(r.meta().get(key) instanceof String v)) {
      throw new MalformedFileException(
          r.json(), "\"" + key + "\" is " + r.meta().get(key) + ", expected a string");
    }
    return v;
  }

  private static Map<String, String> strings(Checkpoints.Saved r, String key)
      throws MalformedFileException {
    Object o = r.meta().get(key);
    if (!(o instanceof Map<?, ?> map)) {
      throw new MalformedFileException(
          r.json(), "\"" + key + "\" is " + o + ", expected an object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      if (!(e.getValue() instanceof String v)) {
        throw new MalformedFileException(
            r.json(),
            "\"" + key + "\"." + e.getKey() + " is " + e.getValue() + ", expected a string");
      }
      out.put((String) e.getKey(), v);
    }
    return out;
  }

  /** Frees the optimiser's state and the EMA; the model keeps its weights. */
  @Override
  public void close() {
    if (parallel != null) parallel.close();
    if (ema != null) ema.close();
    optimizer.close();
  }
}
