package org.spinekit.tensor;

import java.util.Iterator;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Hands tensors made inside an operation's own {@link PointerScope} to the caller: to the caller's
 * innermost scope when there is one, else to the caller alone (who closes them or leaves them to
 * the garbage collector). Used by every API that returns native objects.
 */
public final class Outputs {
  private Outputs() {}

  /** Call inside {@code inner}, before it closes. Null-safe. */
  public static <T extends Pointer> T handOut(PointerScope inner, T p) {
    if (p == null) return null;
    PointerScope outer = null;
    for (Iterator<PointerScope> it = PointerScope.getScopeIterator(); it.hasNext(); ) {
      if (it.next() == inner) {
        outer = it.hasNext() ? it.next() : null;
        break;
      }
    }
    if (outer != null) {
      outer.attach(p);
    } else {
      p.retainReference();
    }
    return p;
  }
}
