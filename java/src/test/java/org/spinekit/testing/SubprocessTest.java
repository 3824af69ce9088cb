package org.spinekit.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The child-process helper: timeouts fire, both streams are kept, failures show them. */
class SubprocessTest {
  private static List<String> sh(String script) {
    return List.of("/bin/sh", "-c", script);
  }

  @Test
  void aHungChildFailsAtTheTimeoutWithItsOutputAndItsDescendantsDie() throws Exception {
    long t0 = System.nanoTime();
    // The grandchild holds both pipes open too: a reader of the child's stream would wait
    // for it as well.
    AssertionFailedError e =
        assertThrows(
            AssertionFailedError.class,
            () ->
                Subprocess.run(
                    sh("sleep 60 & echo grandchild $!; echo to stderr >&2; wait"),
                    Duration.ofSeconds(2)));
    double seconds = (System.nanoTime() - t0) / 1e9;
    assertTrue(seconds < 20, "returned after " + seconds + " s");
    String m = e.getMessage();
    assertTrue(m.contains("/bin/sh -c sleep 60") && m.contains("did not finish in 2 s"), m);
    assertTrue(m.contains("to stderr"), m);
    String line =
        m.lines()
            .filter(l -> l.startsWith("grandchild "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no grandchild line in: " + m));
    long pid = Long.parseLong(line.substring(11).trim());
    long end = System.nanoTime() + 10_000_000_000L;
    while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
        && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertFalse(
        ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
        "the grandchild " + pid + " was killed with the child");
  }

  @Test
  void moreOutputThanAPipeHoldsOnBothStreamsDoesNotBlock() throws Exception {
    Subprocess.Result r =
        Subprocess.run(
                sh("yes x | head -c 1000000; yes y | head -c 1000000 >&2; yes z | head -c 10 "),
                Duration.ofSeconds(60))
            .succeeded();
    assertEquals(1_000_010, r.stdout().length());
    assertEquals(1_000_000, r.stderr().length());
    assertTrue(r.stdout().endsWith("z\nz\nz\nz\nz\n"));
  }

  @Test
  void exitStatusAndStreamsComeBackAndAFailureShowsThem() throws Exception {
    Subprocess.Result r =
        Subprocess.run(sh("echo out; echo err >&2; exit 3"), Duration.ofSeconds(60));
    assertEquals(3, r.exitCode());
    assertEquals("out\n", r.stdout());
    assertEquals("err\n", r.stderr());
    r.exited(3);
    String m = assertThrows(AssertionFailedError.class, r::succeeded).getMessage();
    assertTrue(
        m.contains("/bin/sh -c echo out")
            && m.contains("exited 3")
            && m.contains("out\n")
            && m.contains("err\n"),
        m);
  }

  @Test
  void aChildCanBeWatchedAndKilled() throws Exception {
    Subprocess p = Subprocess.start(new ProcessBuilder(sh("echo ready; sleep 60")));
    long end = System.nanoTime() + 10_000_000_000L;
    while (!p.stdout().contains("ready") && System.nanoTime() < end) Thread.sleep(10);
    assertEquals("ready\n", p.stdout());
    assertFalse(p.waitFor(Duration.ofMillis(50)), "still sleeping");
    Subprocess.Result r = p.kill();
    assertFalse(p.isAlive());
    assertEquals(137, r.exitCode(), r.describe());
  }
}
