package org.spinekit.internal.concurrent;

import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

class FuturesTest {
  @Test
  void uncheckedCausesAreThrownAsTheyAreCheckedOnesReturned() {
    IllegalArgumentException bad = new IllegalArgumentException("bad");
    assertSame(
        bad,
        assertThrows(
            IllegalArgumentException.class,
            () -> Futures.rethrowUnchecked(new ExecutionException(bad))));
    StackOverflowError deep = new StackOverflowError();
    assertSame(
        deep,
        assertThrows(
            StackOverflowError.class,
            () -> Futures.rethrowUnchecked(new ExecutionException(deep))));
    IOException io = new IOException("gone");
    assertSame(io, Futures.rethrowUnchecked(new ExecutionException(io)));
  }
}
