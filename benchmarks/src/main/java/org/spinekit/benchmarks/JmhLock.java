package org.spinekit.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;

/**
 * JMH's machine-wide lock ({@code java.io.tmpdir/jmh.lock}), held for a whole command. JMH's {@code
 * Runner} takes that lock for each run and, when another JMH holds it, fails at once ("Another JMH
 * instance might be running"): two benchmark commands on one machine (two CI jobs on a shared
 * runner, a developer's run beside CI) would fail each other's runs, or interleave their JMH runs
 * class by class when each starts one run per benchmark class. A command that takes this lock first
 * waits, bounded, for the other to finish, then holds the lock across all its runs and tells its
 * own {@code Runner}s to go ahead ({@code jmh.ignoreLock}: the lock they would take is this one).
 */
final class JmhLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private JmhLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** The file JMH locks. */
  static Path file() {
    return Path.of(System.getProperty("java.io.tmpdir"), "jmh.lock");
  }

  /**
   * Takes the lock, waiting up to {@code wait} for another holder (saying so on {@code log}).
   *
   * @throws IllegalStateException when the lock is still held after {@code wait}
   */
  static JmhLock acquire(Duration wait, PrintStream log) throws IOException {
    return acquire(file(), wait, Duration.ofSeconds(1), log);
  }

  static JmhLock acquire(Path file, Duration wait, Duration poll, PrintStream log)
      throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      // As JMH does: another user's JMH must be able to lock the file too.
      file.toFile().setWritable(true, false);
      long deadline = System.nanoTime() + wait.toNanos();
      boolean said = false;
      while (true) {
        FileLock l;
        try {
          l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
          l = null; // this JVM holds it already (another command in the same process)
        }
        if (l != null) {
          // Read when JMH's Runner class initialises: set before any Runner is created.
          System.setProperty("jmh.ignoreLock", "true");
          if (said) log.println("bench: " + file + " is free; running");
          return new JmhLock(ch, l);
        }
        if (System.nanoTime() >= deadline) {
          throw new IllegalStateException(
              "another benchmark run (JMH) still holds "
                  + file
                  + " after "
                  + wait.toSeconds()
                  + " s: benchmarks measured beside it would not be figures of this machine;"
                  + " run again when it has finished");
        }
        if (!said) {
          log.println(
              "bench: another benchmark run (JMH) holds "
                  + file
                  + "; waiting for it to finish (up to "
                  + wait.toSeconds()
                  + " s)");
          said = true;
        }
        try {
          Thread.sleep(poll.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted while waiting for " + file, e);
        }
      }
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
