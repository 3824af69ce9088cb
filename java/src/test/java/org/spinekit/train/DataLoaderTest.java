package org.spinekit.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.spinekit.tensor.Tensors;
import org.spinekit.testing.NativeMemory;

/** The loader over small in-memory data sets: order, determinism, errors, shutdown, memory. */
public class DataLoaderTest {
  @BeforeAll
  static void setUp() {
    torch.set_num_threads(2);
  }

  /**
   * Sample i: a [2, 8, 8] tensor of draws from the sample's generator plus i, target {i, draw};
   * sleeps a random (unseeded) while so that worker timing varies from run to run.
   */
  static final class Toy implements Dataset {
    final int n;
    final long sleepMicros;
    final int failAt;

    Toy(int n, long sleepMicros, int failAt) {
      this.n = n;
      this.sleepMicros = sleepMicros;
      this.failAt = failAt;
    }

    @Override
    public int size() {
      return n;
    }

    @Override
    public Example get(int index, SplittableRandom rng) throws IOException {
      if (index == failAt) throw new IOException("cannot read sample " + index);
      if (sleepMicros > 0) {
        try {
          long us = ThreadLocalRandom.current().nextLong(sleepMicros + 1);
          Thread.sleep(us / 1000, (int) (us % 1000) * 1000);
        } catch (InterruptedException e) {
          throw new IOException("interrupted", e);
        }
      }
      float[] v = new float[2 * 8 * 8];
      for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextDouble() + index;
      return new Example(Tensors.of(v, 2, 8, 8), new float[] {index, (float) rng.nextDouble()});
    }
  }

  /** Every batch of one epoch as (indices, inputs, targets) Java arrays. */
  public static List<Object[]> epoch(DataLoader loader) {
    List<Object[]> out = new ArrayList<>();
    for (Batch b : loader) {
      try (b) {
        out.add(
            new Object[] {b.indices(), Tensors.floats(b.inputs()), Tensors.floats(b.targets())});
      }
    }
    return out;
  }

  public static void assertSameEpoch(List<Object[]> a, List<Object[]> b, String what) {
    assertEquals(a.size(), b.size(), what + ": batches");
    for (int i = 0; i < a.size(); i++) {
      assertArrayEquals((int[]) a.get(i)[0], (int[]) b.get(i)[0], what + ": indices of " + i);
      assertArrayEquals((float[]) a.get(i)[1], (float[]) b.get(i)[1], what + ": inputs of " + i);
      assertArrayEquals((float[]) a.get(i)[2], (float[]) b.get(i)[2], what + ": targets of " + i);
    }
  }

  static int loaderThreads() {
    int n = 0;
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith(DataLoader.THREAD_PREFIX) && t.isAlive()) n++;
    }
    return n;
  }

  @Test
  void sameBatchesBitwiseWhateverTheWorkersAndRuns() {
    Toy data = new Toy(23, 300, -1);
    List<List<Object[]>> runs = new ArrayList<>();
    for (int workers : new int[] {1, 2, 2, 3}) {
      try (DataLoader l = new DataLoader(data, DataLoader.Options.of(4, workers, 99))) {
        List<Object[]> e0 = epoch(l);
        List<Object[]> e1 = epoch(l);
        assertEquals(6, e0.size(), "batches of 23 samples by 4, last kept");
        assertEquals(3, ((int[]) e0.get(5)[0]).length, "rows of the short last batch");
        List<Object[]> both = new ArrayList<>(e0);
        both.addAll(e1);
        runs.add(both);
      }
    }
    for (int r = 1; r < runs.size(); r++) assertSameEpoch(runs.get(0), runs.get(r), "run " + r);
    // Targets carry the index: row i of each batch is sample indices[i].
    for (Object[] b : runs.get(0)) {
      int[] idx = (int[]) b[0];
      float[] t = (float[]) b[2];
      for (int i = 0; i < idx.length; i++) assertEquals(idx[i], t[2 * i], "target of row " + i);
    }
  }

  @Test
  void shardsAreDisjointPaddedAndTogetherTheWholeBatches() {
    // 23 samples over 3 shards: 8 each, the last shard's last place padded with the epoch's first.
    Toy data = new Toy(23, 0, -1);
    try (DataLoader whole = new DataLoader(data, DataLoader.Options.of(6, 1, 5))) {
      for (int epoch = 0; epoch < 2; epoch++) {
        int[] all = whole.order(epoch);
        int[][] shards = new int[3][];
        for (int r = 0; r < 3; r++) {
          try (DataLoader l =
              new DataLoader(data, DataLoader.Options.of(2, 1, 5).withShard(r, 3))) {
            shards[r] = l.order(epoch);
            assertEquals(4, l.batches(), "batches of 8 samples by 2");
            // Batches carry the samples of the shard's order, augmentation drawn by sample index.
            List<Object[]> e = epoch == 0 ? epoch(l) : null;
            if (e != null) {
              int k = 0;
              for (Object[] b : e) for (int i : (int[]) b[0]) assertEquals(shards[r][k++], i);
            }
          }
          assertEquals(8, shards[r].length);
        }
        int[] seen = new int[23];
        for (int k = 0; k < 8; k++) {
          for (int r = 0; r < 3; r++) {
            int pos = 3 * k + r;
            assertEquals(all[pos % 23], shards[r][k], "epoch " + epoch + " place " + pos);
            if (pos < 23) seen[shards[r][k]]++;
          }
        }
        for (int i = 0; i < 23; i++) assertEquals(1, seen[i], "sample " + i);
        // Batch k of all shards together is batch k of one loader with 3 x the batch size.
        for (int k = 0; k < 2; k++) {
          java.util.Set<Integer> union = new java.util.TreeSet<>(), one = new java.util.TreeSet<>();
          for (int r = 0; r < 3; r++) for (int j = 0; j < 2; j++) union.add(shards[r][2 * k + j]);
          for (int j = 0; j < 6; j++) one.add(all[6 * k + j]);
          assertEquals(one, union, "batch " + k);
        }
      }
    }
    assertThrows(
        IllegalArgumentException.class, () -> DataLoader.Options.of(2, 1, 5).withShard(3, 3));
  }

  @Test
  void everyIndexOncePerEpochInADifferentOrder() {
    Toy data = new Toy(37, 0, -1);
    try (DataLoader l = new DataLoader(data, DataLoader.Options.of(5, 2, 3))) {
      List<int[]> orders = new ArrayList<>();
      for (int e = 0; e < 4; e++) {
        int[] seen = new int[37];
        int[] order = new int[37];
        int k = 0;
        for (Batch b : l) {
          try (b) {
            assertEquals(e, b.epoch(), "epoch of the batch");
            for (int i : b.indices()) {
              seen[i]++;
              order[k++] = i;
            }
          }
        }
        int[] ones = new int[37];
        Arrays.fill(ones, 1);
        assertArrayEquals(ones, seen, "times each index was seen in epoch " + e);
        assertArrayEquals(l.order(e), order, "order of epoch " + e);
        for (int[] o : orders) assertFalse(Arrays.equals(o, order), "epoch " + e + " repeats");
        orders.add(order);
      }
    }
    // Without shuffle: data set order; drop-last leaves out the short batch.
    try (DataLoader l =
        new DataLoader(
            data, DataLoader.Options.of(5, 2, 3).withShuffle(false).withDropLast(true))) {
      assertEquals(7, l.batches());
      int k = 0;
      for (Batch b : l) {
        try (b) {
          assertEquals(5, b.size());
          for (int i : b.indices()) assertEquals(k++, i);
        }
      }
      assertEquals(35, k, "samples with drop-last");
    }
  }

  @Test
  void progressReportsEveryBatch() {
    List<DataLoader.Progress> seen = new ArrayList<>();
    try (DataLoader l =
        new DataLoader(
            new Toy(10, 0, -1), DataLoader.Options.of(4, 2, 1).withProgress(seen::add))) {
      epoch(l);
    }
    assertEquals(3, seen.size());
    assertEquals(List.of(4L, 8L, 10L), seen.stream().map(DataLoader.Progress::samples).toList());
    DataLoader.Progress last = seen.get(2);
    assertEquals(10, last.totalSamples());
    assertEquals(3, last.batches());
    assertEquals(0.0, last.etaSeconds());
    assertTrue(last.samplesPerSecond() > 0, "samples/s " + last.samplesPerSecond());
  }

  @Test
  @Timeout(60)
  void workerExceptionSurfacesInTheCallerWithTheIndex() {
    int before = loaderThreads();
    try (DataLoader l =
        new DataLoader(new Toy(40, 200, 17), DataLoader.Options.of(3, 2, 5).withShuffle(false))) {
      Iterator<Batch> it = l.iterator();
      int batches = 0;
      LoaderException e = null;
      try {
        while (it.hasNext()) {
          try (Batch b = it.next()) {
            batches++;
          }
        }
      } catch (LoaderException x) {
        e = x;
      }
      assertNotNull(e, "the failure of sample 17 did not surface");
      assertEquals(17, e.index());
      assertEquals(0, e.epoch());
      assertTrue(e.getCause() instanceof IOException, "cause " + e.getCause());
      assertTrue(e.getMessage().contains("sample 17"), e.getMessage());
      assertEquals(5, batches, "batches before the one holding sample 17 (rows 15..17)");
      assertEquals(before, loaderThreads(), "worker threads left after the failure");
      // The next epoch fails the same way.
      LoaderException again =
          assertThrows(
              LoaderException.class,
              () -> {
                for (Batch b : l) b.close();
              });
      assertEquals(17, again.index());
    }
    assertEquals(before, loaderThreads(), "worker threads left after close");
  }

  @Test
  @Timeout(60)
  void closeMidEpochStopsTheWorkers() {
    int before = loaderThreads();
    DataLoader l = new DataLoader(new Toy(400, 20_000, -1), DataLoader.Options.of(2, 2, 4));
    Iterator<Batch> it = l.iterator();
    Batch first = it.next();
    assertEquals(before + 2, loaderThreads(), "workers while the epoch runs");
    l.close();
    assertEquals(before, loaderThreads(), "worker threads left after close()");
    // The batch already handed over stays the caller's, valid until it closes it.
    assertEquals(2 * 2 * 8 * 8, Tensors.floats(first.inputs()).length);
    first.close();
    assertThrows(IllegalStateException.class, first::inputs);
    assertThrows(IllegalStateException.class, it::hasNext);
    assertThrows(IllegalStateException.class, l::iterator);

    // Starting another epoch stops an unfinished one.
    try (DataLoader m = new DataLoader(new Toy(400, 20_000, -1), DataLoader.Options.of(2, 2, 4))) {
      Iterator<Batch> e0 = m.iterator();
      e0.next().close();
      Iterator<Batch> e1 = m.iterator();
      assertThrows(IllegalStateException.class, e0::hasNext);
      try (Batch b = e1.next()) {
        assertEquals(1, b.epoch());
      }
      assertEquals(before + 2, loaderThreads(), "workers of epoch 1 only");
    }
    assertEquals(before, loaderThreads(), "worker threads left");
  }

  @Test
  @Timeout(60)
  void workersStopAtThePrefetchBound() throws InterruptedException {
    AtomicInteger reads = new AtomicInteger();
    Toy toy = new Toy(400, 0, -1);
    Dataset counted =
        new Dataset() {
          @Override
          public int size() {
            return toy.size();
          }

          @Override
          public Example get(int index, SplittableRandom rng) throws IOException {
            reads.incrementAndGet();
            return toy.get(index, rng);
          }
        };
    try (DataLoader l = new DataLoader(counted, DataLoader.Options.of(4, 2, 3).withPrefetch(3))) {
      Iterator<Batch> it = l.iterator();
      it.next().close();
      // The workers have all the time they need to run ahead; they may not.
      Thread.sleep(300);
      assertTrue(
          reads.get() <= (1 + 3) * 4,
          "samples read with 1 batch taken and prefetch 3: " + reads.get());
      it.next().close();
      Thread.sleep(100);
      assertTrue(reads.get() <= (2 + 3) * 4, "samples read with 2 batches taken: " + reads.get());
    }
  }

  @Test
  @Timeout(300)
  void nativeMemoryStaysFlatOverManyEpochs() {
    // 64 KB per sample: a leaked batch of 8 would add 512 KB.
    Dataset big =
        new Dataset() {
          @Override
          public int size() {
            return 24;
          }

          @Override
          public Example get(int index, SplittableRandom rng) {
            Tensor t = torch.rand(4, 64, 64);
            return new Example(t, new float[] {index});
          }
        };
    try (DataLoader l = new DataLoader(big, DataLoader.Options.of(8, 2, 4));
        PointerScope scope = new PointerScope()) {
      for (int e = 0; e < 20; e++) epoch(l);
      // 192 epochs in blocks of 24, each block ending on a whole epoch (no batch in flight).
      NativeMemory.Reading[] r =
          NativeMemory.acrossBlocks(
              8,
              () -> {
                for (int e = 0; e < 24; e++) {
                  Iterator<Batch> it = l.iterator();
                  it.next().close();
                  if (e % 2 == 1) {
                    while (it.hasNext()) it.next().close();
                  } // else: abandoned mid-epoch, stopped by the next iterator()
                }
              });
      NativeMemory.assertTrackedFlat(r[0], r[8], "after 192 epochs");
      NativeMemory.assertRssFlat(r, 4L << 20, "a batch leaked per epoch adds 12 MB a block");
    }
  }

  @Test
  void pinnedOnlyWhenCudaIsAskedForAndAvailable() {
    Toy data = new Toy(4, 0, -1);
    try (DataLoader cpu = new DataLoader(data, DataLoader.Options.of(2, 1, 7));
        DataLoader cuda = new DataLoader(data, DataLoader.Options.of(2, 1, 7).withCuda(true))) {
      assertFalse(cpu.pinned());
      assertEquals(torch.cuda_is_available(), cuda.pinned());
      for (Batch b : cuda) {
        try (b) {
          assertEquals(cuda.pinned(), b.inputs().is_pinned(), "inputs pinned");
          assertEquals(cuda.pinned(), b.targets().is_pinned(), "targets pinned");
          assertTrue(b.inputs().is_contiguous());
        }
      }
    }
  }

  @Test
  void badOptionsNameTheArgument() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> DataLoader.Options.of(0, 1, 1));
    assertTrue(e.getMessage().startsWith("batchSize:"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class, () -> DataLoader.Options.of(4, 2, 1).withPrefetch(1));
    assertTrue(e.getMessage().startsWith("prefetch:"), e.getMessage());
  }
}
