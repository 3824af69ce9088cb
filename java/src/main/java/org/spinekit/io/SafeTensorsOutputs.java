package org.spinekit.io;

import java.util.Iterator;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Hands tensors made inside a reader's own {@link PointerScope} to the caller: to the caller's
 * innermost scope when there is one, else to the caller alone (who closes them or leaves them
 * to the garbage collector). The same rule as the kernel API's outputs.
 */
final class SafeTensorsOutputs {
  private SafeTensorsOutputs() {}

  /** Call inside {@code inner}, before it closes. */
  static <T extends Pointer> T handOut(PointerScope inner, T p) {
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
