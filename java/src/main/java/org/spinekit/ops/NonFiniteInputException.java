package org.spinekit.ops;

/** Logits without a defined softmax: NaN, +inf, or a row that is -inf everywhere. */
public final class NonFiniteInputException extends IllegalArgumentException {
  private final long index;

  NonFiniteInputException(String message, long index) {
    super(message);
    this.index = index;
  }

  /** The first bad row (heat logits) or flat element index n*S+s (grade logits). */
  public long index() {
    return index;
  }
}
