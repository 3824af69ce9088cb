package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.spinekit.testing.NativeMemory;

/**
 * Native memory stays flat over a long run of the whole training path: steps, accumulation,
 * clipping, EMA, validation, logs and a checkpoint at every epoch's end (few: each forces the
 * disk's journal, slow on a shared machine): 768 batches of 4 x 1 x 32 x 32 (384 optimiser steps,
 * 16 validations and checkpoints) measured after 96 batches of warm-up, epoch by epoch. One step
 * makes some hundred tensors, activations of 32 KB each: leaking one per step would grow the
 * process by 1.5 MB in every epoch. One libtorch thread: memory does not depend on it, and the test
 * stays fast on a busy machine.
 */
class TrainerMemoryTest {
  @Test
  void nativeMemoryIsFlatAcrossEpochs(@TempDir Path dir) throws Exception {
    torch.manual_seed(1);
    TinyNet net = new TinyNet(1, 8, 1, 0.1);
    int warm = 2;
    int measured = 16;
    int batches = 48;
    List<NativeMemory.Reading> samples = new ArrayList<>();
    Trainer.Config cfg =
        Trainer.builder(warm + measured)
            .progress(null)
            .threads(1)
            .optimizer(Adam.Options.adamW(1e-3))
            .clipNorm(1.0)
            .accumulation(2)
            .ema(Ema.Options.warmup(0.99))
            .schedule(new WarmupCosine(LrSchedule.Interval.STEP, 10, 0.1, 300, 1e-5))
            .checkpoints(dir.resolve("ckpt"), 0, false)
            .logs(dir.resolve("logs"), false)
            .onEpoch(r -> samples.add(NativeMemory.settled()))
            .build();
    try (DataLoader train =
            new DataLoader(new ToyData(4 * batches, 32), DataLoader.Options.of(4, 2, 1));
        DataLoader valid =
            new DataLoader(new ToyData(16, 32), DataLoader.Options.of(8, 1, 2).withShuffle(false));
        Trainer<TinyNet> t = new Trainer<>(net, cfg)) {
      History h = t.fit(ToyData::step, train, valid, null);
      assertEquals((warm + measured) * batches, h.steps().size());
    }
    net.close();
    NativeMemory.Reading[] r =
        samples.subList(warm - 1, warm + measured).toArray(new NativeMemory.Reading[0]);
    for (int e = 1; e < r.length; e++) {
      NativeMemory.assertTrackedFlat(r[0], r[e], "after measured epoch " + e);
    }
    NativeMemory.assertRssFlat(
        r, 512L << 10, "a 32 KB activation leaked per step adds 1.5 MB an epoch");
  }
}
