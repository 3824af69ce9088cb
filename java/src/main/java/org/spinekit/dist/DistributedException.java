package org.spinekit.dist;

/**
 * A collective or the rendezvous failed: a peer died, timed out or never came. The message names
 * this rank, the operation and c10d's reason; the process group is unusable afterwards.
 */
public final class DistributedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public DistributedException(String message, Throwable cause) {
    super(message, cause);
  }
}
