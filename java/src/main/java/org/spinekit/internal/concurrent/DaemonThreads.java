package org.spinekit.internal.concurrent;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factories for the library's pools: daemon threads, so that a pool an application forgets
 * to shut down never keeps its JVM alive, each named for what it does, so that a thread dump or a
 * per-thread CPU profile says whose thread it is.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** Daemon threads all named {@code name}. */
  public static ThreadFactory named(String name) {
    check(name);
    return r -> start(r, name);
  }

  /** Daemon threads named {@code prefix} followed by 0, 1, 2, ... in the order they are made. */
  public static ThreadFactory numbered(String prefix) {
    check(prefix);
    AtomicInteger count = new AtomicInteger();
    return r -> start(r, prefix + count.getAndIncrement());
  }

  private static Thread start(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private static void check(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException(
          "thread name: expected a non-empty name, got '" + name + "'");
    }
  }
}
