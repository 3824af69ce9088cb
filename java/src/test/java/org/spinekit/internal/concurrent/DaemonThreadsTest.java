package org.spinekit.internal.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.api.Test;

class DaemonThreadsTest {
  @Test
  void threadsAreDaemonsNamedForTheirPool() throws Exception {
    Runnable nothing = () -> {};
    ThreadFactory named = DaemonThreads.named("spinekit-x");
    Thread a = named.newThread(nothing), b = named.newThread(nothing);
    assertEquals("spinekit-x", a.getName());
    assertEquals("spinekit-x", b.getName());
    ThreadFactory numbered = DaemonThreads.numbered("spinekit-lane-");
    assertEquals("spinekit-lane-0", numbered.newThread(nothing).getName());
    assertEquals("spinekit-lane-1", numbered.newThread(nothing).getName());
    // Each factory counts on its own.
    assertEquals(
        "spinekit-lane-0", DaemonThreads.numbered("spinekit-lane-").newThread(nothing).getName());
    assertTrue(a.isDaemon() && b.isDaemon());
    assertEquals(Thread.State.NEW, a.getState(), "made, not started");
    boolean[] ran = {false};
    Thread c = named.newThread(() -> ran[0] = true);
    c.start();
    c.join();
    assertTrue(ran[0], "the thread runs its task");
  }

  @Test
  void emptyNamesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> DaemonThreads.named(""));
    assertThrows(IllegalArgumentException.class, () -> DaemonThreads.named(null));
    assertThrows(IllegalArgumentException.class, () -> DaemonThreads.numbered(""));
  }
}
