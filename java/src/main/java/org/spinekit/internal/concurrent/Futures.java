package org.spinekit.internal.concurrent;

import java.util.concurrent.ExecutionException;

/** What the library's pools do with a task's failure when its caller waits on it. */
public final class Futures {
  private Futures() {}

  /**
   * Throws the cause of {@code e} as it is when it is unchecked (a {@link RuntimeException} or an
   * {@link Error}), so that a caller sees the task's own exception; returns it otherwise (a checked
   * exception), for the caller to rethrow or wrap as its signature allows.
   */
  public static Throwable rethrowUnchecked(ExecutionException e) {
    Throwable c = e.getCause();
    if (c instanceof RuntimeException r) throw r;
    if (c instanceof Error er) throw er;
    return c;
  }
}
