package org.spinekit.nn;

/** Hands {@link Violation} to LayeringTest. */
public final class ViolationAccess {
  private ViolationAccess() {}

  public static Class<?> type() {
    return Violation.class;
  }
}
