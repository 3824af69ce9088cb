package org.spinekit.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.spinekit.augment.Seeds;

/**
 * A multi-threaded loader of a {@link Dataset}: each {@link #iterator()} runs the next epoch,
 * handing over {@link Batch}es in order.
 *
 * <p>Determinism: the order of an epoch is a shuffle seeded by (seed, epoch) alone and sample
 * {@code i} is read with a generator seeded by {@link Seeds#of}(seed, epoch, i), so the batches are
 * the same, bit for bit, whatever the number of workers and however the threads are timed.
 *
 * <p>Threads and memory: each worker assembles whole batches (as PyTorch's DataLoader does),
 * claiming batch numbers in order; at most {@link Options#prefetch()} batches are being built or
 * waiting, so memory stays within prefetch x batch size samples however long it runs, plus the
 * batches the caller holds. Each sample is read in its own {@link PointerScope} on the worker and
 * copied into the batch; the batch's tensors leave the worker owned by the {@link Batch}, which the
 * caller closes. Workers of an epoch end with it; {@link #close()} (or starting another epoch)
 * stops them mid-epoch, waits for them and frees the batches not handed out.
 *
 * <p>Errors: an exception reading sample i surfaces in the iterating thread, when the batch holding
 * it is due, as a {@link LoaderException} naming i; the epoch's workers are then stopped.
 */
public final class DataLoader implements Iterable<Batch>, AutoCloseable {
  /** Progress of an epoch, reported in the iterating thread after each batch. */
  public record Progress(
      int epoch,
      int batches,
      int totalBatches,
      long samples,
      long totalSamples,
      double samplesPerSecond,
      double etaSeconds) {}

  /**
   * @param batchSize samples per batch
   * @param workers worker threads (at least 1)
   * @param prefetch batches being built or waiting at most (at least {@code workers})
   * @param shuffle a new order every epoch (else data set order)
   * @param dropLast leave out the last batch when it is short
   * @param seed base seed of the order and of every sample's generator
   * @param cuda batches for a CUDA device: pinned memory when CUDA is available
   * @param progress called after each batch (may be null)
   * @param shard this process's shard, 0..shards-1 (data-parallel training)
   * @param shards the number of shards (1: the whole data set)
   */
  public record Options(
      int batchSize,
      int workers,
      int prefetch,
      boolean shuffle,
      boolean dropLast,
      long seed,
      boolean cuda,
      Consumer<Progress> progress,
      int shard,
      int shards) {
    public Options {
      if (batchSize < 1) {
        throw new IllegalArgumentException("batchSize: expected at least 1, got " + batchSize);
      }
      if (workers < 1 || workers > 256) {
        throw new IllegalArgumentException("workers: expected 1..256, got " + workers);
      }
      if (prefetch < workers) {
        throw new IllegalArgumentException(
            "prefetch: expected at least workers (" + workers + "), got " + prefetch);
      }
      if (shards < 1) throw new IllegalArgumentException("shards: expected >= 1, got " + shards);
      if (shard < 0 || shard >= shards) {
        throw new IllegalArgumentException("shard: expected 0.." + (shards - 1) + ", got " + shard);
      }
    }

    /** Shuffled, last batch kept, prefetch 2 x workers, CPU batches, no progress callback. */
    public static Options of(int batchSize, int workers, long seed) {
      return new Options(batchSize, workers, 2 * workers, true, false, seed, false, null, 0, 1);
    }

    public Options withPrefetch(int v) {
      return new Options(
          batchSize, workers, v, shuffle, dropLast, seed, cuda, progress, shard, shards);
    }

    public Options withShuffle(boolean v) {
      return new Options(
          batchSize, workers, prefetch, v, dropLast, seed, cuda, progress, shard, shards);
    }

    public Options withDropLast(boolean v) {
      return new Options(
          batchSize, workers, prefetch, shuffle, v, seed, cuda, progress, shard, shards);
    }

    public Options withCuda(boolean v) {
      return new Options(
          batchSize, workers, prefetch, shuffle, dropLast, seed, v, progress, shard, shards);
    }

    /**
     * Shard {@code shard} of {@code shards}, as PyTorch's DistributedSampler: every epoch's order
     * (the same seeded permutation on every process) is padded by its first samples to a multiple
     * of {@code shards}, and this shard takes every {@code shards}-th sample from position {@code
     * shard}. The shards are disjoint but for the padding and equally long, so the processes step
     * together; batch {@code k} of all shards together is batch {@code k} of one loader with {@code
     * shards} times the batch size.
     */
    public Options withShard(int shard, int shards) {
      return new Options(
          batchSize, workers, prefetch, shuffle, dropLast, seed, cuda, progress, shard, shards);
    }

    public Options withProgress(Consumer<Progress> v) {
      return new Options(
          batchSize, workers, prefetch, shuffle, dropLast, seed, cuda, v, shard, shards);
    }
  }

  /** Prefix of the worker threads' names. */
  public static final String THREAD_PREFIX = "spinekit-loader-";

  private static final AtomicInteger LOADERS = new AtomicInteger();

  private final Dataset data;
  private final Options options;
  private final boolean pinned;
  private final int id = LOADERS.incrementAndGet();
  private int nextEpoch;
  private Run current;
  private boolean closed;

  public DataLoader(Dataset data, Options options) {
    if (data == null) throw new IllegalArgumentException("data: expected a data set, got null");
    if (options == null) {
      throw new IllegalArgumentException("options: expected options, got null");
    }
    if (data.size() < 1) {
      throw new IllegalArgumentException("data: expected at least one sample, got " + data.size());
    }
    this.data = data;
    this.options = options;
    this.pinned = options.cuda() && torch.cuda_is_available();
  }

  public Options options() {
    return options;
  }

  /** Whether batches are allocated in pinned (page-locked) memory. */
  public boolean pinned() {
    return pinned;
  }

  /** Batches per epoch. */
  public int batches() {
    int n = shardLength(), b = options.batchSize();
    return options.dropLast() ? n / b : (n + b - 1) / b;
  }

  private int shardLength() {
    return (data.size() + options.shards() - 1) / options.shards();
  }

  /**
   * The sample order of {@code epoch}: a permutation of the data set indices, or this shard's part
   * of it ({@link Options#withShard}).
   */
  public int[] order(int epoch) {
    int[] all = fullOrder(epoch);
    if (options.shards() == 1) return all;
    int[] mine = new int[shardLength()];
    for (int k = 0; k < mine.length; k++) {
      mine[k] = all[(options.shard() + k * options.shards()) % all.length];
    }
    return mine;
  }

  private int[] fullOrder(int epoch) {
    int n = data.size();
    int[] order = new int[n];
    for (int i = 0; i < n; i++) order[i] = i;
    if (!options.shuffle()) return order;
    SplittableRandom rng = new SplittableRandom(Seeds.of(options.seed(), epoch, -1L));
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** Runs the next epoch (stopping one still running). */
  @Override
  public synchronized Iterator<Batch> iterator() {
    return epoch(nextEpoch);
  }

  /**
   * Runs epoch {@code epoch} (stopping one still running); the next {@link #iterator()} runs {@code
   * epoch + 1}.
   */
  public synchronized Iterator<Batch> epoch(int epoch) {
    return epoch(epoch, 0);
  }

  /**
   * Runs epoch {@code epoch} from batch {@code first} on (a resumed run): the batches are those of
   * the whole epoch, numbered as there, the ones before {@code first} left out unread.
   */
  public synchronized Iterator<Batch> epoch(int epoch, int first) {
    if (closed) throw new IllegalStateException("the loader is closed");
    if (epoch < 0) throw new IllegalArgumentException("epoch: expected >= 0, got " + epoch);
    if (first < 0 || first > batches()) {
      throw new IllegalArgumentException("first: expected 0.." + batches() + ", got " + first);
    }
    if (current != null) current.stop();
    nextEpoch = epoch + 1;
    current = new Run(epoch, first);
    return current;
  }

  /** Stops the running epoch, waits for its workers and frees the batches not handed out. */
  @Override
  public synchronized void close() {
    closed = true;
    if (current != null) current.stop();
    current = null;
  }

  /** One epoch: its workers, the batches ready, the failures by batch. */
  private final class Run implements Iterator<Batch> {
    private final int epoch;
    private final int[] order;
    private final int total;
    private final long totalSamples;
    private final AtomicInteger claim = new AtomicInteger();
    private final Semaphore slots;
    private final Map<Integer, Object> ready = new HashMap<>();
    private final List<Thread> workers = new ArrayList<>();
    private final long start = System.nanoTime();
    private int cursor;
    private long handed;
    private final long skipped;
    private volatile boolean stopped;

    Run(int epoch, int first) {
      this.epoch = epoch;
      this.order = order(epoch);
      this.total = batches();
      this.totalSamples = Math.min((long) total * options.batchSize(), order.length);
      this.slots = new Semaphore(options.prefetch());
      this.cursor = first;
      this.handed = Math.min((long) first * options.batchSize(), order.length);
      this.skipped = handed;
      claim.set(first);
      int n = Math.min(options.workers(), Math.max(total - first, 1));
      for (int w = 0; w < n && total > first; w++) {
        Thread t = new Thread(this::work, THREAD_PREFIX + id + "-e" + epoch + "-w" + w);
        t.setDaemon(true);
        workers.add(t);
      }
      for (Thread t : workers) t.start();
    }

    private void work() {
      while (!stopped) {
        try {
          slots.acquire();
        } catch (InterruptedException e) {
          return;
        }
        int b = claim.getAndIncrement();
        if (b >= total || stopped) {
          slots.release();
          return;
        }
        Object result;
        try {
          result = build(b);
        } catch (LoaderException e) {
          result = e;
        } catch (Throwable e) {
          result = new LoaderException(-1, epoch, e);
        }
        synchronized (this) {
          if (stopped) {
            if (result instanceof Batch batch) batch.close();
            return;
          }
          ready.put(b, result);
          notifyAll();
        }
        if (result instanceof LoaderException) return;
      }
    }

    private Batch build(int b) {
      int from = b * options.batchSize();
      int to = Math.min(order.length, from + options.batchSize());
      int[] idx = Arrays.copyOfRange(order, from, to);
      try (PointerScope scope = new PointerScope()) {
        Tensor inputs = null;
        long[] shape = null;
        float[] targets = null;
        int width = -1;
        for (int k = 0; k < idx.length; k++) {
          if (stopped) throw new LoaderException(idx[k], epoch, new InterruptedException());
          try (PointerScope sample = new PointerScope()) {
            Example ex;
            try {
              ex = data.get(idx[k], new SplittableRandom(Seeds.of(options.seed(), epoch, idx[k])));
              if (ex == null) throw new NullPointerException("the data set returned null");
            } catch (Exception e) {
              throw new LoaderException(idx[k], epoch, e);
            }
            long[] s = Example.shape(ex.input());
            float[] t = ex.target();
            if (inputs == null) {
              shape = s;
              width = t.length;
              long[] full = new long[s.length + 1];
              full[0] = idx.length;
              System.arraycopy(s, 0, full, 1, s.length);
              TensorOptions to2 = new TensorOptions(ScalarType.Float);
              if (pinned) to2 = to2.pinned_memory(new BoolOptional(true));
              inputs = torch.empty(full, to2, null);
              scope.attach(inputs);
              targets = new float[idx.length * width];
            } else if (!Arrays.equals(shape, s) || t.length != width) {
              throw new LoaderException(
                  idx[k],
                  epoch,
                  new IllegalStateException(
                      "sample shape "
                          + Arrays.toString(s)
                          + " with "
                          + t.length
                          + " targets differs from the batch's "
                          + Arrays.toString(shape)
                          + " with "
                          + width));
            }
            inputs.select(0, k).copy_(ex.input());
            System.arraycopy(t, 0, targets, k * width, width);
          }
        }
        TensorOptions fo = new TensorOptions(ScalarType.Float);
        if (pinned) fo = fo.pinned_memory(new BoolOptional(true));
        Tensor tt = torch.empty(new long[] {idx.length, width}, fo, null);
        if (targets.length > 0) {
          new org.bytedeco.javacpp.FloatPointer(tt.data_ptr_float()).put(targets);
        }
        // The batch owns one reference to each; the scope's ones go when it closes.
        inputs.retainReference();
        tt.retainReference();
        return new Batch(epoch, b, idx, inputs, tt);
      }
    }

    @Override
    public boolean hasNext() {
      if (stopped && cursor < total) {
        throw new IllegalStateException(
            "epoch "
                + epoch
                + " was stopped (the loader was"
                + " closed or another epoch started)");
      }
      return cursor < total;
    }

    @Override
    public Batch next() {
      if (!hasNext()) throw new NoSuchElementException("epoch " + epoch + " is over");
      Object r;
      synchronized (this) {
        while (!ready.containsKey(cursor) && !stopped) {
          try {
            wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop();
            throw new IllegalStateException("interrupted waiting for batch " + cursor, e);
          }
        }
        if (stopped) throw new IllegalStateException("epoch " + epoch + " was stopped");
        r = ready.remove(cursor);
      }
      if (r instanceof LoaderException e) {
        stop();
        throw new LoaderException(e.index(), epoch, e.getCause());
      }
      Batch batch = (Batch) r;
      cursor++;
      slots.release();
      handed += batch.size();
      if (cursor == total) joinWorkers();
      Consumer<Progress> p = options.progress();
      if (p != null) {
        double secs = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
        double rate = (handed - skipped) / secs;
        p.accept(
            new Progress(
                epoch, cursor, total, handed, totalSamples, rate, (totalSamples - handed) / rate));
      }
      return batch;
    }

    /** Stops the workers, waits for them, frees what was not handed out. */
    void stop() {
      synchronized (this) {
        if (stopped) return;
        stopped = true;
        notifyAll();
      }
      for (Thread t : workers) t.interrupt();
      joinWorkers();
      synchronized (this) {
        for (Object o : ready.values()) {
          if (o instanceof Batch b) b.close();
        }
        ready.clear();
      }
    }

    private void joinWorkers() {
      boolean interrupted = false;
      for (Thread t : workers) {
        while (t.isAlive()) {
          try {
            t.join();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
      if (interrupted) Thread.currentThread().interrupt();
    }
  }
}
