package org.spinekit.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.spinekit.internal.jni.Kernels;

/**
 * Thread priorities by name, read back from /proc: the threads named are set, the others are not,
 * and the JVM's own JIT compiler threads are found by {@link NativeRuntime#lowerJitPriority}.
 */
class JitPriorityTest {
  /** The nice values of this process's threads whose name starts with {@code prefix}. */
  static List<Integer> nices(String prefix) throws IOException {
    List<Integer> out = new ArrayList<>();
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : tasks.toList()) {
        String comm;
        String stat;
        try {
          comm = Files.readString(t.resolve("comm")).strip();
          stat = Files.readString(t.resolve("stat"));
        } catch (IOException gone) {
          continue;
        }
        if (!comm.startsWith(prefix)) continue;
        // Fields after the name, which ends at the last ')': state is field 3, nice field 19.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        out.add(Integer.parseInt(f[19 - 3]));
      }
    }
    return out;
  }

  @Test
  void setsTheThreadsNamedAndNoOthers() throws Exception {
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(3);
    List<Thread> threads = new ArrayList<>();
    for (String name : List.of("nicetest-a", "nicetest-b", "othertest-c")) {
      Thread t =
          new Thread(
              () -> {
                started.countDown();
                try {
                  stop.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              name);
      t.start();
      threads.add(t);
    }
    try {
      started.await();
      List<Integer> other = nices("othertest-"); // as the process started (0, unless niced)
      assertEquals(1, other.size());
      assertEquals(2, Kernels.reniceThreads("nicetest-", 19));
      assertEquals(List.of(19, 19), nices("nicetest-"));
      assertEquals(other, nices("othertest-"));
      assertEquals(0, Kernels.reniceThreads("no-such-thread", 7));
    } finally {
      stop.countDown();
      for (Thread t : threads) t.join();
    }
    assertThrows(IllegalArgumentException.class, () -> Kernels.reniceThreads("", 1));
    assertThrows(IllegalArgumentException.class, () -> Kernels.reniceThreads("x", 20));
  }

  @Test
  void findsTheJitCompilerThreads() throws IOException {
    List<Integer> was = nices("C2 Compiler");
    int before = was.size() + nices("C1 Compiler").size();
    assertTrue(before > 0, "no C1 or C2 compiler thread in /proc/self/task");
    // One step lower, not 19: the rest of this JVM's tests should not wait for their compiles.
    int to = Math.min(19, was.get(0) + 1);
    int n = NativeRuntime.lowerJitPriority(to);
    try {
      assertTrue(n >= before, n + " threads set, " + before + " seen");
      for (int v : nices("C2 Compiler")) assertEquals(to, v);
      for (int v : nices("C1 Compiler")) assertEquals(to, v);
    } finally {
      // Back where it was where raising is allowed (root); elsewhere it stays one step lower.
      NativeRuntime.lowerJitPriority(was.get(0));
    }
  }
}
