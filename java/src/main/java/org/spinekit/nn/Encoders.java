package org.spinekit.nn;

/** Encoders by {@link Zoo} name, for the composite models that take one. */
public final class Encoders {
  private Encoders() {}

  /** {@code arch} built without a classifier head; refused unless it gives feature maps. */
  public static Encoder byName(String arch, int inChannels) {
    Net n = Zoo.create(arch, inChannels, 0);
    if (!(n instanceof Encoder e)) {
      n.close();
      throw new IllegalArgumentException(
          "arch '" + arch + "' is not an encoder (it gives no" + " feature maps)");
    }
    return e;
  }

  /** Builds a model on a fresh encoder, closing the encoder when the model is refused. */
  public static <T> T owning(Encoder e, java.util.function.Function<Encoder, T> build) {
    try {
      return build.apply(e);
    } catch (RuntimeException ex) {
      e.net().close();
      throw ex;
    }
  }
}
