package org.spinekit.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Shared assertions of the network tests. */
public final class GradChecks {
  private GradChecks() {}

  public static String shape(Tensor t) {
    return Arrays.toString(t.sizes().vec().get());
  }

  /**
   * Every trainable parameter of {@code net} has a defined, finite gradient, and every one whose
   * key starts with one of {@code nonZeroPrefixes} a non-zero one. Returns the count checked.
   */
  public static int assertFiniteGrads(Net net, String... nonZeroPrefixes) {
    int n = 0;
    try (PointerScope scope = new PointerScope()) {
      for (Map.Entry<String, Tensor> e : net.namedParameters().entrySet()) {
        Tensor g = e.getValue().grad();
        assertTrue(g.defined(), "no gradient for " + e.getKey());
        assertTrue(torch.isfinite(g).all().item_bool(), "non-finite gradient in " + e.getKey());
        for (String p : nonZeroPrefixes) {
          if (e.getKey().startsWith(p)) {
            assertTrue(g.abs().sum().item_double() > 0, "zero gradient for " + e.getKey());
          }
        }
        n++;
      }
    }
    return n;
  }
}
