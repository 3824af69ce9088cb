package org.spinekit.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.bytedeco.pytorch.global.torch;

/**
 * The run of the resumption tests, the same in a child JVM ({@link TrainChild}) and in the test's
 * own: a {@link TinyNet} with dropout, 3 epochs of 12 batches (accumulation 2, so 6 optimiser steps
 * each), AdamW in two groups, warm-up + cosine per step, clipping, EMA with warm-up, validation,
 * early stopping (patient), a checkpoint after every optimiser step, logs. One libtorch thread by
 * default: the kill tests run several JVMs at once on a busy machine, where waiting threads of a
 * parallel region slow every operation down.
 */
final class ResumeFixture {
  static final int EPOCHS = 3;

  private ResumeFixture() {}

  static Trainer.Config config(Path dir, Consumer<History.StepRow> onStep) {
    return config(dir, onStep, 1);
  }

  static Trainer.Config config(Path dir, Consumer<History.StepRow> onStep, int threads) {
    return Trainer.builder(EPOCHS)
        .optimizer(Adam.Options.adamW(3e-2).withWeightDecay(0.05))
        .grouping(Adam.Grouping.noDecayForNormsAndBiases())
        .schedule(new WarmupCosine(LrSchedule.Interval.STEP, 3, 0.1, 15, 1e-4))
        .clipNorm(2.0)
        .accumulation(2)
        .ema(Ema.Options.warmup(0.9))
        .monitor("valid_loss", Mode.MIN)
        .earlyStopping(5, 0)
        .checkpoints(dir.resolve("ckpt"), 1, true)
        .logs(dir.resolve("logs"), false)
        .progress(null)
        .seed(5)
        .threads(threads)
        .onStep(onStep)
        .build();
  }

  /** {@link #run(Path, long, Consumer, int)} with one libtorch thread. */
  static History run(Path dir, long delayMs, Consumer<History.StepRow> onStep) throws IOException {
    return run(dir, delayMs, onStep, 1);
  }

  /**
   * Runs (or resumes) the training in {@code dir} with {@code threads} libtorch threads; each step
   * sleeps {@code delayMs}.
   */
  static History run(Path dir, long delayMs, Consumer<History.StepRow> onStep, int threads)
      throws IOException {
    torch.manual_seed(11);
    TinyNet net = new TinyNet(1, 6, 1, 0.2);
    Step<TinyNet> step =
        (m, b) -> {
          if (delayMs > 0) {
            try {
              Thread.sleep(delayMs);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          return ToyData.step(m, b);
        };
    try (DataLoader train = new DataLoader(new ToyData(48), DataLoader.Options.of(4, 2, 21));
        DataLoader valid =
            new DataLoader(new ToyData(16), DataLoader.Options.of(8, 1, 22).withShuffle(false));
        Trainer<TinyNet> t = new Trainer<>(net, config(dir, onStep, threads))) {
      return t.fit(step, train, valid, null);
    } finally {
      net.close();
    }
  }
}
