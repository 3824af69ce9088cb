package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Native memory stays flat over a long run of the whole training path: steps, accumulation,
 * clipping, EMA, validation, logs and a checkpoint at every epoch's end (few: each forces the
 * disk's journal, slow on a shared machine): 768 batches of 4 x 1 x 32 x 32 (384 optimiser
 * steps, 16 validations and checkpoints) measured after 96 batches of warm-up. One step makes
 * some hundred tensors, activations of 32 KB each: leaking one per step would grow the process
 * by 6 MB in every block. One libtorch thread: memory does not depend on it, and the test
 * stays fast on a busy machine.
 */
class TrainerMemoryTest {
  /**
   * JavaCPP's tracked bytes, the RSS and JavaCPP's count of native objects once garbage (also
   * of earlier tests in this JVM) has been collected and freed by JavaCPP's deallocator thread.
   */
  static long[] settled() {
    long[] last = null;
    for (int i = 0; i < 50; i++) {
      System.gc();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      long[] now = {Pointer.totalBytes(), Pointer.physicalBytes(), Pointer.totalCount()};
      if (last != null && now[0] == last[0] && now[2] == last[2]) return now;
      last = now;
    }
    return last;
  }

  @Test
  void nativeMemoryIsFlatAcrossEpochs(@TempDir Path dir) throws Exception {
    torch.manual_seed(1);
    TinyNet net = new TinyNet(1, 8, 1, 0.1);
    int warm = 2;
    int blocks = 4;
    int perBlock = 4;
    int batches = 48;
    List<long[]> samples = new ArrayList<>();
    Trainer.Config cfg = Trainer.builder(warm + blocks * perBlock).progress(null).threads(1)
        .optimizer(Adam.Options.adamW(1e-3)).clipNorm(1.0).accumulation(2)
        .ema(Ema.Options.warmup(0.99))
        .schedule(new WarmupCosine(LrSchedule.Interval.STEP, 10, 0.1, 300, 1e-5))
        .checkpoints(dir.resolve("ckpt"), 0, false).logs(dir.resolve("logs"), false)
        .onEpoch(r -> samples.add(settled())).build();
    try (DataLoader train = new DataLoader(new ToyData(4 * batches, 32),
        DataLoader.Options.of(4, 2, 1));
        DataLoader valid = new DataLoader(new ToyData(16, 32),
            DataLoader.Options.of(8, 1, 2).withShuffle(false));
        Trainer<TinyNet> t = new Trainer<>(net, cfg)) {
      History h = t.fit(ToyData::step, train, valid, null);
      assertEquals((warm + blocks * perBlock) * batches, h.steps().size());
    }
    net.close();
    long tracked = samples.get(warm - 1)[0];
    long count = samples.get(warm - 1)[2];
    long[] growth = new long[blocks];
    for (int b = 0; b < blocks; b++) {
      long start = samples.get(warm - 1 + b * perBlock)[1];
      long end = samples.get(warm - 1 + (b + 1) * perBlock)[1];
      growth[b] = end - start;
      assertEquals(tracked, samples.get(warm - 1 + (b + 1) * perBlock)[0],
          "bytes tracked by JavaCPP after block " + b);
      assertEquals(count, samples.get(warm - 1 + (b + 1) * perBlock)[2],
          "native objects owned by Java after block " + b);
    }
    long least = Long.MAX_VALUE;
    for (long g : growth) least = Math.min(least, g);
    System.out.printf("trainer native memory: %d blocks of %d epochs x %d batches; JavaCPP-tracked"
        + " %d bytes and %d native objects throughout; RSS %d MB after warm-up, growth per block"
        + " %s bytes%n", blocks, perBlock, batches, tracked, count,
        samples.get(warm - 1)[1] >> 20, java.util.Arrays.toString(growth));
    assertTrue(least < 1 << 20, "process RSS grew in every block of " + perBlock * batches
        + " steps: " + java.util.Arrays.toString(growth) + " bytes");
  }
}
