package org.spinekit.serve;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The server's bounded queue: at most {@code maxInFlight} requests run at once, at most {@code
 * maxQueued} more wait their turn in arrival order (for up to {@code queueTimeout}), and any
 * request beyond is refused at once with 503 and a Retry-After, so that neither memory nor the HTTP
 * server's threads become an unbounded backlog. After {@link #close} every new request is refused;
 * those admitted before finish, and {@link #awaitIdle} waits for them.
 */
final class Admission {
  private final int maxInFlight;
  private final int maxQueued;
  private final long queueTimeoutNanos;
  private final Semaphore slots;
  private final Object lock = new Object();
  private int inFlight;
  private int queued;
  private boolean closed;

  /** Mean seconds a request holds its slot (exponentially weighted), for Retry-After. */
  private double meanSeconds = 1;

  Admission(int maxInFlight, int maxQueued, Duration queueTimeout) {
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight: expected at least 1, got " + maxInFlight);
    }
    if (maxQueued < 0) {
      throw new IllegalArgumentException("maxQueued: expected at least 0, got " + maxQueued);
    }
    if (queueTimeout.isNegative() || queueTimeout.isZero()) {
      throw new IllegalArgumentException(
          "queueTimeout: expected a positive duration, got " + queueTimeout);
    }
    this.maxInFlight = maxInFlight;
    this.maxQueued = maxQueued;
    this.queueTimeoutNanos = queueTimeout.toNanos();
    this.slots = new Semaphore(maxInFlight, true);
  }

  /** A request's place: closing it frees the slot. */
  final class Ticket implements AutoCloseable {
    private final long start = System.nanoTime();
    private boolean closed;

    private Ticket() {}

    @Override
    public void close() {
      if (closed) return;
      closed = true;
      double s = (System.nanoTime() - start) / 1e9;
      synchronized (lock) {
        inFlight--;
        meanSeconds = 0.8 * meanSeconds + 0.2 * s;
        lock.notifyAll();
      }
      slots.release();
    }
  }

  /**
   * A slot for one request: at once when one is free, else after the requests queued before it.
   *
   * @throws HttpError 503 with Retry-After when the queue is full, the wait times out, or the
   *     server is shutting down
   */
  Ticket enter() {
    synchronized (lock) {
      if (closed) throw HttpError.unavailable("the server is shutting down", retryAfter());
      // First come, first served: none overtakes a request already waiting.
      if (queued > 0 || !slots.tryAcquire()) {
        if (queued >= maxQueued) {
          throw HttpError.unavailable(
              "overloaded: "
                  + maxInFlight
                  + " requests in flight and "
                  + queued
                  + " queued; retry later",
              retryAfter());
        }
        queued++;
      } else {
        inFlight++;
        return new Ticket();
      }
    }
    boolean got = false;
    try {
      got = slots.tryAcquire(queueTimeoutNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      synchronized (lock) {
        queued--;
        if (got) inFlight++;
        lock.notifyAll();
      }
    }
    if (!got) {
      throw HttpError.unavailable(
          "overloaded: no slot freed within "
              + queueTimeoutNanos / 1_000_000_000L
              + " s of waiting; retry later",
          retryAfter());
    }
    return new Ticket();
  }

  /** Requests running now. */
  int inFlight() {
    synchronized (lock) {
      return inFlight;
    }
  }

  /** Requests waiting for a slot now. */
  int queued() {
    synchronized (lock) {
      return queued;
    }
  }

  int maxInFlight() {
    return maxInFlight;
  }

  int maxQueued() {
    return maxQueued;
  }

  /**
   * Seconds until a slot is likely free: the mean time a request holds one, times the requests
   * ahead per slot, between 1 and 60.
   */
  int retryAfter() {
    synchronized (lock) {
      double ahead = (double) (queued + 1) / maxInFlight;
      return (int) Math.max(1, Math.min(60, Math.ceil(meanSeconds * ahead)));
    }
  }

  /** Refuses new requests from now on. */
  void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
  }

  /** Whether {@link #close} was called. */
  boolean closed() {
    synchronized (lock) {
      return closed;
    }
  }

  /**
   * Waits until no request runs or waits, or {@code timeout} passes.
   *
   * @return whether none is left
   */
  boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (inFlight + queued > 0) {
        long left = deadline - System.nanoTime();
        if (left <= 0) return false;
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
      return true;
    }
  }
}
