package org.spinekit.train;

/**
 * A sample that a {@link DataLoader} worker failed to read or assemble, rethrown in the thread that
 * iterates the loader; the cause is the worker's exception.
 */
public final class LoaderException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int index;
  private final int epoch;

  public LoaderException(int index, int epoch, Throwable cause) {
    super("sample " + index + " of epoch " + epoch + ": " + cause, cause);
    this.index = index;
    this.epoch = epoch;
  }

  /** The data set index of the sample that failed (-1 when the batch as a whole failed). */
  public int index() {
    return index;
  }

  public int epoch() {
    return epoch;
  }
}
