package org.spinekit.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JmhLockTest {
  private static final Duration POLL = Duration.ofMillis(20);

  @Test
  void aHeldLockIsWaitedForThenTaken(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("jmh.lock");
    ByteArrayOutputStream said = new ByteArrayOutputStream();
    PrintStream log = new PrintStream(said, true, StandardCharsets.UTF_8);
    JmhLock first = JmhLock.acquire(f, Duration.ofSeconds(1), POLL, log);
    assertEquals("true", System.getProperty("jmh.ignoreLock"));
    CompletableFuture<JmhLock> second =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return JmhLock.acquire(f, Duration.ofSeconds(20), POLL, log);
              } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            });
    Thread.sleep(200);
    assertTrue(!second.isDone(), "the second run did not wait");
    first.close();
    second.get(10, TimeUnit.SECONDS).close();
    String text = said.toString(StandardCharsets.UTF_8);
    assertTrue(text.contains("holds " + f + "; waiting"), text);
    assertTrue(text.contains(f + " is free; running"), text);
  }

  @Test
  void aLockStillHeldAfterTheWaitIsAClearError(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("jmh.lock");
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    try (JmhLock held = JmhLock.acquire(f, Duration.ofSeconds(1), POLL, quiet)) {
      IllegalStateException e =
          assertThrows(
              IllegalStateException.class,
              () -> JmhLock.acquire(f, Duration.ofMillis(100), POLL, quiet));
      assertTrue(e.getMessage().contains("still holds " + f), e.getMessage());
    }
    // Released: free again at once.
    JmhLock.acquire(f, Duration.ZERO, POLL, quiet).close();
  }
}
